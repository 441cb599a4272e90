"""What every importer shares: the batch writer into a named graph, the import report, citations,
organisation nodes (through :mod:`d4d.imports.identity`), and safe literals.

An importer is a function ``read(ctx, paths)`` that reads its files record by record and calls
``ctx.add`` for each triple; the context writes them into the source's named graph in batches, so
memory stays flat whatever the size of the files. A record that cannot be read goes to
``ctx.problem`` (file, record, reason): it is reported and skipped, or raised as a
:class:`~d4d.errors.SourceError` when the import is strict. What the importer read leniently (a date
found in the element text instead of its attribute, an upper-case language code) goes to
``ctx.warn``: kept, and counted in the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox
import yaml

from d4d.checks import is_currency, redact
from d4d.errors import SourceError
from d4d.imports.identity import OrgId, Resolution, Resolver, local_iri, parse_org_id, slug
from d4d.limits import NUMBER_DIGITS, NUMBER_MAGNITUDE, TEXT_CHARS
from d4d.load import parse_date
from d4d.vocab import D4D, GRAPH, ID, SECTOR

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
DC_IDENTIFIER = ox.NamedNode("http://purl.org/dc/terms/identifier")
DC_TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
DC_DESCRIPTION = ox.NamedNode("http://purl.org/dc/terms/description")
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_DECIMAL = ox.NamedNode(XSD + "decimal")
XSD_BOOLEAN = ox.NamedNode(XSD + "boolean")
XSD_ANYURI = ox.NamedNode(XSD + "anyURI")
XSD_INTEGER = ox.NamedNode(XSD + "integer")
XSD_DATE = ox.NamedNode(XSD + "date")


@lru_cache(maxsize=None)
def term(iri: str) -> ox.NamedNode:
    """A NamedNode for an ontology or vocabulary IRI (cached: the importers use a few hundred)."""
    return ox.NamedNode(iri)


@lru_cache(maxsize=None)
def d4d(name: str) -> ox.NamedNode:
    """The NamedNode of a d4d ontology term, checked against :class:`d4d.vocab.D4D` (a typo fails)."""
    return term(str(getattr(D4D, name)))


def source_graph(name: str) -> str:
    """The named graph of an imported source: ``https://w3id.org/d4d/graph/source/<name>``."""
    return f"{GRAPH}source/{name}"


@lru_cache(maxsize=None)
def data_file(name: str) -> Any:
    """A mapping file of ``d4d/data/`` (YAML), parsed once."""
    text = resources.files("d4d").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


# --------------------------------------------------------------------------------------------------
# Languages

_BCP47 = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")


def language_tag(code: str | None) -> str | None:
    """A publisher's language code as a BCP 47 tag: lower-case, the shortest ISO 639 code.

    >>> [language_tag(c) for c in ("EN", "ENG", "fr", "pt-BR", "", "xml:lang", None)]
    ['en', 'en', 'fr', 'pt-br', None, None, None]
    """
    if not code:
        return None
    tag = code.strip().replace("_", "-").lower()
    primary, _, rest = tag.partition("-")
    primary = str(data_file("languages.yaml").get(primary, primary))
    tag = primary + ("-" + rest if rest else "")
    return tag if _BCP47.match(tag) else None


# --------------------------------------------------------------------------------------------------
# Values

_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")


def date_literal(value: Any) -> ox.Literal | None:
    """A date (``YYYY-MM-DD``, or a full ISO date-time whose date part is taken as written), a year
    or a year-month, as ``xsd:date``/``xsd:gYear``/``xsd:gYearMonth``; None if it is none of these.

    >>> date_literal("2020-11-03T00:00:00+00:00").value, date_literal("2017-11-21T00:00:00.000Z").value
    ('2020-11-03', '2017-11-21')
    >>> date_literal("5000000") is None, date_literal("2015-02-30") is None
    (True, True)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat()
    text = str(value).strip()
    match = _DATE_PREFIX.match(text)
    if match:
        try:
            dt.date.fromisoformat(match.group(1))
        except ValueError:
            return None
        return ox.Literal(match.group(1), datatype=XSD_DATE)
    try:
        literal = parse_date(text)
    except ValueError:
        return None
    return ox.Literal(str(literal), datatype=term(str(literal.datatype)))


def shown(value: Any, limit: int = 40) -> str:
    """A value as a message quotes it: in full up to ``limit`` characters, else its ends and its length.

    >>> shown("1" * 1000)
    "'11111111111111111111…1111111111' (1,000 characters)"
    """
    text = str(value)
    if len(text) > limit:
        return f"'{text[:20]}…{text[-10:]}' ({len(text):,} characters)"
    return repr(value) if isinstance(value, str) else text


def number_problem(value: Any) -> str | None:
    """Why a value is not a number d4d reads, in words that do not repeat the value (so reports count
    records by it), or None: not a number, not finite, or beyond :data:`d4d.limits.NUMBER_DIGITS` digits
    or a magnitude of 10^±:data:`~d4d.limits.NUMBER_MAGNITUDE`. A text is measured before it is parsed,
    so a number of a million digits costs nothing.

    >>> number_problem("1,234.50") is None, number_problem("n/a"), number_problem("1E+99999")
    (True, 'is not a number', 'is out of bounds (more than 30 digits or beyond 10^±30)')
    """
    bounds = f"is out of bounds (more than {NUMBER_DIGITS} digits or beyond 10^±{NUMBER_MAGNITUDE})"
    if value is None or isinstance(value, bool):
        return "is not a number"
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value).strip().replace(",", "")
        if len(text) > NUMBER_DIGITS + 12:   # digits, a sign, a point and an exponent of up to 9 characters
            return bounds
        try:
            number = Decimal(text)
        except InvalidOperation:
            return "is not a number"
    if not number.is_finite():
        return "is not a finite number"
    if number and (len(number.as_tuple().digits) > NUMBER_DIGITS or abs(number.adjusted()) > NUMBER_MAGNITUDE):
        return bounds
    return None


def decimal_value(value: Any) -> Decimal | None:
    """A number (int, float, Decimal or text with optional thousands separators) within the bounds of
    :func:`number_problem`, or None.

    >>> decimal_value("1,234.50"), decimal_value(15000), decimal_value(3239.34), decimal_value("n/a")
    (Decimal('1234.50'), Decimal('15000'), Decimal('3239.34'), None)
    >>> decimal_value("1e999999999") is None
    True
    """
    if number_problem(value) is not None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))


def amount_value(value: Any) -> tuple[Decimal | None, str | None]:
    """An amount of money: (the number, None) if it is a positive number, else (None, why not), in words
    that do not repeat the value.

    >>> amount_value("1500"), amount_value(-5), amount_value(0), amount_value(None), amount_value("1e999")
    ((Decimal('1500'), None), (None, 'is negative'), (None, 'is zero'), (None, 'is missing'), (None, 'is out of bounds (more than 30 digits or beyond 10^±30)'))
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "is missing"
    problem = number_problem(value)
    if problem is not None:
        return None, problem
    number = decimal_value(value)
    if number is None or number < 0:
        return None, "is negative"
    if number == 0:
        return None, "is zero"
    return number, None


def decimal_literal(number: Decimal) -> ox.Literal:
    """``xsd:decimal`` in canonical form (no exponent, no trailing zeros after the point)."""
    text = format(number.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ox.Literal(text, datatype=XSD_DECIMAL)


def currency_code(value: Any) -> str | None:
    """An ISO 4217 currency code (upper-cased), or None if the value is not one (``GPB``).

    >>> currency_code(" gbp "), currency_code("GPB"), currency_code(12)
    ('GBP', None, None)
    """
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if is_currency(code) else None


_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$", re.IGNORECASE)


def url_literal(value: Any) -> ox.Literal | None:
    """An http(s) address as ``xsd:anyURI``, or None."""
    if not isinstance(value, str) or not _URL.match(value.strip()):
        return None
    return ox.Literal(value.strip(), datatype=XSD_ANYURI)


# --------------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class Problem:
    """A record that was skipped (or, for a warning, read leniently): where, and why."""

    path: str
    record: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "record": self.record, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.path}, {self.record}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did.

    ``counts`` holds the records imported per kind (activities, participations, transactions, fundings,
    organisations, grants, ...); ``skipped`` the records skipped per kind; ``problems`` the skipped
    records with file, record and reason; ``warnings`` what was read leniently, counted per reason in
    ``warning_counts`` with the first examples kept in ``warnings``.
    """

    source: str
    kind: str
    graph: str
    files: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    warning_counts: Counter[str] = field(default_factory=Counter)
    quads: int = 0
    document_quads: int = 0
    """Of ``quads``, those that describe the imported files (their SourceDocuments)."""
    seconds: float = 0.0

    @property
    def problem_count(self) -> int:
        return sum(self.skipped.values())

    @property
    def kept_nothing(self) -> bool:
        """Whether the import wrote nothing but the description of its files."""
        return self.quads <= self.document_quads

    @property
    def warning_count(self) -> int:
        return sum(self.warning_counts.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {"source": self.source, "kind": self.kind, "graph": self.graph, "files": self.files,
                "counts": dict(sorted(self.counts.items())), "skipped": dict(sorted(self.skipped.items())),
                "problems": [p.as_dict() for p in self.problems], "problem_count": self.problem_count,
                "warnings": dict(sorted(self.warning_counts.items())), "warning_count": self.warning_count,
                "quads": self.quads, "seconds": round(self.seconds, 3)}


MAX_EXAMPLES = 1000
"""How many problems and warnings the report keeps in full (all are counted)."""


# --------------------------------------------------------------------------------------------------
# Organisation mentions


@dataclass
class OrgMention:
    """What a record says about an organisation.

    Parameters
    ----------
    ref:
        The identifier the record gives (an org-id or not).
    name:
        The name it gives.
    scope:
        Where a local node lives when nothing else identifies it: a path below ``id/`` such as
        ``iati/org/xm-dac-41114`` (the publisher that names it) or ``crafd/org``.
    kind, sectors:
        Organisation kind (a class name of the ontology) and sector slugs, if the record says.
    keys:
        The source's own keys for the organisation, looked up in the crosswalk: ``("crafd", "hhi")``.
    local_key:
        The source's record key, used for a local node instead of the name.
    quote:
        The citation's locator for the first mention in a file.
    """

    ref: str | None
    name: str | None
    scope: str
    kind: str | None = None
    sectors: Sequence[str] = ()
    keys: Sequence[tuple[str, str]] = ()
    local_key: str | None = None
    label: str | None = None
    alternate_names: Sequence[str] = ()
    description: str | None = None
    url: str | None = None
    same_as: Sequence[str] = ()
    quote: str = ""


@dataclass
class ResolvedOrg:
    """An organisation node as the importer uses it: IRI, display name and how it was identified."""

    node: ox.NamedNode
    name: str
    resolution: Resolution | None
    org_id: OrgId | None


# --------------------------------------------------------------------------------------------------
# The context


class ImportContext:
    """The state of one import: target store and graph, resolver, report, batch.

    Parameters
    ----------
    store:
        The pyoxigraph store the source is written into.
    source:
        The source's name (its graph is :func:`source_graph` of it).
    kind:
        The importer's name (``iati``, ``360giving``, ...).
    resolver:
        Resolves organisation mentions to nodes.
    strict:
        Raise :class:`SourceError` on the first record that cannot be read.
    options:
        The source's options from ``imports.yaml`` or the command line.
    batch_size:
        Quads written to the store at a time.
    progress:
        Called with the number of records read so far, every ``progress_every`` records.
    spool:
        A file that also gets every batch written, as N-Triples: the build adds the same text to the
        default graph in one bulk load, instead of reading the graph back.
    """

    def __init__(self, store: ox.Store, source: str, kind: str, *, resolver: Resolver | None = None,
                 strict: bool = False, options: dict[str, Any] | None = None, batch_size: int = 50_000,
                 ontology: Any = None, progress: Callable[[int], None] | None = None,
                 progress_every: int = 1000, shared: Path | None = None, spool: BinaryIO | None = None) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", source):
            raise SourceError(f"a source name must be a slug (lower-case letters, digits, hyphens): {source!r}")
        self.store = store
        self.source = source
        self.graph = ox.NamedNode(source_graph(source))
        self.resolver = resolver or Resolver()
        self.strict = strict
        self.options = dict(options or {})
        self.ontology = ontology
        self.batch_size = batch_size
        self.report = ImportReport(source=source, kind=kind, graph=self.graph.value)
        self.progress = progress
        self.progress_every = progress_every
        self.shared = shared
        self.spool = spool
        self._batch: list[str] = []
        self._writer: threading.Thread | None = None
        self._failed: BaseException | None = None
        self._records = 0
        self._seen: set[tuple[str, str, str]] = set()
        self._org_names: dict[str, str] = {}
        self._cited: set[tuple[str, str]] = set()
        self._documents: dict[str, ox.NamedNode] = {}
        self._distinct: dict[str, set[str]] = {}
        self._started = time.perf_counter()

    # -- writing ---------------------------------------------------------------------------------

    def add(self, subject: ox.NamedNode, predicate: ox.NamedNode, obj: ox.NamedNode | ox.Literal) -> None:
        """Add one triple to the source's graph (written in batches)."""
        # Batches are kept as N-Triples text (pyoxigraph writes each term in its N-Triples form) and bulk
        # loaded: building Quad objects costs more than the rest of the import, and the transactional
        # Store.extend holds a whole batch in memory on an on-disk store.
        batch = self._batch
        batch.append(f"{subject} {predicate} {obj} .\n")
        if len(batch) >= self.batch_size:
            self.flush()

    def add_once(self, subject: ox.NamedNode, predicate: ox.NamedNode, obj: ox.NamedNode | ox.Literal) -> bool:
        """Add a triple unless this import added it already; True if added. For facts about shared nodes
        (organisations) that many records repeat."""
        key = (subject.value, predicate.value, str(obj))
        if key in self._seen:
            return False
        self._seen.add(key)
        self.add(subject, predicate, obj)
        return True

    def flush(self) -> None:
        """Hand the pending batch to the store. It is written in a thread while the next batch is read
        (pyoxigraph's bulk load leaves Python's lock free); :meth:`finish` waits for the last one."""
        if self._batch:
            data = "".join(self._batch).encode("utf-8")
            self.report.quads += len(self._batch)
            self._batch = []
            self._wait()
            self._writer = threading.Thread(target=self._write, args=(data,), name="d4d-import-batch", daemon=True)
            self._writer.start()

    def _write(self, data: bytes) -> None:
        try:
            # lenient: the text is written from pyoxigraph terms, whose IRIs and language tags were
            # checked when they were made (checking them again costs about 7% of the load's CPU)
            self.store.bulk_load(input=data, format=ox.RdfFormat.N_TRIPLES, to_graph=self.graph, lenient=True)
            if self.spool is not None:
                self.spool.write(data)
        except BaseException as exc:  # raised again by _wait()
            self._failed = exc

    def discard(self) -> None:
        """Wait for the batch being written, ignoring its error (an import that failed: its graph is
        removed next, and no write may come after that)."""
        self._wait(raising=False)

    def _wait(self, *, raising: bool = True) -> None:
        """Wait for the batch being written; raise what writing it raised (unless not ``raising``)."""
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        failed, self._failed = self._failed, None
        if failed is not None and raising:
            raise failed

    def record_done(self) -> None:
        """Count one record read (for the progress callback)."""
        self._records += 1
        if self.progress is not None and self._records % self.progress_every == 0:
            self.progress(self._records)

    # -- reporting -------------------------------------------------------------------------------

    def count(self, kind: str, n: int = 1) -> None:
        self.report.counts[kind] += n

    def count_distinct(self, kind: str, key: str) -> None:
        """Count ``key`` under ``kind`` once (distinct recipients, ...; keys of shared nodes only)."""
        seen = self._distinct.setdefault(kind, set())
        if key not in seen:
            seen.add(key)
            self.report.counts[kind] += 1

    def problem(self, path: Path | str, record: str, reason: str, *, kind: str = "record",
                fatal: bool = True) -> None:
        """Report a record that is skipped. Raises :class:`SourceError` if the import is strict and
        the problem is one of reading (``fatal``), not a deliberate skip (a grant to a person)."""
        if self.strict and fatal:
            raise SourceError(reason, path=path, record=record)
        self.report.skipped[kind] += 1
        if len(self.report.problems) < MAX_EXAMPLES:
            self.report.problems.append(Problem(str(path), record, reason))

    def warn(self, path: Path | str, record: str, reason: str, *, detail: str | None = None) -> None:
        """Report something read leniently (kept), counted by ``reason`` (a rule: the same words for
        every record it applies to); the example kept in the report adds the record's ``detail``."""
        self.report.warning_counts[reason] += 1
        if len(self.report.warnings) < MAX_EXAMPLES:
            self.report.warnings.append(Problem(str(path), record, f"{reason}: {detail}" if detail else reason))

    # -- literals --------------------------------------------------------------------------------

    def text(self, value: Any, *, path: Path | str = "", record: str = "") -> str | None:
        """Whitespace-normalised text with e-mail addresses and phone numbers removed; None if empty, or
        if longer than :data:`d4d.limits.TEXT_CHARS` (reported as a warning: the record is kept)."""
        if value is None:
            return None
        text = str(value)
        if len(text) > TEXT_CHARS:
            self.warn(path, record, f"a text of more than {TEXT_CHARS:,} characters left out")
            return None
        text = re.sub(r"\s+", " ", text).strip()
        if not text:
            return None
        text, removed = redact(text)
        if removed:
            self.warn(path, record, "contact data (e-mail or phone) removed from a text")
        return text

    def literal(self, text: str, lang: str | None = None) -> ox.Literal:
        return ox.Literal(text, language=lang) if lang else ox.Literal(text)

    # -- documents and citations -----------------------------------------------------------------

    def document(self, path: Path, *, title: str, description: str | None = None) -> ox.NamedNode:
        """The SourceDocument of one file: ``id/source/<source>/<file name>`` (title, file hash,
        the path below the shared folder, marked as not a seed document)."""
        path = Path(path)
        key = str(path.resolve())
        if key in self._documents:
            return self._documents[key]
        base = slug(path.name)
        taken = {n.value for n in self._documents.values()}
        node_iri = f"{ID}source/{self.source}/{base}"
        number = 2
        while node_iri in taken:
            node_iri = f"{ID}source/{self.source}/{base}-{number}"
            number += 1
        node = ox.NamedNode(node_iri)
        self._documents[key] = node
        before = self.report.quads + len(self._batch)
        self.report.files.append(str(path))
        self.add(node, RDF_TYPE, d4d("SourceDocument"))
        self.add(node, d4d("title"), ox.Literal(title))
        self.add(node, RDFS_LABEL, ox.Literal(title))
        self.add(node, d4d("fromSeeds"), ox.Literal("false", datatype=XSD_BOOLEAN))
        self.add(node, DC_IDENTIFIER, ox.Literal("sha256:" + file_sha256(path)))
        if description:
            self.add(node, d4d("description"), ox.Literal(description))
        local = self._shared_path(path)
        if local:
            self.add(node, d4d("localFile"), ox.Literal(local))
        url = url_literal(self.options.get("url"))
        if url is not None:
            self.add(node, d4d("url"), url)
        self.report.document_quads += self.report.quads + len(self._batch) - before
        return node

    def _shared_path(self, path: Path) -> str | None:
        shared = self.shared
        resolved = path.resolve()
        if shared is None:
            for parent in resolved.parents:
                if parent.name == "shared":
                    shared = parent
                    break
        if shared is None:
            return None
        try:
            return resolved.relative_to(shared.resolve()).as_posix()
        except ValueError:
            return None

    def cite(self, subject: ox.NamedNode, document: ox.NamedNode, quote: str, *, once: bool = False) -> None:
        """Cite ``document`` for ``subject`` with ``quote`` (the record's locator and key values):
        ``<subject>/citation/<source>/<file>``. With ``once``, only the first call per subject and file
        writes (for organisations, which many records mention; a record's own facts are cited once
        anyway, and remembering them would make memory grow with the file)."""
        if once:
            key = (subject.value, document.value)
            if key in self._cited:
                return
            self._cited.add(key)
        citation = ox.NamedNode(f"{subject.value}/citation/{self.source}/{document.value.rsplit('/', 1)[-1]}")
        self.add(subject, d4d("citation"), citation)
        self.add(citation, RDF_TYPE, d4d("Citation"))
        self.add(citation, d4d("citedSource"), document)
        quote = quote.strip()
        self.add(citation, d4d("quote"), ox.Literal(quote if len(quote) >= 3 else f"record {quote}"))

    # -- organisations ---------------------------------------------------------------------------

    def organisation(self, mention: OrgMention, document: ox.NamedNode, *, path: Path | str,
                     record: str) -> ResolvedOrg | None:
        """The node of an organisation mention, writing what the mention says about it.

        The first mention in this import gives a node that is not curated its kinds, name, label,
        sectors and identifier; later mentions add other kinds and sectors, and other names as
        alternate names. A curated node (graph/) only gets alternate names, identifiers and the
        citation: its curated record keeps its name, kind and sectors.

        Returns None (and reports nothing: the caller knows what the mention was for) when the
        mention has neither an identifier, a key nor a name.
        """
        ref = (mention.ref or "").strip() or None
        if ref is not None and ref.casefold() in _placeholders():
            self.warn(path, record, "placeholder ref (such as N/A) read as no ref")
            ref = None
        org_id = parse_org_id(ref)
        if ref is not None and org_id is None:
            self.warn(path, record, "ref is not an org-id (kept as a local identifier)")
        elif org_id is not None and not org_id.registered:
            self.warn(path, record, f"org-id prefix {org_id.prefix} is not in the registration-agency codelist")
        resolution = self.resolver.resolve(org_id=org_id, keys=mention.keys)
        if resolution is None:
            local = local_iri(mention.scope, key=mention.local_key, name=mention.name, ref=ref)
            if local is None:
                return None
            iri = local
        else:
            iri = resolution.iri
        # a curator's reviewed decision (d4d reconcile --accept) merges the node into another
        iri, merged_curated = self.resolver.canonical(iri)
        node = ox.NamedNode(iri)
        curated = merged_curated or (resolution is not None and resolution.curated)
        # The crosswalk sent the mention to a node of its own although it gives an org-id: the curator
        # says the org-id is not this organisation's (the compass gives UNICEF's to Humanitarian
        # Outcomes), so it is not kept as its identifier.
        wrong_id = (org_id is not None and resolution is not None and resolution.via.startswith("crosswalk")
                    and resolution.via != "crosswalk org-id" and not resolution.curated and iri != org_id.iri)
        if wrong_id:
            self.warn(path, record, "org-id not kept: the crosswalk keeps this organisation apart from it")
        name = mention.name or (org_id.value if org_id else ref) or mention.local_key or iri.rsplit("/", 1)[-1]
        if iri not in self._org_names:
            self._org_names[iri] = name
            self.count("organisations")
            if not curated:
                self.add(node, RDF_TYPE, d4d("Organization"))
                self.add(node, d4d("name"), ox.Literal(name))
                self.add(node, RDFS_LABEL, ox.Literal(mention.label or name))
                self._seen.add((iri, "name", name.casefold()))
        # Other names of a node (another casing, another language, the curated node's name in this
        # source) become alternate names, each once.
        for alt in ([mention.name] if mention.name else []) + list(mention.alternate_names):
            if alt and (iri, "name", alt.casefold()) not in self._seen:
                self._seen.add((iri, "name", alt.casefold()))
                self.add(node, d4d("alternateName"), ox.Literal(alt))
        if not curated:
            if mention.kind and mention.kind != "Organization":
                self.add_once(node, RDF_TYPE, d4d(mention.kind))
            for sector in mention.sectors:
                self.add_once(node, d4d("sector"), term(str(SECTOR[sector])))
            if mention.description:
                self.add_once(node, d4d("description"), ox.Literal(mention.description))
            url = url_literal(mention.url)
            if url is not None:
                self.add_once(node, d4d("url"), url)
        if org_id is not None:
            if not wrong_id:
                self.add_once(node, d4d("identifier"), ox.Literal(org_id.value))
        elif ref is not None:
            self.add_once(node, DC_IDENTIFIER, ox.Literal(ref))
        for address in mention.same_as:
            url = url_literal(address)
            if url is not None:
                self.add_once(node, d4d("sameAs"), url)
        self.cite(node, document, mention.quote or f"{record}: {name}", once=True)
        return ResolvedOrg(node=node, name=self._org_names[iri], resolution=resolution, org_id=org_id)

    def finish(self) -> ImportReport:
        """Write what is pending and close the report."""
        self.flush()
        self._wait()
        self.report.seconds = time.perf_counter() - self._started
        return self.report


@lru_cache(maxsize=1)
def _placeholders() -> frozenset[str]:
    return frozenset(str(p).casefold() for p in data_file("iati.yaml")["placeholder_refs"])


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (read in chunks)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_json(path: Path, kind: type[list[Any]] | type[dict[str, Any]], shape: str) -> Any:
    """The value of a JSON file, which must be a ``kind`` (list or dict); ``shape`` says what the
    source's file should be, for the error.

    Raises
    ------
    SourceError
        The file cannot be read or parsed, or holds something else.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"not a readable JSON file: {exc}", path=path) from exc
    if not isinstance(data, kind):
        raise SourceError(shape, path=path)
    return data


def expand_paths(paths: Iterable[str | Path], suffixes: Sequence[str]) -> list[Path]:
    """Files to read: each file as given, each folder's files with one of ``suffixes`` (sorted).

    Raises
    ------
    SourceError
        A path does not exist, or a folder holds no such file.
    """
    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
            if not found:
                raise SourceError(f"no {', '.join(suffixes)} file in this folder", path=path)
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise SourceError("no such file or folder", path=path)
    return out
