"""``d4d lint``: the fact files of ``graph/`` checked like code, one problem a line
(``path:line:col: code message``), for a data repository's CI or a pre-commit hook.

Codes
-----
========= ==========================================================================================
D001      the file cannot be read (YAML syntax), or the loader refuses it (the build would stop)
D101      a quote is not, word for word (whitespace normalised), in its source document's text
D102      a source document's text cannot be read, or differs from its recorded SHA-256
D103      a source document has no text to check quotes against (no localFile, no url) or no sha256
D104      a record whose every quote is only a heading (a line of the source that states nothing)
D105      a cited record does not say its basis (``stated`` or ``read``)
D106      a record read into its quotes (``basis: read``) has no note saying how
D201      a person without a public role (a membership in an organisation, or the authorship of a
          published document or article)
D202      contact details (an e-mail address or a phone number) in a record
D301      an organisation without a sector
D401      a currency that is not an ISO 4217 code
D402      an amount that is not a positive number
D403      an impossible date (not a year, year-month or calendar date)
D404      an end date before the start date
D501      an id that is not a slug, or is used twice
D502      a reference to an id that no record (or sector) has
D503      a URL that is not http(s), a sha256 that is not 64 hex digits, an identifier that is not
          an org-id with a registered prefix
========= ==========================================================================================

A heading is a whole line of the source (bullets stripped) that does not end as a sentence does
(``. ! ? : ;`` or a closing quotation mark after one); a quote that is a heading still counts when it
is the record's own ``title`` (an article quoted by its title) or when another quote of the record
states something.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from d4d.checks import find_contact_data, is_currency
from d4d.curate import snapshot
from d4d.errors import D4DError
from d4d.load import SLUG, URL, fact_files, load_facts, parse_date
from d4d.ontology import Ontology, load_ontology
from d4d.vocab import D4D


@dataclass(frozen=True, order=True)
class Finding:
    """One finding: where (file, line, column; 1-based), a code and what is wrong."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


@dataclass
class _Record:
    path: str
    node: yaml.MappingNode
    fields: dict[str, yaml.Node] = field(default_factory=dict)
    keys: dict[str, yaml.Node] = field(default_factory=dict)

    @property
    def ident(self) -> str:
        node = self.fields.get("id")
        return node.value if isinstance(node, yaml.ScalarNode) else ""

    @property
    def type(self) -> str:
        node = self.fields.get("type")
        return node.value if isinstance(node, yaml.ScalarNode) else ""

    def scalar(self, key: str) -> str | None:
        node = self.fields.get(key)
        return node.value if isinstance(node, yaml.ScalarNode) else None

    def values(self, key: str) -> list[yaml.ScalarNode]:
        node = self.fields.get(key)
        if isinstance(node, yaml.ScalarNode):
            return [node]
        if isinstance(node, yaml.SequenceNode):
            return [n for n in node.value if isinstance(n, yaml.ScalarNode)]
        return []


def _at(path: str, node: yaml.Node, code: str, message: str) -> Finding:
    return Finding(path, node.start_mark.line + 1, node.start_mark.column + 1, code, message)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _records(path: Path, shown: str) -> tuple[list[_Record], list[Finding]]:
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except UnicodeDecodeError as exc:
        return [], [Finding(shown, 1, 1, "D001", f"not UTF-8 text: {exc}")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return [], [Finding(shown, line, col, "D001", f"YAML syntax error: {exc.problem or exc.context}")]
    if root is None:
        return [], []
    if not isinstance(root, yaml.SequenceNode):
        return [], [_at(shown, root, "D001", "a fact file must be a YAML list of records")]
    records, problems = [], []
    for item in root.value:
        if not isinstance(item, yaml.MappingNode):
            problems.append(_at(shown, item, "D001", "a record must be a mapping of fields"))
            continue
        record = _Record(shown, item)
        for key, value in item.value:
            record.fields[str(key.value)] = value
            record.keys[str(key.value)] = key
        records.append(record)
    return records, problems


def _scalars(node: yaml.Node) -> Iterator[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item)
    elif isinstance(node, yaml.MappingNode):
        for _, value in node.value:
            yield from _scalars(value)


def _heading_lines(text: str) -> frozenset[str]:
    """The lines of a text that read as headings: no sentence ending."""
    out = set()
    for line in text.splitlines():
        line = _normalise(line.strip().lstrip("•*-–·").strip())
        if line and not re.search(r"[.!?:;][”’\"')\]]*$", line):
            out.add(line)
    return frozenset(out)


@dataclass
class _Text:
    normalised: str
    headings: frozenset[str]


def lint(project: str | Path = ".", *, graph_dir: str | Path | None = None,
         ontology_dir: str | Path | None = None, shared: str | Path | None = None,
         cache: str | Path | None = None) -> list[Finding]:
    """Check the fact files of a project; return every problem found, sorted by file and line.

    Parameters
    ----------
    project:
        The project folder (``graph/`` and ``ontology/`` below it by default).
    shared:
        The folder that source documents' ``localFile`` paths are relative to (default: the
        ``shared`` folder beside the project).
    cache:
        Folder of fetched source documents, by SHA-256 (default: ``PROJECT/.d4d/sources``). A source
        with a ``url`` and no ``localFile`` is fetched once and checked by its hash.

    Returns
    -------
    list[Finding]
        Empty when the files are clean. Finding paths are as the files were found (relative to the
        current folder when ``graph_dir`` is).

    Raises
    ------
    OntologyError
        The ontology itself cannot be read.
    """
    project = Path(project)
    graph = Path(graph_dir) if graph_dir is not None else project / "graph"
    ontology = load_ontology(Path(ontology_dir) if ontology_dir is not None else project / "ontology")
    shared_dir = Path(shared) if shared is not None else project.resolve().parent / "shared"
    cache_dir = Path(cache) if cache is not None else project / ".d4d" / "sources"

    problems: list[Finding] = []
    records: list[_Record] = []
    try:
        paths = fact_files(graph)
    except D4DError as error:
        return [Finding(str(graph), 1, 1, "D001", error.reason)]
    for path in paths:
        found, broken = _records(path, str(path))
        records += found
        problems += broken

    by_id: dict[str, _Record] = {}
    for record in records:
        ident_node = record.fields.get("id")
        if not isinstance(ident_node, yaml.ScalarNode) or not SLUG.match(record.ident):
            problems.append(_at(record.path, ident_node or record.node, "D501",
                                f"id '{record.ident}' is not a slug (lower-case letters, digits and hyphens)"))
            continue
        if record.ident in by_id:
            first = by_id[record.ident]
            problems.append(_at(record.path, ident_node, "D501",
                                f"id '{record.ident}' is used twice (first at {first.path}:"
                                f"{first.node.start_mark.line + 1})"))
            continue
        by_id[record.ident] = record

    texts = _source_texts(by_id, shared_dir, cache_dir, problems)
    for record in by_id.values():
        problems += _check_record(record, ontology, by_id, texts)
    problems += _check_people(by_id)

    # What the loader refuses and no check above caught (an unknown field, a value of the wrong kind).
    seen = {(p.path, p.line) for p in problems}
    if not any(p.code == "D001" for p in problems):
        try:
            load_facts(graph, ontology, files=paths)
        except D4DError as error:
            match = re.search(r"line (\d+)", error.record or "")
            line = int(match.group(1)) if match else 1
            if (error.path or str(graph), line) not in seen and not (
                    error.path and any(p.path == error.path and p.line >= line for p in problems)):
                problems.append(Finding(error.path or str(graph), line, 1, "D001", error.reason))
    return sorted(set(problems))


def _source_texts(by_id: dict[str, _Record], shared: Path, cache: Path,
                  problems: list[Finding]) -> dict[str, _Text]:
    texts: dict[str, _Text] = {}
    for record in by_id.values():
        if record.type != "SourceDocument":
            continue
        digest = record.scalar("sha256")
        sha_node = record.fields.get("sha256")
        if digest is None:
            problems.append(_at(record.path, record.keys["type"], "D103",
                                f"source '{record.ident}' has no sha256: record the SHA-256 of the text its quotes "
                                "come from"))
        elif not re.fullmatch(r"[0-9a-f]{64}", digest) and sha_node is not None:
            problems.append(_at(record.path, sha_node, "D503", f"sha256 '{digest}' is not 64 lower-case hex digits"))
            digest = None
        local, url = record.scalar("localFile"), record.scalar("url")
        location = str(shared / local) if local else url
        if location is None:
            problems.append(_at(record.path, record.keys["type"], "D103",
                                f"source '{record.ident}' has no text to check quotes against: give localFile "
                                "(the text kept) or url and sha256 (fetched and checked by hash)"))
            continue
        if url and not local and digest is None:
            continue  # a fetched text is only trusted against its hash: D103 above says so
        try:
            snap = snapshot.read(location, sha256=digest, cache=cache)
        except D4DError as error:
            node = record.fields.get("localFile" if local else "url") or record.node
            problems.append(_at(record.path, node, "D102", f"source '{record.ident}': {error.message}"))
            continue
        texts[record.ident] = _Text(_normalise(snap.text), _heading_lines(snap.text))
    return texts


def _check_record(record: _Record, ontology: Ontology, by_id: dict[str, _Record],
                  texts: dict[str, _Text]) -> list[Finding]:
    out: list[Finding] = []
    path = record.path
    cls = ontology.record_types.get(record.type)
    if cls is None:
        node = record.fields.get("type") or record.node
        return [_at(path, node, "D001", f"unknown type '{record.type}'")]
    fields = ontology.fields(cls)
    sectors = set(ontology.sectors)

    # references, URLs, identifiers, dates, amounts, currencies
    for key, node in record.fields.items():
        spec = fields.get(key)
        if spec is None or spec.iri == D4D.citation:
            continue
        for value in _scalars(node):
            text = str(value.value)
            if spec.is_object:
                known = text in sectors if spec.range == D4D.Sector else text in by_id
                if not known:
                    what = "sector" if spec.range == D4D.Sector else "record"
                    out.append(_at(path, value, "D502", f"{key}: no {what} has the id '{text}'"))
            elif spec.value_format == "date":
                try:
                    parse_date(text)
                except ValueError as exc:
                    out.append(_at(path, value, "D403", f"{key}: {exc}"))
            elif spec.datatype is not None and str(spec.datatype).endswith("anyURI") and not URL.match(text):
                out.append(_at(path, value, "D503", f"{key}: '{text}' is not an http(s) URL"))
            elif spec.iri == D4D.identifier and not _is_org_id(text):
                out.append(_at(path, value, "D503", f"identifier '{text}' is not an org-id with a registered "
                                                    "prefix (such as GB-CHC-1015648)"))
            elif spec.iri == D4D.currency and not is_currency(text):
                out.append(_at(path, value, "D401", f"currency '{text}' is not an ISO 4217 code (such as USD, GBP)"))
            elif spec.iri == D4D.amount and not _is_positive(text):
                out.append(_at(path, value, "D402", f"amount '{text}' is not a positive number"))
    start, end = record.fields.get("startDate"), record.fields.get("endDate")
    if isinstance(start, yaml.ScalarNode) and isinstance(end, yaml.ScalarNode):
        try:
            parse_date(start.value), parse_date(end.value)
            if str(end.value)[:10] < str(start.value)[:len(str(end.value))]:
                out.append(_at(path, end, "D404", f"endDate {end.value} is before startDate {start.value}"))
        except ValueError:
            pass

    if ontology.is_subclass(cls, D4D.Organization) and not record.values("sector"):
        out.append(_at(path, record.keys.get("type", record.node), "D301",
                       f"organisation '{record.ident}' has no sector (see ontology/sectors.ttl)"))

    for node in record.fields.values():
        for value in _scalars(node):
            for found in find_contact_data(str(value.value)):
                out.append(_at(path, value, "D202", f"contact details in '{record.ident}': {found.kind} "
                                                    f"{found.text} (no e-mail or phone number belongs in the graph)"))

    sources = record.fields.get("sources")
    if not isinstance(sources, yaml.SequenceNode):
        return out
    if record.scalar("basis") is None:
        out.append(_at(path, record.keys.get("type", record.node), "D105",
                       f"'{record.ident}' does not say its basis: 'basis: stated' (the quotes say so) or "
                       "'basis: read' (a curator's reading, with a note saying how)"))
    elif record.scalar("basis") == "read" and record.scalar("note") is None:
        out.append(_at(path, record.keys["basis"], "D106",
                       f"'{record.ident}' is read into its quotes: add a note saying how"))
    headings: list[tuple[yaml.Node, str]] = []
    title = _normalise(record.scalar("title") or "")
    stating = 0
    for item in sources.value:
        if not isinstance(item, yaml.MappingNode):
            continue
        entry = {str(k.value): v for k, v in item.value}
        source, quote = entry.get("source"), entry.get("quote")
        if not isinstance(source, yaml.ScalarNode) or not isinstance(quote, yaml.ScalarNode):
            continue
        doc = texts.get(source.value)
        if doc is None:
            continue  # an unknown source is a D502/D001, an unreadable one a D102/D103
        said = _normalise(quote.value)
        if said not in doc.normalised:
            out.append(_at(path, quote, "D101", f"quote not found word for word in '{source.value}': "
                                                f"\"{said[:60]}{'…' if len(said) > 60 else ''}\""))
        elif said in doc.headings and said != title:
            headings.append((quote, source.value))
        else:
            stating += 1
    if headings and not stating:
        for quote, source in headings:
            out.append(_at(path, quote, "D104", f"'{record.ident}' cites only a heading of '{source}' "
                                                f"(\"{_normalise(quote.value)}\"): quote the words that state it"))
    return out


def _check_people(by_id: dict[str, _Record]) -> list[Finding]:
    roles: set[str] = set()
    for record in by_id.values():
        if record.type == "Membership":
            roles |= {n.value for n in record.values("member")}
        if record.type in ("SourceDocument", "MediaCoverage"):
            roles |= {n.value for n in record.values("author")}
    return [_at(r.path, r.keys.get("type", r.node), "D201",
                f"person '{r.ident}' has no public role: name them only through a membership in an organisation "
                "or the authorship of a published document that a source states")
            for r in by_id.values() if r.type == "Person" and r.ident not in roles]


def _is_positive(text: str) -> bool:
    try:
        return Decimal(text.replace(",", "")) > 0
    except InvalidOperation:
        return False


def _is_org_id(text: str) -> bool:
    from d4d.imports.identity import registered_prefixes

    prefixes = registered_prefixes()
    return any(text.upper().startswith(prefix + "-") and len(text) > len(prefix) + 1 for prefix in prefixes)


def summary(problems: list[Finding]) -> dict[str, int]:
    """The number of problems by code."""
    counts: dict[str, int] = defaultdict(int)
    for problem in problems:
        counts[problem.code] += 1
    return dict(sorted(counts.items()))
