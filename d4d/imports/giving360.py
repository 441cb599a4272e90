"""360Giving grants into the graph: the JSON package (streamed with ijson) and the flat CSV/XLSX form.

Each grant becomes a :class:`d4d:Funding` ``id/360giving/grant/<grant id>`` from its funding
organisation(s) to its recipient organisation(s), with the amount awarded, currency, award date
(``YYYY-MM-DD`` or a full date-time: the date as written), planned start and end, programme and
purpose (the description), citing the file with the grant's id and key values as the quote.
Organisations are identified by their org-ids (360Giving's local ``360G-...`` ids included).

Validation: with the option ``schema`` (the path of the standard's ``360-giving-schema.json``) every
grant is validated against the JSON Schema (``jsonschema``, draft 2020-12, with a date-time format
check); without it, the importer checks the standard's required fields itself (``d4d/data/360giving.yaml``).
A grant that fails is reported and skipped. A grant to an individual (``recipientIndividual``) is
skipped on purpose: d4d does not hold data on private persons. Addresses, postcodes, contact names and
e-mails of organisations are never read.

Streaming: JSON packages are read grant by grant with ijson (its C backend where installed), so a
national dump of hundreds of thousands of grants needs no more memory than one grant; CSV rows are
read one at a time, and XLSX sheets in openpyxl's read-only mode.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import ijson
import pyoxigraph as ox

from d4d.errors import SourceError
from d4d.imports.context import (
    DC_IDENTIFIER,
    RDF_TYPE,
    RDFS_LABEL,
    ImportContext,
    OrgMention,
    ResolvedOrg,
    currency_code,
    d4d,
    data_file,
    date_literal,
    decimal_literal,
    decimal_value,
    expand_paths,
)
from d4d.imports.identity import parse_org_id, slug
from d4d.vocab import ID

GRANT_BASE = f"{ID}360giving/grant/"
SUFFIXES = (".json", ".csv", ".xlsx")
_NUMERIC = ("amountAwarded", "amountAppliedFor", "amountDisbursed")


def grant_iri(grant_id: str) -> ox.NamedNode:
    """``https://w3id.org/d4d/id/360giving/grant/<grant id>`` (case kept, percent-encoded)."""
    return ox.NamedNode(GRANT_BASE + quote(grant_id.strip(), safe="-._~"))


def read(ctx: ImportContext, paths: Sequence[str | Path]) -> None:
    """Import 360Giving files (JSON packages, CSV or XLSX; or folders of them).

    Raises
    ------
    SourceError
        A path does not exist, the schema cannot be read; or, when strict, a grant cannot be read.
    """
    validate = _validator(ctx.options.get("schema"))
    for path in expand_paths(paths, SUFFIXES):
        suffix = path.suffix.lower()
        document = ctx.document(path, title=str(ctx.options.get("title") or f"360Giving grants file {path.name}"),
                                description="360Giving grant data, imported by d4d")
        if suffix == ".json":
            grants = _json_grants(ctx, path)
        elif suffix == ".csv":
            grants = _flat_grants(_csv_rows(path))
        else:
            grants = _flat_grants(_xlsx_rows(path, ctx.options.get("sheet")))
        for number, grant in grants:
            try:
                read_grant(ctx, path, document, number, grant, validate)
            finally:
                ctx.record_done()


# --------------------------------------------------------------------------------------------------
# Reading


def _json_grants(ctx: ImportContext, path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
        handle.seek(0)
        prefix = "item" if head.startswith(b"[") else "grants.item"
        number = 0
        try:
            for grant in ijson.items(handle, prefix, use_float=False):
                number += 1
                yield number, grant
        except (ijson.JSONError, ValueError) as exc:
            ctx.problem(path, f"after grant {number}", f"not valid JSON, the rest of the file is skipped: {exc}",
                        kind="file")
    if number == 0:
        ctx.problem(path, "file", "no grants in the file (a 360Giving package is {\"grants\": [...]})", kind="file")


def _csv_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[dict[str, Any]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise SourceError(f"no sheet named {sheet!r} (sheets: {', '.join(book.sheetnames)})", path=path)
        rows = book[sheet].iter_rows(values_only=True) if sheet else book.worksheets[0].iter_rows(values_only=True)
        header = None
        for row in rows:
            if header is None:
                header = [str(c).strip() if c is not None else "" for c in row]
                continue
            if all(c is None or str(c).strip() == "" for c in row):
                continue
            yield {h: c for h, c in zip(header, row) if h}
    finally:
        book.close()


def _flat_grants(rows: Iterator[dict[str, Any]]) -> Iterator[tuple[int, Any]]:
    """Rows of the flat form as nested grants (column titles or JSON paths -> the JSON structure)."""
    columns: dict[str, str] = data_file("360giving.yaml")["columns"]
    for number, row in enumerate(rows, start=1):
        grant: dict[str, Any] = {}
        for header, value in row.items():
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            header = (header or "").strip()
            target = columns.get(header) or (header if re.fullmatch(r"[A-Za-z]+(/[A-Za-z0-9]+)*", header) else None)
            if target is None:
                continue
            _put(grant, target.split("/"), value)
        for key in _NUMERIC:
            if isinstance(grant.get(key), str) and decimal_value(grant[key]) is not None:
                grant[key] = decimal_value(grant[key])
        for dates in grant.get("plannedDates", []):
            if isinstance(dates, dict) and isinstance(dates.get("duration"), str) and dates["duration"].isdigit():
                dates["duration"] = int(dates["duration"])
        if isinstance(grant.get("awardDate"), datetime):
            grant["awardDate"] = grant["awardDate"].date().isoformat()
        yield number + 1, grant   # the row number in the sheet (row 1 is the header)


def _put(tree: dict[str, Any], parts: list[str], value: Any) -> None:
    node: Any = tree
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        following = parts[i + 1] if not last else None
        if isinstance(node, list):
            index = int(part)
            while len(node) <= index:
                node.append({})
            if last:
                node[index] = value
            else:
                node = node[index]
            continue
        if last:
            node[part] = value.strip() if isinstance(value, str) else value
        else:
            node = node.setdefault(part, [] if following is not None and following.isdigit() else {})


# --------------------------------------------------------------------------------------------------
# Validation


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time (the JSON Schema ``date-time`` format)."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4)
def _schema_validator(path: str) -> Any:
    from jsonschema import Draft202012Validator, FormatChecker

    try:
        schema = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot read the 360Giving schema: {exc}", path=path) from exc
    checker = FormatChecker()
    # jsonschema checks date-time only with an optional package; this check has no dependency.
    checker.checks("date-time")(_is_date_time)
    return Draft202012Validator(schema, format_checker=checker)


def _validator(schema: Any) -> Any:
    """A function grant -> list of messages (empty if the grant is valid)."""
    if schema:
        validator = _schema_validator(str(schema))

        def check(grant: Any) -> list[str]:
            errors = sorted(validator.iter_errors(_jsonable(grant)), key=lambda e: list(map(str, e.absolute_path)))
            return [f"{'/'.join(map(str, e.absolute_path)) or 'grant'}: {_short(e.message)}" for e in errors]
        return check

    rules = data_file("360giving.yaml")

    def check_required(grant: Any) -> list[str]:
        if not isinstance(grant, dict):
            return ["a grant must be a JSON object"]
        missing = [k for k in rules["required"] if grant.get(k) in (None, "", [])]
        if not any(grant.get(k) for k in rules["required_one_of"]):
            missing.append(" or ".join(rules["required_one_of"]))
        out = [f"missing required field {k}" for k in missing]
        for key in ("fundingOrganization", "recipientOrganization"):
            for org in grant.get(key) or []:
                if not isinstance(org, dict) or not org.get("id") or not org.get("name"):
                    out.append(f"{key}: an organisation needs an id and a name")
        return out
    return check_required


def _short(message: str, limit: int = 160) -> str:
    """A validator message cut to a readable length (an enum error lists every currency)."""
    return message if len(message) <= limit else message[:limit - 1] + "…"


def _jsonable(value: Any) -> Any:
    """Decimals from ijson as JSON numbers for the validator (int where whole)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------------
# One grant


def _org_kind(org_id: str, role: str) -> tuple[str, list[str]]:
    rules = data_file("360giving.yaml")
    if role == "funder":
        return rules["funder"]["kind"], list(rules["funder"]["sectors"])
    parsed = parse_org_id(org_id)
    if parsed is not None and parsed.prefix in rules["recipient_prefixes"]:
        entry = rules["recipient_prefixes"][parsed.prefix]
        return entry["kind"], list(entry["sectors"])
    return rules["recipient"]["kind"], list(rules["recipient"]["sectors"])


def read_grant(ctx: ImportContext, path: Path, document: ox.NamedNode, number: int, grant: Any,
               validate: Any) -> None:
    """Import one grant (a parsed JSON object)."""
    grant_id = str(grant.get("id")).strip() if isinstance(grant, dict) and grant.get("id") is not None else ""
    record = f"grant {grant_id}" if grant_id else f"grant {number}"
    errors = validate(grant)
    if errors:
        ctx.problem(path, record, "not a valid 360Giving grant: " + "; ".join(errors[:3])
                    + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""), kind="grant")
        return
    if grant.get("recipientIndividual") and not grant.get("recipientOrganization"):
        ctx.problem(path, record, "a grant to an individual: not imported (personal data)", kind="grant",
                    fatal=False)
        return
    amount = decimal_value(grant.get("amountAwarded"))
    currency = currency_code(grant.get("currency"))
    if currency is None:
        ctx.problem(path, record, f"currency {grant.get('currency')!r} is not an ISO 4217 code", kind="grant")
        return
    award = date_literal(grant.get("awardDate"))
    if award is None:
        ctx.problem(path, record, f"awardDate {grant.get('awardDate')!r} is not a date", kind="grant")
        return

    funders = _orgs(ctx, path, document, grant.get("fundingOrganization") or [], "funder", record)
    recipients = _orgs(ctx, path, document, grant.get("recipientOrganization") or [], "recipient", record)
    if not funders or not recipients:
        ctx.problem(path, record, "no funding or recipient organisation could be read", kind="grant")
        return

    node = grant_iri(grant_id)
    ctx.count("grants")
    ctx.count("fundings")
    ctx.add(node, RDF_TYPE, d4d("Funding"))
    ctx.add(node, DC_IDENTIFIER, ox.Literal(grant_id))
    for funder in funders:
        ctx.add(node, d4d("funder"), funder.node)
    for recipient in recipients:
        ctx.add(node, d4d("recipient"), recipient.node)
    if amount is not None and amount > 0:
        ctx.add(node, d4d("amount"), decimal_literal(amount))
        ctx.add(node, d4d("currency"), ox.Literal(currency))
    else:
        ctx.warn(path, record, "amountAwarded zero or not a number: no amount")
    ctx.add(node, d4d("date"), award)
    if str(grant.get("awardDate")).strip() != award.value:
        ctx.count("award dates given as date-times")
    planned = (grant.get("plannedDates") or [{}])[0]
    if isinstance(planned, dict):
        for key, prop in (("startDate", "startDate"), ("endDate", "endDate")):
            literal = date_literal(planned.get(key))
            if literal is not None:
                ctx.add(node, d4d(prop), literal)
    title = ctx.text(grant.get("title"), path=path, record=record)
    description = ctx.text(grant.get("description"), path=path, record=record)
    if description:
        ctx.add(node, d4d("purpose"), ox.Literal(description))
    for programme in grant.get("grantProgramme") or []:
        name = ctx.text(programme.get("title"), path=path, record=record) if isinstance(programme, dict) else None
        if name:
            ctx.add(node, d4d("programme"), ox.Literal(name))
    names = f"{', '.join(f.name for f in funders)} → {', '.join(r.name for r in recipients)}"
    ctx.add(node, RDFS_LABEL, ox.Literal(title or f"Grant: {names}"))
    amount_text = f"{grant.get('amountAwarded')} {currency}"
    ctx.cite(node, document, f'{record}: "{title or ""}", {names}, amountAwarded {amount_text}, '
                             f'awardDate {grant.get("awardDate")}')
    ctx.count("recipient links", len(recipients))


def _orgs(ctx: ImportContext, path: Path, document: ox.NamedNode, orgs: Any, role: str,
          record: str) -> list[ResolvedOrg]:
    out = []
    for org in orgs if isinstance(orgs, list) else []:
        if not isinstance(org, dict):
            continue
        org_id = str(org.get("id") or "").strip()
        name = ctx.text(org.get("name"), path=path, record=record)
        kind, sectors = _org_kind(org_id, role)
        scope = "360giving/org/" + slug(org_id or name or "unknown")
        mention = OrgMention(ref=org_id or None, name=name, scope=scope, kind=kind, sectors=sectors,
                             quote=f'{record}, {"fundingOrganization" if role == "funder" else "recipientOrganization"}'
                                   f' {org_id} "{name or ""}"')
        resolved = ctx.organisation(mention, document, path=path, record=f"{record}, {role}")
        if resolved is not None:
            out.append(resolved)
            ctx.count_distinct("recipients" if role == "recipient" else "funders", resolved.node.value)
    return out
