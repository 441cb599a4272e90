"""The projection from the RDF graph to a networkx multigraph, driven by the ontology.

Which relationship classes become edges, their direction (source and target roles), their weight and
their drawing style are annotations on the classes in ``ontology/d4d.ttl`` (``d4d:edgeSource``,
``d4d:edgeTarget``, ``d4d:edgeDirected``, ``d4d:edgeWeight``, ``d4d:color``, ``d4d:dashes``): nothing
here lists relationship types.

Every relationship fact is one edge (key: the fact's IRI), so two relationships between the same pair
stay two edges. Node and edge attributes are plain Python values (see :func:`project`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import networkx as nx
import pyoxigraph as ox
from rdflib import URIRef

from d4d.field import annotate
from d4d.ontology import EdgeType, Ontology
from d4d.store import query_options
from d4d.vocab import D4D, GRAPH

_PREFIX = "PREFIX d4d: <https://w3id.org/d4d/ontology#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" \
          "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"


def _value(term: Any) -> Any:
    return None if term is None else term.value


def _year(text: str | None) -> int | None:
    if not text:
        return None
    head = text.lstrip("-")[:4]
    return int(head) if head.isdigit() else None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _query(store: ox.Store, text: str) -> Iterable[Any]:
    return store.query(_PREFIX + text, **query_options(store))  # type: ignore[return-value]


def same_as(store: ox.Store) -> dict[str, str]:
    """Each actor stated the same as another (``owl:sameAs``, either way, transitively) -> the one
    IRI its cluster is counted under: the smallest IRI of the cluster (a name only: the merged node
    gets the attributes and relationships of every member, so no measure depends on the choice).
    Actors in no such statement are not in the dict.

    The curated facts and imports give one IRI to one identity already (the crosswalk and the
    identifiers, see :mod:`d4d.imports.identity`); an ``owl:sameAs`` between two actor IRIs states
    that two records that stayed apart are one actor, and the network counts it once."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for row in _query(store, """
        SELECT ?a ?b WHERE {
          ?a <http://www.w3.org/2002/07/owl#sameAs> ?b .
          { ?a a d4d:Person } UNION { ?a a d4d:Organization }
          { ?b a d4d:Person } UNION { ?b a d4d:Organization }
        }"""):
        a, b = find(_value(row["a"])), find(_value(row["b"]))
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {x: find(x) for x in sorted(parent) if find(x) != x}


def actor_kind(types: set[str], ontology: Ontology) -> str:
    """The kind (IRI) an actor is drawn and counted as, of the kinds it is stated to be: the one that
    is a subclass of all the others; if none is (a foundation that is also an international
    organisation), the most specific kind they share (Organization), so that neither is picked over
    the other. Organization if it has no kind."""
    known = {str(k.iri) for k in ontology.kinds.values()}

    def supers(kind: str) -> set[str]:
        return {str(c) for c in ontology.superclasses(URIRef(kind))} & known

    def chain(candidates: set[str]) -> list[str]:  # the one kind below all the others, if any
        return [k for k in candidates if candidates <= supers(k)]

    below_all = chain(types)
    if below_all:
        return below_all[0]
    shared = set.intersection(*(supers(t) for t in types)) if types else set()
    return (chain(shared) or [str(D4D.Organization)])[0]


def actor_attributes(store: ox.Store, ontology: Ontology) -> dict[str, dict[str, Any]]:
    """Node attributes of every actor (d4d:Agent): label, kind, sectors and web addresses (``urls``; all
    of them, sorted), founding and dissolution year, description, ``merged`` (the IRIs counted as this
    actor by :func:`same_as`, itself included, or ``[]``)."""
    alias = same_as(store)
    kinds = {str(k.iri): k for k in ontology.kinds.values()}
    slugs = {str(s.iri): slug for slug, s in ontology.sectors.items()}
    nodes: dict[str, dict[str, Any]] = {}
    for row in _query(store, """
        SELECT ?a ?type WHERE {
          { ?a a d4d:Person } UNION { ?a a d4d:Organization }
          OPTIONAL { ?a a ?type }
        }"""):
        iri = alias.get(_value(row["a"]), _value(row["a"]))
        node = nodes.setdefault(iri, {"label": None, "types": set(), "sectors": [], "founded": None,
                                      "dissolved": None, "description": None, "urls": [],
                                      "identifiers": []})
        if row["type"] is not None and _value(row["type"]) in kinds:
            node["types"].add(_value(row["type"]))
    for iri, label in display_names(store, alias).items():
        if iri in nodes:
            nodes[iri]["label"] = label
    for prop, key in ((D4D.sector, "sectors"), (D4D.foundingDate, "founded"),
                      (D4D.dissolutionDate, "dissolved"), (D4D.description, "description"),
                      (D4D.url, "urls"), (D4D.identifier, "identifiers")):
        for row in _query(store, f"SELECT ?a ?v WHERE {{ ?a <{prop}> ?v }}"):
            found = nodes.get(alias.get(_value(row["a"]), _value(row["a"])))
            if found is None:
                continue
            node = found
            value = _value(row["v"])
            if key == "sectors":
                node[key].append(slugs.get(value, value.rsplit("/", 1)[-1]))
            elif key in ("identifiers", "urls"):
                node[key].append(value)
            elif key == "founded":  # the earliest founding year stated
                year = _year(value)
                node[key] = year if node[key] is None or (year is not None and year < node[key]) else node[key]
            elif key == "dissolved":  # the latest dissolution year stated
                year = _year(value)
                node[key] = year if node[key] is None or (year is not None and year > node[key]) else node[key]
            elif node[key] is None:
                node[key] = value
    merged: dict[str, list[str]] = defaultdict(list)
    for member, canonical in alias.items():
        merged[canonical].append(member)
    merged = {c: sorted([c, *members]) for c, members in merged.items()}
    out: dict[str, dict[str, Any]] = {}
    for iri, node in sorted(nodes.items()):
        kind = actor_kind(node.pop("types"), ontology)
        kind_name = kinds[kind].name if kind in kinds else "Organization"
        out[iri] = {
            "label": node["label"] or iri.rsplit("/", 1)[-1],
            "kind": kind_name,
            "actor_type": "Person" if ontology.is_subclass(kinds[kind].iri, D4D.Person) else "Organization",
            "sectors": sorted(set(node["sectors"])),
            "founded": node["founded"],
            "dissolved": node["dissolved"],
            "description": node["description"],
            "urls": sorted(set(node["urls"])),
            "identifiers": sorted(set(node["identifiers"])),
            "merged": merged.get(iri, []),
        }
    return out


def display_names(store: ox.Store, alias: dict[str, str]) -> dict[str, str]:
    """The name shown for each actor (a merged cluster under its cluster's IRI, see :func:`same_as`)
    when its sources give it several: the curated facts' name; else the name the most graphs state;
    then one not written all in capitals; then the longest (a publisher's truncated "... Coordination
    of Huma" loses to the whole name); the code-point order decides only between names alike in all
    of these."""
    stated: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in _query(store, f"""
        SELECT ?a ?label ?g WHERE {{
          {{ ?a a d4d:Person }} UNION {{ ?a a d4d:Organization }}
          ?a rdfs:label ?label .
          OPTIONAL {{ GRAPH ?g {{ ?a ?p ?label }} FILTER(?g != <{GRAPH["metrics"]}>) }}
        }}"""):
        iri = alias.get(_value(row["a"]), _value(row["a"]))
        graphs = stated[iri][_value(row["label"])]
        if row["g"] is not None:
            graphs.add(_value(row["g"]))
    facts = str(GRAPH["facts"])
    return {iri: min(names, key=lambda n: (facts not in names[n], -len(names[n]), n.isupper(), -len(n), n))
            for iri, names in stated.items()}


def edge_rows(store: ox.Store, edge: EdgeType) -> list[dict[str, Any]]:
    """One row per relationship fact of a type: fact, source, target and its details."""
    weight = f"OPTIONAL {{ ?fact <{edge.weight}> ?weight }}" if edge.weight else ""
    pair = "FILTER(STR(?s) < STR(?t))" if edge.source == edge.target else ""
    rows = []
    for row in _query(store, f"""
        SELECT ?fact ?s ?t ?label ?weight ?amount ?currency ?date ?start ?end WHERE {{
          ?fact a <{edge.iri}> ; <{edge.source}> ?s ; <{edge.target}> ?t .
          {pair}
          OPTIONAL {{ ?fact rdfs:label ?label }}
          {weight}
          OPTIONAL {{ ?fact d4d:amount ?amount }}
          OPTIONAL {{ ?fact d4d:currency ?currency }}
          OPTIONAL {{ ?fact d4d:date ?date }}
          OPTIONAL {{ ?fact d4d:startDate ?start }}
          OPTIONAL {{ ?fact d4d:endDate ?end }}
        }}"""):
        rows.append({key: _value(row[key]) for key in
                     ("fact", "s", "t", "label", "weight", "amount", "currency", "date", "start", "end")})
    rows.sort(key=lambda r: (r["fact"], r["s"], r["t"]))
    return rows


def citations(store: ox.Store) -> dict[str, list[dict[str, Any]]]:
    """Every cited subject -> its citations (quote, source IRI, source title, url, from seeds)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _query(store, """
        SELECT ?x ?c ?quote ?doc ?title ?url ?seed WHERE {
          ?x d4d:citation ?c . ?c d4d:quote ?quote ; d4d:citedSource ?doc .
          OPTIONAL { ?doc d4d:title ?title } OPTIONAL { ?doc d4d:url ?url } OPTIONAL { ?doc d4d:fromSeeds ?seed }
        } ORDER BY ?x ?c"""):
        out[_value(row["x"])].append({
            "quote": _value(row["quote"]), "source": _value(row["doc"]), "source_title": _value(row["title"]) or "",
            "source_url": _value(row["url"]), "from_seeds": _value(row["seed"]) == "true",
        })
    return dict(out)


def bases(store: ox.Store) -> dict[str, dict[str, str | None]]:
    """Every record with a basis -> ``{"basis": "stated" or "read", "note": its note or None}``: whether
    its quotes state it or a curator read it into them (and how)."""
    return {_value(row["x"]): {"basis": _value(row["basis"]), "note": _value(row["note"])}
            for row in _query(store, """
        SELECT ?x ?basis ?note WHERE { ?x d4d:basis ?basis OPTIONAL { ?x d4d:note ?note } } ORDER BY ?x""")}


def roles(store: ox.Store) -> dict[str, str]:
    """Every relationship fact with a role -> the role in words: the role's name, followed by the
    source's own wording (``d4d:roleTitle``) in quotation marks where it says more; several roles
    or titles are all kept, in order, joined by "; "."""
    names: dict[str, set[str]] = defaultdict(set)
    titles: dict[str, set[str]] = defaultdict(set)
    for row in _query(store, """
        SELECT ?fact ?name ?title WHERE {
          { ?fact d4d:role ?role . ?role rdfs:label ?name } UNION { ?fact d4d:roleTitle ?title }
        }"""):
        if row["name"] is not None:
            names[_value(row["fact"])].add(_value(row["name"]))
        if row["title"] is not None:
            titles[_value(row["fact"])].add(_value(row["title"]))
    out = {}
    for fact in sorted(set(names) | set(titles)):
        said = sorted(names.get(fact, ()))
        lowered = {n.lower() for n in said}
        said += [f"\u201c{t}\u201d" for t in sorted(titles.get(fact, ())) if t.lower() not in lowered]
        out[fact] = "; ".join(said)
    return out


def project(store: ox.Store, ontology: Ontology, *, facts: bool = True) -> nx.MultiDiGraph:
    """Project the built graph onto a networkx multigraph of actors.

    Parameters
    ----------
    store:
        A pyoxigraph store with the facts and their materialised types (read as :func:`d4d.store.query_options` says).
    ontology:
        The ontology, which declares which relationship classes are edges and how.
    facts:
        Attach to every node the list of facts about it with their quotes, each with its ``basis``
        ("stated", "read" or None) and ``note`` (for maps' side panels);
        turn off for large graphs where only the structure matters.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes keyed by actor IRI with ``label``, ``kind``, ``actor_type``, ``sectors`` (all),
        ``founded``, ``dissolved``, ``description``, ``urls``, ``identifiers``, ``merged`` (see
        :func:`same_as`) and (if ``facts``) ``facts``; and, by the shared rules of
        :mod:`d4d.field`, ``sector_weights`` (``{sector: share}``) and ``from``/``to`` (the
        first and last year it stands, ``None`` open).
        One edge per relationship fact (key: the fact IRI) with ``type``, ``label``, ``fact``,
        ``directed``, ``amount``, ``currency``, ``year``, ``end_year``, ``from``, ``to``, ``role``
        (the role in words, see :func:`roles`, or ``None``),
        ``weight``, ``sources``, ``quote``. An undirected relationship (a partnership) with n partners gives one edge per pair,
        ``directed=False``. Graph attributes ``edge_types``, ``sectors`` and ``kinds`` carry labels,
        colours and shapes from the ontology.
    """
    graph = nx.MultiDiGraph()
    graph.graph["edge_types"] = {
        name: {"label": e.label, "color": e.color, "dashes": e.dashes, "directed": e.directed,
               "source_kinds": sorted(e.source_kinds), "target_kinds": sorted(e.target_kinds),
               "recommended": e.recommended}
        for name, e in ontology.edge_types.items()
    }
    graph.graph["sectors"] = {slug: {"label": s.label, "color": s.color} for slug, s in ontology.sectors.items()}
    graph.graph["kinds"] = {name: {"label": k.label, "shape": k.shape} for name, k in ontology.kinds.items()}
    actors = actor_attributes(store, ontology)
    for iri, attrs in actors.items():
        graph.add_node(iri, **attrs)
    alias = {member: iri for iri, attrs in actors.items() for member in attrs["merged"]}

    cited = citations(store) if facts else {}
    basis = bases(store) if facts else {}
    role = roles(store)
    node_facts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name, edge in ontology.edge_types.items():
        for row in edge_rows(store, edge):
            row["s"], row["t"] = alias.get(row["s"], row["s"]), alias.get(row["t"], row["t"])
            if row["s"] not in graph or row["t"] not in graph:
                continue
            quotes = cited.get(row["fact"], [])
            weight = _number(row["weight"]) if edge.weight else None
            graph.add_edge(
                row["s"], row["t"], key=row["fact"],
                type=name, label=row["label"] or edge.label, fact=row["fact"], directed=edge.directed,
                amount=_number(row["amount"]), currency=row["currency"],
                year=_year(row["date"] or row["start"]), end_year=_year(row["end"]),
                weight=weight if weight is not None else 1.0,
                sources=sorted({q["source"] for q in quotes}),
                quote=quotes[0]["quote"] if quotes else "",
                role=role.get(row["fact"]),
            )
            if facts:
                entry = {"fact": row["fact"], "type": name, "text": row["label"] or edge.label}
                for endpoint in (row["s"], row["t"]):
                    node_facts[endpoint].append(entry)
    if facts:
        for row in _query(store, "SELECT ?f ?a ?label WHERE { ?f a d4d:Activity ; d4d:performer ?a . "
                                 "OPTIONAL { ?f d4d:description ?label } } ORDER BY ?f"):
            node_facts[alias.get(_value(row["a"]), _value(row["a"]))].append({"fact": _value(row["f"]), "type": "Activity",
                                                 "text": _value(row["label"]) or "Activity"})
        for iri in graph.nodes:
            entries = [{"fact": iri, "type": graph.nodes[iri]["kind"], "text": graph.nodes[iri]["label"]}]
            entries += sorted(node_facts.get(iri, []), key=lambda e: (e["type"], e["fact"]))
            seen: set[str] = set()
            expanded = []
            for entry in entries:
                if entry["fact"] in seen:
                    continue
                seen.add(entry["fact"])
                for quote in cited.get(entry["fact"], [{}]):
                    expanded.append({**entry, "quote": quote.get("quote", ""),
                                     "source_title": quote.get("source_title", ""),
                                     "source_url": quote.get("source_url"),
                                     "from_seeds": quote.get("from_seeds", False),
                                     "basis": basis.get(entry["fact"], {}).get("basis"),
                                     "note": basis.get(entry["fact"], {}).get("note")})
            graph.nodes[iri]["facts"] = expanded
    annotate(graph, order=list(ontology.sectors))
    return graph


def undirected_simple(graph: nx.MultiDiGraph, *, weight: str | None = None) -> nx.Graph:
    """Collapse the multigraph into a simple undirected graph: one edge per linked pair, with
    ``weight`` the number of relationships (or the sum of the named edge attribute) and ``types``
    the sorted relationship types between them."""
    simple = nx.Graph()
    simple.add_nodes_from(graph.nodes(data=True))
    for u, v, data in graph.edges(data=True):
        if u == v:
            continue
        add = float(data.get(weight) or 0.0) if weight else 1.0
        if simple.has_edge(u, v):
            simple[u][v]["weight"] += add
            simple[u][v]["types"] = sorted(set(simple[u][v]["types"]) | {data.get("type")})
        else:
            simple.add_edge(u, v, weight=add, types=[data.get("type")])
    return simple
