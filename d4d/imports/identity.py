"""Identity: one organisation stays one node across sources.

How an organisation that a source mentions becomes a node, in this order:

1. **Declared cross-references.** A source's own keys for the organisation (the funding compass's
   ``org_key``, an HDX organisation key, a Wikidata QID, an org-id) are looked up in the crosswalk
   (``graph/crosswalk.csv``: ``id,scheme,value,note``), where a curator says which d4d node they denote,
   usually a curated record of ``graph/`` (``crafd,hhi`` -> ``harvard-humanitarian-initiative``).
   Curated records that carry ``identifier`` (an org-id) or ``sameAs`` (a Wikidata address) count as
   declared too.
2. **Org-id.** An identifier in the org-id form ``{registration agency}-{number}`` (``GB-GOV-1``,
   ``XM-DAC-41114``, ``US-EIN-06-1597-668``) names the node ``https://w3id.org/d4d/id/org/<org-id>``,
   lower-cased, every character but ``a-z 0-9 - . _ ~`` percent-encoded: ``id/org/gb-gov-1``. Org-ids
   are compared without regard to case, so ``GB-COH-213890`` and ``gb-coh-213890`` are one node. A
   prefix that is not in the registration-agency codelist (``KR-GOV-010``, ``DAC-1601``: identifiers
   publishers use that predate org-id.guide) still identifies; the import report counts them. 360Giving's
   own local identifiers (``360G-<funder>-<n>``) are unique by construction and identify too.
3. **Local to the source.** Anything else (no ref, a ref that is not an org-id such as ``N/A``, ``GB``,
   ``12711`` or a name) is a node local to the source and scope that mention it:
   ``id/<scope>/<key>``, e.g. ``id/iati/org/xm-dac-41114/undp-funding-windows`` for a participating
   organisation that UNDP's data names "UNDP Funding Windows" without an org-id. The key is the
   source's record key where it has one, else the name (case and punctuation folded), else the ref.

Names are never used to merge nodes of different scopes: :func:`reconcile` lists the likely duplicates
(same name, same website, a local ref that is the number of an org-id, ...) with the evidence, for a
curator to declare in the crosswalk.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pyoxigraph as ox

from d4d.errors import SourceError
from d4d.store import query_options
from d4d.vocab import D4D, GRAPH, ID

ORG_BASE = str(ID) + "org/"
"""Organisations with an org-id: ``https://w3id.org/d4d/id/org/<org-id, lower-case>``."""

FACTS_GRAPH = str(GRAPH["facts"])

_ORG_ID = re.compile(r"^(?:[A-Za-z]{2,}[A-Za-z0-9_]*|360G)(?:-[^\s-]+)+$")
_WIKIDATA = re.compile(r"^(?:https?://(?:www\.)?wikidata\.org/(?:wiki|entity)/)?(Q[1-9][0-9]*)$", re.IGNORECASE)
_SAFE = "-._~"
LOCAL_360G = "360G"
SAME, APART = "same", "apart"
DECISIONS = (SAME, APART)
"""Crosswalk schemes of a curator's reviewed decisions on a pair of nodes (``d4d reconcile --accept/--reject``)."""


@lru_cache(maxsize=1)
def registered_prefixes() -> frozenset[str]:
    """The registration-agency codes of ``d4d/data/org-id-prefixes.txt`` (GB-CHC, XM-DAC, ...)."""
    text = resources.files("d4d").joinpath("data/org-id-prefixes.txt").read_text(encoding="utf-8")
    return frozenset(line.split()[0].upper() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@dataclass(frozen=True)
class OrgId:
    """An identifier in the org-id form, as a source gives it."""

    value: str
    """As given (surrounding space removed)."""
    key: str
    """Upper-case, the form identity compares."""
    prefix: str
    """The registration agency part (``GB-CHC``), upper-case."""
    registered: bool
    """The prefix is in the registration-agency codelist (or is 360Giving's ``360G``)."""

    @property
    def iri(self) -> str:
        """``https://w3id.org/d4d/id/org/<org-id lower-case, percent-encoded>``."""
        return ORG_BASE + quote(self.key.lower(), safe=_SAFE)


def parse_org_id(ref: str | None) -> OrgId | None:
    """Read ``ref`` as an org-id, or None when it is not one.

    An org-id has no spaces, starts with letters (the country or list code; ``360G`` for 360Giving's
    local ids) and has at least one hyphen followed by more characters.

    Examples
    --------
    >>> parse_org_id(" GB-COH-213890 ").iri
    'https://w3id.org/d4d/id/org/gb-coh-213890'
    >>> parse_org_id("XM-DAC-41114").registered
    True
    >>> parse_org_id("KR-GOV-010").registered
    False
    >>> [parse_org_id(x) for x in ("N/A", "GB", "12711", "Education Cannot Wait", "")]
    [None, None, None, None, None]
    """
    if ref is None:
        return None
    value = ref.strip()
    if not value or not _ORG_ID.match(value) or not any(c.isalnum() for c in value.split("-", 1)[1]):
        return None
    parts = value.upper().split("-")
    if parts[0] == LOCAL_360G:
        return OrgId(value=value, key=value.upper(), prefix=LOCAL_360G, registered=True)
    prefix = "-".join(parts[:2])
    registered = prefix in registered_prefixes() and len(parts) > 2
    return OrgId(value=value, key=value.upper(), prefix=prefix if registered else parts[0], registered=registered)


def slug(text: str, *, limit: int = 80) -> str:
    """A readable, stable IRI segment for a name or key: case and punctuation folded, letters kept.

    >>> slug("UNDP  Funding Windows")
    'undp-funding-windows'
    >>> slug("Charita Česká republika")
    'charita-česká-republika'
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    out = re.sub(r"[\W_]+", "-", folded).strip("-")
    if not out:
        out = "x" + format(abs(hash_text(text)), "x")[:12]
    if len(out) > limit:
        out = out[:limit - 13].rstrip("-") + "-" + format(hash_text(text), "x")[:12]
    # Only word characters and hyphens are left: valid in an IRI path as they are (letters of any
    # script are IRI characters), so the segment stays readable.
    return out


def hash_text(text: str) -> int:
    """A stable (not per-process salted) hash of a text."""
    import hashlib
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def normalise_key(scheme: str, value: str) -> str:
    """The form a cross-reference value is compared in: org-ids and QIDs upper-case, others case-folded."""
    value = value.strip()
    if scheme in DECISIONS:
        return id_iri(value)
    if scheme == "org-id":
        return value.upper()
    if scheme == "wikidata":
        match = _WIKIDATA.match(value)
        return match.group(1).upper() if match else value.upper()
    return value.casefold()


def wikidata_qid(value: str) -> str | None:
    """The QID of a Wikidata address or id (``Q42``), or None."""
    match = _WIKIDATA.match(value.strip())
    return match.group(1).upper() if match else None


def id_iri(target: str) -> str:
    """A crosswalk target (a curated id, a path below ``id/`` or a full d4d IRI) as an IRI."""
    target = target.strip()
    if target.startswith(str(ID)):
        return target
    return str(ID) + target.strip("/")


@dataclass(frozen=True)
class CrossReference:
    """One declared cross-reference: the node an external key denotes."""

    scheme: str
    value: str
    target: str
    note: str
    line: int


@dataclass
class Crosswalk:
    """Declared cross-references: (scheme, value) -> d4d node.

    The file is CSV with a header ``id,scheme,value,note``: ``id`` is a curated record's id
    (``harvard-humanitarian-initiative``) or a path below ``https://w3id.org/d4d/id/``
    (``crafd/org/humanitarian-outcomes``, to keep an organisation apart from an org-id a source wrongly
    gives it); ``scheme`` is ``org-id``, ``wikidata``, ``crafd`` (the funding compass's ``org_key``),
    ``hdx`` or any other key scheme an importer declares; ``note`` says why.

    Two schemes record a curator's reviewed decision on a pair of nodes (``d4d reconcile --accept`` and
    ``--reject`` write them):

    - ``same``: the node ``value`` (a path below ``id/`` or a full IRI) is the node ``id``; the next build
      makes every mention of ``value`` a mention of ``id``, so the two are one actor everywhere;
    - ``apart``: ``id`` and ``value`` are two organisations; :func:`reconcile` never proposes them again.
    """

    entries: dict[tuple[str, str], CrossReference] = field(default_factory=dict)
    path: Path | None = None
    apart: set[frozenset[str]] = field(default_factory=set)
    """Pairs of node IRIs a curator keeps apart."""

    @classmethod
    def load(cls, path: str | Path) -> Crosswalk:
        """Read a crosswalk CSV file.

        Raises
        ------
        SourceError
            A row lacks id, scheme or value, or a (scheme, value) is declared twice for different ids.
        """
        path = Path(path)
        walk = cls(path=path)
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        except OSError as exc:
            raise SourceError(f"cannot read the crosswalk: {exc}", path=path) from exc
        for number, row in enumerate(rows, start=2):
            target = (row.get("id") or "").strip()
            scheme = (row.get("scheme") or "").strip().lower()
            value = (row.get("value") or "").strip()
            if not (target and scheme and value):
                raise SourceError("a crosswalk row needs id, scheme and value", path=path, record=f"line {number}")
            key = (scheme, normalise_key(scheme, value))
            ref = CrossReference(scheme, value, id_iri(target), (row.get("note") or "").strip(), number)
            if scheme == APART:
                if ref.target == key[1]:
                    raise SourceError("a node cannot be kept apart from itself", path=path, record=f"line {number}")
                walk.apart.add(frozenset((ref.target, key[1])))
                continue
            if scheme == SAME and ref.target == key[1]:
                raise SourceError("a node cannot be merged into itself", path=path, record=f"line {number}")
            known = walk.entries.get(key)
            if known is not None and known.target != ref.target:
                raise SourceError(f"{scheme} {value} is declared for two nodes ({known.target} on line "
                                  f"{known.line})", path=path, record=f"line {number}")
            walk.entries[key] = ref
        return walk

    def lookup(self, scheme: str, value: str) -> CrossReference | None:
        return self.entries.get((scheme, normalise_key(scheme, value)))

    def canonical(self, iri: str) -> str:
        """The node that ``iri`` is merged into by ``same`` decisions (following a chain), or ``iri``.

        Raises
        ------
        SourceError
            The decisions merge a node into itself through a cycle.
        """
        seen = [iri]
        while (ref := self.entries.get((SAME, seen[-1]))) is not None:
            if ref.target in seen:
                raise SourceError(f"the 'same' decisions make a cycle: {' -> '.join(seen + [ref.target])}",
                                  path=self.path, record=f"line {ref.line}")
            seen.append(ref.target)
        return seen[-1]

    def without_decisions(self) -> Crosswalk:
        """The declared cross-references alone, without the ``same`` and ``apart`` decisions."""
        return Crosswalk({k: v for k, v in self.entries.items() if k[0] not in DECISIONS}, path=self.path)

    def kept_apart(self, a: str, b: str) -> bool:
        """Whether a curator keeps the two nodes (or the nodes they are merged into) apart."""
        ca, cb = self.canonical(a), self.canonical(b)
        return any(frozenset(pair) in self.apart for pair in ((a, b), (ca, cb), (a, cb), (ca, b)))


@dataclass(frozen=True)
class Resolution:
    """The node an organisation mention resolves to and why."""

    iri: str
    curated: bool
    """The node is a record of the curated facts (graph/); importers then add only alternate names,
    identifiers and citations to it, never a kind, sector or name of their own."""
    via: str
    """``crosswalk <scheme>``, ``curated identifier``, ``curated sameAs``, ``org-id`` or ``local``."""
    org_id: OrgId | None = None


class Resolver:
    """Resolves organisation mentions to nodes (see the module docstring for the order).

    Parameters
    ----------
    crosswalk:
        Declared cross-references.
    curated:
        IRIs of the curated records (graph/).
    curated_ids:
        Org-id key (upper-case) -> curated IRI, from the curated records' ``d4d:identifier``.
    curated_qids:
        Wikidata QID -> curated IRI, from the curated records' ``d4d:sameAs``.
    """

    def __init__(self, crosswalk: Crosswalk | None = None, *, curated: Iterable[str] = (),
                 curated_ids: Mapping[str, str] | None = None, curated_qids: Mapping[str, str] | None = None) -> None:
        self.crosswalk = crosswalk or Crosswalk()
        self.curated = frozenset(curated)
        self.curated_ids = dict(curated_ids or {})
        self.curated_qids = dict(curated_qids or {})

    @classmethod
    def from_store(cls, store: ox.Store | None, crosswalk: Crosswalk | None = None, *,
                   facts_graph: str = FACTS_GRAPH) -> Resolver:
        """A resolver that knows the curated records of ``facts_graph`` in ``store`` (if any).

        Raises
        ------
        SourceError
            A crosswalk row names a curated id (no ``/`` in it) that no curated record has.
        """
        curated: set[str] = set()
        ids: dict[str, str] = {}
        qids: dict[str, str] = {}
        if store is not None:
            graph = ox.NamedNode(facts_graph)
            for quad in store.quads_for_pattern(None, None, None, graph):
                subject = quad.subject
                if isinstance(subject, ox.NamedNode):
                    curated.add(subject.value)
                    if quad.predicate.value == str(D4D.identifier) and isinstance(quad.object, ox.Literal):
                        ids[quad.object.value.strip().upper()] = subject.value
                    elif quad.predicate.value == str(D4D.sameAs) and isinstance(quad.object, ox.Literal):
                        qid = wikidata_qid(quad.object.value)
                        if qid:
                            qids[qid] = subject.value
        walk = crosswalk or Crosswalk()
        if store is not None and curated:
            for (scheme, value), ref in walk.entries.items():
                local = ref.target[len(str(ID)):]
                if "/" not in local and ref.target not in curated:
                    raise SourceError(f"crosswalk: no curated record has the id '{local}'", path=walk.path,
                                      record=f"line {ref.line}")
                if scheme == SAME and value in curated:
                    raise SourceError(f"crosswalk: the curated record <{value}> cannot be merged into another node "
                                      "(edit its record in graph/ instead)", path=walk.path, record=f"line {ref.line}")
        return cls(walk, curated=curated, curated_ids=ids, curated_qids=qids)

    def canonical(self, iri: str) -> tuple[str, bool]:
        """The node ``iri`` is merged into by the curator's ``same`` decisions, and whether it is curated."""
        node = self.crosswalk.canonical(iri)
        return node, node in self.curated

    def resolve(self, *, org_id: OrgId | None = None, keys: Sequence[tuple[str, str]] = ()) -> Resolution | None:
        """The node a mention denotes through its keys or org-id, or None (the caller makes a local node)."""
        for scheme, value in keys:
            if not value:
                continue
            ref = self.crosswalk.lookup(scheme, value)
            if ref is not None:
                return Resolution(ref.target, ref.target in self.curated, f"crosswalk {scheme}", org_id)
            if scheme == "wikidata":
                qid = wikidata_qid(value)
                if qid and qid in self.curated_qids:
                    return Resolution(self.curated_qids[qid], True, "curated sameAs", org_id)
        if org_id is not None:
            ref = self.crosswalk.lookup("org-id", org_id.key)
            if ref is not None:
                return Resolution(ref.target, ref.target in self.curated, "crosswalk org-id", org_id)
            if org_id.key in self.curated_ids:
                return Resolution(self.curated_ids[org_id.key], True, "curated identifier", org_id)
            return Resolution(org_id.iri, False, "org-id", org_id)
        return None


def key_segment(key: str) -> str:
    """A source's record key as an IRI segment: as given (keys such as Airtable record ids are
    case-sensitive), percent-encoded.

    >>> key_segment("rec18TzPP5pYZ8ezX"), key_segment("a b/c")
    ('rec18TzPP5pYZ8ezX', 'a%20b%2Fc')
    """
    return quote(key.strip(), safe=_SAFE)


def local_iri(scope: str, *, key: str | None = None, name: str | None = None, ref: str | None = None) -> str | None:
    """The IRI of an organisation local to a source scope: by record key, else name, else ref (a ref
    that is not an org-id is often a name: ``Education Cannot Wait``, so both fold the same way).

    >>> local_iri("iati/org/xm-dac-41114", name="UNDP Funding Windows")
    'https://w3id.org/d4d/id/iati/org/xm-dac-41114/undp-funding-windows'
    >>> local_iri("iati/org/x", ref="Education Cannot Wait") == local_iri("iati/org/x", name="EDUCATION CANNOT WAIT")
    True
    >>> local_iri("x") is None
    True
    """
    if key and key.strip():
        part = key_segment(key)
    elif name and name.strip():
        part = slug(name)
    elif ref and ref.strip():
        part = slug(ref)
    else:
        return None
    return f"{ID}{scope.strip('/')}/{part}"


# ---------------------------------------------------------------------------------------------------
# Reconciliation: likely duplicates with their evidence

_STOP = frozenset({"the", "of", "and", "for", "de", "la", "le", "des", "du", "el", "y", "et", "&"})


def name_key(name: str) -> str:
    """A name folded for comparison: case, accents, punctuation, 'the' and a leading acronym removed.

    >>> name_key("UNICEF: United Nations Children's Fund") == name_key("United Nations Childrens Fund")
    True
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"^[a-z0-9’'&.\- ]{2,12}:\s+", "", text)   # "UNICEF: United Nations ..."
    text = text.replace("'", "").replace("’", "")
    words = [w for w in re.split(r"[\W_]+", text) if w and w not in _STOP]
    return " ".join(words)


def acronym(name: str) -> str | None:
    """The acronym a name spells or gives (``Harvard Humanitarian Initiative (HHI)`` -> ``HHI``)."""
    match = re.search(r"\(([A-Z][A-Za-z0-9&]{1,11})\)\s*$", name.strip()) or re.match(r"^([A-Z][A-Z0-9&]{1,11}):\s", name.strip())
    if match:
        return match.group(1).upper()
    words = [w for w in re.split(r"[\W_]+", name) if w and w.casefold() not in _STOP]
    if len(words) >= 3 and all(w[0].isalpha() for w in words):
        return "".join(w[0] for w in words).upper()
    return None


def url_host(url: str) -> str | None:
    """The host of a web address without ``www.`` (``https://www.hhi.harvard.edu/x`` -> ``hhi.harvard.edu``)."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


@dataclass
class _Node:
    iri: str
    names: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    acronyms: set[str] = field(default_factory=set)
    hosts: set[str] = field(default_factory=set)
    identifiers: set[str] = field(default_factory=set)
    local_refs: set[str] = field(default_factory=set)
    graphs: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Candidate:
    """Two nodes that may be one organisation, with the evidence and a score in (0, 1]."""

    a: str
    b: str
    a_label: str
    b_label: str
    score: float
    evidence: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "a_label": self.a_label, "b_label": self.b_label,
                "score": self.score, "evidence": list(self.evidence)}


@dataclass(frozen=True)
class Conflict:
    """One node whose names share no word: an identifier that two sources give different organisations."""

    node: str
    names: tuple[str, ...]
    graphs: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "names": list(self.names), "graphs": list(self.graphs)}


_NAME_PROPS = (str(D4D.name), str(D4D.alternateName))
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_DC_ID = "http://purl.org/dc/terms/identifier"


def _organisations(store: ox.Store) -> dict[str, _Node]:
    nodes: dict[str, _Node] = {}
    rows = store.query(
        "SELECT DISTINCT ?o WHERE { ?o a <https://w3id.org/d4d/ontology#Organization> }",
        **query_options(store))
    for row in rows:  # type: ignore[union-attr]
        term = row["o"]
        if isinstance(term, ox.NamedNode):
            nodes[term.value] = _Node(term.value)
    wanted = (*_NAME_PROPS, _LABEL, str(D4D.url), str(D4D.identifier), _DC_ID)
    quads = (q for pred in wanted for q in store.quads_for_pattern(None, ox.NamedNode(pred), None, None))
    for quad in quads:
        subject = quad.subject
        if not isinstance(subject, ox.NamedNode):
            continue
        node = nodes.get(subject.value)
        if node is None or not isinstance(quad.object, ox.Literal):
            continue
        value, pred = quad.object.value, quad.predicate.value
        if isinstance(quad.graph_name, ox.NamedNode):
            node.graphs.add(quad.graph_name.value)
        if pred in _NAME_PROPS or pred == _LABEL:
            if pred == _LABEL:
                node.labels.add(value)
            if pred in _NAME_PROPS:
                node.names.add(value)
                short = acronym(value)
                if short:
                    node.acronyms.add(short)
                if re.fullmatch(r"[A-Z][A-Z0-9&]{1,11}", value.strip()):
                    node.acronyms.add(value.strip().upper())
        elif pred == str(D4D.url):
            host = url_host(value)
            if host:
                node.hosts.add(host)
        elif pred == str(D4D.identifier):
            node.identifiers.add(value.strip().upper())
        elif pred == _DC_ID:
            node.local_refs.add(value.strip())
    place_names: dict[str, str] = {}
    for quad in store.quads_for_pattern(None, ox.NamedNode(str(D4D.name)), None, None):
        if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.Literal):
            place_names[quad.subject.value] = quad.object.value
    for quad in store.quads_for_pattern(None, ox.NamedNode(str(D4D.location)), None, None):
        node = nodes.get(quad.subject.value) if isinstance(quad.subject, ox.NamedNode) else None
        if node is not None and isinstance(quad.object, ox.NamedNode):
            node.places.add(name_key(place_names.get(quad.object.value, quad.object.value)))
    for node in nodes.values():
        if not node.names:
            node.names |= node.labels
    return nodes


DEFAULT_MIN_SCORE = 0.5
"""The score a pair needs to be proposed: one strong piece of evidence (a name, an identifier, a website
with a similar name) reaches it, a weak one (a website, an acronym) does not alone. At this threshold 0.95
of the proposals of the labelled sample tests/data/reconcile-sample.csv are right (bench/RESULTS-reconcile.md)."""

WEIGHTS = {"name": 0.8, "id": 0.9, "host": 0.45, "similar": 0.4, "acronym": 0.4, "number": 0.5}
"""The weight of each kind of evidence (see :func:`reconcile`)."""

MIN_CHANNEL_DIGITS = 5
"""A local ref is compared with the number of an org-id only with this many digits or more (OECD CRS
channel codes, 41122): shorter numbers (a publisher's 1, 2, 50) name many different organisations."""


def reconcile(store: ox.Store, *, min_score: float = DEFAULT_MIN_SCORE, max_block: int = 25,
              decisions: Crosswalk | None = None) -> list[Candidate]:
    """List pairs of organisation nodes that are likely one organisation, with the evidence.

    Nothing is merged: a curator confirms a pair (``d4d reconcile --accept A B``, a ``same`` row of the
    crosswalk) or rejects it (``--reject``, an ``apart`` row), and the next build applies the decision.

    Evidence (each with a weight, :data:`WEIGHTS`; a pair's score is ``1 - prod(1 - weight)``):

    - the same name once case, accents, punctuation, 'the' and a leading acronym are folded (0.8),
      unless both are placed and share no place (two charities of one name in two towns);
    - the same org-id on two nodes, which happens when one of them is curated or declared (0.9);
    - the same website host (0.45), unless the two are distinct records of one source (the ministries
      of one government on its portal);
    - similar names: more than half of their words in common (0.4), looked at for the pairs that another
      piece of evidence brings together;
    - one's acronym is the other's name or acronym (0.4);
    - a local ref of five digits or more that is the number of the other's org-id, such as an IATI ref
      ``41122`` (the OECD DAC channel code) and ``XM-DAC-41122`` (0.5).

    Two nodes of one source that the source itself labels differently (two records of a directory, such
    as two ministries called "Ministry of Foreign Affairs" in two countries) are not paired on their name
    or website. Blocks of more than ``max_block`` nodes sharing a key are skipped as too common to be
    evidence.

    Parameters
    ----------
    store:
        A store holding the graph (any named graphs; types may be asserted or inferred).
    min_score:
        Leave out pairs that score lower.
    decisions:
        The curator's decisions (the crosswalk): pairs kept apart, or already merged, are not proposed.

    Returns
    -------
    list of Candidate
        Highest score first, then by label.
    """
    nodes = _organisations(store)
    blocks: dict[tuple[str, str], set[str]] = defaultdict(set)
    for node in nodes.values():
        for name in node.names:
            key = name_key(name)
            if key:
                blocks[("name", key)].add(node.iri)
        for host in node.hosts:
            blocks[("host", host)].add(node.iri)
        for ident in node.identifiers:
            blocks[("id", ident)].add(node.iri)
            tail = ident.rsplit("-", 1)[-1]
            if tail.isdigit() and len(tail.lstrip("0")) >= MIN_CHANNEL_DIGITS:
                blocks[("number", tail.lstrip("0"))].add(node.iri)
        for ref in node.local_refs:
            if ref.isdigit() and len(ref.lstrip("0")) >= MIN_CHANNEL_DIGITS:
                blocks[("number", ref.lstrip("0"))].add(node.iri)
        for short in node.acronyms:
            blocks[("acronym", short)].add(node.iri)

    evidence: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for (kind, key), members in blocks.items():
        if len(members) < 2 or len(members) > max_block:
            continue
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                na, nb = nodes[a], nodes[b]
                if kind == "number" and not _number_pair(na, nb, key):
                    continue
                if kind in ("name", "acronym", "host") and _same_source_distinct(na, nb):
                    continue
                if kind in ("name", "acronym") and na.places and nb.places and not (na.places & nb.places):
                    continue
                text = {"name": f"same name '{key}'", "host": f"same website {key}",
                        "id": f"same identifier {key}", "acronym": f"acronym {key}",
                        "number": f"local ref {key} is the number of org-id "
                                  f"{', '.join(sorted(i for i in (na.identifiers | nb.identifiers) if i.endswith(key)))}"}[kind]
                evidence[(a, b)].setdefault(kind, text)
    out = []
    for (a, b), found in evidence.items():
        if decisions is not None and (decisions.canonical(a) == decisions.canonical(b) or decisions.kept_apart(a, b)):
            continue
        if "name" not in found:
            shared = _similar_names(nodes[a], nodes[b])
            if shared:
                found["similar"] = f"similar names (words in common: {shared})"
        remaining = 1.0
        for kind in found:
            remaining *= 1.0 - WEIGHTS[kind]
        score = round(1.0 - remaining, 3)
        if score < min_score:
            continue
        out.append(Candidate(a, b, _label(nodes[a]), _label(nodes[b]), score,
                             tuple(found[k] for k in sorted(found))))
    out.sort(key=lambda c: (-c.score, c.a_label.casefold(), c.b_label.casefold(), c.a, c.b))
    return out


_LEGAL_FORMS = frozenset({"inc", "ltd", "llc", "sa", "npc", "gmbh", "plc", "ag", "bv", "nv", "cic"})


def _content_words(name: str) -> set[str]:
    """The words that tell a name apart: no stop words, legal forms (Inc., Ltd) or the acronym it gives."""
    match = re.search(r"\(([A-Za-z][A-Za-z0-9&]{1,11})\)\s*$", name.strip()) or \
        re.match(r"^([A-Za-z][A-Za-z0-9&]{1,11}):\s", name.strip())
    given = {match.group(1).casefold()} if match else set()
    return {w for w in _tokens(name) if w not in _STOP and w not in _LEGAL_FORMS and w not in given and len(w) > 1}


def _similar_names(a: _Node, b: _Node) -> str | None:
    """The words two nodes' names share when they are more than half of the words of the two (Jaccard)."""
    best: set[str] = set()
    for x in a.names:
        for y in b.names:
            wx, wy = _content_words(x), _content_words(y)
            if wx and wy and len(wx & wy) * 2 > len(wx | wy) and len(wx & wy) > len(best):
                best = wx & wy
    return " ".join(sorted(best)) or None


def _label(node: _Node) -> str:
    return sorted(node.labels or node.names or {node.iri})[0]


def _number_pair(a: _Node, b: _Node, number: str) -> bool:
    def has_ref(n: _Node) -> bool:
        return any(r.isdigit() and (r.lstrip("0") or "0") == number for r in n.local_refs)

    def has_id(n: _Node) -> bool:
        return any(i.rsplit("-", 1)[-1].lstrip("0") == number for i in n.identifiers)
    return (has_ref(a) and has_id(b)) or (has_ref(b) and has_id(a))


def _same_source_distinct(a: _Node, b: _Node) -> bool:
    if len(a.graphs) != 1 or a.graphs != b.graphs:
        return False
    keys_a = {name_key(x) for x in a.labels}
    keys_b = {name_key(x) for x in b.labels}
    return bool(keys_a and keys_b) and not (keys_a & keys_b)


def _tokens(name: str) -> list[str]:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().replace("'", "").replace("’", "")
    return [w for w in re.split(r"[\W_]+", text) if w]


def names_related(a: str, b: str) -> bool:
    """Whether two names can denote one organisation: a shared word, one written inside the other
    without spaces, one the initials of the other, or a word the beginning of another.

    >>> names_related("HeiGIT", "HeiGIT: Heidelberg Institute for Geoinformation Technology")
    True
    >>> names_related("uosa", "University of St. Andrews"), names_related("UN DPPA", "UNDPPA: United Nations ...")
    (True, True)
    >>> names_related("Government of Germany", "Kreditanstalt fur Wiederaufbau")
    False
    """
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return True
    content_a = {w for w in ta if w not in _STOP and len(w) > 1}
    content_b = {w for w in tb if w not in _STOP and len(w) > 1}
    if content_a & content_b:
        return True
    compact_a, compact_b = "".join(ta), "".join(tb)
    if compact_a in compact_b or compact_b in compact_a:
        return True
    initials = {"".join(w[0] for w in ta), "".join(w[0] for w in ta if w not in _STOP),
                "".join(w[0] for w in tb), "".join(w[0] for w in tb if w not in _STOP)}
    if compact_a in initials or compact_b in initials or any(w in initials for w in ta + tb if len(w) > 1):
        return True
    return any(len(x) >= 3 and (y.startswith(x) or x.startswith(y)) for x in content_a for y in content_b if len(y) >= 3)


def identity_conflicts(store: ox.Store) -> list[Conflict]:
    """Nodes whose names (over all sources) are unrelated (:func:`names_related`): one identifier given
    to two organisations, such as a publisher's ``DE-1`` (Germany) for KfW, or a name in another
    language. For a curator to look at; identifiers used as names are left out.

    The funding compass, for example, gives Humanitarian Outcomes UNICEF's org-id; had the crosswalk not
    kept it apart, its node would carry both names and appear here.
    """
    out = []
    for node in _organisations(store).values():
        names = sorted(n for n in node.names if n.strip().upper() not in node.identifiers)
        if len(names) < 2:
            continue
        # Names are one group if each is related to the first through a chain of related names.
        group = {names[0]}
        changed = True
        while changed:
            changed = False
            for name in names:
                if name not in group and any(names_related(name, other) for other in group):
                    group.add(name)
                    changed = True
        if len(group) < len(names):
            out.append(Conflict(node.iri, tuple(names), tuple(sorted(node.graphs))))
    out.sort(key=lambda c: c.node)
    return out


# ---------------------------------------------------------------------------------------------------
# A curator's decisions


@dataclass(frozen=True)
class Decision:
    """A decision :func:`record_decision` made: the crosswalk row written (or None when the crosswalk
    already said so), the node kept and the other node."""

    scheme: str
    kept: str
    other: str
    line: int | None


def short_id(iri: str) -> str:
    """A node IRI as the crosswalk writes it: the part below ``https://w3id.org/d4d/id/``."""
    return iri[len(str(ID)):] if iri.startswith(str(ID)) else iri


def record_decision(path: str | Path, a: str, b: str, *, same: bool, curated: Iterable[str] = (),
                    note: str = "") -> Decision:
    """Record a curator's reviewed decision on two nodes in the crosswalk file at ``path``.

    ``same``: the two are one organisation; the node kept is the curated one if either is, else ``a``
    (the curator names the node to keep first), and a ``same`` row merges ``b`` into it. Otherwise an
    ``apart`` row keeps them apart: :func:`reconcile` will not propose them again. Nodes are given as
    full IRIs, paths below ``id/`` or curated ids. A node already merged by an earlier decision stands
    for the node it was merged into. The file is rewritten whole (atomically), with the new row last.

    Raises
    ------
    SourceError
        The two are one node already (for ``apart``), kept apart already (for ``same``), both curated
        (merge their records in graph/ instead), or the crosswalk cannot be read.
    """
    from d4d.io import write_text_atomic

    path = Path(path)
    walk = Crosswalk.load(path) if path.is_file() else Crosswalk(path=path)
    curated = frozenset(curated)
    first, second = walk.canonical(id_iri(a)), walk.canonical(id_iri(b))
    if same:
        if first == second:
            return Decision(SAME, first, second, None)
        if walk.kept_apart(first, second):
            raise SourceError(f"the crosswalk keeps <{first}> and <{second}> apart: remove that 'apart' row first",
                              path=path)
        if first in curated and second in curated:
            raise SourceError(f"<{first}> and <{second}> are both curated records: merge them in graph/", path=path)
        kept, other = (second, first) if second in curated else (first, second)
        why = "reviewed: one organisation (d4d reconcile --accept)"
    else:
        if first == second:
            raise SourceError(f"<{first}> and <{second}> are one node by a 'same' decision: remove it first",
                              path=path)
        if walk.kept_apart(first, second):
            return Decision(APART, first, second, None)
        kept, other = first, second
        why = "reviewed: two organisations (d4d reconcile --reject)"
    text = path.read_text(encoding="utf-8") if path.is_file() else "id,scheme,value,note\n"
    if not text.endswith("\n"):
        text += "\n"
    row = [short_id(kept), SAME if same else APART, short_id(other), f"{why}. {note}".strip() if note else why]
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row)
    write_text_atomic(path, text + buffer.getvalue())
    line = len(text.splitlines()) + 1
    return Decision(SAME if same else APART, kept, other, line)
