"""Time: the network as it stood in a given year, and the headline measures year by year.

A relationship stands in year Y when it started in or before Y (edge attribute ``year``) and has
not ended before Y (``end_year`` unknown or >= Y).  Relationships without a start year are kept
in every year by default (``undated="keep"``: the fact is known, its date is not), or left out
(``undated="drop"``).  An actor stands in year Y when it was founded in or before Y, its founding
year is unknown, or a relationship standing in Y involves it.
"""

from __future__ import annotations

import math
from typing import Any, Literal, TypeAlias

import networkx as nx
import numpy as np

from d4d.analyse._network import Backend, Network, Unassigned, as_network

Undated: TypeAlias = Literal["keep", "drop"]


def _check(undated: str) -> None:
    if undated not in ("keep", "drop"):
        raise ValueError(f"undated must be 'keep' or 'drop', not {undated!r}")


def _standing(year: int, start: float | None, end: float | None, undated: Undated) -> bool:
    if start is None or (isinstance(start, float) and math.isnan(start)):
        if undated == "drop":
            return False
    elif start > year:
        return False
    return end is None or (isinstance(end, float) and math.isnan(end)) or end >= year


def graph_at(G: nx.Graph, year: int, *, undated: Undated = "keep") -> nx.Graph:
    """The graph as it stood in ``year``: a new graph of the same class with the standing actors
    and relationships (attribute dicts are shared with ``G``'s).

    Raises
    ------
    ValueError
        If ``undated`` is neither ``"keep"`` nor ``"drop"``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("a", founded=1990); G.add_node("b", founded=2005); G.add_node("c")
    >>> _ = G.add_edge("a", "c", year=1995); _ = G.add_edge("b", "c", year=2010)
    >>> sorted(graph_at(G, 2000).nodes), graph_at(G, 2000).number_of_edges()
    (['a', 'c'], 1)
    """
    _check(undated)
    H = G.__class__()
    H.graph.update(G.graph)
    for v, data in G.nodes(data=True):
        founded = data.get("founded")
        if founded is None or founded <= year:
            H.add_node(v, **data)
    if G.is_multigraph():
        for u, v, key, data in G.edges(keys=True, data=True):
            if _standing(year, data.get("year"), data.get("end_year"), undated):
                for x in (u, v):
                    if x not in H:
                        H.add_node(x, **G.nodes[x])
                H.add_edge(u, v, key=key, **data)
    else:
        for u, v, data in G.edges(data=True):
            if _standing(year, data.get("year"), data.get("end_year"), undated):
                for x in (u, v):
                    if x not in H:
                        H.add_node(x, **G.nodes[x])
                H.add_edge(u, v, **data)
    return H


def network_at(G: nx.Graph | Network, year: int, *, undated: Undated = "keep",
               unassigned: Unassigned = "inherit") -> Network:
    """Like :func:`graph_at`, on the prepared network (fast: array masks)."""
    _check(undated)
    net = as_network(G, unassigned=unassigned)
    start, end = net.rel_year, net.rel_end
    dated = ~np.isnan(start)
    keep = np.where(dated, start <= year, undated == "keep")
    keep &= np.isnan(end) | (end >= year)
    nodes = np.isnan(net.founded) | (net.founded <= year)
    return net.subset(nodes, keep)


def relationship_years(G: nx.Graph | Network) -> list[int]:
    """The distinct start years of the relationships, sorted.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph([("a", "b", {"year": 2001}), ("b", "c", {"year": 1999}), ("c", "a")])
    >>> relationship_years(G)
    [1999, 2001]
    """
    net = as_network(G)
    dated = net.rel_year[~np.isnan(net.rel_year)]
    return sorted({int(y) for y in dated.tolist()})


def series_years(G: nx.Graph | Network, *, max_years: int = 40) -> list[int]:
    """The years a series covers: every year from the first to the last relationship start
    year, thinned to at most ``max_years`` evenly spaced years (always keeping the last).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph([("a", "b", {"year": 2000}), ("b", "c", {"year": 2003})])
    >>> series_years(G)
    [2000, 2001, 2002, 2003]
    >>> series_years(G, max_years=2)
    [2001, 2003]
    """
    found = relationship_years(G)
    if not found:
        return []
    first, last = found[0], found[-1]
    step = max(1, math.ceil((last - first + 1) / max(max_years, 1)))
    return list(range(last, first - 1, -step))[::-1]


def series(G: nx.Graph | Network, *, years: list[int] | None = None, undated: Undated = "keep",
           samples: int | None = 16, exact_max_nodes: int = 1000, seed: int = 0,
           backend: Backend = "auto", unassigned: Unassigned = "inherit",
           max_years: int = 25) -> dict[str, Any]:
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
        ``ei_expected``, ``sector_modularity``, ``assortativity``; also ``undated`` (the
        policy) and ``undated_relationships`` (how many relationships have no start year).
    """
    from d4d.analyse.connectivity import global_efficiency, weak_sizes
    from d4d.analyse.sectors import ei_overall, sector_assortativity, sector_modularity

    net = as_network(G, unassigned=unassigned)
    chosen = series_years(net, max_years=max_years) if years is None else sorted(years)
    keys = ("actors", "relationships", "ties", "weak_components", "largest_component_share",
            "efficiency", "ei_index", "ei_expected", "sector_modularity", "assortativity")
    out: dict[str, Any] = {"years": chosen, **{k: [] for k in keys}}
    for y in chosen:
        sub = network_at(net, y, undated=undated, unassigned=unassigned)
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
    out["undated"] = undated
    out["undated_relationships"] = int(np.isnan(net.rel_year).sum())
    return out
