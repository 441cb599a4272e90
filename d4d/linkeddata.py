"""Linked Data: the graph's IRIs answered by ``d4d serve``.

Every IRI under ``https://w3id.org/d4d/`` names a path the endpoint answers: ``/id/<slug>`` (actors,
facts, documents, citations), ``/sector/<slug>``, ``/graph/...``, and ``/ontology`` (whose terms are
hash IRIs of that one page). A browser gets an HTML page (the resource, its relationships with the
other parties and the sources that state them, a link to its map view); an RDF client gets its
description in the format it asks for (Turtle, N-Triples, RDF/XML, JSON-LD), or by ``?format=``.
The answer comes directly (200, ``Vary: Accept``), with no 303 redirect: the page and the data are
two representations of one description, told apart by content negotiation.

What a description holds is the query ``d4d/data/resource.rq`` (``ontology-graph.rq`` for the
ontology); this module binds it, and renders the triples it returns.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, select_autoescape

from d4d.sparql import PREDECLARED, parse_query_text, prepare
from d4d.vocab import BASE

DATA = Path(__file__).resolve().parent / "data"
TEMPLATES = Path(__file__).resolve().parent / "templates"

#: The first path segments that name resources (``/id/...``, ``/sector/...``, ...).
SPACES = ("id", "sector", "graph", "ontology")
ONTOLOGY = BASE + "ontology"
D4D = PREDECLARED["d4d"]
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
ACTOR_TYPES = {D4D + "Agent", D4D + "Organization", D4D + "Person"}


def resource_iri(path: str) -> str | None:
    """The IRI a request path names, or ``None`` when the path is not one of the graph's.

    >>> resource_iri("/id/datakind"), resource_iri("/ontology"), resource_iri("/static/x.js")
    ('https://w3id.org/d4d/id/datakind', 'https://w3id.org/d4d/ontology', None)
    """
    first = path.lstrip("/").split("/", 1)[0]
    if first not in SPACES or (first == "ontology" and path.rstrip("/") != "/ontology"):
        return None
    if first != "ontology" and path.rstrip("/") == "/" + first:
        return None
    try:
        return ox.NamedNode(BASE + path.lstrip("/")).value
    except ValueError:
        return None


def local_path(iri: str) -> str | None:
    """The path at which this server answers ``iri`` (``None``: not one of the graph's IRIs)."""
    if not iri.startswith(BASE):
        return None
    rest = iri[len(BASE):]
    if rest.startswith("ontology#"):
        return "/ontology#" + rest[len("ontology#"):]
    return "/" + rest if rest.split("/", 1)[0] in SPACES else None


@functools.lru_cache(maxsize=2)
def _query_text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def describe_query(iri: str) -> str:
    """The CONSTRUCT query that describes ``iri`` (bound, ready to run).

    Raises
    ------
    ValueError
        ``iri`` is not an IRI.
    """
    if iri == ONTOLOGY:
        return prepare(parse_query_text(_query_text("ontology-graph.rq")), {}).text
    query = parse_query_text(_query_text("resource.rq"))
    return prepare(query, {"this": ox.NamedNode(iri)}).text


# ---------------------------------------------------------------------------------------------
# The HTML page


def _short(iri: str) -> str:
    best = ""
    for prefix, namespace in PREDECLARED.items():
        if iri.startswith(namespace) and len(namespace) > len(PREDECLARED.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(PREDECLARED[best]):]}" if best else iri


class _Graph:
    """The triples of a description, indexed for the page."""

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self.out: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        self.into: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for triple in triples:
            subject = _key(triple.subject)
            self.out[subject].append((triple.predicate.value, triple.object))
            if isinstance(triple.object, ox.NamedNode):
                self.into[triple.object.value].append((subject, triple.predicate.value))

    def values(self, subject: str, predicate: str) -> list[Any]:
        return sorted((o for p, o in self.out.get(subject, []) if p == predicate), key=str)

    def text(self, subject: str, predicate: str) -> str | None:
        found = [o.value for o in self.values(subject, predicate) if isinstance(o, ox.Literal)]
        return found[0] if found else None

    def types(self, subject: str) -> list[str]:
        return [o.value for o in self.values(subject, RDF_TYPE) if isinstance(o, ox.NamedNode)]

    def label(self, iri: str) -> str:
        return (self.text(iri, LABEL) or self.text(iri, D4D + "name") or self.text(iri, D4D + "title")
                or _short(iri))


def _key(term: Any) -> str:
    return term.value if isinstance(term, ox.NamedNode) else str(term)


def _link(graph: _Graph, iri: str) -> dict[str, Any]:
    href = local_path(iri)
    if href is None and re.match(r"https?://", iri):
        href = iri
    return {"text": graph.label(iri), "href": href, "iri": iri}


def _value(graph: _Graph, term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return _link(graph, term.value)
    if isinstance(term, ox.Literal):
        extra = f"@{term.language}" if term.language else ""
        return {"text": term.value + (f" ({extra})" if extra else ""), "href": None, "iri": None}
    return {"text": str(term), "href": None, "iri": None}


def _d4d_types(graph: _Graph, iri: str) -> list[str]:
    return sorted(t[len(D4D):] for t in graph.types(iri)
                  if t.startswith(D4D) and t not in (D4D + "Agent", D4D + "Fact", D4D + "Relationship"))


def _sources(graph: _Graph, subject: str) -> list[dict[str, Any]]:
    """The citations of a subject (quote and cited document) and the documents it names as sources."""
    found: list[dict[str, Any]] = []
    for citation in graph.values(subject, D4D + "citation"):
        key = _key(citation)
        documents = graph.values(key, D4D + "citedSource")
        found.append({"quote": graph.text(key, D4D + "quote"),
                      "documents": [_document(graph, d.value) for d in documents if isinstance(d, ox.NamedNode)]})
    cited = {d["iri"] for s in found for d in s["documents"]}
    for document in graph.values(subject, D4D + "source"):
        if isinstance(document, ox.NamedNode) and document.value not in cited:
            found.append({"quote": None, "documents": [_document(graph, document.value)]})
    return found


def _document(graph: _Graph, iri: str) -> dict[str, Any]:
    url = graph.text(iri, D4D + "url")
    return {**_link(graph, iri), "url": url if url and re.match(r"https?://", url) else None}


def page_context(iri: str, triples: Iterable[ox.Triple]) -> dict[str, Any]:
    """What the page of ``iri`` shows, as plain data (the template only lays it out)."""
    graph = _Graph(triples)
    types = graph.types(iri)
    ties = []
    for fact in sorted({s for s, _ in graph.into.get(iri, []) if D4D + "Relationship" in graph.types(s)}):
        roles = sorted(_short(p) for s, p in graph.into[iri] if s == fact and p.startswith(D4D))
        parties = [{"role": _short(p), **_link(graph, o.value)} for p, o in sorted(graph.out[fact], key=lambda x: (x[0], str(x[1])))
                   if isinstance(o, ox.NamedNode) and p.startswith(D4D) and o.value != iri
                   and p not in (D4D + "citation", D4D + "source")]
        details = [{"name": _short(p), "text": o.value} for p, o in sorted(graph.out[fact], key=lambda x: (x[0], str(x[1])))
                   if isinstance(o, ox.Literal) and p.startswith(D4D) and p not in (D4D + "note",)]
        ties.append({**_link(graph, fact), "kinds": _d4d_types(graph, fact), "roles": roles, "parties": parties,
                     "details": details, "note": graph.text(fact, D4D + "note"), "sources": _sources(graph, fact)})
    statements = [{"predicate": _link(graph, p), "value": _value(graph, o)}
                  for p, o in sorted(graph.out.get(iri, []), key=lambda x: (x[0], str(x[1])))]
    pointing = [{"subject": _link(graph, s), "predicate": _link(graph, p)}
                for s, p in sorted(graph.into.get(iri, []))]
    terms = []
    if iri == ONTOLOGY:
        for subject in sorted(s for s in graph.out if s.startswith(ONTOLOGY + "#")):
            terms.append({**_link(graph, subject), "name": subject[len(ONTOLOGY) + 1:],
                          "kinds": sorted(_short(t) for t in graph.types(subject)),
                          "comment": graph.text(subject, COMMENT)})
    slug = iri[len(BASE + "id/"):] if iri.startswith(BASE + "id/") else None
    return {
        "iri": iri,
        "title": graph.label(iri),
        "kinds": _d4d_types(graph, iri),
        "description": graph.text(iri, D4D + "description") or graph.text(iri, COMMENT),
        "map": f"/map.html#actor={slug}" if slug and ACTOR_TYPES & set(types) else None,
        "ties": ties,
        "sources": _sources(graph, iri),
        "statements": statements,
        "pointing": pointing,
        "terms": terms,
        "path": local_path(iri) or "",
    }


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def render_page(iri: str, triples: Iterable[ox.Triple]) -> str:
    """The HTML page of ``iri`` from its description; every value is escaped."""
    return _environment().get_template("resource.html").render(**page_context(iri, triples))


def rdf_bytes(triples: list[ox.Triple], format: ox.RdfFormat) -> bytes:
    """The description in an RDF format, sorted, with the d4d prefixes (JSON-LD: as its ``@context``)."""
    ordered = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    if format == ox.RdfFormat.JSON_LD:  # compact, with the prefixes as its context, as `d4d export` writes it
        from d4d.export import to_jsonld

        return to_jsonld(ordered, PREDECLARED)
    prefixes: Mapping[str, str] | None = PREDECLARED if format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
    data = ox.serialize(ordered, format=format, prefixes=dict(prefixes) if prefixes else None)
    return data if isinstance(data, bytes) else b""
