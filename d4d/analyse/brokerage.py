"""Brokers: betweenness, Burt's constraint and effective size, Gould--Fernandez brokerage roles.

Betweenness, constraint and effective size use the tie graph (undirected, simple).  Constraint
weighs each tie by the number of relationships it collapses (Burt's tie strength: two actors with
five grants between them are more tightly bound than two with one); effective size and
betweenness treat every tie alike.  Brokerage roles use the arc graph (directed relationships one
way, undirected relationships both ways) and the sector groups of :mod:`d4d.analyse.sectors`.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from d4d.analyse._network import (
    Backend,
    Network,
    Unassigned,
    as_network,
    clean,
    hoeffding_bound,
    sample_nodes,
)

#: The five Gould--Fernandez roles, for a broker v on a two-path a -> v -> b (a not -> b).
ROLES = ("coordinator", "gatekeeper", "representative", "consultant", "liaison")
_COORDINATOR, _GATEKEEPER, _REPRESENTATIVE, _CONSULTANT, _LIAISON = range(5)


def betweenness(G: nx.Graph | Network, *, samples: int | None = None, seed: int = 0,
                backend: Backend = "auto") -> dict[str, float]:
    """Normalised shortest-path betweenness of each actor in the tie graph.

    c(v) = sum over pairs {s, t} of sigma_st(v) / sigma_st, divided by (n - 1)(n - 2) / 2, the
    number of pairs v could lie between (networkx's ``normalized=True``).

    Parameters
    ----------
    samples:
        ``None``: exact (Brandes' algorithm from every actor).  Otherwise the source-sampling
        estimate (Brandes & Pich 2007): the dependencies from ``samples`` source actors drawn at
        random (seeded by ``seed``) without replacement, scaled by n / samples.  The error is
        stated by :func:`betweenness_error`.

    Examples
    --------
    >>> import networkx as nx
    >>> betweenness(nx.path_graph(["a", "b", "c"]))
    {'a': 0.0, 'b': 1.0, 'c': 0.0}
    """
    net = as_network(G)
    n = net.n
    if n < 3:
        return net.keyed([0.0] * n)
    exact = samples is None or samples >= n
    sources = None if exact else sample_nodes(n, int(samples or 0), seed)
    scale = 2.0 / ((n - 1) * (n - 2))  # the raw scores below count each unordered pair once
    if sources is not None:
        scale *= n / len(sources)
    if net.resolve(backend) == "igraph":
        raw = np.asarray(net.igraph.betweenness(directed=False, sources=sources), dtype=np.float64)
    else:
        if sources is None:
            scores = nx.betweenness_centrality(net.nx_ties, normalized=False)
        else:
            scores = nx.betweenness_centrality_subset(net.nx_ties, sources, list(range(n)),
                                                      normalized=False)
        raw = np.array([scores[i] for i in range(n)], dtype=np.float64)
    return net.keyed((raw * scale).tolist())


def betweenness_error(n: int, samples: int | None, *, confidence: float = 0.95
                      ) -> dict[str, Any]:
    """The error of :func:`betweenness` with ``samples`` sources on ``n`` actors.

    Each source s contributes delta_s(v) / (n - 2), a number in [0, 1], and the normalised
    betweenness is n / (n - 1) times their mean over all sources, so by Hoeffding's inequality
    (which holds for sampling without replacement) the estimate is within ``error_bound`` of the
    exact value with probability ``confidence`` for any one actor, and within
    ``error_bound_all`` for every actor at once (union bound).

    Returns
    -------
    dict
        ``exact``, ``samples`` (sources used, ``n`` when exact), ``error_bound``,
        ``error_bound_all``, ``confidence``.

    Examples
    --------
    >>> round(betweenness_error(1000, 100)["error_bound"], 4)
    0.1359
    """
    exact = samples is None or samples >= n
    if exact or n < 3:
        return {"exact": True, "samples": n, "error_bound": 0.0, "error_bound_all": 0.0,
                "confidence": confidence}
    k = int(samples or 0)
    factor = n / (n - 1)
    return {
        "exact": False, "samples": k,
        "error_bound": factor * hoeffding_bound(k, confidence=confidence),
        "error_bound_all": factor * hoeffding_bound(k, confidence=confidence, simultaneous=n),
        "confidence": confidence,
    }


def constraint(G: nx.Graph | Network, *, backend: Backend = "auto") -> dict[str, float | None]:
    """Burt's constraint of each actor: c_i = sum_j (p_ij + sum_q p_iq p_qj)^2 over contacts j,
    with p_ij the share of i's tie strength (relationship count) invested in j.  High: the
    actor's contacts are tied to each other, few structural holes.  ``None`` for isolates.

    Examples
    --------
    Ego tied to a, b and c, with a and b tied (see the tests for the hand computation):

    >>> import networkx as nx
    >>> c = constraint(nx.Graph([("e", "a"), ("e", "b"), ("e", "c"), ("a", "b")]))
    >>> round(c["e"], 4)  # 1/4 + 1/4 + 1/9
    0.6111
    """
    net = as_network(G)
    if net.resolve(backend) == "igraph":
        values = net.igraph.constraint(weights="count" if net.ties else None)
    else:
        scores = nx.constraint(net.nx_ties, weight="count")
        values = [scores[i] for i in range(net.n)]
    return net.keyed([clean(x) if d else None for x, d in zip(values, net.degree.tolist())])


def effective_size(G: nx.Graph | Network, *, backend: Backend = "auto"
                   ) -> dict[str, float | None]:
    """Burt's effective size of each actor's network, in Borgatti's form for unweighted ties:
    n - 2t / n, with n the actor's contacts and t the ties among them.  It counts the contacts
    that are not redundant.  ``None`` for isolates.

    Examples
    --------
    >>> import networkx as nx
    >>> e = effective_size(nx.Graph([("e", "a"), ("e", "b"), ("e", "c"), ("a", "b")]))
    >>> round(e["e"], 4)  # 3 - 2 * 1 / 3
    2.3333
    """
    net = as_network(G)
    degree = net.degree.tolist()
    if net.resolve(backend) == "igraph":
        local = net.igraph.transitivity_local_undirected(mode="zero")
        out: list[float | None] = []
        for d, c in zip(degree, local):
            if d == 0:
                out.append(None)
            else:
                t = round(c * d * (d - 1) / 2)  # ties among the d contacts
                out.append(d - 2 * t / d)
        return net.keyed(out)
    scores = nx.effective_size(net.nx_ties)
    return net.keyed([clean(scores[i]) if d else None for i, d in enumerate(degree)])


def _roles_of(ga: np.ndarray, gv: np.ndarray, gb: np.ndarray) -> np.ndarray:
    return np.where(ga == gv, np.where(gb == gv, _COORDINATOR, _REPRESENTATIVE),
                    np.where(gb == gv, _GATEKEEPER,
                             np.where(ga == gb, _CONSULTANT, _LIAISON)))


def _closed_two_paths(net: Network, backend: Backend) -> tuple[np.ndarray, np.ndarray]:
    """Every a -> v -> b with an arc a -> b (a, b grouped), as (v, role of v) arrays."""
    code = net.group_code
    if net.resolve(backend) == "igraph":
        # A closed two-path lies on a triangle of the tie graph: list the triangles (in C), then
        # test the six orientations of each against the sorted arc keys.
        tri = np.asarray(net.igraph.list_triangles(), dtype=np.int64).reshape(-1, 3)
        keys = net.arc_src * net.n + net.arc_dst

        def has(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            q = x * net.n + y
            pos = np.clip(np.searchsorted(keys, q), 0, max(keys.size - 1, 0))
            return keys[pos] == q if keys.size else np.zeros(q.size, dtype=bool)

        mids, roles = [], []
        for ia, iv, ib in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
            a, v, b = tri[:, ia], tri[:, iv], tri[:, ib]
            ok = has(a, v) & has(v, b) & has(a, b) & (code[a] >= 0) & (code[b] >= 0)
            mids.append(v[ok])
            roles.append(_roles_of(code[a[ok]], code[v[ok]], code[b[ok]]))
        return np.concatenate(mids), np.concatenate(roles)
    out_sets, in_sets = net.out_sets, net.in_sets
    hit_v: list[int] = []
    hit_a: list[int] = []
    hit_b: list[int] = []
    codes = code.tolist()
    for x, y in zip(net.arc_src.tolist(), net.arc_dst.tolist()):
        if codes[x] < 0 or codes[y] < 0:
            continue
        for mid in out_sets[x] & in_sets[y]:
            hit_v.append(mid)
            hit_a.append(x)
            hit_b.append(y)
    v_arr = np.array(hit_v, dtype=np.int64)
    return v_arr, _roles_of(code[np.array(hit_a, dtype=np.int64)], code[v_arr],
                            code[np.array(hit_b, dtype=np.int64)])


def brokerage_roles(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit",
                    backend: Backend = "auto") -> dict[str, dict[str, int] | None]:
    """Gould and Fernandez's (1989) brokerage roles of each actor, by sector.

    Actor v brokers every two-path a -> v -> b of the arc graph with a != b and no arc a -> b.
    Its role in that path depends on the sectors of a (sender), v and b (receiver):

    ==============  ===========================  =================================
    role            sectors                      G&F notation
    ==============  ===========================  =================================
    coordinator     a, v, b all in one sector    w_I
    consultant      a and b share one, v another w_O (also called itinerant)
    representative  a and v share, b differs     b_IO
    gatekeeper      v and b share, a differs     b_OI
    liaison         all three differ             b_O
    ==============  ===========================  =================================

    Two-paths with an end outside every sector group are not counted.

    Returns
    -------
    dict
        ``{iri: {"coordinator": int, "gatekeeper": int, "representative": int,
        "consultant": int, "liaison": int, "total": int}}``; ``None`` for actors without a
        group.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("a", "v"), ("v", "b")])
    >>> nx.set_node_attributes(G, {"a": "X", "v": "Y", "b": "X"}, "sector")
    >>> brokerage_roles(G)["v"]["consultant"]
    1
    """
    net = as_network(G, unassigned=unassigned)
    n, k = net.n, len(net.groups)
    code = net.group_code
    src, dst = net.arc_src, net.arc_dst
    counts = np.zeros((n, 5), dtype=np.int64)
    if k and src.size:
        # Counts of grouped in-neighbours (I) and out-neighbours (O) of each actor, by group.
        ok_in = code[src] >= 0
        ok_out = code[dst] >= 0
        inn = np.bincount(dst[ok_in] * k + code[src[ok_in]], minlength=n * k).reshape(n, k)
        out = np.bincount(src[ok_out] * k + code[dst[ok_out]], minlength=n * k).reshape(n, k)
        mine = np.clip(code, 0, None)
        rows = np.arange(n)
        in_own, out_own = inn[rows, mine], out[rows, mine]
        in_all, out_all = inn.sum(axis=1), out.sum(axis=1)
        same_other = (inn * out).sum(axis=1) - in_own * out_own
        counts[:, _COORDINATOR] = in_own * out_own
        counts[:, _REPRESENTATIVE] = in_own * (out_all - out_own)
        counts[:, _GATEKEEPER] = (in_all - in_own) * out_own
        counts[:, _CONSULTANT] = same_other
        counts[:, _LIAISON] = (in_all - in_own) * (out_all - out_own) - same_other
        # Take out the pairs that are not two-paths: a == b (a <-> v) ...
        keys = src * n + dst
        mutual = np.isin(dst * n + src, keys) & (code[src] >= 0)
        a, v = src[mutual], dst[mutual]
        np.add.at(counts, (v, np.where(code[a] == code[v], _COORDINATOR, _CONSULTANT)), -1)
        # ... and a -> v -> b closed by an arc a -> b.
        mids, roles = _closed_two_paths(net, backend)
        if mids.size:
            np.add.at(counts, (mids, roles), -1)
    result: list[dict[str, int] | None] = []
    for row, c in zip(counts.tolist(), code.tolist()):
        if c < 0:
            result.append(None)
        else:
            entry = dict(zip(ROLES, row))
            entry["total"] = sum(row)
            result.append(entry)
    return net.keyed(result)


def dominant_role(roles: dict[str, dict[str, int] | None]) -> dict[str, str | None]:
    """Each actor's most frequent brokerage role (ties go to the earlier role in
    :data:`ROLES`), ``None`` when it brokers nothing.

    Examples
    --------
    >>> dominant_role({"v": {"coordinator": 0, "gatekeeper": 2, "representative": 2,
    ...                      "consultant": 0, "liaison": 1, "total": 5}, "w": None})
    {'v': 'gatekeeper', 'w': None}
    """
    out: dict[str, str | None] = {}
    for iri, entry in roles.items():
        if not entry or not entry.get("total"):
            out[iri] = None
        else:
            out[iri] = max(ROLES, key=lambda r: (entry[r], -ROLES.index(r)))
    return out


def roles_by_sector(G: nx.Graph | Network, roles: dict[str, dict[str, int] | None], *,
                    unassigned: Unassigned = "inherit") -> dict[str, dict[str, int]]:
    """Brokerage counts summed over the actors of each sector: ``{sector: {role: int}}``."""
    net = as_network(G, unassigned=unassigned)
    out = {g: dict.fromkeys(ROLES, 0) for g in net.groups}
    for iri, entry in roles.items():
        group = net.group[net.index[iri]]
        if entry is None or group is None:
            continue
        for r in ROLES:
            out[group][r] += entry[r]
    return out

