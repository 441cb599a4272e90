"""The two rules that place an actor in the field: its sectors and its years.

The projection (:func:`d4d.network.project`), the analysis (:mod:`d4d.analyse`), the report and
the map all call these two functions, so a sector share or a year means the same everywhere.

**Sectors** (:func:`sector_weights`).  An actor belongs to each of its sectors with an equal share:
an organisation with sectors [humanitarian, academia] counts 1/2 in each.  An actor with no sector
of its own (a person) takes the mean of the shares of the actors its relationships lead to, one
vote per relationship; it stays without sector when none of them has one.  Shares sum to 1 for an
actor with a sector and to 0 for one without.  Nothing is picked alphabetically.

**Years** (:func:`lifespans`).  An actor stands from its founding year to its dissolution year
(inclusive); with no founding year, from the first year a dated relationship shows it (the first
evidence of it); with neither, in every year.  A relationship stands from its start year to its
end year, and only while both its ends stand: it starts at the latest of its start and its ends'
first years, and ends at the earliest of its end and its ends' last years.  An undated relationship
so stands from when both its ends exist.  ``None`` is an open bound (since always, until now).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

NO_SECTOR = "none"


def own_sectors(attrs: Mapping[str, Any]) -> tuple[str, ...]:
    """The sectors a node's attributes declare: its ``sectors`` list, else its one ``sector``
    (``"none"`` or empty: no sector), sorted.

    >>> own_sectors({"sectors": ["humanitarian", "academia"]}), own_sectors({"sector": "none"})
    (('academia', 'humanitarian'), ())
    """
    listed = attrs.get("sectors")
    if listed:
        return tuple(sorted({str(s) for s in listed}))
    one = attrs.get("sector")
    return (str(one),) if one and one != NO_SECTOR else ()


def sector_weights(sectors: Sequence[Sequence[str]], rel_src: np.ndarray, rel_dst: np.ndarray, *,
                   order: Sequence[str] = (), inherit: bool = True) -> tuple[list[str], np.ndarray]:
    """Each actor's share of each sector.

    Parameters
    ----------
    sectors:
        The sectors each actor declares (actor i: ``sectors[i]``; empty for none).
    rel_src, rel_dst:
        The two ends (actor indices) of every relationship, used to pass shares on to actors
        without a sector when ``inherit``.
    order:
        The sector order of the result (the ontology's); sectors not in it follow, sorted.

    Returns
    -------
    (slugs, weights)
        ``weights[i, g]`` is actor i's share of sector ``slugs[g]``; a row sums to 1, or to 0 for
        an actor left without a sector.

    Examples
    --------
    >>> import numpy as np
    >>> slugs, w = sector_weights([["hum", "acad"], ["acad"], []], np.array([2, 2]), np.array([0, 1]))
    >>> slugs, w.tolist()
    (['acad', 'hum'], [[0.5, 0.5], [1.0, 0.0], [0.75, 0.25]])
    """
    present = {s for own in sectors for s in own}
    slugs = [s for s in order if s in present] + sorted(present - set(order))
    code = {s: g for g, s in enumerate(slugs)}
    n, k = len(sectors), len(slugs)
    w = np.zeros((n, k), dtype=np.float64)
    for i, own in enumerate(sectors):
        distinct = sorted(set(own))
        for s in distinct:
            w[i, code[s]] = 1.0 / len(distinct)
    if inherit and n and k:
        own_rows = w.sum(axis=1) > 0
        me = np.concatenate([rel_src, rel_dst]).astype(np.int64)
        other = np.concatenate([rel_dst, rel_src]).astype(np.int64)
        pick = ~own_rows[me] & own_rows[other]
        votes = np.zeros((n, k), dtype=np.float64)
        np.add.at(votes, me[pick], w[other[pick]])
        count = np.bincount(me[pick], minlength=n).astype(np.float64)
        takers = count > 0
        w[takers] = votes[takers] / count[takers, None]
    return slugs, w


def _max(*values: float) -> float:
    known = [v for v in values if not math.isnan(v)]
    return max(known) if known else math.nan


def _min(*values: float) -> float:
    known = [v for v in values if not math.isnan(v)]
    return min(known) if known else math.nan


def lifespans(founded: np.ndarray, dissolved: np.ndarray, rel_src: np.ndarray, rel_dst: np.ndarray,
              rel_start: np.ndarray, rel_end: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first and last year each actor and each relationship stands (NaN: open).

    Parameters
    ----------
    founded, dissolved:
        Per actor: founding and dissolution year (NaN when unknown).
    rel_src, rel_dst, rel_start, rel_end:
        Per relationship: its ends (actor indices), start and end year (NaN when unknown).

    Returns
    -------
    (actor_from, actor_to, rel_from, rel_to)
        Float arrays of years, NaN for an open bound (see the module docstring for the rule).

    Examples
    --------
    An actor founded in 2005, a person with no date, tied to it in 2010 and by an undated tie to
    an actor founded in 2012:

    >>> import numpy as np
    >>> nan = float("nan")
    >>> a_from, a_to, r_from, r_to = lifespans(
    ...     np.array([2005, nan, 2012]), np.array([nan, nan, nan]),
    ...     np.array([1, 1]), np.array([0, 2]), np.array([2010, nan]), np.array([nan, nan]))
    >>> a_from.tolist(), r_from.tolist()
    ([2005.0, 2010.0, 2012.0], [2010.0, 2012.0])
    """
    n = founded.size
    first = founded.astype(np.float64).copy()
    # an actor without a founding year stands from its first dated relationship; an undated one is
    # no evidence of when it began (it only says the actor existed while its other end did)
    dated = ~np.isnan(rel_start)
    evidence = np.full(n, np.inf)
    if dated.any():
        np.minimum.at(evidence, rel_src[dated], rel_start[dated])
        np.minimum.at(evidence, rel_dst[dated], rel_start[dated])
    take = np.isnan(first) & np.isfinite(evidence)
    first[take] = evidence[take]
    last = dissolved.astype(np.float64).copy()
    r_from = np.array([_max(s, first[a], first[b]) for s, a, b in
                       zip(rel_start.tolist(), rel_src.tolist(), rel_dst.tolist())], dtype=np.float64)
    r_to = np.array([_min(e, last[a], last[b]) for e, a, b in
                     zip(rel_end.tolist(), rel_src.tolist(), rel_dst.tolist())], dtype=np.float64)
    return first, last, r_from, r_to


def standing(first: np.ndarray, last: np.ndarray, year: int) -> np.ndarray:
    """Which of the spans ``[first, last]`` (NaN open) contain ``year``.

    >>> import numpy as np
    >>> standing(np.array([2000.0, float("nan"), 2010.0]), np.array([2004.0, float("nan"), float("nan")]), 2005).tolist()
    [False, True, False]
    """
    return (np.isnan(first) | (first <= year)) & (np.isnan(last) | (last >= year))


def year_or_none(value: float) -> int | None:
    """A year of the arrays above as JSON: an int, or ``None`` for an open bound."""
    return None if math.isnan(value) else int(value)


def as_year(value: Any) -> float:
    """An attribute value (an int year or ``None``) as a float year or NaN."""
    return math.nan if value is None else float(value)


def annotate(G: Any, *, order: Sequence[str] = ()) -> None:
    """Write both rules onto a networkx graph of the network contract, for the map and any reader.

    Each node gets ``sector_weights`` (``{sector: share}``, people's inherited) and ``from`` /
    ``to`` (first and last year it stands, ``None`` open); each edge gets ``from`` / ``to``.

    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("hhi", sectors=["humanitarian", "academia"], founded=2005); G.add_node("ann")
    >>> _ = G.add_edge("ann", "hhi", key="m", year=None)
    >>> annotate(G)
    >>> G.nodes["ann"]["sector_weights"], G.nodes["ann"]["from"], G.edges["ann", "hhi", "m"]["from"]
    ({'academia': 0.5, 'humanitarian': 0.5}, None, 2005)
    """
    nodes = sorted(G.nodes, key=str)
    index = {v: i for i, v in enumerate(nodes)}
    edges = list(G.edges(keys=True, data=True)) if G.is_multigraph() else \
        [(u, v, None, d) for u, v, d in G.edges(data=True)]
    src = np.array([index[u] for u, _, _, _ in edges], dtype=np.int64)
    dst = np.array([index[v] for _, v, _, _ in edges], dtype=np.int64)
    slugs, w = sector_weights([own_sectors(G.nodes[v]) for v in nodes], src, dst, order=order)
    first, last, r_first, r_last = lifespans(
        np.array([as_year(G.nodes[v].get("founded")) for v in nodes], dtype=np.float64),
        np.array([as_year(G.nodes[v].get("dissolved")) for v in nodes], dtype=np.float64),
        src, dst,
        np.array([as_year(d.get("year")) for *_, d in edges], dtype=np.float64),
        np.array([as_year(d.get("end_year")) for *_, d in edges], dtype=np.float64))
    for i, v in enumerate(nodes):
        G.nodes[v]["sector_weights"] = {g: float(x) for g, x in zip(slugs, w[i].tolist()) if x > 0}
        G.nodes[v]["from"] = year_or_none(first[i])
        G.nodes[v]["to"] = year_or_none(last[i])
    for j, (_, _, _, data) in enumerate(edges):
        data["from"] = year_or_none(r_first[j])
        data["to"] = year_or_none(r_last[j])
