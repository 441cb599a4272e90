"""The render stage for maps: a network as one interactive, offline, self-contained HTML page.

The map is drawn by vis-network through pyvis. pyvis is extended the way it is meant to be:
with our own template (``d4d/templates/map.html``) and vis options, never by editing its output.
What pyvis does not do is done here or in the template:

- **Offline.** vis-network's script and style are read from the installed pyvis package and
  inlined; the page has no Bootstrap and no CDN link, and a Content-Security-Policy forbids it
  any network access.
- **Safe.** Every data-derived string (labels, descriptions, quotes, titles, URLs, the heading,
  the query) reaches the page only as JSON inside ``<script type="application/json">`` blocks,
  with ``<``, ``>``, ``&`` and ``'`` escaped, and the page's script puts it into the document with
  ``textContent`` only. Links are made only for ``http(s)`` URLs.
- **Fast.** Node and edge records are built as plain lists (pyvis's ``add_node``/``add_edge``
  are quadratic); the layout is computed here, so the page opens with physics off; a network
  of more than ``max_nodes`` actors opens with one node per group (community or sector), each
  expandable by a click, and the page says so.

The map reads these parts of ``metrics`` (the output of ``d4d.analyse.analyse``); each may be
absent, and the overlays it feeds are then shown as "not computed":

``metrics["actors"][iri]``
    per-actor measures: every number is listed in the side panel (``size_by`` may name one,
    e.g. ``"betweenness"``), ``"community"`` gives the community overlay and
    ``group_by="community"``, ``"role"`` (a brokerage role) is shown as a badge;
``metrics["brokerage"]["top_brokers"]``
    ``[{"actor": iri, "betweenness": x, ...}]``: those with betweenness above 0 are the brokers
    of the brokers overlay (thick dark outline);
``metrics["recommendations"]``
    ``[{"source": iri, "target": iri, "reason": str}]``: recommended ties, drawn dashed.

The simpler shape ``metrics["nodes"][iri]`` (measures), ``metrics["communities"]`` (``{iri:
number}`` or a list of collections of IRIs) and ``metrics["brokers"]`` (IRIs) is read too.

>>> import networkx as nx
>>> G = nx.MultiDiGraph()
>>> G.add_node("https://w3id.org/d4d/id/a", label="A", kind="Foundation", sector="philanthropy")
>>> G.add_node("https://w3id.org/d4d/id/b", label="B", kind="NGO", sector="humanitarian")
>>> _ = G.add_edge("https://w3id.org/d4d/id/a", "https://w3id.org/d4d/id/b", key="f1", type="Funding")
>>> html = render_map(G, title="A funds B")
>>> html.startswith("<!DOCTYPE html>") and "<script src=" not in html
True
"""

from __future__ import annotations

import functools
import math
import os
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import igraph
import networkx as nx
import pyoxigraph as ox
import yaml
from jinja2 import Environment
from pyvis.network import Network

from d4d.errors import D4DError
from d4d.field import annotate
from d4d.io import write_text_atomic

__all__ = ["render_map", "write_map", "ego_graph", "graph_from_triples", "resolve_actor",
           "layout_positions", "node_drawing", "view_link", "MAX_NODES", "THIN_ABOVE", "ID_NAMESPACE"]

#: Beyond this many actors a map opens aggregated (one node per group, expandable).
MAX_NODES = 2000

#: Above this many ties a map opens with its backbone only (map.js draws a maximum spanning forest
#: of the ties that pass the filters, one line per linked pair kept); a control shows every tie.
THIN_ABOVE = 300

#: Namespace of actor IRIs; ``resolve_actor`` accepts a bare slug or ``d4did:slug`` too.
ID_NAMESPACE = "https://w3id.org/d4d/id/"

_VIS_DIR = "templates/lib/vis-9.1.2"
_TEMPLATE = "map.html"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_NO_SECTOR = "none"
_SEVERAL = "several"
_SEVERAL_STYLE = {"label": "Several sectors", "color": "#d0d7de"}
_GREY = "#9e9e9e"
_EDGE_GREY = "#8a8a8a"
#: vis-network shapes; the first group is drawn at ``size`` with the label below.
_SIZED_SHAPES = {"dot", "diamond", "square", "triangle", "triangleDown", "star", "hexagon"}
#: The others draw the label inside and ignore ``size``, which shows the chosen measure: such a
#: declared shape is drawn as the nearest sized one (the legend shows what is drawn).
_LABEL_SHAPES = {"ellipse": "dot", "circle": "dot", "box": "square", "database": "square", "text": "triangleDown"}
#: Colours for communities: Paul Tol's "muted" and "light" qualitative schemes (colour-blind safe).
_PALETTE = ["#332288", "#88ccee", "#44aa99", "#117733", "#999933", "#ddcc77", "#cc6677",
            "#882255", "#aa4499", "#77aadd", "#ee8866", "#eedd88", "#ffaabb", "#99ddff",
            "#44bb99", "#bbcc33"]
_MIN_SIZE, _MAX_SIZE = 10.0, 40.0
_GRAPH_MEASURES = ("degree", "in_degree", "out_degree", "amount")


def resolve_actor(G: nx.MultiDiGraph, actor: str) -> str:
    """The node key of ``actor`` in ``G``.

    Parameters
    ----------
    G:
        A network following the network contract (node key = actor IRI).
    actor:
        The actor's IRI, ``d4did:<slug>``, or bare ``<slug>``.

    Returns
    -------
    str
        The IRI that is a node of ``G``.

    Raises
    ------
    D4DError
        If no node of ``G`` matches.
    """
    candidates = [actor]
    if actor.startswith("d4did:"):
        candidates.append(ID_NAMESPACE + actor[len("d4did:"):])
    elif "://" not in actor:
        candidates.append(ID_NAMESPACE + actor)
    for candidate in candidates:
        if candidate in G:
            return candidate
    raise D4DError("no such actor in the network", record=f"actor {actor!r}")


#: The map's overlays, as the URL fragment's ``overlay`` key names them.
OVERLAYS = ("brokers", "communities", "recommended")


def view_link(*, page: str = "map.html", actor: str | None = None, tie: str | None = None,
              path: tuple[str, str] | None = None, year: int | None = None, overlays: Iterable[str] = (),
              all_ties: bool = False, hide_sectors: Iterable[str] = (), hide_kinds: Iterable[str] = (),
              hide_types: Iterable[str] = ()) -> str:
    """The link that opens the map at one view: the view is held in the URL's fragment.

    The page (``d4d/templates/map.js``) reads the same keys, writes them back on every change
    (so Back and Forward step through views) and opens a link it is given at that view. Actors
    and ties are named by their IRI's slug (the part after :data:`ID_NAMESPACE`; other IRIs
    whole); every value is percent-encoded as JavaScript's ``encodeURIComponent`` does.

    Parameters
    ----------
    page:
        The map's file name or URL, before the ``#``.
    actor:
        Open this actor's panel (IRI, ``d4did:slug`` or slug).
    tie:
        Open this tie's panel (the fact's IRI or slug).
    path:
        Two actors: highlight the shortest chain of ties between them.
    year:
        Show the field as it stood in this year.
    overlays:
        Any of :data:`OVERLAYS`.
    all_ties:
        Draw every tie, not only the backbone of a large map.
    hide_sectors, hide_kinds, hide_types:
        Sector slugs, actor kinds and relationship types to filter out.

    Returns
    -------
    str
        ``page`` followed by ``#`` and the view's keys, in a fixed order (the same view gives the
        same link).

    Raises
    ------
    D4DError
        If an overlay is not one of :data:`OVERLAYS`.

    >>> view_link(actor="https://w3id.org/d4d/id/data-pop-alliance", year=2015)
    'map.html#actor=data-pop-alliance&year=2015'
    >>> view_link(path=("gates", "un-global-pulse"), overlays=["brokers"])
    'map.html#path=gates,un-global-pulse&overlay=brokers'
    """
    unknown = sorted(set(overlays) - set(OVERLAYS))
    if unknown:
        raise D4DError(f"no overlay {unknown[0]!r}; known: {', '.join(OVERLAYS)}", record="view_link")
    keys: list[tuple[str, str]] = []
    if actor is not None:
        keys.append(("actor", _slug(actor)))
    if tie is not None:
        keys.append(("tie", _slug(tie)))
    if path is not None:
        keys.append(("path", ",".join(_slug(a) for a in path)))
    if year is not None:
        keys.append(("year", str(int(year))))
    for name, values in (("overlay", overlays), ("hide-sectors", hide_sectors), ("hide-kinds", hide_kinds),
                         ("hide-types", hide_types)):
        chosen = sorted(set(values))
        if chosen:
            keys.append((name, ",".join(_encode(v) for v in chosen)))
    if all_ties:
        keys.append(("ties", "all"))
    return page + ("#" + "&".join(f"{k}={v}" for k, v in keys) if keys else "")


def _slug(iri: str) -> str:
    """An actor's or fact's name in a link: its slug under ID_NAMESPACE, else the whole IRI."""
    if iri.startswith("d4did:"):
        iri = iri[len("d4did:"):]
    elif iri.startswith(ID_NAMESPACE):
        iri = iri[len(ID_NAMESPACE):]
    return _encode(iri)


def _encode(text: str) -> str:
    return quote(text, safe="-_.!~*'()")


def ego_graph(G: nx.MultiDiGraph, actor: str, *, depth: int = 1) -> nx.MultiDiGraph:
    """The actors within ``depth`` ties of ``actor`` (either direction), with every tie among them.

    Parameters
    ----------
    G:
        A network following the network contract.
    actor:
        The centre: an IRI, ``d4did:<slug>`` or ``<slug>`` (see :func:`resolve_actor`).
    depth:
        How many ties away from the centre to reach (0: the centre alone).

    Returns
    -------
    networkx.MultiDiGraph
        A copy of the induced subgraph, with ``G.graph`` (legend data) copied and
        ``graph["ego"] = {"actor": iri, "depth": depth}`` added.

    Raises
    ------
    D4DError
        If the actor is not in ``G`` or ``depth`` is negative.

    >>> G = nx.MultiDiGraph([("a", "b"), ("c", "b"), ("c", "d")])
    >>> sorted(ego_graph(G, "a", depth=2))
    ['a', 'b', 'c']
    """
    if depth < 0:
        raise D4DError("depth must be 0 or more", record=f"depth {depth}")
    centre = resolve_actor(G, actor)
    seen = {centre}
    frontier = [centre]
    for _ in range(depth):
        following: list[str] = []
        for node in frontier:
            for other in (*G.successors(node), *G.predecessors(node)):
                if other not in seen:
                    seen.add(other)
                    following.append(other)
        frontier = following
    ego = G.subgraph(seen).copy()
    ego.graph["ego"] = {"actor": centre, "depth": depth}
    return ego


_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
#: Literal properties that name a resource in a query result (first one found wins).
_NAME_PROPERTIES = ("https://w3id.org/d4d/ontology#name", "http://www.w3.org/2000/01/rdf-schema#label",
                    "https://schema.org/name", "http://schema.org/name", "http://xmlns.com/foaf/0.1/name",
                    "http://www.w3.org/2004/02/skos/core#prefLabel")


def graph_from_triples(triples: Iterable[ox.Triple], *, network: nx.MultiDiGraph | None = None,
                       shortcuts: Mapping[str, str] | None = None) -> nx.MultiDiGraph:
    """A drawable network of a SPARQL CONSTRUCT or DESCRIBE result.

    Every triple between two resources becomes one edge, pointing from subject to object as
    the triple reads ("A fundedBy B" draws A -> B, labelled "funded by"). Triples with a literal
    name (``d4d:name``, ``rdfs:label``, ``schema:name``, ``foaf:name``, ``skos:prefLabel``) label
    their subject; ``rdf:type`` triples give the kind; other literals are left out.

    Parameters
    ----------
    triples:
        The result's triples (``d4d.sparql.Result.triples``).
    network:
        The projected ecosystem (``d4d.network.project``): actors found there keep their
        attributes (label, kind, sectors, facts) and its legend styles are reused.
    shortcuts:
        ``{property IRI: relationship type}`` (e.g. ``d4d:fundedBy`` -> ``"Funding"``, from the
        ontology's ``d4d:shortcut`` annotations): such edges take that type's colour and filter.

    Returns
    -------
    networkx.MultiDiGraph
        Following the network contract (edge key: ``"subject predicate object"``).

    >>> t = ox.Triple(ox.NamedNode("https://e.org/a"), ox.NamedNode("https://e.org/fundedBy"),
    ...               ox.NamedNode("https://e.org/b"))
    >>> G = graph_from_triples([t])
    >>> list(G.edges(data="label"))
    [('https://e.org/a', 'https://e.org/b', 'funded by')]
    """
    shortcuts = shortcuts or {}
    G = nx.MultiDiGraph()
    if network is not None:
        for key in ("edge_types", "sectors", "kinds"):
            G.graph[key] = {name: dict(spec) for name, spec in (network.graph.get(key) or {}).items()}
    edge_types = G.graph.setdefault("edge_types", {})
    names: dict[str, tuple[int, str]] = {}
    types: dict[str, str] = {}
    links: set[tuple[str, str, str]] = set()
    resources: set[str] = set()
    for triple in triples:
        subject = _term_text(triple.subject)
        predicate = triple.predicate.value
        resources.add(subject)
        if isinstance(triple.object, ox.Literal):
            if predicate in _NAME_PROPERTIES:
                rank = _NAME_PROPERTIES.index(predicate)
                current = names.get(subject)
                if current is None or (rank, triple.object.value) < current:
                    names[subject] = (rank, triple.object.value)
            continue
        obj = _term_text(triple.object)
        if predicate == _RDF_TYPE:
            types[subject] = min(types.get(subject, _local_name(obj)), _local_name(obj))
            continue
        links.add((subject, predicate, obj))
        resources.add(obj)
    for node in sorted(resources):
        if network is not None and node in network:
            G.add_node(node, **network.nodes[node])
            continue
        named = names.get(node)
        G.add_node(node, label=named[1] if named else _local_name(node), kind=types.get(node, "Resource"),
                   actor_type=None, sectors=[], sector=_NO_SECTOR, founded=None, description=None, urls=[],
                   facts=[])
    for subject, predicate, obj in sorted(links):
        name = shortcuts.get(predicate) or _local_name(predicate)
        label = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", _local_name(predicate)).lower()
        spec = edge_types.setdefault(name, {"label": label, "color": _EDGE_GREY, "dashes": False, "directed": True})
        G.add_edge(subject, obj, key=f"{subject} {predicate} {obj}", type=name, label=label, fact=None,
                   directed=bool(spec.get("directed", True)), amount=None, currency=None, year=None,
                   end_year=None, weight=1.0, sources=[], quote="")
    return G


def _term_text(term: Any) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else str(term.value)


def layout_positions(G: nx.MultiDiGraph, *, seed: int = 1,
                     groups: Mapping[str, int] | None = None) -> dict[str, tuple[float, float]]:
    """Node positions in screen pixels, computed once so the page opens without physics.

    Each connected part is laid out by igraph's Fruchterman-Reingold (with its grid, linear per
    iteration, above 300 nodes) from a seeded start and scaled so that its median tie is 150 px
    long; the parts are then packed in rows, largest first, with lone actors in a grid at the end
    (as Graphviz and Gephi pack components). With ``groups``, each group is packed this way on
    its own and the groups are placed as non-overlapping discs, close when many ties join them:
    a collapsed group drawn as its disc then opens in place. Deterministic: the same graph and
    seed give the same positions.

    Parameters
    ----------
    G:
        Any networkx graph; node keys are sorted, so they must be mutually comparable.
    seed:
        Seed of the start positions and of igraph's random steps.
    groups:
        Optional ``{node: group number}``.

    Returns
    -------
    dict
        ``{node: (x, y)}``, coordinates rounded to 0.1 px.

    >>> pos = layout_positions(nx.path_graph(3))
    >>> round(abs(pos[0][0] - pos[1][0]) + abs(pos[0][1] - pos[1][1])) > 0
    True
    """
    return _layout(G, seed=seed, groups=groups)[0]


_EDGE_PX = 150.0
_SPACING_PX = 60.0
_MAX_GROUPS = 40


def _layout(G: nx.MultiDiGraph, *, seed: int, groups: Mapping[str, int] | None
            ) -> tuple[dict[Any, tuple[float, float]], dict[int, tuple[float, float, float]]]:
    """Positions, and for each group its disc ``(x, y, radius)`` (empty without groups)."""
    nodes = sorted(G)
    if not nodes:
        return {}, {}
    index = {node: i for i, node in enumerate(nodes)}
    edges = sorted((index[u], index[v]) for u, v in G.edges() if u != v)
    if not groups:
        coords = _packed(len(nodes), edges, seed)
        return {node: coords[i] for i, node in enumerate(nodes)}, {}
    members: dict[int, list[int]] = defaultdict(list)
    for i, node in enumerate(nodes):
        members[groups[node]].append(i)
    group_ids = sorted(members)
    local = {i: k for g in group_ids for k, i in enumerate(members[g])}
    inner: dict[int, list[tuple[int, int]]] = defaultdict(list)
    between: dict[tuple[int, int], int] = defaultdict(int)
    for u, v in edges:
        gu, gv = groups[nodes[u]], groups[nodes[v]]
        if gu == gv:
            inner[gu].append((local[u], local[v]))
        else:
            between[(min(gu, gv), max(gu, gv))] += 1
    packed = {g: _packed(len(members[g]), inner[g], seed) for g in group_ids}
    radii = [max([math.hypot(x, y) for x, y in packed[g]] + [0.0]) + _EDGE_PX * 0.5 for g in group_ids]
    slot = {g: k for k, g in enumerate(group_ids)}
    centres = _discs(radii, {(slot[a], slot[b]): c for (a, b), c in between.items()}, seed)
    positions: dict[Any, tuple[float, float]] = {}
    for g in group_ids:
        cx, cy = centres[slot[g]]
        for i, (x, y) in zip(members[g], packed[g]):
            positions[nodes[i]] = (round(cx + x, 1) + 0.0, round(cy + y, 1) + 0.0)
    discs = {g: (round(centres[slot[g]][0], 1), round(centres[slot[g]][1], 1), round(radii[slot[g]], 1))
             for g in group_ids}
    return positions, discs


def _force_layout(n: int, edges: list[tuple[int, int]], seed: int,
                  weights: list[float] | None = None) -> list[tuple[float, float]]:
    """igraph Fruchterman-Reingold from a seeded start, with igraph's RNG seeded too."""
    if n == 1:
        return [(0.0, 0.0)]
    rng = random.Random(seed)
    spread = math.sqrt(n)
    start = [[rng.uniform(-spread, spread), rng.uniform(-spread, spread)] for _ in range(n)]
    # Above a few thousand nodes each iteration costs ~n, so fewer iterations keep 20k in seconds.
    niter = 500 if n <= 1000 else max(100, 500_000 // n)
    graph = igraph.Graph(n=n, edges=edges)
    igraph.set_random_number_generator(random.Random(seed))
    try:
        layout = graph.layout_fruchterman_reingold(seed=start, niter=niter, weights=weights,
                                                   grid="grid" if n > 300 else "nogrid")
    finally:
        igraph.set_random_number_generator(random)
    return [(float(x), float(y)) for x, y in layout.coords]


def _packed(n: int, edges: list[tuple[int, int]], seed: int) -> list[tuple[float, float]]:
    """Components laid out apart, scaled to a common tie length, packed in rows; centred on 0."""
    if n == 0:
        return []
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for u, v in edges:
        ru, rv = root(u), root(v)
        if ru != rv:
            parent[max(ru, rv)] = min(ru, rv)
    parts: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        parts[root(i)].append(i)
    part_edges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for u, v in edges:
        part_edges[root(u)].append((u, v))
    components = sorted((p for p in parts.values() if len(p) > 1), key=lambda p: (-len(p), p[0]))
    lonely = sorted(p[0] for p in parts.values() if len(p) == 1)

    boxes: list[tuple[list[int], list[tuple[float, float]]]] = []
    for members in components:
        local = {node: k for k, node in enumerate(members)}
        sub = [(local[u], local[v]) for u, v in part_edges[root(members[0])]]
        coords = _force_layout(len(members), sub, seed)
        lengths = sorted(math.dist(coords[a], coords[b]) for a, b in sub if a != b)
        typical = lengths[len(lengths) // 2] if lengths and lengths[len(lengths) // 2] > 0 else 1.0
        # Ties of about _EDGE_PX, but dense cores spread until neighbours are _SPACING_PX apart.
        neighbour = _median_nearest(coords)
        scale = max(_EDGE_PX / typical, _SPACING_PX / neighbour if neighbour > 0 else 0.0)
        boxes.append((members, [(x * scale, y * scale) for x, y in coords]))
    if lonely:
        # A grid wider than tall per cell, so that the labels under lone actors do not collide.
        side = math.ceil(math.sqrt(len(lonely) / 3))
        boxes.append((lonely, [((k % side) * _EDGE_PX * 1.5, (k // side) * _EDGE_PX * 0.5)
                               for k in range(len(lonely))]))

    # Shelf packing: rows of boxes no wider than the widest box or the square root of the total area.
    margin = _EDGE_PX * 0.6
    bounds = []
    for _, coords in boxes:
        xs = [c[0] for c in coords]
        ys = [c[1] for c in coords]
        bounds.append((min(xs), min(ys), max(xs) - min(xs) + margin, max(ys) - min(ys) + margin))
    row_width = max(max(b[2] for b in bounds), math.sqrt(sum(b[2] * b[3] for b in bounds)))
    result: list[tuple[float, float]] = [(0.0, 0.0)] * n
    x = y = row_height = 0.0
    for (members, coords), (left, top, width, height) in zip(boxes, bounds):
        if x > 0 and x + width > row_width:
            x, y, row_height = 0.0, y + row_height, 0.0
        for node, (cx, cy) in zip(members, coords):
            result[node] = (x + cx - left, y + cy - top)
        x += width
        row_height = max(row_height, height)
    xs = [c[0] for c in result]
    ys = [c[1] for c in result]
    mid_x, mid_y = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    return [(round(px - mid_x, 1) + 0.0, round(py - mid_y, 1) + 0.0) for px, py in result]  # no -0.0


def _median_nearest(coords: list[tuple[float, float]]) -> float:
    """Median distance from a point to its nearest other point (grid buckets: about linear)."""
    n = len(coords)
    if n < 2:
        return 0.0
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    cell = max(max(xs) - min(xs), max(ys) - min(ys)) / math.sqrt(n) or 1.0
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (x, y) in enumerate(coords):
        buckets[(int(x // cell), int(y // cell))].append(i)
    nearest = []
    for i, (x, y) in enumerate(coords):
        cx, cy = int(x // cell), int(y // cell)
        best = math.inf
        reach = 1
        while best == math.inf and reach <= 4:
            for gx in range(cx - reach, cx + reach + 1):
                for gy in range(cy - reach, cy + reach + 1):
                    for j in buckets.get((gx, gy), ()):
                        if j != i:
                            best = min(best, math.dist(coords[i], coords[j]))
            reach += 1
        if best < math.inf:
            nearest.append(best)
    nearest.sort()
    return nearest[len(nearest) // 2] if nearest else 0.0


def _discs(radii: list[float], ties: Mapping[tuple[int, int], int], seed: int) -> list[tuple[float, float]]:
    """Centres for discs of the given radii: near when many ties join them, never overlapping."""
    k = len(radii)
    if k == 1:
        return [(0.0, 0.0)]
    pairs = sorted(ties)
    coords = _force_layout(k, pairs, seed, weights=[math.log1p(ties[p]) for p in pairs] if pairs else None)
    # Start from the force layout scaled to the discs' size, then push overlapping pairs apart.
    spread = max(math.dist(coords[i], coords[j]) for i in range(k) for j in range(i + 1, k)) or 1.0
    scale = 2.2 * sum(radii) / math.sqrt(k) / spread
    points = [[x * scale, y * scale] for x, y in coords]
    gap = _EDGE_PX
    for _ in range(500):
        moved = False
        for i in range(k):
            for j in range(i + 1, k):
                dx = points[j][0] - points[i][0]
                dy = points[j][1] - points[i][1]
                distance = math.hypot(dx, dy)
                need = radii[i] + radii[j] + gap
                if distance >= need:
                    continue
                if distance == 0:
                    dx, dy, distance = math.cos(i + j), math.sin(i + j), 1.0
                push = (need - distance) / 2 / distance
                points[i][0] -= dx * push
                points[i][1] -= dy * push
                points[j][0] += dx * push
                points[j][1] += dy * push
                moved = True
        if not moved:
            break
    # Pull everything towards the centre while no pair overlaps, so the discs sit close.
    for _ in range(60):
        cx = sum(p[0] for p in points) / k
        cy = sum(p[1] for p in points) / k
        trial = [[cx + (p[0] - cx) * 0.97, cy + (p[1] - cy) * 0.97] for p in points]
        if any(math.dist(trial[i], trial[j]) < radii[i] + radii[j] + gap
               for i in range(k) for j in range(i + 1, k)):
            break
        points = trial
    return [(p[0], p[1]) for p in points]


def render_map(G: nx.MultiDiGraph, *, title: str = "Data for development: the ecosystem",
               size_by: str | None = None, metrics: Mapping[str, Any] | None = None,
               query: str | None = None, max_nodes: int = MAX_NODES, group_by: str | None = None,
               focus: str | None = None, physics: bool = False, seed: int = 1,
               note: str | None = None) -> str:
    """The interactive map of ``G`` as one self-contained HTML page.

    Parameters
    ----------
    G:
        A ``networkx.MultiDiGraph`` following the network contract: node key = actor IRI with
        ``label``, ``kind``, ``sectors``/``sector``, ``founded``, ``description``, ``urls``,
        ``facts``; one edge per fact with ``type``, ``directed``, ``amount``, ``currency``,
        ``year``, ``fact``, ``quote``, ``sources``; ``G.graph["edge_types"|"sectors"|"kinds"]``
        giving colours, dashes and shapes. Missing attributes fall back to neutral defaults.
    title:
        Heading of the page (shown as text).
    size_by:
        What node size shows: ``"degree"`` (the default), ``"in_degree"``, ``"out_degree"``,
        ``"amount"`` (total amount of the actor's ties), or a measure in
        ``metrics["nodes"][iri]`` such as ``"betweenness"``.
    metrics:
        The analytics stage's output (keys read: see the module docstring), or ``None``.
    query:
        The text of the SPARQL query that produced ``G``; shown on the page as text.
    max_nodes:
        Above this many actors the map opens with one node per group (expandable).
    group_by:
        ``"community"`` or ``"sector"``; default: communities when ``metrics`` has them.
    focus:
        An actor to select when the page opens (ego maps); IRI, ``d4did:slug`` or slug.
    physics:
        Let vis-network's physics move the nodes after opening (off: the computed layout stays).
    seed:
        Seed of the layout.
    note:
        An extra sentence shown under the heading.

    Returns
    -------
    str
        The HTML page. The same arguments give the same bytes.

    Raises
    ------
    D4DError
        If ``size_by`` names a measure that neither the graph nor ``metrics`` has, if
        ``group_by`` is unknown or ``"community"`` without communities, or if ``focus`` is not
        an actor of ``G``.
    """
    metrics = metrics or {}
    G = _annotated(G)
    nodes = sorted(G)
    index = {node: i for i, node in enumerate(nodes)}
    edge_types = _edge_type_styles(G)
    sectors = _sector_styles(G)
    kinds = _kind_styles(G)
    node_metrics, roles, communities, broker_iris, recommended = _read_metrics(metrics, index)

    primary_sector = {node: _primary_sector(G.nodes[node]) for node in nodes}
    group_by, isolates, groups, group_of, positions = _placement(G, nodes, communities, primary_sector, sectors,
                                                                 group_by=group_by, seed=seed)
    drawn = [node for node in nodes if node not in isolates]
    aggregated = len(drawn) > max_nodes
    sizes, size_label = _sizes(G, nodes, size_by, node_metrics)
    rank = _label_ranks(G, nodes, node_metrics)

    notes = _measure_notes()
    facts = _FactTable()
    brokers = {index[b] for b in broker_iris}
    vis_nodes: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []
    for i, node in enumerate(nodes):
        data = G.nodes[node]
        kind = _text(data.get("kind")) or "Actor"
        node_sectors = [str(s) for s in data.get("sectors") or []] or [primary_sector[node]]
        x, y = positions[node]
        vis_nodes.append({"id": i, "label": _text(data.get("label")) or _local_name(node),
                          "x": x, "y": y, "size": sizes[i], "shape": kinds.get(kind, {}).get("shape", "dot"),
                          "color": _node_colour(primary_sector[node], sectors),
                          "kind": kind, "sectors": sorted(set(node_sectors)), "founded": _year(data.get("founded")),
                          "since": _year(data.get("from")), "until": _year(data.get("to")),
                          "group": group_of.get(node, -1), "isolate": node in isolates, "rank": rank[node]})
        details.append({"iri": node, "description": _text(data.get("description")),
                        "urls": [u for u in map(_web_url, data.get("urls") or []) if u],
                        "actor_type": _text(data.get("actor_type")),
                        "facts": list(dict.fromkeys(facts.add(f) for f in data.get("facts") or []
                                                    if isinstance(f, Mapping))),
                        "metrics": {k: v for k, v in node_metrics.get(node, {}).items() if k in notes},
                        "role": roles.get(node),
                        "community": communities.get(node), "broker": i in brokers})

    vis_edges = _edges(G, index, edge_types, facts)

    recommendations = [{"from": index[source], "to": index[target], "reason": reason}
                       for source, target, reason in recommended]

    years = [y for record in (*vis_edges, *vis_nodes) for y in (record["since"], record["until"]) if y is not None]
    focus_index = index[resolve_actor(G, focus)] if focus is not None else None
    used_kinds = {n["kind"] for n in vis_nodes}
    used_sectors = {s for n in vis_nodes for s in n["sectors"]}
    used_types = {e["type"] for e in vis_edges}
    meta = {
        "title": title,
        "note": note or "",
        "query": query or "",
        "summary": _summary(len(drawn), len(vis_edges), aggregated, group_by, len(groups), size_label),
        "sizeBy": size_label,
        "aggregated": aggregated,
        "groupBy": group_by,
        "groups": groups,
        "legend": {
            "sectors": [{"key": k, **v} for k, v in sectors.items() if k in used_sectors],
            "kinds": [{"key": k, **v} for k, v in kinds.items() if k in used_kinds],
            "edgeTypes": [{"key": k, **v} for k, v in edge_types.items() if k in used_types],
        },
        "facts": facts.records,
        "details": details,
        "hasCommunities": bool(communities),
        "communityColours": _PALETTE,
        "hasBrokers": bool(brokers),
        "recommendations": recommendations,
        "years": [min(years), max(years)] if years else None,
        "focus": focus_index,
        "thinned": len(vis_edges) > THIN_ABOVE,
        # A list: the page's JSON has its keys sorted, and the file's order is the panel's.
        "measures": [{"key": k, **v} for k, v in notes.items()],
        "idNamespace": ID_NAMESPACE,
        "ego": G.graph.get("ego") if isinstance(G.graph.get("ego"), Mapping) else None,
    }

    # cdn_resources only steers pyvis's own template; ours inlines vis-network itself.
    net = Network(height="100%", width="100%", directed=True, heading=title, cdn_resources="remote")
    net.set_template_dir(str(resources.files("d4d") / "templates") + os.sep, _TEMPLATE)
    net.nodes = vis_nodes
    net.edges = vis_edges
    net.options = _vis_options(physics=physics, large=len(vis_edges) > 4000)
    _add_assets(net.templateEnv, meta)
    return str(net.generate_html())


def write_map(G: nx.MultiDiGraph, path: str | Path, **options: Any) -> Path:
    """Write :func:`render_map`'s page to ``path`` atomically; return the path.

    The page is written to a temporary file in the same directory and moved into place, so a
    failure never leaves a half-written map. ``options`` are those of :func:`render_map`.

    Raises
    ------
    D4DError
        As :func:`render_map`, or if the file cannot be written.
    """
    target = Path(path)
    html = render_map(G, **options)
    try:
        write_text_atomic(target, html)
    except OSError as error:
        raise D4DError(f"cannot write the map: {error.strerror or error}", path=target) from error
    return target


def node_drawing(G: nx.MultiDiGraph, *, size_by: str | None = None, metrics: Mapping[str, Any] | None = None,
                 group_by: str | None = None, seed: int = 1) -> dict[str, dict[str, Any]]:
    """How :func:`render_map` draws each actor of ``G``:
    ``{iri: {"x": px, "y": px, "size": px, "color": "#rrggbb"}}`` (position, size for ``size_by``,
    colour of the actor's sector, a neutral grey for an actor of several). Exports use it so that
    Gephi opens the graph as the map shows it; actors with no tie, which the map lists rather than
    draws, sit in rows under the drawing.

    Raises
    ------
    D4DError
        As :func:`render_map` for ``size_by`` and ``group_by``.
    """
    G = _annotated(G)
    nodes = sorted(G)
    index = {node: i for i, node in enumerate(nodes)}
    sectors = _sector_styles(G)
    node_metrics, _, communities, _, _ = _read_metrics(metrics or {}, index)
    primary_sector = {node: _primary_sector(G.nodes[node]) for node in nodes}
    positions = _placement(G, nodes, communities, primary_sector, sectors, group_by=group_by, seed=seed)[4]
    sizes, _ = _sizes(G, nodes, size_by, node_metrics)
    return {node: {"x": positions[node][0], "y": positions[node][1], "size": sizes[i],
                   "color": _node_colour(primary_sector[node], sectors)}
            for i, node in enumerate(nodes)}


def _node_colour(primary: str, sectors: Mapping[str, Mapping[str, Any]]) -> str:
    return str((_SEVERAL_STYLE if primary == _SEVERAL else sectors.get(primary, {})).get("color", _GREY))


def _placement(G: nx.MultiDiGraph, nodes: list[str], communities: Mapping[str, int],
               primary_sector: Mapping[str, str], sectors: Mapping[str, Mapping[str, Any]], *,
               group_by: str | None, seed: int
               ) -> tuple[str, set[str], list[dict[str, Any]], dict[str, int], dict[str, tuple[float, float]]]:
    """Where each actor goes: ``(group_by, isolates, groups, group_of, positions)``.

    Every map is laid out by group (community, else sector), each group a disc, the discs near
    when many ties join them: the communities and the bridges between them are what one sees.
    Actors with no tie to another are listed beside the map, not drawn (a grid of dots says
    nothing); for readers that need a place for every actor (exports) they sit in rows under it.
    """
    if group_by is None:
        group_by = "community" if communities else "sector"
    if group_by not in ("community", "sector"):
        raise D4DError("group_by must be 'community' or 'sector'", record=f"group_by {group_by!r}")
    if group_by == "community" and not communities:
        raise D4DError("no communities in metrics to group by", record="group_by 'community'")
    isolates = {node for node in nodes if not any(other != node for other in nx.all_neighbors(G, node))}
    drawn = [node for node in nodes if node not in isolates]
    groups, group_of = _groups(drawn, group_by, communities, primary_sector, sectors)
    positions, discs = _layout(G.subgraph(drawn), seed=seed, groups=group_of)
    for group in groups:
        group["x"], group["y"], group["radius"] = discs.get(group["id"], (0.0, 0.0, 0.0))
    xs = [x for x, _ in positions.values()] or [0.0]
    ys = [y for _, y in positions.values()] or [0.0]
    per_row = max(1, int((max(xs) - min(xs)) // (_EDGE_PX * 1.5)) + 1)
    for k, node in enumerate(sorted(isolates)):
        positions[node] = (round(min(xs) + (k % per_row) * _EDGE_PX * 1.5, 1) + 0.0,
                           round(max(ys) + _EDGE_PX * (1 + k // per_row), 1) + 0.0)
    return group_by, isolates, groups, group_of, positions


# --- pieces -------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _local_name(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/#"))[-1] or iri


def _year(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _web_url(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL, else ``None`` (no javascript:, data:, ...)."""
    return _checked_url(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=65536)
def _checked_url(value: str) -> str | None:
    url = value.strip()
    try:
        parts = urlparse(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _colour(value: Any, default: str) -> str:
    return value.lower() if isinstance(value, str) and _COLOUR.match(value) else default


def _iris(value: Any) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return []
    return [str(v) for v in value]


def _primary_sector(data: Mapping[str, Any]) -> str:
    """The actor's one sector; ``"several"`` for an actor of several (drawn with all their colours,
    grouped apart: no sector is picked for it); its ``sector`` attribute or ``"none"`` without a list."""
    listed = sorted({str(s) for s in data.get("sectors") or []})
    if len(listed) > 1:
        return _SEVERAL
    if listed:
        return listed[0]
    return str(data.get("sector") or _NO_SECTOR)


def _edge_type_styles(G: nx.MultiDiGraph) -> dict[str, dict[str, Any]]:
    declared = G.graph.get("edge_types") or {}
    styles: dict[str, dict[str, Any]] = {}
    for name in sorted(set(map(str, declared)) | {_text(d.get("type")) or "Tie" for *_, d in G.edges(data=True)}):
        spec = declared.get(name) or {}
        styles[name] = {"label": _text(spec.get("label")) or name,
                        "color": _colour(spec.get("color"), _EDGE_GREY),
                        "dashes": bool(spec.get("dashes", False)),
                        "directed": bool(spec.get("directed", True))}
    return styles


def _sector_styles(G: nx.MultiDiGraph) -> dict[str, dict[str, Any]]:
    declared = G.graph.get("sectors") or {}
    used = {s for n in G for s in (G.nodes[n].get("sectors") or [])} | {_primary_sector(G.nodes[n]) for n in G}
    used.discard(_SEVERAL)
    styles: dict[str, dict[str, Any]] = {}
    for slug in sorted(set(map(str, declared)) | set(map(str, used))):
        spec = declared.get(slug) or {}
        default_label = "No sector" if slug == _NO_SECTOR else slug.replace("-", " ").capitalize()
        styles[slug] = {"label": _text(spec.get("label")) or default_label,
                        "color": _colour(spec.get("color"), _GREY)}
    return styles


def _kind_styles(G: nx.MultiDiGraph) -> dict[str, dict[str, Any]]:
    declared = G.graph.get("kinds") or {}
    used = {_text(G.nodes[n].get("kind")) or "Actor" for n in G}
    styles: dict[str, dict[str, Any]] = {}
    for kind in sorted(set(map(str, declared)) | used):
        spec = declared.get(kind) or {}
        shape = _text(spec.get("shape"))
        styles[kind] = {"label": _text(spec.get("label")) or re.sub(r"(?<=[a-z])(?=[A-Z])", " ", kind),
                        "shape": shape if shape in _SIZED_SHAPES else _LABEL_SHAPES.get(shape, "dot")}
    return styles


def _read_metrics(metrics: Mapping[str, Any], index: Mapping[str, int]) -> tuple[
        dict[str, dict[str, float]], dict[str, str], dict[str, int], set[str], list[tuple[str, str, str]]]:
    """Measures, roles, communities, brokers and recommended ties of the actors in ``index``."""
    measures: dict[str, dict[str, float]] = {}
    roles: dict[str, str] = {}
    communities: dict[str, int] = {}
    per_actor = metrics.get("actors")
    if not isinstance(per_actor, Mapping):
        per_actor = metrics.get("nodes")
    if isinstance(per_actor, Mapping):
        for iri, values in per_actor.items():
            if str(iri) not in index or not isinstance(values, Mapping):
                continue
            numbers = {str(k): _number(v) for k, v in values.items() if k != "community"}
            measures[str(iri)] = {k: v for k, v in sorted(numbers.items()) if v is not None}
            if isinstance(values.get("role"), str) and values["role"]:
                roles[str(iri)] = values["role"]
            if _year(values.get("community")) is not None:
                communities[str(iri)] = int(values["community"])
    declared = metrics.get("communities")
    if isinstance(declared, Mapping) and "membership" in declared:
        declared = declared["membership"]
    found = _communities(declared, index)
    if found:
        communities = found

    brokers = {b for b in _iris(metrics.get("brokers")) if b in index}
    if isinstance(per_actor, Mapping):
        brokers |= {str(iri) for iri, values in per_actor.items()
                    if str(iri) in index and isinstance(values, Mapping) and values.get("broker") is True}
    brokerage = metrics.get("brokerage")
    if isinstance(brokerage, Mapping):
        for entry in brokerage.get("top_brokers") or []:
            # metrics that label brokers (d4d.analyse.broker_labels) say which of the top are
            if (isinstance(entry, Mapping) and str(entry.get("actor")) in index
                    and (_number(entry.get("betweenness")) or 0.0) > 0 and entry.get("broker", True)):
                brokers.add(str(entry["actor"]))

    recommended = []
    for rec in metrics.get("recommendations") or []:
        if isinstance(rec, Mapping) and str(rec.get("source")) in index and str(rec.get("target")) in index:
            recommended.append((str(rec["source"]), str(rec["target"]), _text(rec.get("reason"))))
    return measures, roles, communities, brokers, recommended


def _communities(value: Any, index: Mapping[str, int]) -> dict[str, int]:
    """``{iri: community}`` from a dict, or from a list of collections of IRIs (networkx style)."""
    if isinstance(value, Mapping):
        found = {str(k): int(v) for k, v in value.items() if str(k) in index and _year(v) is not None}
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        found = {}
        for number, members in enumerate(value):
            for member in _iris(members):
                if member in index:
                    found[member] = number
    else:
        return {}
    return found


def _groups(nodes: list[str], group_by: str, communities: Mapping[str, int],
            primary_sector: Mapping[str, str],
            sectors: Mapping[str, Mapping[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The aggregation groups and each node's group number.

    Sectors are groups in their sorted order. Communities are groups largest first; beyond
    ``_MAX_GROUPS`` the smaller ones (and actors in none) share one group, so a grouped map never
    opens with more circles than a viewer can take in.
    """
    if group_by == "sector":
        ordered_sectors = sorted({primary_sector[node] for node in nodes})
        number = {key: i for i, key in enumerate(ordered_sectors)}
        styles = {**sectors, _SEVERAL: _SEVERAL_STYLE}
        groups = [{"id": number[key], "key": key, "label": str(styles.get(key, {}).get("label", key)),
                   "color": str(styles.get(key, {}).get("color", _GREY))} for key in ordered_sectors]
        return groups, {node: number[primary_sector[node]] for node in nodes}
    sizes: dict[int, int] = defaultdict(int)
    for node in nodes:
        if node in communities:
            sizes[communities[node]] += 1
    ranked = sorted(sizes, key=lambda c: (-sizes[c], c))
    kept = ranked if len(ranked) <= _MAX_GROUPS else ranked[:_MAX_GROUPS - 1]
    slot = {c: i for i, c in enumerate(kept)}
    groups = [{"id": slot[c], "key": str(c), "label": f"Community {c}",
               "color": _PALETTE[c % len(_PALETTE)] if c >= 0 else _GREY} for c in kept]
    rest = len(kept)
    group_of = {node: slot.get(communities.get(node, -1), rest) for node in nodes}
    if rest in group_of.values():
        groups.append({"id": rest, "key": "other", "label": "Other actors", "color": _GREY})
    return groups, group_of


def _sizes(G: nx.MultiDiGraph, nodes: list[str], size_by: str | None,
           node_metrics: Mapping[str, Any]) -> tuple[list[float], str]:
    measure = size_by or "degree"
    values: list[float | None]
    if measure == "degree":
        values = [float(G.degree(n)) for n in nodes]
    elif measure == "in_degree":
        values = [float(G.in_degree(n)) for n in nodes]
    elif measure == "out_degree":
        values = [float(G.out_degree(n)) for n in nodes]
    elif measure == "amount":
        totals: dict[str, float] = defaultdict(float)
        for u, v, data in G.edges(data=True):
            amount = _number(data.get("amount"))
            if amount is not None:
                totals[u] += amount
                totals[v] += amount
        values = [totals.get(n, 0.0) for n in nodes]
    else:
        values = []
        for n in nodes:
            own = node_metrics.get(n)
            values.append(_number(own.get(measure)) if isinstance(own, Mapping) else None)
        if all(v is None for v in values):
            known = sorted({str(k) for own in node_metrics.values() if isinstance(own, Mapping) for k in own})
            raise D4DError(f"no measure {measure!r} to size nodes by; known: "
                           + ", ".join([*_GRAPH_MEASURES, *known]), record=f"size_by {measure!r}")
    present = [v for v in values if v is not None]
    low, high = (min(present), max(present)) if present else (0.0, 0.0)
    sizes = []
    for v in values:
        share = 0.0 if v is None or high <= low else (v - low) / (high - low)
        sizes.append(round(_MIN_SIZE + (_MAX_SIZE - _MIN_SIZE) * math.sqrt(share), 1))
    return sizes, measure.replace("_", " ")


def _annotated(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """``G`` with the field's rules written on it (:func:`d4d.field.annotate`: when each actor and
    tie stands, ``from``/``to``), on a copy when ``G`` lacks them (a graph not from
    :func:`d4d.network.project`): the map's year slider applies that one rule, never its own."""
    if all("from" in G.nodes[n] for n in G) and all("from" in d for *_, d in G.edges(data=True)):
        return G
    copy = G.copy()
    annotate(copy, order=list(G.graph.get("sectors") or {}))
    return copy


@functools.lru_cache(maxsize=1)
def _measure_notes() -> dict[str, dict[str, str]]:
    """``{measure key: {"label", "explain"}}`` from ``templates/measures.yaml``, in its order."""
    text = (resources.files("d4d") / "templates/measures.yaml").read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    return {str(k): {"label": str(v["label"]), "explain": str(v["explain"])} for k, v in loaded.items()}


def _label_ranks(G: nx.MultiDiGraph, nodes: list[str], node_metrics: Mapping[str, Mapping[str, float]]
                 ) -> dict[str, int]:
    """Which labels the map draws first (0 first): the most central actors.

    Centrality is betweenness where the analysis gave it (brokers first), then the number of
    ties; actors equal on both keep the order of their IRIs.
    """
    def key(node: str) -> tuple[float, float, str]:
        ties = G.degree(node) - 2 * G.number_of_edges(node, node)  # a tie to itself joins nobody
        return (-(node_metrics.get(node, {}).get("betweenness") or 0.0), -float(ties), node)
    return {node: k for k, node in enumerate(sorted(nodes, key=key))}


class _FactTable:
    """Fact records stored once for the whole page; actors and ties refer to them by number.

    A fact cited by several sources appears once per citation (its IRI repeats, its quote or
    source differs), as the network's node attribute ``facts`` lists it.
    """

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.by_iri: dict[str, list[int]] = {}
        self._seen: dict[tuple[str, ...], int] = {}

    def add(self, fact: Mapping[str, Any]) -> int:
        record = {"fact": _text(fact.get("fact")), "type": _text(fact.get("type")),
                  "text": _text(fact.get("text")), "quote": _text(fact.get("quote")),
                  "source_title": _text(fact.get("source_title")),
                  "source_url": _web_url(fact.get("source_url")),
                  "basis": _text(fact.get("basis")) or None, "note": _text(fact.get("note")) or None}
        key = tuple(_text(v) for v in record.values())
        if key not in self._seen:
            self._seen[key] = len(self.records)
            self.records.append(record)
            if record["fact"]:
                self.by_iri.setdefault(record["fact"], []).append(self._seen[key])
        return self._seen[key]


def _edges(G: nx.MultiDiGraph, index: Mapping[str, int], styles: Mapping[str, Mapping[str, Any]],
           facts: _FactTable) -> list[dict[str, Any]]:
    """One vis edge per relationship; parallel ties between a pair curve apart so all show."""
    rows = sorted(((index[u], index[v], str(key), data) for u, v, key, data in G.edges(keys=True, data=True)),
                  key=lambda r: (r[0], r[1], r[2]))
    amounts = [a for a in (_number(r[3].get("amount")) for r in rows) if a is not None and a > 0]
    low, high = (math.log(min(amounts)), math.log(max(amounts))) if amounts else (0.0, 0.0)
    per_pair: dict[tuple[int, int], int] = defaultdict(int)
    for u, v, _, _ in rows:
        per_pair[(min(u, v), max(u, v))] += 1
    seen_in_pair: dict[tuple[int, int], int] = defaultdict(int)
    edges = []
    for number, (u, v, key, data) in enumerate(rows):
        kind = _text(data.get("type")) or "Tie"
        style = styles[kind]
        directed = bool(data.get("directed", style["directed"]))
        amount = _number(data.get("amount"))
        if amount is not None and amount > 0:
            share = (math.log(amount) - low) / (high - low) if high > low else 1.0
            width = round(1.5 + 4.5 * share, 2)
        else:
            width = 1.5
        pair = (min(u, v), max(u, v))
        k = seen_in_pair[pair]
        seen_in_pair[pair] += 1
        smooth: dict[str, Any] | bool = False
        if per_pair[pair] > 1:
            # Alternate sides, growing roundness; flip for edges drawn against the pair's order
            # so that "curvedCW" means the same side for both directions.
            clockwise = (k % 2 == 0) == (u <= v)
            smooth = {"enabled": True, "type": "curvedCW" if clockwise else "curvedCCW",
                      "roundness": round(0.15 + 0.15 * (k // 2), 2)}
        fact = _text(data.get("fact") or key)
        # The tie's fact as the actors' side panels have it (every citation); else its own quote.
        fact_numbers = facts.by_iri.get(fact, [])
        if not fact_numbers and data.get("quote"):
            fact_numbers = [facts.add({"fact": fact, "type": kind, "quote": data.get("quote")})]
        edges.append({"id": number, "from": u, "to": v, "type": kind, "text": _text(data.get("label")),
                      "fact": _text(data.get("fact")) or None, "role": _text(data.get("role")) or None,
                      "color": style["color"],
                      "dashes": style["dashes"], "arrows": "to" if directed else "", "width": width,
                      "smooth": smooth, "year": _year(data.get("year")), "end_year": _year(data.get("end_year")),
                      "since": _year(data.get("from")), "until": _year(data.get("to")),
                      "amount": amount, "currency": _text(data.get("currency")) or None,
                      "facts": fact_numbers})
    return edges


def _summary(n: int, m: int, aggregated: bool, group_by: str, groups: int, size_label: str) -> str:
    text = f"{n:,} actors, {m:,} ties. Node size: {size_label}."
    if aggregated:
        what = "community" if group_by == "community" else "sector"
        text += (f" Too many actors to draw at once: the map opens with one circle per {what}"
                 f" ({groups:,}), sized by its number of actors. Click a circle to show its actors.")
    return text


def _vis_options(*, physics: bool, large: bool) -> dict[str, Any]:
    return {
        "autoResize": True,
        "layout": {"improvedLayout": False, "randomSeed": 1},
        "physics": {"enabled": physics, "solver": "forceAtlas2Based",
                    "stabilization": {"enabled": physics, "iterations": 150, "fit": True}},
        "interaction": {"hover": True, "tooltipDelay": 150, "navigationButtons": True,
                        "keyboard": {"enabled": True, "bindToWindow": False},
                        "hideEdgesOnDrag": large, "hideEdgesOnZoom": large, "multiselect": False},
        "nodes": {"borderWidth": 1, "font": {"size": 14, "face": "system-ui, sans-serif",
                                             "strokeWidth": 3, "strokeColor": "#ffffff"},
                  # Labels are drawn by map.js (never two overlapping), not by vis-network.
                  "scaling": {"min": 10, "max": 30,
                              "label": {"enabled": False, "min": 14, "max": 30, "maxVisible": 30,
                                        "drawThreshold": 5}}},
        "edges": {"smooth": False, "selectionWidth": 2, "hoverWidth": 0.5,
                  "arrows": {"to": {"scaleFactor": 0.6}}, "color": {"inherit": False, "opacity": 0.85}},
    }


def _read_asset(package: str, relative: str, closing: str) -> str:
    text = (resources.files(package) / relative).read_text(encoding="utf-8")
    if closing in text.lower():
        raise D4DError(f"cannot inline: the file contains {closing!r}", path=f"{package}/{relative}")
    return text


def _add_assets(env: Environment, meta: dict[str, Any]) -> None:
    """Give the template vis-network (from pyvis's copy), our script and style, and the data."""
    env.globals.update({
        "vis_js": _read_asset("pyvis", f"{_VIS_DIR}/vis-network.min.js", "</script"),
        "vis_css": _read_asset("pyvis", f"{_VIS_DIR}/vis-network.css", "</style"),
        "map_js": _read_asset("d4d", "templates/map.js", "</script"),
        "map_css": _read_asset("d4d", "templates/map.css", "</style"),
        "d4d": meta,
    })
    # The page's data is most of its bytes, and the browser reads every one before the map can
    # draw: no spaces after separators (bench/RESULTS-map.md). Keys stay sorted: same bytes each time.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}
