"""Resilience: what happens to the field if one actor disappears.

For every actor, exactly and in linear time (one depth-first search of the tie graph):

* ``cut_off`` -- how many other actors lose their path to the largest remaining part of the
  actor's component (0 unless the actor is an articulation point);
* ``pairs_disconnected`` -- how many pairs of remaining actors lose the path between them;
* ``ei_change`` -- the change of the overall E-I index when the actor's ties go (sector groups
  held as they are).

For the ``top`` actors ranked by those figures and by betweenness, also the change in global
efficiency, which needs a breadth-first search per source on the graph without the actor (all
sources when exact, the same seeded sample as :func:`~d4d.analyse.connectivity.global_efficiency`
otherwise).
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from d4d.analyse._network import Backend, Network, Unassigned, as_network, sample_nodes


def _pieces(net: Network) -> tuple[list[int], list[int]]:
    """For each actor, (cut_off, pairs_disconnected) from the DFS lowpoint pieces."""
    if "pieces" not in net.memo:
        net.memo["pieces"] = _compute_pieces(net)
    result: tuple[list[int], list[int]] = net.memo["pieces"]
    return result


def _compute_pieces(net: Network) -> tuple[list[int], list[int]]:
    n = net.n
    adj = net.neighbours
    disc = [-1] * n
    low = [0] * n
    size = [1] * n
    cut = [0] * n
    pairs = [0] * n
    timer = 0
    for root in range(n):
        if disc[root] >= 0:
            continue
        # iterative DFS; pieces[v] collects the sizes of the child subtrees that removal of v
        # separates from v's parent side
        pieces: dict[int, list[int]] = {}
        order: list[int] = []
        parent = {root: -1}
        disc[root] = low[root] = timer
        timer += 1
        stack = [(root, iter(adj[root]))]
        while stack:
            v, it = stack[-1]
            advanced = False
            for w in it:
                if disc[w] < 0:
                    parent[w] = v
                    disc[w] = low[w] = timer
                    timer += 1
                    stack.append((w, iter(adj[w])))
                    advanced = True
                    break
                if w != parent[v]:
                    low[v] = min(low[v], disc[w])
            if advanced:
                continue
            stack.pop()
            order.append(v)
            p = parent[v]
            if p >= 0:
                low[p] = min(low[p], low[v])
                size[p] += size[v]
                if low[v] >= disc[p]:
                    pieces.setdefault(p, []).append(size[v])
        comp = size[root]
        for v in order:
            parts = pieces.get(v)
            if not parts:
                continue
            if v == root:
                if len(parts) < 2:
                    continue
                rest = []
            else:
                rest = [comp - 1 - sum(parts)]
            allparts = parts + rest
            cut[v] = comp - 1 - max(allparts)
            total = sum(allparts)
            pairs[v] = (total * total - sum(x * x for x in allparts)) // 2
    return cut, pairs


def cut_off(G: nx.Graph | Network) -> dict[str, int]:
    """For each actor, how many others lose their path to the largest remaining part of its
    component if it disappears.

    Examples
    --------
    >>> import networkx as nx
    >>> cut_off(nx.Graph([("a", "b"), ("b", "c"), ("c", "d"), ("c", "e")]))
    {'a': 0, 'b': 1, 'c': 2, 'd': 0, 'e': 0}
    """
    net = as_network(G)
    return net.keyed(_pieces(net)[0])


def pairs_disconnected(G: nx.Graph | Network) -> dict[str, int]:
    """For each actor, how many pairs of the other actors lose the path between them if it
    disappears.

    Examples
    --------
    >>> import networkx as nx
    >>> pairs_disconnected(nx.Graph([("a", "b"), ("b", "c"), ("c", "d"), ("c", "e")]))["c"]
    5
    """
    net = as_network(G)
    return net.keyed(_pieces(net)[1])


def ei_change(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit"
              ) -> dict[str, float | None]:
    """For each actor, the overall E-I index without the actor's ties minus the E-I index now
    (positive: the field would look more outward without it; ``None`` when undefined).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([("a1", "a2"), ("a2", "b1")])
    >>> nx.set_node_attributes(G, {"a1": "A", "a2": "A", "b1": "B"}, "sector")
    >>> ei_change(G)["a1"]  # E-I goes from (1 - 1) / 2 = 0 to (1 - 0) / 1 = 1
    1.0
    """
    net = as_network(G, unassigned=unassigned)
    w = net.member
    ok = net.grouped[net.tie_u] & net.grouped[net.tie_v]
    u, v = net.tie_u[ok], net.tie_v[ok]
    same = (w[u] * w[v]).sum(axis=1)  # the share of each tie that lies within a sector
    inn = np.bincount(u, weights=same, minlength=net.n) + np.bincount(v, weights=same, minlength=net.n)
    ext = (np.bincount(u, weights=1 - same, minlength=net.n)
           + np.bincount(v, weights=1 - same, minlength=net.n))
    E, I = float((1 - same).sum()), float(same.sum())
    if E + I <= 1e-12:
        return net.keyed([None] * net.n)
    before = (E - I) / (E + I)
    out: list[float | None] = []
    for e, i in zip(ext.tolist(), inn.tolist()):
        e2, i2 = E - e, I - i
        out.append((e2 - i2) / (e2 + i2) - before if e2 + i2 > 1e-9 else None)
    return net.keyed(out)


def _efficiency_without(net: Network, v: int, sources: list[int], backend: Backend) -> float:
    """Mean over ``sources`` (other than v) of their mean inverse distance to the n - 2 other
    actors, in the graph without v."""
    rest = [s for s in sources if s != v]
    if net.n < 3 or not rest:
        return 0.0
    if net.resolve(backend) == "igraph":
        g = net.igraph.copy()
        g.delete_vertices(v)
        shifted = [s - 1 if s > v else s for s in rest]
        return float(np.mean(g.harmonic_centrality(vertices=shifted, normalized=True)))
    h = net.nx_ties.copy()
    h.remove_node(v)
    total = 0.0
    for s in rest:
        total += sum(1.0 / d for d in nx.single_source_shortest_path_length(h, s).values() if d)
    return total / len(rest) / (net.n - 2)


def removal_impact(G: nx.Graph | Network, *, top: int = 10, samples: int | None = None,
                   seed: int = 0, backend: Backend = "auto", unassigned: Unassigned = "inherit",
                   betweenness: dict[str, float] | None = None,
                   efficiency: float | None = None) -> list[dict[str, Any]]:
    """The actors whose disappearance would most fragment the field, ranked.

    Candidates are ranked by ``cut_off``, then ``pairs_disconnected``, then betweenness; the
    ``top`` of them get their efficiency change measured, and the list is returned in that
    order.

    Parameters
    ----------
    samples:
        Sources for the efficiency estimate (``None``: exact).  The same seeded sources serve
        the graph with and without each actor, so their difference is not blurred by sampling.
    betweenness, efficiency:
        Already computed :func:`~d4d.analyse.brokerage.betweenness` values and global efficiency
        value (same ``samples``/``seed``), to save computing them again.

    Returns
    -------
    list of dict
        ``actor`` (IRI), ``label``, ``sector``, ``cut_off``, ``pairs_disconnected``,
        ``betweenness``, ``efficiency_after``, ``efficiency_change`` (after minus before),
        ``ei_change``.
    """
    from d4d.analyse.brokerage import betweenness as betweenness_of
    from d4d.analyse.connectivity import harmonic_of

    net = as_network(G, unassigned=unassigned)
    if net.n == 0 or top <= 0:
        return []
    cut, pairs = _pieces(net)
    if betweenness is None:
        betweenness = betweenness_of(net, samples=samples, seed=seed, backend=backend)
    btw = [betweenness.get(iri, 0.0) for iri in net.nodes]
    ranked = sorted(range(net.n), key=lambda i: (-cut[i], -pairs[i], -btw[i], net.nodes[i]))
    chosen = ranked[:top]
    exact = samples is None or samples >= net.n
    sources = list(range(net.n)) if exact else sample_nodes(net.n, int(samples or 0), seed)
    if efficiency is None:
        efficiency = float(harmonic_of(net, sources, backend).mean()) if net.n > 1 else 0.0
    ei = ei_change(net, unassigned=unassigned)
    out = []
    for i in chosen:
        after = _efficiency_without(net, i, sources, backend)
        out.append({
            "actor": net.nodes[i], "label": net.label[i], "sectors": net.shares(i),
            "cut_off": cut[i], "pairs_disconnected": pairs[i], "betweenness": btw[i],
            "efficiency_after": after, "efficiency_change": after - efficiency,
            "ei_change": ei[net.nodes[i]],
        })
    return out
