"""Sector structure: mixing matrix, Krackhardt--Stern E-I index, assortativity, modularity and
conductance of the sector partition.

Every measure here counts **ties** (pairs of actors joined by at least one relationship; see
:mod:`d4d.analyse._network`) between actors that have a sector group.  An actor's group is its own
``sector``; actors without one (people) inherit the sector most of their relationships lead to
(``unassigned="inherit"``, the default) or are left out (``unassigned="exclude"``).  Ties with an
end outside every group are left out of all sector measures, and so are such actors.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from d4d.analyse._network import Network, Unassigned, as_network, clean


def sector_partition(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit"
                     ) -> dict[str, str | None]:
    """The sector group each actor counts in (``None``: left out of sector measures).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("org", sector="technology"); G.add_node("ann", sector="none")
    >>> G.add_edge("ann", "org", type="Membership")
    0
    >>> sector_partition(G)
    {'ann': 'technology', 'org': 'technology'}
    >>> sector_partition(G, unassigned="exclude")
    {'ann': None, 'org': 'technology'}
    """
    net = as_network(G, unassigned=unassigned)
    return net.keyed(net.group)


def _grouped_ties(net: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gu = net.group_code[net.tie_u]
    gv = net.group_code[net.tie_v]
    both = (gu >= 0) & (gv >= 0)
    return gu[both], gv[both], net.tie_count[both]


def _group_sizes(net: Network) -> np.ndarray:
    codes = net.group_code[net.group_code >= 0]
    return np.bincount(codes, minlength=len(net.groups)).astype(np.int64)


def _tie_matrix(net: Network, *, relationships: bool = False) -> np.ndarray:
    """k x k symmetric matrix: [g, h] ties between groups g and h, [g, g] ties within g
    (relationships instead of ties when ``relationships``)."""
    k = len(net.groups)
    gu, gv, count = _grouped_ties(net)
    w = count if relationships else np.ones_like(gu)
    m = np.bincount(gu * k + gv, weights=w, minlength=k * k).reshape(k, k)
    m = m + m.T - np.diag(np.diag(m))
    return m.astype(np.int64)


def mixing_matrix(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit"
                  ) -> dict[str, Any]:
    """The sector mixing matrix.

    Returns
    -------
    dict
        ``sectors``: the sector slugs in row/column order (the order of ``G.graph["sectors"]``,
        then alphabetical); ``actors``: actors per sector; ``ties``: symmetric matrix of tie
        counts (off-diagonal: ties between the two sectors; diagonal: ties within the sector);
        ``relationships``: the same counting relationships instead of ties; ``density``: ties
        divided by the possible pairs (n_g * n_h between sectors, n_g (n_g - 1) / 2 within;
        ``None`` where no pair is possible); ``excluded_actors``: actors without a group.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_nodes_from(["a1", "a2"], sector="academia"); G.add_node("t1", sector="technology")
    >>> G.add_edges_from([("a1", "a2"), ("a1", "t1")])
    >>> mixing_matrix(G)["ties"]
    [[1, 1], [1, 0]]
    """
    net = as_network(G, unassigned=unassigned)
    ties = _tie_matrix(net)
    rels = _tie_matrix(net, relationships=True)
    sizes = _group_sizes(net)
    k = len(net.groups)
    density: list[list[float | None]] = []
    for g in range(k):
        row: list[float | None] = []
        for h in range(k):
            possible = sizes[g] * (sizes[g] - 1) // 2 if g == h else sizes[g] * sizes[h]
            row.append(float(ties[g, h] / possible) if possible else None)
        density.append(row)
    return {
        "sectors": list(net.groups),
        "actors": sizes.tolist(),
        "ties": ties.tolist(),
        "relationships": rels.tolist(),
        "density": density,
        "excluded_actors": int((net.group_code < 0).sum()),
    }


def _ei(external: int, internal: int) -> float | None:
    total = external + internal
    return (external - internal) / total if total else None


def _ei_counts(ties: np.ndarray, sizes: np.ndarray) -> tuple[int, int, int, int]:
    """External and internal ties, and possible external and internal pairs."""
    internal = int(np.trace(ties))
    external = int(ties.sum() - internal) // 2
    grouped = int(sizes.sum())
    possible_internal = int((sizes * (sizes - 1) // 2).sum())
    possible_external = grouped * (grouped - 1) // 2 - possible_internal
    return external, internal, possible_external, possible_internal


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
    external, internal, p_ext, p_int = _ei_counts(_tie_matrix(net), _group_sizes(net))
    return _ei(external, internal), _ei(p_ext, p_int)


def ei_index(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit") -> dict[str, Any]:
    """Krackhardt and Stern's E-I index: (E - I) / (E + I), E the ties between sectors and I the
    ties within them, for the whole network, for each sector and for each actor.

    It runs from -1 (every tie inside a sector) to +1 (every tie crosses sectors).  Because the
    value under random mixing depends on the sector sizes, each figure comes with the
    ``expected`` value it would take if every possible pair were tied (the E-I of the possible
    pairs: between-sector pairs against within-sector pairs), as Krackhardt and Stern suggest
    comparing against.

    Returns
    -------
    dict
        ``value``, ``external``, ``internal``, ``expected``; ``by_sector``: ``{sector: {"value",
        "external", "internal", "expected", "actors"}}`` where a sector's external ties are its
        members' ties to other sectors and its internal ties those among its members;
        ``by_actor``: ``{iri: value}`` (``None`` for actors without a group or without ties to
        grouped actors).  Values are ``None`` when there is no tie to count.

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
    """
    net = as_network(G, unassigned=unassigned)
    ties = _tie_matrix(net)
    sizes = _group_sizes(net)
    external, internal, possible_external, possible_internal = _ei_counts(ties, sizes)
    grouped = int(sizes.sum())
    by_sector: dict[str, dict[str, Any]] = {}
    for g, slug in enumerate(net.groups):
        ext = int(ties[g].sum() - ties[g, g])
        inn = int(ties[g, g])
        size = int(sizes[g])
        by_sector[slug] = {
            "value": _ei(ext, inn), "external": ext, "internal": inn,
            "expected": _ei(size * (grouped - size), size * (size - 1) // 2), "actors": size,
        }
    # per actor: ties to grouped actors of its own group (i) and of other groups (e)
    gu, gv = net.group_code[net.tie_u], net.group_code[net.tie_v]
    both = (gu >= 0) & (gv >= 0)
    same = both & (gu == gv)
    cross = both & (gu != gv)
    i_count = (np.bincount(net.tie_u[same], minlength=net.n)
               + np.bincount(net.tie_v[same], minlength=net.n))
    e_count = (np.bincount(net.tie_u[cross], minlength=net.n)
               + np.bincount(net.tie_v[cross], minlength=net.n))
    by_actor = net.keyed([
        _ei(int(e), int(i)) if code >= 0 else None
        for e, i, code in zip(e_count.tolist(), i_count.tolist(), net.group_code.tolist())
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
    ties = _tie_matrix(net).astype(np.float64)
    internal = np.diag(ties)
    m = (ties.sum() + internal.sum()) / 2.0
    if m == 0:
        return None
    degree_sums = ties.sum(axis=1) + internal  # each internal tie gives two ends
    return clean(float((internal / m - (degree_sums / (2 * m)) ** 2).sum()))


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
    total = int(volume.sum())
    out: dict[str, float | None] = {}
    for g, slug in enumerate(net.groups):
        smaller = min(int(volume[g]), total - int(volume[g]))
        out[slug] = float(cut[g] / smaller) if smaller else None
    return out
