"""Spreadsheets of actors and relationships (CSV or XLSX) with a declared column mapping.

A team can curate in a spreadsheet: one table of actors, one of relationships, and a small YAML file
(the option ``mapping``) that says which column is which field. Fields are the ontology's, as in the
fact files of ``graph/`` (``name``, ``sector``, ``identifier``, ``funder``, ``amount``, ...), so what
a field may hold and how its value is read (a number, a date, a sector, a reference to an actor) comes
from the ontology, not from this module::

    # mapping.yaml
    separator: ";"                 # between several values in one cell (sectors, partners)
    actors:
      sheet: Actors                # XLSX sheet; or  file: actors.csv  (relative to the mapping file)
      key: ID                      # the row's key; relationship columns refer to actors by it
      type: Kind                   # column with the kind (NGO, Foundation, Person, ...)
      default_type: Organization   # when there is no such column or the cell is empty
      fields: {name: Name, alternateName: Acronym, sector: Sectors, identifier: Org ID,
               sameAs: Wikidata, url: Website, description: About}
      quote: Evidence              # column with the words that support the row (optional)
    relationships:
      sheet: Relationships
      key: ID                      # optional; the row number otherwise
      type: Type                   # Funding, Partnership, Membership, ...
      fields: {funder: From, recipient: To, partner: [Partner A, Partner B], amount: Amount,
               currency: Currency, date: Year, purpose: Purpose}
      quote: Evidence

A reference to an actor (``funder``, ``recipient``, ``partner``, ...) is the key of a row of the actors
table, the id of a curated record (``data-pop-alliance``) or an org-id. Actors are identified like every
imported organisation (:mod:`d4d.imports.identity`): an ``identifier`` column with an org-id, a
``sameAs`` with a Wikidata address or a crosswalk entry of scheme ``sheet:<source>`` make them shared
nodes; otherwise they are ``id/sheet/<source>/<key>``. Relationships are
``id/sheet/<source>/<type>/<key or row number>``. Each row cites the file with the sheet and row as
locator and the ``quote`` column's words when given.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from d4d.errors import SourceError
from d4d.imports.context import (
    RDF_TYPE,
    RDFS_LABEL,
    ImportContext,
    OrgMention,
    amount_value,
    currency_code,
    d4d,
    date_literal,
    decimal_literal,
    expand_paths,
    number_problem,
    shown,
    term,
    url_literal,
)
from d4d.imports.identity import key_segment, parse_org_id, slug, wikidata_qid
from d4d.load import check_yaml
from d4d.vocab import D4D, ID

SUFFIXES = (".csv", ".xlsx")
_BY_IRI = "\x00"  # actors are also kept under this prefix + their IRI, to name relationships fast
_ACTOR_FIELDS_HANDLED = {"name", "identifier", "sameAs", "sector", "alternateName", "description", "url"}


def read_mapping(path: str | Path) -> dict[str, Any]:
    """Read and check a mapping file.

    Raises
    ------
    SourceError
        The file is missing, not YAML, or lacks ``actors``/``relationships`` with ``fields``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        check_yaml(text, path, error=SourceError)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SourceError(f"cannot read the mapping: {exc}", path=path) from exc
    if not isinstance(data, dict) or not (data.get("actors") or data.get("relationships")):
        raise SourceError("a mapping declares 'actors' and/or 'relationships'", path=path)
    for table in ("actors", "relationships"):
        spec = data.get(table)
        if spec is None:
            continue
        if not isinstance(spec, dict) or not isinstance(spec.get("fields"), dict):
            raise SourceError(f"'{table}' needs 'fields' (ontology field: column)", path=path, record=table)
        if not (spec.get("type") or spec.get("default_type")):
            raise SourceError(f"'{table}' needs 'type' (a column) or 'default_type'", path=path, record=table)
    data["_path"] = path
    return data


def _rows(path: Path, sheet: str | None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number in the sheet, {header: value}) of a CSV file or an XLSX sheet, streamed."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                yield number, {(k or "").strip(): v for k, v in row.items()}
        return
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is None:
            worksheet = book.worksheets[0]
        elif sheet in book.sheetnames:
            worksheet = book[sheet]
        else:
            raise SourceError(f"no sheet named {sheet!r} (sheets: {', '.join(book.sheetnames)})", path=path)
        header: list[str] | None = None
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if header is None:
                header = [str(c).strip() if c is not None else "" for c in row]
                continue
            if all(c is None or str(c).strip() == "" for c in row):
                continue
            yield number, {h: c for h, c in zip(header, row) if h}
    finally:
        book.close()


_UNREADABLE = (csv.Error, UnicodeDecodeError, ValueError, KeyError, OSError, zipfile.BadZipFile)
"""What reading a CSV file or an XLSX workbook raises on a broken file (openpyxl: KeyError, ValueError)."""


def _readable_rows(ctx: ImportContext, path: Path, sheet: str | None) -> Iterator[tuple[int, dict[str, Any]]]:
    """The rows of :func:`_rows` up to the first that cannot be read (a broken CSV, a damaged workbook):
    the rows before it are kept, the rest of the file reported as one problem."""
    rows = _rows(path, sheet)
    read = 0
    while True:
        try:
            number, row = next(rows)
        except StopIteration:
            return
        except _UNREADABLE as exc:
            ctx.problem(path, _locator(path, sheet, read + 2), f"cannot be read, the rest of the file is skipped "
                        f"({read} row(s) before it read): {type(exc).__name__}: {exc}", kind="file")
            return
        read += 1
        yield number, row


def _table_file(spec: dict[str, Any], mapping: dict[str, Any], files: list[Path]) -> tuple[Path, str | None]:
    if spec.get("file"):
        candidate = Path(mapping["_path"]).parent / str(spec["file"])
        for path in files:
            if path.name == Path(str(spec["file"])).name:
                return path, None
        if candidate.is_file():
            return candidate, None
        raise SourceError(f"no file {spec['file']!r} for this table", path=mapping["_path"])
    workbooks = [p for p in files if p.suffix.lower() == ".xlsx"]
    if len(workbooks) != 1:
        raise SourceError("name the table's 'file', or give one XLSX workbook with its 'sheet'", path=mapping["_path"])
    return workbooks[0], spec.get("sheet")


def _cells(row: dict[str, Any], columns: Any, separator: str) -> list[str]:
    """The non-empty values of one or more columns, cells split at the separator."""
    out = []
    for column in columns if isinstance(columns, list) else [columns]:
        value = row.get(str(column))
        if value is None:
            continue
        if not isinstance(value, str):
            out.append(value)
            continue
        out.extend(part.strip() for part in value.split(separator) if part.strip())
    return out


def read(ctx: ImportContext, paths: Sequence[str | Path]) -> None:
    """Import spreadsheets with the mapping of ``ctx.options['mapping']``.

    Raises
    ------
    SourceError
        No mapping or no ontology is given, a table's file or sheet is missing, a mapping names a field
        the ontology does not have for the type; or, when strict, a row cannot be read.
    """
    if not ctx.options.get("mapping"):
        raise SourceError("a spreadsheet source needs the option 'mapping' (a YAML column mapping)")
    if ctx.ontology is None:
        raise SourceError("the spreadsheet importer needs the ontology (its fields and types)")
    mapping = read_mapping(ctx.options["mapping"])
    files = expand_paths(paths, SUFFIXES)
    separator = str(mapping.get("separator") or ";")
    actors: dict[str, tuple[ox.NamedNode, str]] = {}

    def document(path: Path) -> ox.NamedNode:
        return ctx.document(path, title=str(ctx.options.get("title") or f"Spreadsheet {path.name}"),
                            description="Spreadsheet of actors and relationships, imported by d4d")

    if mapping.get("actors"):
        spec = mapping["actors"]
        path, sheet = _table_file(spec, mapping, files)
        doc = document(path)
        for number, row in _readable_rows(ctx, path, sheet):
            _actor(ctx, path, doc, sheet, number, row, spec, separator, actors)
            ctx.record_done()
    if mapping.get("relationships"):
        spec = mapping["relationships"]
        path, sheet = _table_file(spec, mapping, files)
        doc = document(path)
        for number, row in _readable_rows(ctx, path, sheet):
            _relationship(ctx, path, doc, sheet, number, row, spec, separator, actors)
            ctx.record_done()


def _type(ctx: ImportContext, row: dict[str, Any], spec: dict[str, Any]) -> str | None:
    value = row.get(str(spec.get("type"))) if spec.get("type") else None
    text = str(value).strip() if value is not None and str(value).strip() else spec.get("default_type")
    if text is None:
        return None
    for name in ctx.ontology.record_types:
        if name.casefold() == str(text).replace(" ", "").casefold():
            return str(name)
    return None


def _locator(path: Path, sheet: str | None, number: int) -> str:
    return f"{sheet + ', ' if sheet else ''}row {number}"


def _actor(ctx: ImportContext, path: Path, doc: ox.NamedNode, sheet: str | None, number: int, row: dict[str, Any],
           spec: dict[str, Any], separator: str, actors: dict[str, tuple[ox.NamedNode, str]]) -> None:
    record = _locator(path, sheet, number)
    fields: dict[str, Any] = spec["fields"]
    kind = _type(ctx, row, spec)
    if kind is None or not ctx.ontology.is_subclass(ctx.ontology.record_types[kind], D4D.Agent):
        ctx.problem(path, record, f"not an actor type: {row.get(str(spec.get('type')))!r}", kind="actor")
        return
    given_key = str(row.get(str(spec["key"])) or "").strip() if spec.get("key") else ""
    names = _cells(row, fields.get("name"), "\n") if fields.get("name") else []
    name = ctx.text(names[0], path=path, record=record) if names else None
    if not name:
        ctx.problem(path, record, "an actor needs a name", kind="actor")
        return
    key = given_key or name
    identifiers = [str(v) for v in _cells(row, fields.get("identifier"), separator)] if fields.get("identifier") else []
    org_ids = [x for x in (parse_org_id(v) for v in identifiers) if x is not None]
    same_as = [str(v) for v in _cells(row, fields.get("sameAs"), separator)] if fields.get("sameAs") else []
    keys = [(f"sheet:{ctx.source}", key)] + [("wikidata", q) for q in (wikidata_qid(v) for v in same_as) if q]
    sectors = []
    for value in _cells(row, fields.get("sector"), separator) if fields.get("sector") else []:
        if str(value).strip() in ctx.ontology.sectors:
            sectors.append(str(value).strip())
        else:
            ctx.warn(path, record, f"unknown sector {value!r} (known: {', '.join(ctx.ontology.sectors)})")
    alternates = [ctx.text(v) or "" for v in _cells(row, fields.get("alternateName"), separator)] \
        if fields.get("alternateName") else []
    description = _cells(row, fields.get("description"), "\n") if fields.get("description") else []
    urls = _cells(row, fields.get("url"), separator) if fields.get("url") else []
    quote = _quote(ctx, row, spec, record, name)
    is_person = ctx.ontology.is_subclass(ctx.ontology.record_types[kind], D4D.Person)
    if is_person:
        node = ox.NamedNode(f"{ID}sheet/{ctx.source}/{key_segment(given_key) if given_key else slug(name)}")
        ctx.count("people")
        ctx.add(node, RDF_TYPE, d4d("Person"))
        ctx.add(node, d4d("name"), ox.Literal(name))
        ctx.add(node, RDFS_LABEL, ox.Literal(name))
        ctx.cite(node, doc, quote)
        actors[key] = actors[_BY_IRI + node.value] = (node, name)
        return
    mention = OrgMention(ref=org_ids[0].value if org_ids else None, name=name, scope=f"sheet/{ctx.source}",
                         local_key=given_key or None, keys=keys, kind=kind, sectors=sectors,
                         alternate_names=[a for a in alternates if a],
                         description=ctx.text(description[0], path=path, record=record) if description else None,
                         url=str(urls[0]) if urls else None,
                         same_as=[v for v in same_as if url_literal(v) is not None], quote=quote)
    resolved = ctx.organisation(mention, doc, path=path, record=record)
    if resolved is None:
        ctx.problem(path, record, "the actor cannot be identified", kind="actor")
        return
    for extra in org_ids[1:]:
        ctx.add_once(resolved.node, d4d("identifier"), ox.Literal(extra.value))
    ctx.count("actors")
    actors[key] = actors[_BY_IRI + resolved.node.value] = (resolved.node, resolved.name)
    for field, columns in fields.items():
        if field in _ACTOR_FIELDS_HANDLED:
            continue
        _field(ctx, path, record, resolved.node, kind, field, _cells(row, columns, separator), actors)


def _quote(ctx: ImportContext, row: dict[str, Any], spec: dict[str, Any], record: str, summary: str) -> str:
    if spec.get("quote"):
        text = ctx.text(row.get(str(spec["quote"])), record=record)
        if text:
            return text
    return f"{record}: {summary}"


def _relationship(ctx: ImportContext, path: Path, doc: ox.NamedNode, sheet: str | None, number: int,
                  row: dict[str, Any], spec: dict[str, Any], separator: str,
                  actors: dict[str, tuple[ox.NamedNode, str]]) -> None:
    record = _locator(path, sheet, number)
    kind = _type(ctx, row, spec)
    if kind is None or not ctx.ontology.is_subclass(ctx.ontology.record_types[kind], D4D.Fact):
        ctx.problem(path, record, f"not a relationship type: {row.get(str(spec.get('type')))!r}", kind="relationship")
        return
    key = str(row.get(str(spec["key"])) or "").strip() if spec.get("key") else ""
    node = ox.NamedNode(f"{ID}sheet/{ctx.source}/{slug(kind)}/{key_segment(key) if key else number}")
    cls = ctx.ontology.record_types[kind]
    allowed = ctx.ontology.fields(cls)
    _check_fields(ctx, spec["fields"], "relationships")
    triples: list[tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal]] = []
    # A column may stand for several fields, one per type (From: funder of a Funding, member of a
    # Membership); a row uses the fields its type has.
    used: set[str] = set()
    for field, columns in spec["fields"].items():
        if field not in allowed:
            continue
        used |= {str(c) for c in (columns if isinstance(columns, list) else [columns])}
        values = _cells(row, columns, separator)
        try:
            triples += _values(ctx, node, allowed[field], values, actors, path=path, record=record)
        except ValueError as exc:
            ctx.problem(path, record, f"{field}: {exc}", kind="relationship")
            return
    for field, columns in spec["fields"].items():
        for column in columns if isinstance(columns, list) else [columns]:
            if str(column) not in used and _cells(row, column, separator):
                ctx.warn(path, record, f"column {column!r} ({field}) does not apply to a {kind}: ignored")
    edge = next((e for e in ctx.ontology.edge_types.values() if ctx.ontology.is_subclass(cls, e.iri)), None)
    if edge is not None:
        ends = {p.value for _, p, _ in triples}
        missing = [str(x).rsplit("#", 1)[-1] for x in (edge.source, edge.target) if str(x) not in ends]
        if missing:
            ctx.problem(path, record, f"a {kind} needs {' and '.join(sorted(set(missing)))}", kind="relationship")
            return
    ctx.count("relationships")
    ctx.count(kind)
    ctx.add(node, RDF_TYPE, term(str(cls)))
    for triple in triples:
        ctx.add(*triple)
    names = [actors_name for _, p, o in triples if isinstance(o, ox.NamedNode)
             for actors_name in [_name(o, actors)] if actors_name]
    ctx.add(node, RDFS_LABEL, ox.Literal(f"{ctx.ontology.label(cls)}: {' – '.join(names)}" if names
                                         else ctx.ontology.label(cls)))
    ctx.cite(node, doc, _quote(ctx, row, spec, record, f"{kind} {' – '.join(names)}"))


def _check_fields(ctx: ImportContext, fields: dict[str, Any], table: str) -> None:
    """Every mapped field must be a field of some record type of the ontology (a typo fails loudly)."""
    known = {key for cls in ctx.ontology.record_types.values() for key in ctx.ontology.fields(cls)}
    unknown = sorted(f for f in fields if f not in known)
    if unknown:
        raise SourceError(f"'{unknown[0]}' is not a field of any type of the ontology", path=ctx.options.get("mapping"),
                          record=table)


def _name(node: ox.NamedNode, actors: dict[str, tuple[ox.NamedNode, str]]) -> str | None:
    found = actors.get(_BY_IRI + node.value)
    return found[1] if found else None


def _field(ctx: ImportContext, path: Path, record: str, node: ox.NamedNode, kind: str, field: str,
           values: list[Any], actors: dict[str, tuple[ox.NamedNode, str]]) -> None:
    allowed = ctx.ontology.fields(ctx.ontology.record_types[kind])
    if field not in allowed:
        raise SourceError(f"'{field}' is not a field of {kind} (fields: {', '.join(allowed)})",
                          path=ctx.options.get("mapping"), record="actors")
    try:
        for triple in _values(ctx, node, allowed[field], values, actors, path=path, record=record):
            ctx.add_once(*triple)
    except ValueError as exc:
        ctx.warn(path, record, f"{field}: {exc} (not kept)")


def _values(ctx: ImportContext, node: ox.NamedNode, spec: Any, values: list[Any],
            actors: dict[str, tuple[ox.NamedNode, str]], *, path: Path,
            record: str) -> list[tuple[ox.NamedNode, ox.NamedNode, Any]]:
    """The triples of one field, each value read as the ontology declares (raises ValueError)."""
    prop = term(str(spec.iri))
    out: list[tuple[ox.NamedNode, ox.NamedNode, Any]] = []
    for value in values:
        if spec.is_object:
            text = str(value).strip()
            if spec.range is not None and str(spec.range).endswith("#Sector"):
                if text not in ctx.ontology.sectors:
                    raise ValueError(f"unknown sector {text!r}")
                out.append((node, prop, term(str(ctx.ontology.sectors[text].iri))))
                continue
            out.append((node, prop, _reference(ctx, text, actors)))
            continue
        literal = _datatype_value(spec, value)
        if literal.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
            clean = ctx.text(literal.value, path=path, record=record)   # contact data and long texts out
            if clean is None:
                continue
            literal = ox.Literal(clean)
        out.append((node, prop, literal))
    return out


def _reference(ctx: ImportContext, text: str, actors: dict[str, tuple[ox.NamedNode, str]]) -> ox.NamedNode:
    if text in actors:
        return actors[text][0]
    curated = f"{ID}{text}"
    if curated in ctx.resolver.curated:
        return ox.NamedNode(curated)
    org_id = parse_org_id(text)
    # Only an org-id with a registered prefix: a mistyped key (no-such-actor) has the form of one too.
    if org_id is not None and org_id.registered:
        resolution = ctx.resolver.resolve(org_id=org_id)
        if resolution is not None:
            return ox.NamedNode(ctx.resolver.canonical(resolution.iri)[0])
    raise ValueError(f"'{text}' is neither an actor of the sheet, a curated id nor a registered org-id")


def _datatype_value(spec: Any, value: Any) -> ox.Literal:
    xsd = "http://www.w3.org/2001/XMLSchema#"
    datatype = str(spec.datatype) if spec.datatype is not None else xsd + "string"
    if spec.value_format == "date":
        literal = date_literal(int(value) if isinstance(value, float) and value.is_integer() else value)
        if literal is None:
            raise ValueError(f"'{value}' is not a date (a year, a year-month or a date)")
        return literal
    if str(spec.iri) == str(D4D.amount):
        amount, why = amount_value(value)
        if amount is None:
            raise ValueError(f"the amount {shown(value)} {why}" if why != "is missing" else "no amount")
        return decimal_literal(amount)
    if datatype == xsd + "decimal":
        problem = number_problem(value)
        if problem is not None:
            raise ValueError(f"{shown(value)} {problem}")
        return decimal_literal(Decimal(str(value).strip().replace(",", "")))
    if datatype == xsd + "integer":
        problem = number_problem(value)
        if problem is not None:
            raise ValueError(f"{shown(value)} {problem}")
        number = Decimal(str(value).strip().replace(",", ""))
        if number != number.to_integral_value():
            raise ValueError(f"'{value}' is not a whole number")
        return ox.Literal(str(int(number)), datatype=term(datatype))
    if datatype == xsd + "boolean":
        text = str(value).strip().lower()
        if text not in ("true", "false", "yes", "no", "1", "0"):
            raise ValueError(f"'{value}' is not true or false")
        return ox.Literal("true" if text in ("true", "yes", "1") else "false", datatype=term(datatype))
    if datatype == xsd + "anyURI":
        literal = url_literal(str(value))
        if literal is None:
            raise ValueError(f"'{value}' is not an http(s) URL")
        return literal
    text = " ".join(str(value).split())
    if str(spec.iri) == str(D4D.currency):
        code = currency_code(text)
        if code is None:
            raise ValueError(f"'{value}' is not an ISO 4217 currency code")
        return ox.Literal(code)
    return ox.Literal(text)
