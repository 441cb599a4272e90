"""Connectivity: components, isolates, articulation points, bridges and global efficiency.

All measures here work on the tie graph (undirected, simple: see :mod:`d4d.analyse._network`),
except strong components, which use the arc graph (directed relationships one way, undirected
ones both ways).
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np

from d4d.analyse._network import Backend, Network, as_network, hoeffding_bound, sample_nodes


def _weak_membership(net: Network, backend: Backend) -> list[list[int]]:
    if net.resolve(backend) == "igraph":
        comps = [list(c) for c in net.igraph.connected_components()]
    else:
        comps = [sorted(c) for c in nx.connected_components(net.nx_ties)]
    return sorted(comps, key=lambda c: (-len(c), min(c) if c else 0))


def weak_sizes(G: nx.Graph | Network, *, backend: Backend = "auto") -> list[int]:
    """Sizes of the weak components, in no particular order.

    Examples
    --------
    >>> import networkx as nx
    >>> sorted(weak_sizes(nx.Graph([("a", "b"), ("c", "d"), ("d", "e")])))
    [2, 3]
    """
    net = as_network(G)
    if net.resolve(backend) == "igraph":
        return list(net.igraph.connected_components().sizes())
    return [len(c) for c in nx.connected_components(net.nx_ties)]


def component_membership(G: nx.Graph | Network, *, backend: Backend = "auto") -> dict[str, int]:
    """The weak component each actor belongs to.

    Components are numbered from 0 by decreasing size (ties broken by the smallest IRI), so the
    largest component is 0.

    Examples
    --------
    >>> import networkx as nx
    >>> component_membership(nx.Graph([("a", "b"), ("c", "d"), ("d", "e")]))
    {'a': 1, 'b': 1, 'c': 0, 'd': 0, 'e': 0}
    """
    net = as_network(G)
    out = [0] * net.n
    for i, comp in enumerate(_weak_membership(net, backend)):
        for v in comp:
            out[v] = i
    return net.keyed(out)


def component_summary(G: nx.Graph | Network, *, backend: Backend = "auto", top: int = 20
                      ) -> dict[str, Any]:
    """Counts and sizes of the weak and strong components, and the isolates.

    Returns
    -------
    dict
        ``weak_components`` (int), ``component_sizes`` (the ``top`` largest sizes, decreasing),
        ``largest_component`` (actors in it), ``largest_component_share`` (its share of all
        actors, 0 for an empty graph), ``strong_components``, ``largest_strong_component``
        (on the arc graph) and ``isolates`` (sorted IRIs of actors without any tie).
    """
    net = as_network(G)
    weak = _weak_membership(net, backend)
    if net.resolve(backend) == "igraph":
        strong_sizes = sorted((len(c) for c in net.igraph_arcs.connected_components(mode="strong")),
                              reverse=True)
    else:
        strong_sizes = sorted((len(c) for c in nx.strongly_connected_components(net.nx_arcs)),
                              reverse=True)
    largest = len(weak[0]) if weak else 0
    return {
        "weak_components": len(weak),
        "component_sizes": [len(c) for c in weak[:top]],
        "largest_component": largest,
        "largest_component_share": largest / net.n if net.n else 0.0,
        "strong_components": len(strong_sizes),
        "largest_strong_component": strong_sizes[0] if strong_sizes else 0,
        "isolates": [net.nodes[i] for i in np.flatnonzero(net.degree == 0).tolist()],
    }


def articulation_points(G: nx.Graph | Network, *, backend: Backend = "auto") -> list[str]:
    """Actors whose removal splits their component (sorted IRIs).

    Examples
    --------
    >>> import networkx as nx
    >>> articulation_points(nx.path_graph(["a", "b", "c"]))
    ['b']
    """
    net = as_network(G)
    if net.resolve(backend) == "igraph":
        points = net.igraph.articulation_points()
    else:
        points = list(nx.articulation_points(net.nx_ties))
    return sorted(net.nodes[i] for i in points)


def bridges(G: nx.Graph | Network, *, backend: Backend = "auto") -> list[list[str]]:
    """Ties whose removal splits their component, as sorted ``[iri, iri]`` pairs, sorted.

    Examples
    --------
    >>> import networkx as nx
    >>> bridges(nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]))
    [['c', 'd']]
    """
    net = as_network(G)
    if net.resolve(backend) == "igraph":
        g = net.igraph
        pairs = [g.es[e].tuple for e in g.bridges()]
    else:
        pairs = list(nx.bridges(net.nx_ties))
    return sorted(sorted([net.nodes[a], net.nodes[b]]) for a, b in pairs)


def harmonic_of(net: Network, sources: list[int], backend: Backend) -> np.ndarray:
    """For each source s, the mean of 1/d(s, t) over the other n-1 actors (0 when unreachable)."""
    if net.n < 2 or not sources:
        return np.zeros(len(sources))
    if net.resolve(backend) == "igraph":
        return np.asarray(net.igraph.harmonic_centrality(vertices=sources, normalized=True),
                          dtype=np.float64)
    g = net.nx_ties
    out = np.empty(len(sources))
    for i, s in enumerate(sources):
        lengths = nx.single_source_shortest_path_length(g, s)
        out[i] = sum(1.0 / d for d in lengths.values() if d > 0) / (net.n - 1)
    return out


def distances_from(net: Network, sources: list[int], backend: Backend) -> np.ndarray:
    """Hop distances from each source to every actor, shape (len(sources), n), ``inf`` when
    unreachable."""
    if not sources:
        return np.zeros((0, net.n))
    if net.resolve(backend) == "igraph":
        return np.asarray(net.igraph.distances(source=sources), dtype=np.float64)
    out = np.full((len(sources), net.n), np.inf)
    for i, s in enumerate(sources):
        for t, d in nx.single_source_shortest_path_length(net.nx_ties, s).items():
            out[i, t] = d
    return out


def global_efficiency(G: nx.Graph | Network, *, samples: int | None = None, seed: int = 0,
                      backend: Backend = "auto", confidence: float = 0.95) -> dict[str, Any]:
    """Global efficiency of the tie graph (Latora & Marchiori 2001): the mean of 1/d(s, t) over
    all ordered pairs of distinct actors, unreachable pairs counting 0.

    Parameters
    ----------
    samples:
        ``None`` for the exact value (one breadth-first search per actor); otherwise the mean over
        this many source actors drawn at random (seeded by ``seed``) without replacement.
    confidence:
        Confidence level of the stated error bound.

    Returns
    -------
    dict
        ``value``; ``exact`` (bool); ``samples`` (sources used); ``error_bound``: with probability
        ``confidence`` the exact value lies within ``value +- error_bound`` (Hoeffding's inequality:
        each source's mean inverse distance lies in [0, 1]; 0 when exact); ``standard_error``
        (empirical, with the finite-population correction; 0 when exact); ``confidence``.

    Examples
    --------
    >>> import networkx as nx
    >>> global_efficiency(nx.path_graph(["a", "b", "c"]))["value"]  # (1 + 1/2 + 1) * 2 / 6
    0.8333333333333334
    """
    net = as_network(G)
    n = net.n
    exact = samples is None or samples >= n
    sources = list(range(n)) if exact else sample_nodes(n, int(samples or 0), seed)
    values = harmonic_of(net, sources, backend)
    k = len(sources)
    value = float(values.mean()) if k else 0.0
    if exact or k < 2:
        bound, se = 0.0, 0.0
    else:
        bound = hoeffding_bound(k, confidence=confidence)
        se = float(values.std(ddof=1) / math.sqrt(k) * math.sqrt((n - k) / (n - 1)))
    return {"value": value, "exact": exact, "samples": k, "error_bound": bound,
            "standard_error": se, "confidence": confidence}
