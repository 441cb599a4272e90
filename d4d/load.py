"""The load stage: the ontology and the fact files of ``graph/`` into RDF, every reference resolved.

Fact files are YAML: each file is a list of records; a record has an ``id`` (a slug), a ``type`` (an
ontology class such as ``Foundation`` or ``Funding``), fields named after ontology properties (which
fields a type may have is read from the ontology's ``schema:domainIncludes``), and ``sources``: a list
of ``{source: <source document id>, quote: <exact words>}``. See the README for the format.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import XSD

from d4d.checks import find_contact_data, is_currency
from d4d.errors import D4DError, FactError
from d4d.limits import FACT_FILE_BYTES, FIELD_VALUES, TEXT_CHARS, YAML_DEPTH
from d4d.ontology import Ontology, PropertySpec, load_ontology
from d4d.vocab import D4D, ID

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$", re.IGNORECASE)
_YEAR = re.compile(r"^(-?\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RESERVED = ("id", "type")


@dataclass(frozen=True)
class Origin:
    """Where a record comes from: its file, its id and the line it starts on."""

    path: str
    record: str
    line: int

    def where(self) -> str:
        return f"record '{self.record}' (line {self.line})"


@dataclass
class Facts:
    """The facts of ``graph/`` as RDF, with the origin of every subject for error messages."""

    graph: Graph
    origins: dict[URIRef, Origin] = field(default_factory=dict)

    def origin(self, node: URIRef) -> Origin | None:
        """The record a node (a record or one of its citations) comes from."""
        if node in self.origins:
            return self.origins[node]
        text = str(node)
        if "/citation/" in text:
            return self.origins.get(URIRef(text.split("/citation/", 1)[0]))
        return None


@dataclass
class Loaded:
    """The output of the load stage: the ontology and the facts."""

    ontology: Ontology
    facts: Facts


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text (so an impossible date is our error, not a crash)
    and refuses duplicate keys."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class _Record:
    data: dict[str, Any]
    lines: dict[str, int]
    line: int


def _construct(loader: _Loader, node: yaml.Node, path: Path) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise FactError(f"duplicate key '{key}'", path=path, record=f"line {key_node.start_mark.line + 1}")
            out[key] = _construct(loader, value_node, path)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, path) for item in node.value]
    return loader.construct_object(node, deep=True)


_EventParser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def check_yaml(text: str, path: str | Path, *, error: type[D4DError] = FactError) -> None:
    """Refuse anchors, aliases, deep nesting and long scalars before anything is built from a YAML text
    (a fact file; the importers' mapping and ``imports.yaml`` too, with ``error=SourceError``).

    The events come from libyaml's parser (C), which holds one event at a time: an anchor bomb or a
    recursive alias stops at its first ``&`` or ``*``, and a 10 MB description is refused as it is read.

    Raises
    ------
    FactError
        (or ``error``) Naming the file, the line and the bound (see :mod:`d4d.limits`); or a YAML syntax
        error with its line.
    """
    try:
        _check_events(text, path, error)
    except yaml.MarkedYAMLError as exc:
        if error is FactError:
            raise
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise error(f"YAML syntax error: {exc.problem or exc.context}", path=path, record=where) from exc
    except yaml.YAMLError as exc:
        if error is FactError:
            raise
        raise error(f"YAML error: {exc}", path=path) from exc


def _check_events(text: str, path: str | Path, error: type[D4DError]) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=_EventParser):
        line = f"line {event.start_mark.line + 1}" if event.start_mark is not None else None
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent):
            raise error(f"YAML alias '*{anchor}': d4d's YAML files allow no aliases (write the value out)",
                        path=path, record=line)
        if anchor:
            raise error(f"YAML anchor '&{anchor}': d4d's YAML files allow no anchors (write the value out)",
                        path=path, record=line)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > YAML_DEPTH:
                raise error(f"nested more than {YAML_DEPTH} levels deep", path=path, record=line)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent) and len(event.value) > TEXT_CHARS:
            raise error(f"a value of {len(event.value):,} characters (the limit is {TEXT_CHARS:,})",
                        path=path, record=line)


def _read_records(path: Path) -> Iterator[_Record]:
    """Yield the records of one YAML fact file with the line of each record and field."""
    try:
        size = path.stat().st_size
        if size > FACT_FILE_BYTES:
            raise FactError(f"a fact file of {size:,} bytes (the limit is {FACT_FILE_BYTES:,})", path=path)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FactError(f"not UTF-8 text: {exc}", path=path) from exc
    except OSError as exc:
        raise FactError(f"cannot read the file: {exc.strerror}", path=path) from exc
    loader = _Loader(text)
    try:
        check_yaml(text, path)
        root = loader.get_single_node()
        if root is None:
            return
        if not isinstance(root, yaml.SequenceNode):
            raise FactError("a fact file must be a YAML list of records", path=path,
                            record=f"line {root.start_mark.line + 1}")
        for item in root.value:
            line = item.start_mark.line + 1
            if not isinstance(item, yaml.MappingNode):
                raise FactError("a record must be a mapping of fields", path=path, record=f"line {line}")
            data = _construct(loader, item, path)
            lines = {str(k.value): k.start_mark.line + 1 for k, _ in item.value}
            yield _Record(data=data, lines=lines, line=line)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise FactError(f"YAML syntax error: {exc.problem or exc.context}", path=path, record=where) from exc
    except yaml.YAMLError as exc:
        raise FactError(f"YAML error: {exc}", path=path) from exc
    finally:
        loader.dispose()


def fact_files(directory: str | Path) -> list[Path]:
    """The fact files of a folder: every ``*.yaml``/``*.yml`` below it, in a stable order."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FactError("no such folder of facts", path=directory)
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def parse_date(value: Any) -> Literal:
    """A year, year-month or full date as ``xsd:gYear``, ``xsd:gYearMonth`` or ``xsd:date``.

    Raises
    ------
    ValueError
        If the value is not one of those forms or is not a real date (2015-02-30, month 13).

    Examples
    --------
    >>> parse_date(2015).datatype == XSD.gYear
    True
    >>> str(parse_date("2015-10"))
    '2015-10'
    """
    text = str(value).strip() if not isinstance(value, bool) else ""
    if _YEAR.match(text):
        return Literal(text, datatype=XSD.gYear)
    match = _YEAR_MONTH.match(text)
    if match:
        if not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"'{text}' has no month {match.group(2)}")
        return Literal(text, datatype=XSD.gYearMonth)
    if _DATE.match(text):
        try:
            dt.date.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"'{text}' is not a real date ({exc})") from exc
        return Literal(text, datatype=XSD.date)
    raise ValueError(f"'{value}' is not a date: write a year (2015), a year and month (2015-10) or a date (2015-10-03)")


def canonical_decimal(number: Decimal | str) -> Literal:
    """An ``xsd:decimal`` literal in the canonical lexical form (``400000.0``: always a decimal point),
    which is how Turtle writes decimals, so every output and every store agree on the form."""
    text = format(Decimal(str(number)), "f")
    return Literal(text if "." in text else text + ".0", datatype=XSD.decimal)


def _literal(spec: PropertySpec, value: Any) -> Literal:
    """Convert one YAML value to the literal the ontology declares for the property."""
    if isinstance(value, (dict, list)):
        raise ValueError("expected a single value, not a list or mapping")
    if value is None:
        raise ValueError("empty value")
    if spec.value_format == "date":
        return parse_date(value)
    datatype = spec.datatype
    if datatype == XSD.decimal:
        if isinstance(value, bool):
            raise ValueError(f"'{value}' is not a number")
        try:
            number = Decimal(str(value).replace(",", "")) if isinstance(value, str) else Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"'{value}' is not a number") from exc
        if not number.is_finite():
            raise ValueError(f"'{value}' is not a finite number")
        return canonical_decimal(number)
    if datatype == XSD.integer:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit())):
            raise ValueError(f"'{value}' is not a whole number")
        return Literal(int(value), datatype=XSD.integer)
    if datatype == XSD.boolean:
        if not isinstance(value, bool):
            raise ValueError(f"'{value}' is not true or false")
        return Literal(value, datatype=XSD.boolean)
    if datatype == XSD.anyURI:
        text = str(value).strip()
        if not URL.match(text):
            raise ValueError(f"'{text}' is not an http(s) URL")
        return Literal(text, datatype=XSD.anyURI)
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not text")
    text = _normalise(str(value))
    if spec.iri == D4D.currency and not is_currency(text):
        raise ValueError(f"'{text}' is not an ISO 4217 currency code such as USD")
    if not text:
        raise ValueError("empty text")
    _refuse_contact_data(text)
    return Literal(text)


def _refuse_contact_data(text: str) -> None:
    """Raise ValueError if a text holds an e-mail address or a phone number (:mod:`d4d.checks`)."""
    found = find_contact_data(text)
    if found:
        raise ValueError(f"contains contact data ({found[0].kind} '{found[0].text}'): d4d publishes no "
                         "e-mail addresses or phone numbers")


def record_iri(slug: str) -> URIRef:
    """The IRI of a record: ``https://w3id.org/d4d/id/<slug>``."""
    return ID[slug]


def load_facts(directory: str | Path, ontology: Ontology, *, files: list[Path] | None = None) -> Facts:
    """Read every fact file of ``directory`` into one RDF graph.

    Parameters
    ----------
    directory:
        The ``graph/`` folder (read recursively).
    ontology:
        The ontology, which says which types and fields exist and how values are typed.
    files:
        Read only these files instead of the whole folder.

    Returns
    -------
    Facts
        The graph (records, their citations and labels) and the origin of every record.

    Raises
    ------
    FactError
        On a YAML syntax error, a record without id or type, an id that is not a slug or is used twice,
        an unknown type or field, a value of the wrong form (a bad date, a non-number amount, a URL that
        is not http(s)), or a reference to an id that no record or sector has. The error names the file,
        the record and its line.
    """
    paths = files if files is not None else fact_files(directory)
    records: list[tuple[Path, _Record]] = []
    origins: dict[URIRef, Origin] = {}
    types: dict[URIRef, URIRef] = {}
    for path in paths:
        for rec in _read_records(path):
            ident = rec.data.get("id")
            where = f"record at line {rec.line}"
            if ident is None:
                raise FactError("record has no 'id'", path=path, record=where)
            if not isinstance(ident, str) or not SLUG.match(ident):
                raise FactError(f"id '{ident}' is not a slug (lower-case letters, digits and hyphens)",
                                path=path, record=where)
            iri = record_iri(ident)
            if iri in origins:
                first = origins[iri]
                raise FactError(f"duplicate id '{ident}' (first defined in {first.path}, line {first.line})",
                                path=path, record=f"record '{ident}' (line {rec.line})")
            origin = Origin(path=str(path), record=ident, line=rec.line)
            type_name = rec.data.get("type")
            if type_name not in ontology.record_types:
                known = ", ".join(ontology.record_types)
                raise FactError(f"unknown type '{type_name}' (known types: {known})",
                                path=path, record=origin.where())
            origins[iri] = origin
            types[iri] = ontology.record_types[type_name]
            records.append((path, rec))

    sectors = {slug: sector.iri for slug, sector in ontology.sectors.items()}
    graph = Graph()
    for path, rec in records:
        ident = rec.data["id"]
        iri = record_iri(ident)
        origin = origins[iri]
        cls = types[iri]
        graph.add((iri, RDF.type, cls))
        fields = ontology.fields(cls)
        for key, value in rec.data.items():
            if key in _RESERVED:
                continue
            where = f"record '{ident}' (line {rec.lines.get(key, rec.line)})"
            spec = fields.get(key)
            if spec is None:
                allowed = ", ".join(k for k in fields)
                raise FactError(f"unknown field '{key}' for type {rec.data['type']} (allowed: {allowed})",
                                path=path, record=where)
            values = value if isinstance(value, list) else [value]
            if not values:
                raise FactError(f"field '{key}' is an empty list", path=path, record=where)
            if len(values) > FIELD_VALUES:
                raise FactError(f"field '{key}' has {len(values):,} values (the limit is {FIELD_VALUES:,})",
                                path=path, record=where)
            if spec.iri == D4D.citation:
                _add_citations(graph, iri, values, types, path=path, where=where)
                continue
            for item in values:
                if spec.is_object:
                    target = _resolve(item, key, spec, types, sectors, path=path, where=where)
                    graph.add((iri, spec.iri, target))
                else:
                    try:
                        graph.add((iri, spec.iri, _literal(spec, item)))
                    except ValueError as exc:
                        raise FactError(f"field '{key}': {exc}", path=path, record=where) from exc
        _add_label(graph, iri, rec.data, ontology)
    _add_fact_labels(graph, ontology, types)
    return Facts(graph=graph, origins=origins)


def _resolve(item: Any, key: str, spec: PropertySpec, types: dict[URIRef, URIRef],
             sectors: dict[str, URIRef], *, path: Path, where: str) -> URIRef:
    if not isinstance(item, str) or not item:
        raise FactError(f"field '{key}': '{item}' is not an id", path=path, record=where)
    if spec.range == D4D.Sector:
        if item not in sectors:
            raise FactError(f"field '{key}': unknown sector '{item}' (known: {', '.join(sectors)})",
                            path=path, record=where)
        return sectors[item]
    target = record_iri(item)
    if target not in types:
        raise FactError(f"field '{key}': unknown reference '{item}' (no record has this id)",
                        path=path, record=where)
    return target


def _add_citations(graph: Graph, iri: URIRef, values: list[Any], types: dict[URIRef, URIRef],
                   *, path: Path, where: str) -> None:
    for number, item in enumerate(values, start=1):
        if not isinstance(item, dict) or set(item) - {"source", "quote"}:
            raise FactError("each entry of 'sources' must be a mapping with 'source' and 'quote'",
                            path=path, record=where)
        source, quote = item.get("source"), item.get("quote")
        if not isinstance(source, str) or record_iri(source) not in types:
            raise FactError(f"sources: unknown source document '{source}'", path=path, record=where)
        if types[record_iri(source)] != D4D.SourceDocument:
            raise FactError(f"sources: '{source}' is not a SourceDocument", path=path, record=where)
        if not isinstance(quote, str) or not quote.strip():
            raise FactError(f"sources: the citation of '{source}' has no quote", path=path, record=where)
        try:
            _refuse_contact_data(quote)
        except ValueError as exc:
            raise FactError(f"sources: the quote of '{source}' {exc}", path=path, record=where) from exc
        citation = URIRef(f"{iri}/citation/{number}")
        graph.add((iri, D4D.citation, citation))
        graph.add((citation, RDF.type, D4D.Citation))
        graph.add((citation, D4D.citedSource, record_iri(source)))
        graph.add((citation, D4D.quote, Literal(_normalise(quote))))


def _add_label(graph: Graph, iri: URIRef, data: dict[str, Any], ontology: Ontology) -> None:
    for key in ("name", "title"):
        value = data.get(key)
        if isinstance(value, str):
            graph.add((iri, RDFS.label, Literal(_normalise(value))))
            return


def _add_fact_labels(graph: Graph, ontology: Ontology, types: dict[URIRef, URIRef]) -> None:
    """Give every relationship a readable label: 'Funding: The Rockefeller Foundation → Data-Pop Alliance'."""
    def names(node: URIRef, prop: URIRef) -> str:
        found = sorted(str(graph.value(o, RDFS.label) or o) for o in graph.objects(node, prop))
        return ", ".join(found) if found else "?"

    for iri, cls in types.items():
        if (iri, RDFS.label, None) in graph:
            continue
        edge = next((e for e in ontology.edge_types.values() if ontology.is_subclass(cls, e.iri)), None)
        if edge is not None:
            if (iri, edge.source, None) not in graph:
                text = f"{edge.label} of {names(iri, edge.target)}"
            elif edge.source == edge.target:
                text = f"{edge.label}: {names(iri, edge.source).replace(', ', ' – ')}"
            else:
                text = f"{edge.label}: {names(iri, edge.source)} → {names(iri, edge.target)}"
        elif cls == D4D.Activity:
            text = f"Activity of {names(iri, D4D.performer)}"
        else:
            text = ontology.label(cls)
        graph.add((iri, RDFS.label, Literal(text)))


def load(ontology_dir: str | Path = "ontology", graph_dir: str | Path = "graph") -> Loaded:
    """Load the ontology and the facts (the first stage of the build).

    Raises
    ------
    OntologyError, FactError
        See :func:`~d4d.ontology.load_ontology` and :func:`load_facts`.
    """
    ontology = load_ontology(ontology_dir)
    return Loaded(ontology=ontology, facts=load_facts(graph_dir, ontology))
