"""The export stage: the built graph (or a CONSTRUCT query's part of it) in the formats other tools read.

RDF formats (from the store; blank nodes labelled from their content and statements sorted, so the
same graph gives byte-identical files):

========== ========================================================================================
turtle     Turtle with the d4d prefixes (every graph's triples, merged)
ntriples   N-Triples (merged)
nquads     N-Quads, each asserted statement in its named graph (graph/ontology, graph/facts,
           graph/source/<name>, graph/metrics), and the default graph: their merge and the inferences
trig       TriG, the named graphs as blocks, and the default graph
jsonld     JSON-LD with a ``@context`` of the d4d prefixes (merged): one node object per subject
rdfxml     RDF/XML (merged)
========== ========================================================================================

Network formats (the actors and relationships as :func:`d4d.network.project` gives them: node and edge
attributes of the network contract):

========== ========================================================================================
graphml    GraphML (Gephi, Cytoscape, igraph, networkx): typed keys, a unique id per edge; lists and
           mappings as JSON text, whose attribute names the graph attribute ``d4d_json`` lists;
           absent values are left out
gexf       GEXF 1.3 (Gephi), valid against the official schema: typed attributes, lists of text as
           ``liststring``, a unique id per edge and its relationship type as its ``kind``, time as
           spells, the map's colours, sizes and positions (see :func:`to_gexf`); GEXF has no graph
           attributes, so the legend (edge types, sectors, kinds) is left out
csv        CSV: a zip of ``nodes.csv``, ``edges.csv`` and ``graph.json`` (graph attributes and the
           type of each column, so the tables read back exactly); with ``what="nodes"`` or
           ``"edges"`` one plain table for a spreadsheet
cytoscape  Cytoscape.js JSON (``elements.nodes``/``elements.edges``, as networkx's cytoscape_data)
nodelink   networkx node-link JSON (``nodes``/``edges``)
========== ========================================================================================

:func:`read_network` reads every network format back into the same networkx multigraph. With the
analysis's output (``metrics``), every network format carries each actor's measures and community.

A CONSTRUCT query (a catalogue name, a file or text) narrows an export: the RDF formats write the
triples it constructs; the network formats write the actors its triples mention and the relationships
among them that its triples name, by their fact node or by their shortcut triple (``?a d4d:fundedBy
?b``), with all their attributes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx
import pyoxigraph as ox
from rdflib import Graph

from d4d.errors import QueryError, StoreError
from d4d.network import project
from d4d.ontology import Ontology
from d4d.vocab import BASE, GRAPH, PREFIXES

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG, "rdfxml": ox.RdfFormat.RDF_XML, "jsonld": ox.RdfFormat.JSON_LD,
}
NETWORK_FORMATS = ("graphml", "gexf", "csv", "cytoscape", "nodelink")
FORMATS = tuple(RDF_FORMATS) + NETWORK_FORMATS
"""Every format :func:`export` writes."""
EXTENSIONS = {"turtle": ".ttl", "ntriples": ".nt", "nquads": ".nq", "trig": ".trig", "rdfxml": ".rdf",
              "jsonld": ".jsonld", "graphml": ".graphml", "gexf": ".gexf", "csv": ".zip",
              "cytoscape": ".cyjs", "nodelink": ".json"}

ONTOLOGY_GRAPH = str(GRAPH["ontology"])
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
JSON_ATTRIBUTES = "d4d_json"
"""Graph attribute of GraphML/GEXF exports: JSON {"node": [...], "edge": [...], "graph": [...]} of the
attributes written as JSON text."""

Term = ox.NamedNode | ox.BlankNode | ox.Literal


# ---------------------------------------------------------------------------------------------------
# Selecting what to export


def _construct(store: ox.Store, query: str, params: Mapping[str, str] | None) -> list[ox.Triple]:
    from d4d import sparql

    parsed = sparql.resolve_query(query)
    result = sparql.run_query(parsed, store=store, params=dict(params or {}))
    if result.triples is None:
        raise QueryError(f"export needs a CONSTRUCT or DESCRIBE query; {parsed.name} is a {result.form}",
                         record=parsed.name)
    return list(result.triples)


def statements(store: ox.Store, *, query: str | None = None, params: Mapping[str, str] | None = None) -> list[ox.Quad]:
    """The statements to export: every quad of the store, or the triples a CONSTRUCT query builds
    (in the default graph). A built store's default graph holds the merge of its named graphs (see
    :mod:`d4d.store`): a dataset format keeps both, as a quad store loading it expects; a triples
    format writes the merge.

    Raises
    ------
    QueryError
        The query is unknown, malformed or not a CONSTRUCT/DESCRIBE query.
    """
    if query is None:
        return list(store.quads_for_pattern(None, None, None, None))
    return [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in _construct(store, query, params)]


def ontology_from_store(store: ox.Store) -> Ontology:
    """The ontology as the build stored it (graph ``graph/ontology``).

    Raises
    ------
    StoreError
        The store has no ontology graph (it was not written by ``d4d build``).
    """
    graph_name = ox.NamedNode(ONTOLOGY_GRAPH)
    if not store.contains_named_graph(graph_name):
        raise StoreError("the store has no ontology graph (graph/ontology): is it a d4d build?")
    data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph_name)
    graph = Graph()
    graph.parse(data=data.decode("utf-8") if isinstance(data, bytes) else "", format="nt")
    return Ontology(graph=graph)


def network(store: ox.Store, *, ontology: Ontology | None = None, query: str | None = None,
            params: Mapping[str, str] | None = None, facts: bool = True) -> nx.MultiDiGraph:
    """The network of the store (:func:`d4d.network.project`), or the part of it a CONSTRUCT query names.

    Parameters
    ----------
    store:
        The built store.
    ontology:
        The ontology; by default the one stored in the build.
    query:
        A CONSTRUCT query: keep the actors its triples mention and the relationships among them that
        its triples name (by fact IRI, or by the relationship type's shortcut triple between the two).
    facts:
        Attach each node's facts with their quotes (see :func:`d4d.network.project`).

    Raises
    ------
    QueryError, StoreError
    """
    ontology = ontology or ontology_from_store(store)
    graph = project(store, ontology, facts=facts)
    if query is None:
        return graph
    triples = _construct(store, query, params)
    mentioned = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    mentioned |= {t.object.value for t in triples if isinstance(t.object, ox.NamedNode)}
    links = {(t.subject.value, t.predicate.value, t.object.value) for t in triples
             if isinstance(t.subject, ox.NamedNode) and isinstance(t.object, ox.NamedNode)}
    shortcuts = {name: str(e.shortcut) for name, e in ontology.edge_types.items() if e.shortcut is not None}
    keep = nx.MultiDiGraph()
    keep.graph.update(graph.graph)
    keep.add_nodes_from((n, d) for n, d in graph.nodes(data=True) if n in mentioned)
    for u, v, key, data in graph.edges(keys=True, data=True):
        if u not in keep or v not in keep:
            continue
        tie = shortcuts.get(data.get("type", ""))
        # A shortcut points from the relationship's target to its source (fundedBy: recipient -> funder).
        named = key in mentioned or (tie is not None and ((v, tie, u) in links or (u, tie, v) in links))
        if named:
            keep.add_edge(u, v, key=key, **data)
    return keep


# ---------------------------------------------------------------------------------------------------
# RDF


def _term_key(term: Any, labels: Mapping[str, str]) -> str:
    if isinstance(term, ox.BlankNode):
        return "_:" + labels.get(term.value, term.value)
    if isinstance(term, ox.DefaultGraph):
        return ""
    return str(term)


def blank_node_labels(quads: Sequence[ox.Quad], *, rounds: int = 8) -> dict[str, str]:
    """Labels for the blank nodes of ``quads`` derived from their statements, so the same graph gets the
    same labels whatever labels the store gave them.

    Each blank node's label is refined from the statements it takes part in (with its neighbours'
    labels) until the partition is stable (colour refinement). Blank nodes that no refinement tells
    apart are symmetric in practice (a list's interchangeable cells); they are numbered in their order.
    """
    bnodes: set[str] = set()
    touching: dict[str, list[tuple[int, ox.Quad]]] = defaultdict(list)
    for quad in quads:
        for position, term in ((0, quad.subject), (2, quad.object), (3, quad.graph_name)):
            if isinstance(term, ox.BlankNode):
                bnodes.add(term.value)
                touching[term.value].append((position, quad))
    if not bnodes:
        return {}
    colour = dict.fromkeys(bnodes, "")
    distinct = 1
    for _ in range(rounds):
        new = {}
        for node in bnodes:
            parts = []
            for position, quad in touching[node]:
                parts.append(f"{position}|" + "|".join(
                    "self" if isinstance(t, ox.BlankNode) and t.value == node
                    else ("b:" + colour[t.value] if isinstance(t, ox.BlankNode) else str(t))
                    for t in (quad.subject, quad.predicate, quad.object, quad.graph_name)))
            new[node] = hashlib.sha256("\n".join(sorted(parts)).encode("utf-8")).hexdigest()[:16]
        colour = new
        count = len(set(colour.values()))
        if count == distinct:
            break
        distinct = count
    labels: dict[str, str] = {}
    seen: dict[str, int] = defaultdict(int)
    for node in sorted(bnodes, key=lambda n: (colour[n], n)):
        base = "b" + colour[node]
        seen[base] += 1
        labels[node] = base if seen[base] == 1 else f"{base}x{seen[base]}"
    return labels


def _relabel(quads: Sequence[ox.Quad], labels: Mapping[str, str]) -> list[ox.Quad]:
    def fix(term: Any) -> Any:
        return ox.BlankNode(labels[term.value]) if isinstance(term, ox.BlankNode) and term.value in labels else term
    return [ox.Quad(fix(q.subject), q.predicate, fix(q.object), fix(q.graph_name)) for q in quads]


def canonical(quads: Iterable[ox.Quad], *, dataset: bool) -> list[ox.Quad]:
    """Quads with content-derived blank-node labels, duplicates removed, sorted (by graph, subject,
    predicate, object). Without ``dataset`` every statement moves to the default graph (a merge)."""
    items = list(quads)
    if not dataset:
        items = [ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in items]
    labels = blank_node_labels(items)
    items = _relabel(items, labels)
    unique = {(_term_key(q.graph_name, {}), _term_key(q.subject, {}), str(q.predicate), _term_key(q.object, {})): q
              for q in items}
    return [unique[k] for k in sorted(unique)]


def to_rdf(quads: Iterable[ox.Quad], format: str, *, prefixes: Mapping[str, str] | None = None) -> bytes:
    """Serialise statements deterministically in an RDF format of :data:`RDF_FORMATS`.

    Raises
    ------
    QueryError
        Unknown format.
    """
    if format not in RDF_FORMATS:
        raise QueryError(f"unknown RDF format {format!r} (known: {', '.join(RDF_FORMATS)})")
    rdf_format = RDF_FORMATS[format]
    prefixes = dict(PREFIXES if prefixes is None else prefixes)
    items = canonical(quads, dataset=rdf_format.supports_datasets)
    if format == "jsonld":
        return to_jsonld([ox.Triple(q.subject, q.predicate, q.object) for q in items], prefixes)
    if rdf_format.supports_datasets:
        data = ox.serialize(items, format=rdf_format, prefixes=prefixes if format == "trig" else None)
    else:
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in items]
        data = ox.serialize(triples, format=rdf_format,
                            prefixes=prefixes if format in ("turtle", "rdfxml") else None)
    return data if isinstance(data, bytes) else b""


def rebase(quads: Iterable[ox.Quad], base: str) -> list[ox.Quad]:
    """The statements with every IRI under the graph's base (``https://w3id.org/d4d/``) moved under
    ``base``, for a deployment that serves the IRIs itself; literals are left as they are.

    Raises
    ------
    QueryError
        ``base`` is not an absolute http(s) IRI ending with ``/``.

    >>> q = ox.Quad(ox.NamedNode("https://w3id.org/d4d/id/a"), ox.NamedNode("https://w3id.org/d4d/ontology#name"),
    ...             ox.Literal("https://w3id.org/d4d/id/a"))
    >>> [str(t) for t in rebase([q], "http://example.org/kg/")[0]][:3]
    ['<http://example.org/kg/id/a>', '<http://example.org/kg/ontology#name>', '"https://w3id.org/d4d/id/a"']
    """
    if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+/", base):
        raise QueryError(f"--base {base!r}: give an absolute http(s) IRI ending with '/', such as "
                         f"https://example.org/d4d/")

    def move(term: Any) -> Any:
        if isinstance(term, ox.NamedNode) and term.value.startswith(BASE):
            return ox.NamedNode(base + term.value[len(BASE):])
        return term

    return [ox.Quad(move(q.subject), move(q.predicate), move(q.object), move(q.graph_name)) for q in quads]


def _compact(iri: str, prefixes: Mapping[str, str]) -> str:
    best = ""
    for namespace in prefixes.values():
        if iri.startswith(namespace) and len(namespace) > len(best):
            best = namespace
    if not best:
        return iri
    local = iri[len(best):]
    # A compact IRI must not be mistaken for an absolute IRI or a blank node, and its local part must
    # not start with '//' (JSON-LD 1.1, 4.1.5).
    if not local or local.startswith("//"):
        return iri
    prefix = next(p for p, ns in sorted(prefixes.items()) if ns == best)
    return f"{prefix}:{local}"


def to_jsonld(triples: Sequence[ox.Triple], prefixes: Mapping[str, str]) -> bytes:
    """JSON-LD with ``@context`` = the prefixes; one node object per subject, values as value objects.

    Written here rather than with rdflib so that it is fast on large graphs and byte-stable: subjects
    and values come out in the sorted order of the statements.
    """
    nodes: dict[str, dict[str, Any]] = {}

    def ident(term: Any) -> str:
        return "_:" + term.value if isinstance(term, ox.BlankNode) else _compact(term.value, prefixes)

    for triple in triples:
        subject = ident(triple.subject)
        node = nodes.setdefault(subject, {"@id": subject})
        obj = triple.object
        if triple.predicate.value == RDF_TYPE and isinstance(obj, (ox.NamedNode, ox.BlankNode)):
            node.setdefault("@type", []).append(ident(obj))
            continue
        key = _compact(triple.predicate.value, prefixes)
        if isinstance(obj, (ox.NamedNode, ox.BlankNode)):
            value: dict[str, Any] = {"@id": ident(obj)}
        elif isinstance(obj, ox.Literal):
            value = {"@value": obj.value}
            if obj.language:
                value["@language"] = obj.language
            elif obj.datatype.value != XSD_STRING:
                value["@type"] = _compact(obj.datatype.value, prefixes)
        else:  # a quoted triple (RDF-star) has no JSON-LD 1.1 form
            raise QueryError("RDF-star statements cannot be written as JSON-LD")
        node.setdefault(key, []).append(value)
    document = {"@context": dict(sorted(prefixes.items())), "@graph": list(nodes.values())}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------------
# Network formats


def _plain(value: Any) -> bool:
    return isinstance(value, (str, bool, int, float))


def _json_attributes(graph: nx.MultiDiGraph) -> dict[str, list[str]]:
    node = sorted({k for _, d in graph.nodes(data=True) for k, v in d.items() if v is not None and not _plain(v)})
    edge = sorted({k for _, _, d in graph.edges(data=True) for k, v in d.items() if v is not None and not _plain(v)})
    graph_keys = sorted(k for k, v in graph.graph.items() if v is not None and not _plain(v))
    return {"node": node, "edge": edge, "graph": graph_keys}


JSON_SUFFIX = " (json)"
"""GEXF has no graph attributes to list the JSON-valued ones in: their titles carry this suffix."""


def _flat(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy with None values left out and lists/dicts as JSON text (GraphML holds scalars)."""
    encoded = _json_attributes(graph)

    def encode(data: Mapping[str, Any]) -> dict[str, Any]:
        return {k: (v if _plain(v) else json.dumps(v, ensure_ascii=False, sort_keys=True))
                for k, v in data.items() if v is not None}

    flat = nx.MultiDiGraph()
    flat.graph.update(encode(graph.graph))
    flat.graph[JSON_ATTRIBUTES] = json.dumps(encoded, sort_keys=True)
    for node, data in graph.nodes(data=True):
        flat.add_node(node, **encode(data))
    for u, v, key, data in graph.edges(keys=True, data=True):
        flat.add_edge(u, v, key=key, **encode(data))
    return flat


def edge_ids(graph: nx.MultiDiGraph) -> dict[tuple[Any, Any, Any], str]:
    """A unique id for each edge ``(u, v, key)``: its key (the fact's IRI) when the fact is one edge,
    else ``key|u|v`` (a fact with several parties, a founding by three founders, is several edges).
    Gephi keeps one edge per id: shared ids would silently drop ties.

    >>> G = nx.MultiDiGraph(); _ = G.add_edge("a", "c", key="f"); _ = G.add_edge("b", "c", key="f")
    >>> _ = G.add_edge("a", "b", key="g"); sorted(edge_ids(G).values())
    ['f|a|c', 'f|b|c', 'g']
    """
    uses: dict[Any, int] = defaultdict(int)
    for _, _, key in graph.edges(keys=True):
        uses[key] += 1
    return {(u, v, key): str(key) if uses[key] == 1 else f"{key}|{u}|{v}"
            for u, v, key in graph.edges(keys=True)}


def _edge_key(edge_id: str, source: str, target: str) -> str:
    """The edge key back from an id of :func:`edge_ids`."""
    suffix = f"|{source}|{target}"
    return edge_id[:-len(suffix)] if edge_id.endswith(suffix) else edge_id


def to_graphml(graph: nx.MultiDiGraph) -> bytes:
    """GraphML with typed keys (``int``, ``double``, ``boolean``, ``string``); each edge's id is
    unique (:func:`edge_ids`); lists and mappings are JSON text (GraphML has no list type)."""
    flat = _flat(graph)
    ids = edge_ids(graph)
    keyed = nx.MultiDiGraph()
    keyed.graph.update(flat.graph)
    keyed.add_nodes_from(flat.nodes(data=True))
    for u, v, key, data in flat.edges(keys=True, data=True):
        keyed.add_edge(u, v, key=ids[(u, v, key)], **data)
    out = io.BytesIO()
    nx.write_graphml(keyed, out, encoding="utf-8", prettyprint=True, named_key_ids=True)
    return out.getvalue()


GEXF_NS = "http://gexf.net/1.3"
"""GEXF 1.3 (Gephi 0.9.3 and later): it keeps parallel edges of different ``kind`` apart."""
_INT32 = 2**31


def _gexf_type(values: Iterable[Any]) -> str:
    """The GEXF type of an attribute from its values (None left out); ``json`` when GEXF has none."""
    kinds = set()
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int):
            kinds.add("integer" if -_INT32 <= value < _INT32 else "long")
        elif isinstance(value, float):
            kinds.add("double")
        elif isinstance(value, str):
            kinds.add("string")
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            kinds.add("liststring")
        else:
            kinds.add("json")
    if kinds and kinds <= {"integer", "long"}:
        return "long" if "long" in kinds else "integer"
    if kinds and kinds <= {"integer", "long", "double"}:
        return "double"
    if not kinds:
        return "string"
    return kinds.pop() if len(kinds) == 1 else "json"


def _list_text(items: Sequence[str]) -> str:
    """A liststring value: ``[a, b]``; an item holding ``,``, ``[``, ``]``, ``"``, ``\\`` or spaces
    at its ends is written in double quotes, JSON-escaped."""
    def item(text: str) -> str:
        plain = bool(text) and text == text.strip() and not any(c in text for c in ',[]"\\')
        return text if plain else json.dumps(text, ensure_ascii=False)
    return "[" + ", ".join(item(text) for text in items) + "]"


def _parse_list_text(text: str) -> list[str]:
    """Read :func:`_list_text`'s form back.

    >>> _parse_list_text(_list_text(["a", "b, c", ' "q" ']))
    ['a', 'b, c', ' "q" ']
    """
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    items: list[str] = []
    position = 0
    while position < len(body):
        while position < len(body) and body[position] in " ,":
            position += 1
        if position >= len(body):
            break
        if body[position] == '"':
            value, position = json.JSONDecoder().raw_decode(body, position)
            items.append(value)
        else:
            end = body.find(",", position)
            end = len(body) if end < 0 else end
            items.append(body[position:end].strip())
            position = end
    return items


def _gexf_value(value: Any, kind: str) -> str:
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if kind == "liststring":
        return _list_text(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "double":
        return repr(float(value))
    return str(value)


def _gexf_read_value(text: str, kind: str) -> Any:
    if kind == "json":
        return json.loads(text)
    if kind == "liststring":
        return _parse_list_text(text)
    if kind == "boolean":
        return text == "true"
    if kind in ("integer", "long"):
        return int(text)
    if kind in ("double", "float"):
        return float(text)
    return text


def _rgb(colour: Any) -> tuple[int, int, int] | None:
    text = str(colour or "")
    if re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)
    return None


def _is_year(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def to_gexf(graph: nx.MultiDiGraph, *, drawing: Mapping[Any, Mapping[str, Any]] | None = None) -> bytes:
    """GEXF 1.3, valid against the official schema.

    - every attribute typed (``integer``, ``long``, ``double``, ``boolean``, ``string``, and
      ``liststring`` for lists of text, written ``[a, b]``); lists of records and mappings are JSON
      text in an attribute titled ``<name> (json)``; absent values are left out;
    - one edge per tie with a unique id (:func:`edge_ids`), its relationship type as the edge ``kind``
      (Gephi holds one edge per pair and kind: parallel ties of different types stay apart, its
      importer merges those of one type by its merge strategy), ``type`` directed or undirected,
      ``weight``, ``label`` and the colour of its type;
    - time as spells (``mode="dynamic"``, years as integers, both ends included): each actor and tie
      stands from its ``from`` to its ``to`` year, the years :func:`d4d.field.annotate` gives the
      projection (the one rule the analysis and the map read time by);
    - with ``drawing`` (:func:`d4d.maps.node_drawing`), each actor's position, size and colour as the
      map draws them.

    GEXF has no graph attributes: the legend (edge types, sectors, kinds) is left out. The viz
    elements are in the GEXF namespace, where the official schemas declare them (Gephi reads them
    by name).
    """
    from lxml import etree

    def tag(name: str) -> str:
        return f"{{{GEXF_NS}}}{name}"

    node_keys = sorted({k for _, d in graph.nodes(data=True) for k, v in d.items() if v is not None} - {"label"})
    edge_keys = sorted({k for _, _, d in graph.edges(data=True) for k, v in d.items() if v is not None}
                       - {"label", "weight", "type", "directed"})
    node_types = {k: _gexf_type(d.get(k) for _, d in graph.nodes(data=True)) for k in node_keys}
    edge_types = {k: _gexf_type(d.get(k) for _, _, d in graph.edges(data=True)) for k in edge_keys}
    declared_styles = graph.graph.get("edge_types")
    styles: Mapping[str, Any] = declared_styles if isinstance(declared_styles, Mapping) else {}
    dynamic = any(_is_year(d.get("from")) or _is_year(d.get("to")) for _, d in graph.nodes(data=True)) or any(
        _is_year(d.get("from")) or _is_year(d.get("to")) for _, _, d in graph.edges(data=True))

    root = etree.Element(tag("gexf"), nsmap={None: GEXF_NS}, version="1.3")
    meta = etree.SubElement(root, tag("meta"))
    etree.SubElement(meta, tag("creator")).text = "d4d"
    etree.SubElement(meta, tag("description")).text = "The Big Data for development ecosystem: actors and their ties"
    settings = {"defaultedgetype": "directed", "mode": "dynamic" if dynamic else "static"}
    if dynamic:
        settings["timeformat"] = "integer"
    xml_graph = etree.SubElement(root, tag("graph"), settings)
    for cls, types in (("node", node_types), ("edge", edge_types)):
        declared = etree.SubElement(xml_graph, tag("attributes"), {"class": cls, "mode": "static"})
        for key, kind in types.items():
            etree.SubElement(declared, tag("attribute"), id=key,
                             title=key + JSON_SUFFIX if kind == "json" else key,
                             type="string" if kind == "json" else kind)

    def attvalues(parent: Any, data: Mapping[str, Any], types: Mapping[str, str]) -> None:
        present = [(k, data[k]) for k in types if data.get(k) is not None]
        if present:
            values = etree.SubElement(parent, tag("attvalues"))
            for key, value in present:
                etree.SubElement(values, tag("attvalue"), {"for": key, "value": _gexf_value(value, types[key])})

    def spell(parent: Any, start: Any, end: Any) -> None:
        bounds = {name: str(value) for name, value in (("start", start), ("end", end)) if _is_year(value)}
        if bounds:
            etree.SubElement(etree.SubElement(parent, tag("spells")), tag("spell"), bounds)

    def colour(parent: Any, value: Any) -> None:
        rgb = _rgb(value)
        if rgb is not None:
            etree.SubElement(parent, tag("color"), r=str(rgb[0]), g=str(rgb[1]), b=str(rgb[2]))

    nodes = etree.SubElement(xml_graph, tag("nodes"), count=str(graph.number_of_nodes()))
    for node, data in graph.nodes(data=True):
        element = etree.SubElement(nodes, tag("node"), id=str(node))
        if data.get("label") is not None:
            element.set("label", str(data["label"]))
        attvalues(element, data, node_types)
        spell(element, data.get("from"), data.get("to"))
        drawn = (drawing or {}).get(node)
        if drawn:
            colour(element, drawn.get("color"))
            etree.SubElement(element, tag("position"), x=repr(float(drawn["x"])), y=repr(float(drawn["y"])),
                             z="0.0")
            etree.SubElement(element, tag("size"), value=repr(float(drawn["size"])))
    edges = etree.SubElement(xml_graph, tag("edges"), count=str(graph.number_of_edges()))
    ids = edge_ids(graph)
    for u, v, key, data in graph.edges(keys=True, data=True):
        element = etree.SubElement(edges, tag("edge"), id=ids[(u, v, key)], source=str(u), target=str(v))
        if data.get("directed") is not None:
            element.set("type", "directed" if data["directed"] else "undirected")
        if data.get("type") is not None:
            element.set("kind", str(data["type"]))
        if data.get("label") is not None:
            element.set("label", str(data["label"]))
        weight = data.get("weight")
        if isinstance(weight, (int, float)) and not isinstance(weight, bool):
            element.set("weight", repr(float(weight)))
        attvalues(element, data, edge_types)
        spell(element, data.get("from"), data.get("to"))
        style = styles.get(str(data.get("type")))
        if isinstance(style, Mapping):
            colour(element, style.get("color"))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _read_gexf(data: bytes) -> nx.MultiDiGraph:
    """A GEXF file of :func:`to_gexf` back as the network it was written from (viz and spells aside)."""
    from lxml import etree

    ns = {"g": GEXF_NS}
    root = etree.fromstring(data)
    declared: dict[tuple[str, str], tuple[str, str]] = {}
    for attributes in root.iterfind("g:graph/g:attributes", ns):
        for attribute in attributes.iterfind("g:attribute", ns):
            title = str(attribute.get("title"))
            kind = "json" if title.endswith(JSON_SUFFIX) else str(attribute.get("type"))
            declared[(str(attributes.get("class")), str(attribute.get("id")))] = (title.removesuffix(JSON_SUFFIX), kind)

    def values(element: Any, cls: str) -> dict[str, Any]:
        found = {}
        for value in element.iterfind("g:attvalues/g:attvalue", ns):
            name, kind = declared[(cls, value.get("for"))]
            found[name] = _gexf_read_value(value.get("value"), kind)
        return found

    graph = nx.MultiDiGraph()
    for node in root.iterfind("g:graph/g:nodes/g:node", ns):
        attrs = values(node, "node")
        if node.get("label") is not None:
            attrs["label"] = node.get("label")
        graph.add_node(node.get("id"), **attrs)
    for edge in root.iterfind("g:graph/g:edges/g:edge", ns):
        attrs = values(edge, "edge")
        source, target = str(edge.get("source")), str(edge.get("target"))
        if edge.get("kind") is not None:
            attrs["type"] = edge.get("kind")
        if edge.get("type") is not None:
            attrs["directed"] = edge.get("type") == "directed"
        if edge.get("label") is not None:
            attrs["label"] = edge.get("label")
        if edge.get("weight") is not None:
            attrs["weight"] = float(str(edge.get("weight")))
        graph.add_edge(source, target, key=_edge_key(str(edge.get("id")), source, target), **attrs)
    return graph


def with_measures(graph: nx.MultiDiGraph, metrics: Mapping[str, Any] | None) -> nx.MultiDiGraph:
    """A copy of ``graph`` whose actors carry their measures from :func:`d4d.analyse.analyse`'s output
    (``metrics["actors"][iri]``: betweenness, community, constraint, ...): numbers, booleans, text and
    lists of these; a mapping (``brokerage``) becomes one attribute per entry (``brokerage_total``). An
    attribute the network already has is kept as it is. Without ``metrics``, the graph itself.
    """
    actors = (metrics or {}).get("actors")
    if not isinstance(actors, Mapping):
        return graph
    out = graph.copy()
    for node, data in out.nodes(data=True):
        measures = actors.get(node)
        if not isinstance(measures, Mapping):
            continue
        for name, value in sorted(measures.items()):
            if name in data:
                continue  # the network's own attribute (label, kind, sectors, ...) stays as it is
            entries = ([(f"{name}_{k}", v) for k, v in sorted(value.items())] if isinstance(value, Mapping)
                       else [(name, value)])
            for key, item in entries:
                if key not in data and (_plain(item) or item is None or (
                        isinstance(item, list) and all(_plain(x) for x in item))):
                    data[key] = item
    return out


def to_cytoscape(graph: nx.MultiDiGraph) -> bytes:
    """Cytoscape.js JSON; node ``name`` is its label; each edge gets a unique ``id``."""
    data = nx.cytoscape_data(graph, name="label")
    keys: dict[Any, int] = defaultdict(int)
    for edge in data["elements"]["edges"]:
        keys[edge["data"]["key"]] += 1
    for edge in data["elements"]["edges"]:
        d = edge["data"]
        d["id"] = d["key"] if keys[d["key"]] == 1 else f"{d['key']}|{d['source']}|{d['target']}"
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")


def to_node_link(graph: nx.MultiDiGraph) -> bytes:
    """networkx node-link JSON (``edges`` key)."""
    data = nx.node_link_data(graph, edges="edges")
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")


NODE_COLUMNS = ("label", "kind", "actor_type", "sector", "sectors", "founded", "description", "urls",
                "identifiers", "facts")
EDGE_COLUMNS = ("type", "label", "fact", "directed", "amount", "currency", "year", "end_year", "weight",
                "sources", "quote")


def _column_type(values: Iterable[Any]) -> str:
    """The type a CSV column is read back as: str, bool, int or float (with ``?``: empty is None), or
    json for lists, mappings, mixed types, and text columns that hold both empty text and None."""
    kinds = set()
    nullable = empty = False
    for value in values:
        if value is None:
            nullable = True
        elif isinstance(value, bool):
            kinds.add("bool")
        elif isinstance(value, int):
            kinds.add("int")
        elif isinstance(value, float):
            kinds.add("float")
        elif isinstance(value, str):
            kinds.add("str")
            empty = empty or value == ""
        else:
            kinds.add("json")
    if len(kinds) != 1 or "json" in kinds or (kinds == {"str"} and nullable and empty):
        return "json" if kinds else "str?"
    kind = kinds.pop()
    return kind + ("?" if nullable else "")


def _cell(value: Any, kind: str) -> str:
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _uncell(text: str, kind: str) -> Any:
    if kind == "json":
        return json.loads(text)
    nullable = kind.endswith("?")
    kind = kind.rstrip("?")
    if nullable and text == "":
        return None
    if kind == "bool":
        return text == "true"
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    return text


def _tables(graph: nx.MultiDiGraph) -> tuple[list[str], dict[str, str], list[list[str]], list[str], dict[str, str], list[list[str]]]:
    node_keys = sorted({k for _, d in graph.nodes(data=True) for k in d}, key=lambda k: (
        NODE_COLUMNS.index(k) if k in NODE_COLUMNS else len(NODE_COLUMNS), k))
    edge_keys = sorted({k for _, _, d in graph.edges(data=True) for k in d}, key=lambda k: (
        EDGE_COLUMNS.index(k) if k in EDGE_COLUMNS else len(EDGE_COLUMNS), k))
    node_types = {k: _column_type(d.get(k) for _, d in graph.nodes(data=True)) for k in node_keys}
    edge_types = {k: _column_type(d.get(k) for _, _, d in graph.edges(data=True)) for k in edge_keys}
    node_header = ["id"] + node_keys
    node_rows = [[str(n)] + [_cell(d.get(k), node_types[k]) for k in node_keys] for n, d in graph.nodes(data=True)]
    edge_header = ["source", "target", "key"] + edge_keys
    edge_rows = [[str(u), str(v), str(key)] + [_cell(d.get(k), edge_types[k]) for k in edge_keys]
                 for u, v, key, d in graph.edges(keys=True, data=True)]
    return node_header, node_types, node_rows, edge_header, edge_types, edge_rows


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def to_csv(graph: nx.MultiDiGraph, *, what: str | None = None) -> bytes:
    """CSV tables of the network.

    Parameters
    ----------
    what:
        ``None``: a zip of ``nodes.csv``, ``edges.csv`` and ``graph.json`` (the graph attributes and
        each column's type: ``str``, ``int``, ``float``, ``bool``, with ``?`` when an empty cell is
        None, or ``json``), which :func:`read_network` reads back exactly. ``"nodes"`` or ``"edges"``:
        that table alone (lists and mappings as JSON text, empty cells for absent values).

    Raises
    ------
    QueryError
        ``what`` is not nodes or edges.
    """
    node_header, node_types, node_rows, edge_header, edge_types, edge_rows = _tables(graph)
    if what == "nodes":
        return _csv_bytes(node_header, node_rows)
    if what == "edges":
        return _csv_bytes(edge_header, edge_rows)
    if what is not None:
        raise QueryError(f"--what is nodes or edges, not {what!r}")
    meta = {"graph": graph.graph, "node_columns": node_types, "edge_columns": edge_types,
            "format": "d4d network CSV: nodes.csv (id + node attributes), edges.csv (source, target, key + edge "
                      "attributes); column types: str, int, float, bool (? = empty cell is None), json"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in (("nodes.csv", _csv_bytes(node_header, node_rows)),
                           ("edges.csv", _csv_bytes(edge_header, edge_rows)),
                           ("graph.json", (json.dumps(meta, ensure_ascii=False, sort_keys=True, indent=1) + "\n")
                            .encode("utf-8"))):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))   # fixed time: same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


def to_network_format(graph: nx.MultiDiGraph, format: str, *, what: str | None = None,
                      metrics: Mapping[str, Any] | None = None) -> bytes:
    """Serialise a network in one of :data:`NETWORK_FORMATS`; GEXF with the map's drawing (sizes by
    degree, from ``metrics`` when it has the measure).

    Raises
    ------
    QueryError
        Unknown format, or ``what`` with a format other than csv.
    """
    if what is not None and format != "csv":
        raise QueryError("--what (nodes or edges) applies to the csv format only")
    if format == "graphml":
        return to_graphml(graph)
    if format == "gexf":
        from d4d.maps import node_drawing

        return to_gexf(graph, drawing=node_drawing(graph, metrics=metrics))
    if format == "csv":
        return to_csv(graph, what=what)
    if format == "cytoscape":
        return to_cytoscape(graph)
    if format == "nodelink":
        return to_node_link(graph)
    raise QueryError(f"unknown network format {format!r} (known: {', '.join(NETWORK_FORMATS)})")


# ---------------------------------------------------------------------------------------------------
# Reading networks back


def _decode(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    encoded = json.loads(graph.graph.pop(JSON_ATTRIBUTES, "{}") or "{}")
    out = nx.MultiDiGraph()
    out.graph.update({k: (json.loads(v) if k in encoded.get("graph", []) else v) for k, v in graph.graph.items()
                      if k not in ("node_default", "edge_default")})
    for node, data in graph.nodes(data=True):
        out.add_node(node, **{k: (json.loads(v) if k in encoded.get("node", []) else v) for k, v in data.items()})
    for u, v, key, data in graph.edges(keys=True, data=True):
        attrs = {k: (json.loads(val) if k in encoded.get("edge", []) else val) for k, val in data.items()}
        out.add_edge(u, v, key=_edge_key(str(key), str(u), str(v)), **attrs)
    return out


def read_network(data: bytes, format: str) -> nx.MultiDiGraph:
    """Read a network export back into a networkx multigraph with the exported attributes.

    Raises
    ------
    QueryError
        Unknown format.
    """
    if format == "graphml":
        graph = nx.read_graphml(io.BytesIO(data), force_multigraph=True)
        return _decode(nx.MultiDiGraph(graph))
    if format == "gexf":
        return _read_gexf(data)
    if format == "nodelink":
        return nx.MultiDiGraph(nx.node_link_graph(json.loads(data), edges="edges"))
    if format == "cytoscape":
        graph = nx.cytoscape_graph(json.loads(data), name="label")
        out = nx.MultiDiGraph()
        out.graph.update(graph.graph)
        for node, attrs in graph.nodes(data=True):
            out.add_node(node, **{k: v for k, v in attrs.items() if k not in ("id", "value", "name")})
        for u, v, key, attrs in graph.edges(keys=True, data=True):
            out.add_edge(u, v, key=key, **{k: val for k, val in attrs.items()
                                           if k not in ("id", "source", "target", "key")})
        return out
    if format == "csv":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            meta = json.loads(archive.read("graph.json"))
            nodes = list(csv.reader(io.StringIO(archive.read("nodes.csv").decode("utf-8"))))
            edges = list(csv.reader(io.StringIO(archive.read("edges.csv").decode("utf-8"))))
        out = nx.MultiDiGraph()
        out.graph.update(meta["graph"])
        header = nodes[0]
        for row in nodes[1:]:
            out.add_node(row[0], **{k: _uncell(c, meta["node_columns"][k]) for k, c in zip(header[1:], row[1:])})
        header = edges[0]
        for row in edges[1:]:
            out.add_edge(row[0], row[1], key=row[2],
                         **{k: _uncell(c, meta["edge_columns"][k]) for k, c in zip(header[3:], row[3:])})
        return out
    raise QueryError(f"unknown network format {format!r} (known: {', '.join(NETWORK_FORMATS)})")


# ---------------------------------------------------------------------------------------------------
# Redaction


REDACTIONS = ("people",)
"""What ``export(..., redact=...)`` can leave out."""


def redacted(store: ox.Store, metrics: Mapping[str, Any] | None, redact: str | None
             ) -> tuple[ox.Store, Mapping[str, Any] | None]:
    """The store and the measures to export: themselves, or with ``redact="people"`` an in-memory copy
    of the store in which every person is replaced by their role, and the measures redacted alike
    (:class:`d4d.redact.PeopleRedaction`).

    Raises
    ------
    QueryError
        An unknown redaction.
    """
    if redact is None:
        return store, metrics
    if redact != "people":
        raise QueryError(f"unknown redaction {redact!r} (known: {', '.join(REDACTIONS)})")
    from d4d.redact import PeopleRedaction

    redaction = PeopleRedaction(store)
    return redaction.store(), (redaction.value(dict(metrics)) if metrics is not None else None)


# ---------------------------------------------------------------------------------------------------
# One call for the command line


def export(store: ox.Store, format: str, *, query: str | None = None, params: Mapping[str, str] | None = None,
           ontology: Ontology | None = None, what: str | None = None,
           metrics: Mapping[str, Any] | None = None, base: str | None = None,
           redact: str | None = None) -> bytes:
    """The whole graph of ``store`` (or what a CONSTRUCT query selects) in ``format``.

    Parameters
    ----------
    store:
        The built store (``d4d.store.open_store("build")``).
    format:
        One of :data:`FORMATS`.
    query:
        A catalogue query name, a ``.rq`` file or query text (a CONSTRUCT or DESCRIBE query).
    params:
        Values of the query's parameters, as text.
    ontology:
        For network formats; by default the ontology stored in the build.
    what:
        For csv: ``nodes`` or ``edges`` alone (see :func:`to_csv`).
    metrics:
        :func:`d4d.analyse.analyse`'s output (``build/metrics.json``): network formats then carry each
        actor's measures and community (:func:`with_measures`), and GEXF sizes actors as the map does.
    base:
        RDF formats: move the IRIs from ``https://w3id.org/d4d/`` to this base (:func:`rebase`).
    redact:
        ``"people"``: every person replaced by their role, in every format (:func:`redacted`).

    Returns
    -------
    bytes

    Raises
    ------
    QueryError
        Unknown format, a bad query or parameter.
    StoreError
        A network format on a store without the ontology.
    """
    store, metrics = redacted(store, metrics, redact)
    if format in RDF_FORMATS:
        if what is not None:
            raise QueryError("--what (nodes or edges) applies to the csv format only")
        quads = statements(store, query=query, params=params)
        if base is None:
            return to_rdf(quads, format)
        prefixes = {name: base + iri[len(BASE):] if iri.startswith(BASE) else iri for name, iri in PREFIXES.items()}
        return to_rdf(rebase(quads, base), format, prefixes=prefixes)
    if base is not None:
        raise QueryError("--base applies to the RDF formats (a network's actors keep their IRIs)")
    if format in NETWORK_FORMATS:
        graph = with_measures(network(store, ontology=ontology, query=query, params=params), metrics)
        return to_network_format(graph, format, what=what, metrics=metrics)
    raise QueryError(f"unknown export format {format!r} (known: {', '.join(FORMATS)})")
