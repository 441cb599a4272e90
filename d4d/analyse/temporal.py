"""Time: the network as it stood in a given year, and the headline measures year by year.

Which actors and relationships stand in a year is decided by one rule, :func:`d4d.field.lifespans`,
which the projection also writes onto the graph for the map (node and edge ``from``/``to``): an
actor stands from its founding (its first dated relationship when its founding is unknown) to its
dissolution; a relationship from its start to its end, and only while both its ends stand, so an
undated relationship stands from when both its ends exist.  Actors and relationships with no date
at all, direct or through their ends, stand in every year; :func:`undated_counts` says how many.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from d4d.analyse._network import Backend, Network, Unassigned, as_network
from d4d.field import standing


def graph_at(G: nx.Graph, year: int) -> nx.Graph:
    """The graph as it stood in ``year``: a new graph of the same class with the standing actors
    and relationships (attribute dicts are shared with ``G``'s).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("a", founded=1990); G.add_node("b", founded=2005); G.add_node("c")
    >>> _ = G.add_edge("a", "c", year=1995); _ = G.add_edge("b", "c", year=2010)
    >>> sorted(graph_at(G, 2000).nodes), graph_at(G, 2000).number_of_edges()
    (['a', 'c'], 1)
    """
    net = as_network(G)
    keep_node = set(np.asarray(net.nodes, dtype=object)[standing(net.first, net.last, year)].tolist())
    keep_rel = standing(net.rel_first, net.rel_last, year).tolist()
    H = G.__class__()
    H.graph.update(G.graph)
    H.add_nodes_from((v, d) for v, d in G.nodes(data=True) if str(v) in keep_node)
    # the Network lists edges in G.edges() order, so the mask lines up
    edges = G.edges(keys=True, data=True) if G.is_multigraph() else G.edges(data=True)
    for flag, edge in zip(keep_rel, edges):
        if flag:
            if G.is_multigraph():
                u, v, key, data = edge
                H.add_edge(u, v, key=key, **data)
            else:
                u, v, data = edge
                H.add_edge(u, v, **data)
    return H


def network_at(G: nx.Graph | Network, year: int, *, unassigned: Unassigned = "inherit") -> Network:
    """Like :func:`graph_at`, on the prepared network (fast: array masks)."""
    net = as_network(G, unassigned=unassigned)
    return net.subset(standing(net.first, net.last, year), standing(net.rel_first, net.rel_last, year))


def undated_counts(G: nx.Graph | Network) -> dict[str, int]:
    """How many relationships have no date of their own (``relationships``: they stand from when
    both their ends exist), how many stand in every year (``relationships_always``: no date of
    their own nor of their ends), and how many actors stand in every year (``actors_always``).

    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("a", founded=2005); G.add_node("b"); G.add_node("c")
    >>> _ = G.add_edge("a", "b"); _ = G.add_edge("b", "c")
    >>> undated_counts(G)
    {'relationships': 2, 'relationships_always': 1, 'actors_always': 2}
    """
    net = as_network(G)
    return {
        "relationships": int(np.isnan(net.rel_year).sum()),
        "relationships_always": int((np.isnan(net.rel_first) & np.isnan(net.rel_last)).sum()),
        "actors_always": int((np.isnan(net.first) & np.isnan(net.last)).sum()),
    }


def relationship_years(G: nx.Graph | Network) -> list[int]:
    """The distinct years of every dated fact: relationship starts and ends, foundings and
    dissolutions, sorted.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph([("a", "b", {"year": 2001}), ("b", "c", {"year": 1999}), ("c", "a")])
    >>> G.nodes["c"]["founded"] = 1990
    >>> relationship_years(G)
    [1990, 1999, 2001]
    """
    net = as_network(G)
    values = np.concatenate([net.rel_year, net.rel_end, net.founded, net.dissolved])
    return sorted({int(y) for y in values[~np.isnan(values)].tolist()})


def series_years(G: nx.Graph | Network) -> list[int]:
    """The years a series covers: every year from the earliest dated fact to the latest.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph([("a", "b", {"year": 2000}), ("b", "c", {"year": 2003})])
    >>> series_years(G)
    [2000, 2001, 2002, 2003]
    """
    found = relationship_years(G)
    return list(range(found[0], found[-1] + 1)) if found else []


def series(G: nx.Graph | Network, *, years: list[int] | None = None,
           samples: int | None = 16, exact_max_nodes: int = 1000, seed: int = 0,
           backend: Backend = "auto", unassigned: Unassigned = "inherit") -> dict[str, Any]:
    """Headline measures of the network as it stood in each year.

    Parameters
    ----------
    years:
        The years; by default :func:`series_years`.
    samples, exact_max_nodes:
        Global efficiency is exact for networks of up to ``exact_max_nodes`` actors and
        estimated from ``samples`` seeded sources above that.

    Returns
    -------
    dict
        ``years`` and, one value per year, ``actors``, ``relationships``, ``ties``,
        ``weak_components``, ``largest_component_share``, ``efficiency``, ``ei_index``,
        ``ei_expected``, ``sector_modularity``, ``assortativity``; also ``undated``
        (:func:`undated_counts`).
    """
    from d4d.analyse.connectivity import global_efficiency, weak_sizes
    from d4d.analyse.sectors import ei_overall, sector_assortativity, sector_modularity

    net = as_network(G, unassigned=unassigned)
    chosen = series_years(net) if years is None else sorted(years)
    keys = ("actors", "relationships", "ties", "weak_components", "largest_component_share",
            "efficiency", "ei_index", "ei_expected", "sector_modularity", "assortativity")
    out: dict[str, Any] = {"years": chosen, **{k: [] for k in keys}}
    for y in chosen:
        sub = network_at(net, y, unassigned=unassigned)
        sizes = weak_sizes(sub, backend=backend)
        k = None if sub.n <= exact_max_nodes else samples
        ei, expected = ei_overall(sub, unassigned=unassigned)
        row = {
            "actors": sub.n, "relationships": sub.relationships, "ties": sub.ties,
            "weak_components": len(sizes),
            "largest_component_share": max(sizes) / sub.n if sub.n else 0.0,
            "efficiency": global_efficiency(sub, samples=k, seed=seed, backend=backend)["value"],
            "ei_index": ei, "ei_expected": expected,
            "sector_modularity": sector_modularity(sub, unassigned=unassigned),
            "assortativity": sector_assortativity(sub, unassigned=unassigned),
        }
        for key in keys:
            out[key].append(row[key])
    out["undated"] = undated_counts(net)
    return out
