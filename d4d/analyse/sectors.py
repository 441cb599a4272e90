"""Sector structure: mixing matrix, Krackhardt--Stern E-I index, assortativity, modularity and
conductance of the sectors.

Every measure here counts **ties** (pairs of actors joined by at least one relationship; see
:mod:`d4d.analyse._network`) between actors that have a sector share.  An actor with several
sectors belongs to each with an equal share (:func:`d4d.field.sector_weights`), and a tie between u
and v counts ``share_u(g) * share_v(h)`` between sectors g and h: a tie from a [humanitarian,
academia] centre to a development institute is half a humanitarian--development tie and half an
academia--development tie.  For actors of one sector each this is the usual count.  Actors without
a sector (people) inherit the mean share of the actors their relationships lead to
(``unassigned="inherit"``, the default) or are left out (``unassigned="exclude"``); ties with an
end left out are left out of all sector measures.  Counts are therefore fractional.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from d4d.analyse._network import Network, Unassigned, as_network, clean


def sector_partition(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit"
                     ) -> dict[str, dict[str, float]]:
    """Each actor's sector shares, ``{iri: {sector: share}}`` (empty: left out of sector measures).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("hhi", sectors=["humanitarian", "academia"]); G.add_node("ann")
    >>> G.add_edge("ann", "hhi", type="Membership")
    0
    >>> sector_partition(G)
    {'ann': {'academia': 0.5, 'humanitarian': 0.5}, 'hhi': {'academia': 0.5, 'humanitarian': 0.5}}
    >>> sector_partition(G, unassigned="exclude")["ann"]
    {}
    """
    net = as_network(G, unassigned=unassigned)
    return net.keyed([net.shares(i) for i in range(net.n)])


def _group_sizes(net: Network) -> np.ndarray:
    """Actors per sector, each actor counting its share."""
    return net.member.sum(axis=0).astype(np.float64)


def _as_matrix(a: np.ndarray) -> np.ndarray:
    """k x k symmetric matrix of unordered pairs from the ordered sum ``a`` (a[g, h]: sum of
    share_u(g) share_v(h)): off the diagonal the pairs between g and h, on it those within g."""
    return a + a.T - np.diag(np.diag(a))


def _tie_matrix(net: Network, *, relationships: bool = False) -> np.ndarray:
    """k x k symmetric matrix: [g, h] ties between sectors g and h, [g, g] ties within g, each tie
    spread over the sector pairs by the product of its ends' shares (relationships instead of
    ties when ``relationships``)."""
    w = net.member
    weight = net.tie_count.astype(np.float64) if relationships else np.ones(net.ties)
    a = (w[net.tie_u] * weight[:, None]).T @ w[net.tie_v]
    return _as_matrix(a)


def _pair_matrix(net: Network) -> np.ndarray:
    """Like :func:`_tie_matrix` for every possible pair of distinct actors (the ties there would
    be if everyone were tied)."""
    w = net.member
    s = w.sum(axis=0)
    ordered = np.outer(s, s) - w.T @ w  # every ordered pair of distinct actors
    upper = np.triu(ordered, 1)
    return upper + upper.T + np.diag(np.diag(ordered) / 2)


def mixing_matrix(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit"
                  ) -> dict[str, Any]:
    """The sector mixing matrix.

    Returns
    -------
    dict
        ``sectors``: the sector slugs in row/column order (the order of ``G.graph["sectors"]``,
        then alphabetical); ``actors``: actors per sector, each counting its share;
        ``members``: actors with any share of the sector; ``ties``: symmetric matrix of tie
        counts (off-diagonal: ties between the two sectors; diagonal: ties within the sector),
        shared out by the ends' shares; ``relationships``: the same counting relationships
        instead of ties; ``density``: ties divided by the possible pairs counted the same way
        (n_g * n_h between sectors, n_g (n_g - 1) / 2 within, for actors of one sector each;
        ``None`` where no pair is possible); ``field_density``: all those ties over all those
        pairs (the density any two sectors are compared with); ``excluded_actors``: actors
        without a share.

    Examples
    --------
    A [humanitarian, academia] centre tied to an academic and to a development institute:

    >>> import networkx as nx
    >>> G = nx.Graph([("hhi", "uni"), ("hhi", "odi")])
    >>> G.add_node("hhi", sectors=["humanitarian", "academia"])
    >>> G.add_node("uni", sector="academia"); G.add_node("odi", sector="development")
    >>> m = mixing_matrix(G)
    >>> m["sectors"], m["actors"]
    (['academia', 'development', 'humanitarian'], [1.5, 1.0, 0.5])
    >>> m["ties"]  # hhi-uni: half within academia, half humanitarian-academia
    [[0.5, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]]
    """
    net = as_network(G, unassigned=unassigned)
    ties = _tie_matrix(net)
    rels = _tie_matrix(net, relationships=True)
    possible = _pair_matrix(net)
    sizes = _group_sizes(net)
    k = len(net.groups)
    density: list[list[float | None]] = [
        [float(ties[g, h] / possible[g, h]) if possible[g, h] > 1e-12 else None for h in range(k)]
        for g in range(k)]
    return {
        "sectors": list(net.groups),
        "actors": sizes.tolist(),
        "members": (net.member > 0).sum(axis=0).tolist(),
        "ties": ties.tolist(),
        "relationships": rels.tolist(),
        "density": density,
        "field_density": (float(np.trace(ties) + (ties.sum() - np.trace(ties)) / 2)
                          / float(np.trace(possible) + (possible.sum() - np.trace(possible)) / 2)
                          if possible.sum() > 1e-12 else None),
        "excluded_actors": int((~net.grouped).sum()),
    }


def _ei(external: float, internal: float) -> float | None:
    total = external + internal
    return clean((external - internal) / total) if total > 1e-12 else None


def _ei_counts(ties: np.ndarray, possible: np.ndarray) -> tuple[float, float, float, float]:
    """External and internal ties, and possible external and internal pairs."""
    internal = float(np.trace(ties))
    external = float(ties.sum() - internal) / 2
    p_internal = float(np.trace(possible))
    p_external = float(possible.sum() - p_internal) / 2
    return external, internal, p_external, p_internal


def ei_overall(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit"
               ) -> tuple[float | None, float | None]:
    """The overall E-I index and its expected value (see :func:`ei_index`), without the
    per-sector and per-actor detail.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([("a1", "a2"), ("a1", "b1")])
    >>> nx.set_node_attributes(G, {"a1": "A", "a2": "A", "b1": "B"}, "sector")
    >>> ei_overall(G)  # (1 - 1) / 2; possible pairs: 2 across, 1 within
    (0.0, 0.3333333333333333)
    """
    net = as_network(G, unassigned=unassigned)
    external, internal, p_ext, p_int = _ei_counts(_tie_matrix(net), _pair_matrix(net))
    return _ei(external, internal), _ei(p_ext, p_int)


def ei_index(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit") -> dict[str, Any]:
    """Krackhardt and Stern's E-I index: (E - I) / (E + I), E the ties between sectors and I the
    ties within them, for the whole network, for each sector and for each actor.

    It runs from -1 (every tie inside a sector) to +1 (every tie crosses sectors).  Because the
    value under random mixing depends on the sector sizes, each figure comes with the
    ``expected`` value it would take if every possible pair were tied (the E-I of the possible
    pairs: between-sector pairs against within-sector pairs), as Krackhardt and Stern suggest
    comparing against.  A tie counts within sector g by the product of its ends' shares of g
    (see the module docstring), so E and I are fractional when actors have several sectors.

    Returns
    -------
    dict
        ``value``, ``external``, ``internal``, ``expected``; ``by_sector``: ``{sector: {"value",
        "external", "internal", "expected", "actors"}}`` where a sector's external ties are its
        members' ties to other sectors and its internal ties those among its members;
        ``by_actor``: ``{iri: value}`` (``None`` for actors without a share or without ties to
        actors with one).  Values are ``None`` when there is no tie to count.

    Examples
    --------
    Two sectors of two actors; one tie inside each, two ties across:

    >>> import networkx as nx
    >>> G = nx.Graph([("a1", "a2"), ("b1", "b2"), ("a1", "b1"), ("a2", "b2")])
    >>> nx.set_node_attributes(G, {"a1": "A", "a2": "A", "b1": "B", "b2": "B"}, "sector")
    >>> ei_index(G)["value"]  # (2 - 2) / 4
    0.0
    >>> ei_index(G)["expected"]  # 4 possible pairs across, 2 within: (4 - 2) / 6
    0.3333333333333333

    A [humanitarian, academia] centre tied to an academic: the tie is half within academia.

    >>> H = nx.Graph([("hhi", "uni")])
    >>> H.add_node("hhi", sectors=["humanitarian", "academia"]); H.add_node("uni", sector="academia")
    >>> e = ei_index(H)
    >>> e["value"], e["by_sector"]["humanitarian"]["external"], e["by_sector"]["academia"]["internal"]
    (0.0, 0.5, 0.5)
    """
    net = as_network(G, unassigned=unassigned)
    ties = _tie_matrix(net)
    possible = _pair_matrix(net)
    sizes = _group_sizes(net)
    external, internal, possible_external, possible_internal = _ei_counts(ties, possible)
    by_sector: dict[str, dict[str, Any]] = {}
    for g, slug in enumerate(net.groups):
        ext = float(ties[g].sum() - ties[g, g])
        inn = float(ties[g, g])
        by_sector[slug] = {
            "value": _ei(ext, inn), "external": ext, "internal": inn,
            "expected": _ei(float(possible[g].sum() - possible[g, g]), float(possible[g, g])),
            "actors": float(sizes[g]),
        }
    # per actor: each tie to an actor with a share counts share-product within, the rest across
    w = net.member
    ok = net.grouped[net.tie_u] & net.grouped[net.tie_v]
    same = (w[net.tie_u] * w[net.tie_v]).sum(axis=1)
    i_count = (np.bincount(net.tie_u[ok], weights=same[ok], minlength=net.n)
               + np.bincount(net.tie_v[ok], weights=same[ok], minlength=net.n))
    e_count = (np.bincount(net.tie_u[ok], weights=1 - same[ok], minlength=net.n)
               + np.bincount(net.tie_v[ok], weights=1 - same[ok], minlength=net.n))
    by_actor = net.keyed([
        _ei(float(e), float(i)) if grouped else None
        for e, i, grouped in zip(e_count.tolist(), i_count.tolist(), net.grouped.tolist())
    ])
    return {
        "value": _ei(external, internal), "external": external, "internal": internal,
        "expected": _ei(possible_external, possible_internal),
        "by_sector": by_sector, "by_actor": by_actor,
    }


def sector_assortativity(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit"
                         ) -> float | None:
    """Newman's attribute assortativity coefficient of the sector partition on the tie graph.

    r = (sum_i e_ii - sum_i a_i^2) / (1 - sum_i a_i^2), with e the symmetric matrix of the
    fraction of tie ends joining sector i to sector j and a its row sums (Newman 2003, eq. 2).
    1 means every tie is within a sector; 0, mixing as by chance; ``None`` when undefined (no
    ties, or a single sector).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([("a1", "a2"), ("b1", "b2")])
    >>> nx.set_node_attributes(G, {"a1": "A", "a2": "A", "b1": "B", "b2": "B"}, "sector")
    >>> sector_assortativity(G)
    1.0
    """
    net = as_network(G, unassigned=unassigned)
    ties = _tie_matrix(net).astype(np.float64)
    ends = ties + np.diag(np.diag(ties))  # a tie within sector g has both ends in g
    total = ends.sum()
    if total == 0:
        return None
    e = ends / total
    a = e.sum(axis=1)
    denom = 1.0 - float((a * a).sum())
    if denom <= 1e-15:
        return None
    return clean((float(np.trace(e)) - float((a * a).sum())) / denom)


def sector_modularity(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit"
                      ) -> float | None:
    """Newman--Girvan modularity of the sector partition of the tie graph among grouped actors:
    Q = sum_g [L_g / m - (D_g / 2m)^2], L_g the ties inside sector g, D_g the sum of its
    members' degrees and m the number of ties.  High Q: sectors keep to themselves.  ``None``
    when there is no tie.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([("a1", "a2"), ("b1", "b2")])
    >>> nx.set_node_attributes(G, {"a1": "A", "a2": "A", "b1": "B", "b2": "B"}, "sector")
    >>> sector_modularity(G)  # 2 * (1/2 - (2/4)**2)
    0.5
    """
    net = as_network(G, unassigned=unassigned)
    return modularity_of(_tie_matrix(net))


def modularity_of(ties: np.ndarray) -> float | None:
    """Modularity of the sectors from their tie matrix (see :func:`_tie_matrix`)."""
    internal = np.diag(ties)
    m = (ties.sum() + internal.sum()) / 2.0
    if m <= 1e-12:
        return None
    degree_sums = ties.sum(axis=1) + internal  # each internal tie gives two ends
    return clean(float((internal / m - (degree_sums / (2 * m)) ** 2).sum()))


def ei_of(ties: np.ndarray) -> float | None:
    """The overall E-I index from the sectors' tie matrix."""
    internal = float(np.trace(ties))
    return _ei(float(ties.sum() - internal) / 2, internal)


def tie_shares(net: Network, u: int, v: int) -> np.ndarray:
    """The tie matrix of one tie between actors u and v (what adding it would add)."""
    return _as_matrix(np.outer(net.member[u], net.member[v]))


def conductance(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit"
                ) -> dict[str, float | None]:
    """Conductance of each sector in the tie graph among grouped actors: the ties leaving the
    sector divided by the smaller of the sector's volume and the rest's volume (volume: the sum
    of degrees).  Near 0: a sector closed on itself; ``None`` when a volume is 0.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([("a1", "a2"), ("a2", "b1"), ("b1", "b2")])
    >>> nx.set_node_attributes(G, {"a1": "A", "a2": "A", "b1": "B", "b2": "B"}, "sector")
    >>> conductance(G)  # 1 tie out; volumes 3 and 3
    {'A': 0.3333333333333333, 'B': 0.3333333333333333}
    """
    net = as_network(G, unassigned=unassigned)
    ties = _tie_matrix(net)
    internal = np.diag(ties)
    cut = ties.sum(axis=1) - internal
    volume = ties.sum(axis=1) + internal
    total = float(volume.sum())
    out: dict[str, float | None] = {}
    for g, slug in enumerate(net.groups):
        smaller = min(float(volume[g]), total - float(volume[g]))
        out[slug] = clean(cut[g] / smaller) if smaller > 1e-12 else None
    return out


def crossing_by_type(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit"
                     ) -> dict[str, dict[str, float]]:
    """For each relationship type: ``relationships`` (how many), ``counted`` (those with both
    ends holding a sector share) and ``across`` (how much of them crosses sectors, each counting
    1 - the product of its ends' shares of the same sector), most frequent type first.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("gov", sector="government"); G.add_node("ngo", sector="humanitarian")
    >>> G.add_node("hhi", sectors=["humanitarian", "academia"])
    >>> _ = G.add_edge("gov", "ngo", type="Funding"); _ = G.add_edge("ngo", "hhi", type="Partnership")
    >>> crossing_by_type(G)
    {'Funding': {'relationships': 1, 'counted': 1, 'across': 1.0}, 'Partnership': {'relationships': 1, 'counted': 1, 'across': 0.5}}
    """
    net = as_network(G, unassigned=unassigned)
    w = net.member
    ok = net.grouped[net.rel_src] & net.grouped[net.rel_dst] & (net.rel_src != net.rel_dst)
    across = 1.0 - (w[net.rel_src] * w[net.rel_dst]).sum(axis=1)
    out = {}
    for code, name in enumerate(net.type_names):
        mine = net.rel_type == code
        out[name] = {"relationships": int(mine.sum()), "counted": int((mine & ok).sum()),
                     "across": round(float(across[mine & ok].sum()), 9)}
    return dict(sorted(out.items(), key=lambda kv: (-kv[1]["relationships"], kv[0])))
