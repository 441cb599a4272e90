"""360Giving grants into the graph: the JSON package (streamed with ijson) and the flat CSV/XLSX form.

Each grant becomes a :class:`d4d:Funding` ``id/360giving/grant/<grant id>`` from its funding
organisation(s) to its recipient organisation(s), with the amount awarded, currency, award date
(``YYYY-MM-DD`` or a full date-time: the date as written), planned start and end, programme and
purpose (the description), citing the file with the grant's id and key values as the quote.
Organisations are identified by their org-ids (360Giving's local ``360G-...`` ids included).

Validation, strict where it matters: a grant is skipped only when a field d4d reads to make the funding
is missing or wrong (:func:`read_grant`). With the option ``schema`` (the path of the standard's
``360-giving-schema.json``) every grant is also validated against the JSON Schema (``jsonschema``,
draft 2020-12, with a date-time format check); without it, the standard's required fields are checked
(``d4d/data/360giving.yaml``). What these find in other fields is reported, counted by rule, and the
grant kept. Cells of the flat form are converted to the standard's types first. A grant to an
individual (``recipientIndividual``) is skipped on purpose: d4d does not hold data on private persons.
Addresses, postcodes, contact names and e-mails of organisations are never read.

Streaming and bounds: JSON packages are read grant by grant from ijson's events (its pure-Python
backend, see :mod:`d4d.limits`), nesting, container sizes and numbers checked before a grant is built,
so a national dump of hundreds of thousands of grants needs no more memory than one grant; CSV rows
are read one at a time, and XLSX sheets in openpyxl's read-only mode. The grants before a broken one
are kept.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
import zipfile
from datetime import date, datetime, time
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
    amount_value,
    currency_code,
    d4d,
    data_file,
    date_literal,
    decimal_literal,
    decimal_value,
    expand_paths,
    number_problem,
    shown,
)
from d4d.imports.identity import parse_org_id, slug
from d4d.limits import JSON_DEPTH, JSON_ITEMS, NUMBER_DIGITS
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
            grants = _flat_grants(ctx, path, _csv_rows(path))
        else:
            grants = _flat_grants(ctx, path, _xlsx_rows(path, ctx.options.get("sheet")))
        for number, grant in grants:
            try:
                read_grant(ctx, path, document, number, grant, validate)
            finally:
                ctx.record_done()


# --------------------------------------------------------------------------------------------------
# Reading


class _Breach(Exception):
    """A bound of :mod:`d4d.limits` crossed while reading JSON."""


def _check_number(value: Any) -> None:
    problem = number_problem(value)
    if problem is not None:
        raise _Breach(f"the number {shown(value)} {problem}")


_UNEXPECTED = re.compile(r"^Unexpected symbol '([-+0-9.eE]{41,})")


def _json_message(exc: Exception) -> str:
    """A JSON parser's error in one readable line (a symbol of a million digits is measured, not shown)."""
    text = str(exc)
    match = _UNEXPECTED.match(text)
    if match:
        return (f"a number of {len(match.group(1)):,} characters (the limit is {NUMBER_DIGITS} digits)")
    return text if len(text) <= 200 else text[:200] + "…"


def _json_grants(ctx: ImportContext, path: Path) -> Iterator[tuple[int, Any]]:
    """The grants of a JSON package (``{"grants": [...]}``) or a bare list, one at a time.

    The file is read as a stream of ijson events (its pure-Python backend: see :mod:`d4d.limits`), so
    nesting, the members of one container and every number are checked before a grant is built. A grant
    that crosses a bound, or broken JSON, ends the file: the grants before it are kept, and the rest is
    reported as one problem.
    """
    with path.open("rb") as handle:
        bare = handle.read(4096).lstrip().startswith(b"[")
        handle.seek(0)
        number = 0
        builder: Any = None
        # one [is an object, its current key, members so far] for each open array or object; ijson's
        # basic events, not its prefixed ones: a prefix is a string as long as the nesting is deep
        open_: list[list[Any]] = []
        top = 1 if bare else 2             # the grants are the members of the root list, or of "grants"
        try:
            for event, value in ijson.get_backend("python").basic_parse(handle, use_float=False):
                if event == "map_key":
                    open_[-1][1] = value
                elif event == "number":
                    _check_number(value)
                starts = event not in ("map_key", "end_map", "end_array")
                if starts and builder is None and len(open_) == top and not open_[-1][0] and (
                        bare or (open_[0][0] and open_[0][1] == "grants")):
                    if event not in ("start_map", "start_array"):
                        number += 1
                        yield number, value           # not an object: read_grant says so
                        continue
                    builder = ijson.ObjectBuilder()
                if builder is not None and len(open_) > top and (event == "map_key" or (starts and not open_[-1][0])):
                    open_[-1][2] += 1
                    if open_[-1][2] > JSON_ITEMS:
                        raise _Breach(f"a list or object of more than {JSON_ITEMS:,} members")
                if builder is not None:
                    builder.event(event, value)
                if event in ("start_map", "start_array"):
                    if len(open_) == JSON_DEPTH:
                        raise _Breach(f"nested more than {JSON_DEPTH} levels deep")
                    open_.append([event == "start_map", None, 0])
                elif event in ("end_map", "end_array"):
                    open_.pop()
                    if builder is not None and len(open_) == top:
                        number += 1
                        grant, builder = builder.value, None
                        yield number, grant
        except _Breach as exc:
            ctx.problem(path, f"grant {number + 1}", f"{exc}; the rest of the file is skipped "
                        f"({number} grant(s) before it read)", kind="file")
        except (ijson.JSONError, ValueError) as exc:
            ctx.problem(path, f"after grant {number}" if number else "the start of the file",
                        f"not valid JSON, the rest of the file is skipped: "
                        f"{_json_message(exc)}", kind="file")
    if number == 0 and not ctx.report.skipped["file"]:
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


_JSON_PATH = re.compile(r"[A-Za-z]+(/[A-Za-z0-9]+)*")
_UNREADABLE = (csv.Error, UnicodeDecodeError, ValueError, KeyError, OSError, zipfile.BadZipFile)
"""What reading a CSV file or an XLSX workbook raises on a broken file (openpyxl: KeyError, ValueError)."""


def _flat_grants(ctx: ImportContext, path: Path, rows: Iterator[dict[str, Any]]) -> Iterator[tuple[int, Any]]:
    """Rows of the flat form as nested grants (column titles or JSON paths -> the JSON structure), each
    cell converted to the standard's type first: amounts and durations to numbers, dates (a
    spreadsheet's date cells) to ISO 8601 text, other numbers (a charity number typed as a number) to text.

    A row that cannot be read (a broken CSV, a damaged workbook) ends the file: the rows before it are
    kept, the rest reported as one problem.
    """
    columns: dict[str, str] = data_file("360giving.yaml")["columns"]
    number = 1
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except _UNREADABLE as exc:
            ctx.problem(path, f"row {number + 1}", f"cannot be read, the rest of the file is skipped "
                        f"({number - 1} row(s) before it read): {type(exc).__name__}: {exc}", kind="file")
            return
        number += 1
        grant: dict[str, Any] = {}
        for header, value in row.items():
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            header = (header or "").strip()
            target = columns.get(header) or (header if _JSON_PATH.fullmatch(header) else None)
            if target is None:
                continue
            parts = target.split("/")
            if any(p.isdigit() and int(p) >= JSON_ITEMS for p in parts):
                ctx.problem(path, f"column {header!r}", f"a list index of {JSON_ITEMS:,} or more; the file "
                            "is skipped", kind="file")
                return
            _put(grant, parts, _standard_type(parts[-1], value))
        yield number, grant   # the row number in the sheet (row 1 is the header)


def _standard_type(field: str, value: Any) -> Any:
    """A cell as the 360Giving standard types its field."""
    if isinstance(value, datetime):   # a date cell: midnight is a date, anything else a date-time as written
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if field in _NUMERIC:
        return decimal_value(value) if decimal_value(value) is not None else value
    if field == "duration":
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


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


_REQUIRED = re.compile(r"^'(.+)' is a required property$")


def _finding(error: Any) -> tuple[str, str]:
    """A JSON Schema error as (rule, detail): the rule names the field (list indices left out) and the
    schema keyword, the same for every grant it applies to; the detail is the validator's message."""
    parts = [str(p) for p in error.absolute_path if not isinstance(p, int)]
    detail = str(error.message)
    if error.validator == "required":
        match = _REQUIRED.match(detail)
        if match:
            parts.append(match.group(1))
    elif error.validator == "enum" and isinstance(error.validator_value, list) and len(error.validator_value) > 10:
        detail = f"{shown(error.instance)} is not one of the {len(error.validator_value)} values the standard allows"
    elif len(detail) > 300:   # a oneOf on the whole grant quotes the grant
        detail = f"the value matches none of the schema's {error.validator} alternatives"
    return f"not valid by the 360Giving schema: {'/'.join(parts) or 'grant'} ({error.validator})", detail


def _validator(schema: Any) -> Any:
    """A function grant -> list of (rule, detail): what the grant lacks of the standard. These are
    reported and counted by rule; whether the grant is kept depends only on the fields d4d reads
    (:func:`read_grant`)."""
    if schema:
        validator = _schema_validator(str(schema))

        def check(grant: Any) -> list[tuple[str, str]]:
            errors = sorted(validator.iter_errors(_jsonable(grant)), key=lambda e: list(map(str, e.absolute_path)))
            return [_finding(e) for e in errors]
        return check

    rules = data_file("360giving.yaml")

    def check_required(grant: Any) -> list[tuple[str, str]]:
        missing = [k for k in rules["required"] if grant.get(k) in (None, "", [])]
        return [(f"missing the standard's required field {k}", "") for k in missing]
    return check_required


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
    """Import one grant (a parsed JSON object).

    Strict where it matters: the grant is skipped only when a field d4d reads to make the funding is
    missing or wrong (its id, its award date, a funding and a recipient organisation each with an id or a
    name). What else the standard (or its JSON Schema) finds wrong is reported, counted by rule, and
    the grant kept; an amount that is missing, not a number, negative, zero, out of bounds or in a
    currency that is not ISO 4217 is left out, with its own warning, and the grant kept.
    """
    if not isinstance(grant, dict):
        ctx.problem(path, f"grant {number}", f"a grant must be a JSON object, not {shown(grant)}", kind="grant")
        return
    raw_id = grant.get("id")
    grant_id = str(raw_id).strip() if isinstance(raw_id, (str, int, Decimal)) else ""
    record = f"grant {grant_id}" if grant_id else f"grant {number}"
    if not grant_id:
        ctx.problem(path, record, "the grant has no id (d4d names each funding by it)", kind="grant")
        return
    if len(grant_id) > 200:
        ctx.problem(path, f"grant {number}", f"the grant id {shown(grant_id)} is longer than 200 characters",
                    kind="grant")
        return
    for rule, detail in validate(grant):
        ctx.warn(path, record, rule, detail=detail or None)
    if grant.get("recipientIndividual") and not grant.get("recipientOrganization"):
        ctx.problem(path, record, "a grant to an individual: not imported (personal data)", kind="grant",
                    fatal=False)
        return
    award = date_literal(grant.get("awardDate"))
    if award is None:
        reason = ("the grant has no awardDate (d4d dates every funding)" if grant.get("awardDate") in (None, "")
                  else f"awardDate {shown(grant.get('awardDate'))} is not a date")
        ctx.problem(path, record, reason, kind="grant")
        return
    for key in ("fundingOrganization", "recipientOrganization"):
        orgs = grant.get(key)
        if not any(isinstance(o, dict) and (str(o.get("id") or "").strip() or str(o.get("name") or "").strip())
                   for o in (orgs if isinstance(orgs, list) else [])):
            ctx.problem(path, record, f"no {key} with an id or a name", kind="grant")
            return
    funders = _orgs(ctx, path, document, grant.get("fundingOrganization") or [], "funder", record)
    recipients = _orgs(ctx, path, document, grant.get("recipientOrganization") or [], "recipient", record)
    for found, key in ((funders, "fundingOrganization"), (recipients, "recipientOrganization")):
        if not found:
            ctx.problem(path, record, f"no {key} could be read (each needs an id or a name)", kind="grant")
            return
    amount, why = amount_value(grant.get("amountAwarded"))
    currency = currency_code(grant.get("currency"))
    if why is not None:
        ctx.warn(path, record, f"amountAwarded {why}: the grant is kept without an amount",
                 detail=None if why == "is missing" else shown(grant.get("amountAwarded")))
    elif currency is None:
        ctx.warn(path, record, "currency is not an ISO 4217 code: the grant is kept without an amount",
                 detail=shown(grant.get("currency")))
        amount = None

    node = grant_iri(grant_id)
    ctx.count("grants")
    ctx.count("fundings")
    ctx.add(node, RDF_TYPE, d4d("Funding"))
    ctx.add(node, DC_IDENTIFIER, ox.Literal(grant_id))
    for funder in funders:
        ctx.add(node, d4d("funder"), funder.node)
    for recipient in recipients:
        ctx.add(node, d4d("recipient"), recipient.node)
    if amount is not None and currency is not None:
        ctx.add(node, d4d("amount"), decimal_literal(amount))
        ctx.add(node, d4d("currency"), ox.Literal(currency))
    ctx.add(node, d4d("date"), award)
    if str(grant.get("awardDate")).strip() != award.value:
        ctx.count("award dates given as date-times")
    planned = grant.get("plannedDates")
    planned = planned[0] if isinstance(planned, list) and planned else None
    if isinstance(planned, dict):
        for key, prop in (("startDate", "startDate"), ("endDate", "endDate")):
            literal = date_literal(planned.get(key))
            if literal is not None:
                ctx.add(node, d4d(prop), literal)
    title = ctx.text(grant.get("title"), path=path, record=record)
    description = ctx.text(grant.get("description"), path=path, record=record)
    if description:
        ctx.add(node, d4d("purpose"), ox.Literal(description))
    programmes = grant.get("grantProgramme")
    for programme in programmes if isinstance(programmes, list) else []:
        name = ctx.text(programme.get("title"), path=path, record=record) if isinstance(programme, dict) else None
        if name:
            ctx.add(node, d4d("programme"), ox.Literal(name))
    names = f"{', '.join(f.name for f in funders)} → {', '.join(r.name for r in recipients)}"
    ctx.add(node, RDFS_LABEL, ox.Literal(title or f"Grant: {names}"))
    amount_text = f"{_as_written(grant.get('amountAwarded'))} {currency or _as_written(grant.get('currency'))}"
    ctx.cite(node, document, f'{record}: "{title or ""}", {names}, amountAwarded {amount_text}, '
                             f'awardDate {grant.get("awardDate")}')
    ctx.count("recipient links", len(recipients))


def _as_written(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else shown(value)


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
