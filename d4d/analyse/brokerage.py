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


def _roles_of(wa: np.ndarray, wv: np.ndarray, wb: np.ndarray) -> np.ndarray:
    """Rows of five role shares, one per two-path a -> v -> b with the three actors' sector shares
    (rows of ``member``): the chance of each role if each actor's sector were drawn from its
    shares.  For actors of one sector each, a one in the role of the path."""
    coord = (wa * wv * wb).sum(axis=1)
    av, vb, ab = (wa * wv).sum(axis=1), (wv * wb).sum(axis=1), (wa * wb).sum(axis=1)
    out = np.empty((wa.shape[0], 5), dtype=np.float64)
    out[:, _COORDINATOR] = coord
    out[:, _REPRESENTATIVE] = av - coord
    out[:, _GATEKEEPER] = vb - coord
    out[:, _CONSULTANT] = ab - coord
    out[:, _LIAISON] = 1.0 - av - vb - ab + 2 * coord
    return out


def _closed_two_paths(net: Network, backend: Backend, ends: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every a -> v -> b with an arc a -> b (a, b among ``ends``, by default the actors with a
    sector share), as (a, v, b) arrays."""
    ok_node = net.grouped if ends is None else ends
    if net.resolve(backend) == "igraph":
        # A closed two-path lies on a triangle of the tie graph: list the triangles (in C), then
        # test the six orientations of each against the sorted arc keys.
        tri = np.asarray(net.igraph.list_triangles(), dtype=np.int64).reshape(-1, 3)
        keys = net.arc_src * net.n + net.arc_dst

        def has(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            q = x * net.n + y
            pos = np.clip(np.searchsorted(keys, q), 0, max(keys.size - 1, 0))
            return keys[pos] == q if keys.size else np.zeros(q.size, dtype=bool)

        hits_a, hits_v, hits_b = [], [], []
        for ia, iv, ib in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
            a, v, b = tri[:, ia], tri[:, iv], tri[:, ib]
            ok = has(a, v) & has(v, b) & has(a, b) & ok_node[a] & ok_node[b]
            hits_a.append(a[ok])
            hits_v.append(v[ok])
            hits_b.append(b[ok])
        return np.concatenate(hits_a), np.concatenate(hits_v), np.concatenate(hits_b)
    out_sets, in_sets = net.out_sets, net.in_sets
    hit_v: list[int] = []
    hit_a: list[int] = []
    hit_b: list[int] = []
    flags = ok_node.tolist()
    for x, y in zip(net.arc_src.tolist(), net.arc_dst.tolist()):
        if not flags[x] or not flags[y]:
            continue
        for mid in out_sets[x] & in_sets[y]:
            hit_v.append(mid)
            hit_a.append(x)
            hit_b.append(y)
    return (np.array(hit_a, dtype=np.int64), np.array(hit_v, dtype=np.int64),
            np.array(hit_b, dtype=np.int64))


def two_paths(G: nx.Graph | Network, *, backend: Backend = "auto") -> dict[str, int]:
    """How many two-paths a -> v -> b (a != b, no arc a -> b) each actor v brokers, whatever the
    sectors.

    >>> import networkx as nx
    >>> two_paths(nx.DiGraph([("a", "v"), ("v", "b"), ("c", "v")]))["v"]
    2
    """
    net = as_network(G)
    n = net.n
    src, dst = net.arc_src, net.arc_dst
    paths = np.bincount(dst, minlength=n) * np.bincount(src, minlength=n)
    keys = src * n + dst
    mutual = np.isin(dst * n + src, keys)
    paths -= np.bincount(dst[mutual], minlength=n)
    _, cv, _ = _closed_two_paths(net, backend, np.ones(n, dtype=bool))
    paths -= np.bincount(cv, minlength=n)
    return net.keyed(paths.astype(np.int64).tolist())


def brokerage_roles(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit",
                    backend: Backend = "auto") -> dict[str, dict[str, float] | None]:
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

    An actor with several sectors takes part in each with its share (:mod:`d4d.field`), so a
    two-path is shared out over the roles by the chance of each if every actor's sector were drawn
    from its shares: a path through a [humanitarian, academia] broker between two academics is
    half coordinator, half consultant.  Two-paths with an end without a sector share are not
    counted.

    Returns
    -------
    dict
        ``{iri: {"coordinator": float, "gatekeeper": float, "representative": float,
        "consultant": float, "liaison": float, "total": int}}`` (``total``: the two-paths it
        brokers); ``None`` for actors without a sector share.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("a", "v"), ("v", "b")])
    >>> nx.set_node_attributes(G, {"a": "X", "v": "Y", "b": "X"}, "sector")
    >>> brokerage_roles(G)["v"]["consultant"]
    1.0
    >>> G.nodes["v"]["sectors"] = ["X", "Y"]
    >>> r = brokerage_roles(G)["v"]
    >>> r["coordinator"], r["consultant"], r["total"]
    (0.5, 0.5, 1)
    """
    net = as_network(G, unassigned=unassigned)
    n, k = net.n, len(net.groups)
    w = net.member
    ok_node = net.grouped
    src, dst = net.arc_src, net.arc_dst
    counts = np.zeros((n, 5), dtype=np.float64)
    paths = np.zeros(n, dtype=np.int64)
    if k and src.size:
        # Sums of the shares of each actor's in-neighbours (inn) and out-neighbours (out), and
        # their numbers (those with a share); every sum over pairs (a, b) then factorises.
        ok_in, ok_out = ok_node[src], ok_node[dst]
        inn = np.zeros((n, k))
        out = np.zeros((n, k))
        np.add.at(inn, dst[ok_in], w[src[ok_in]])
        np.add.at(out, src[ok_out], w[dst[ok_out]])
        in_all = np.bincount(dst[ok_in], minlength=n).astype(np.float64)
        out_all = np.bincount(src[ok_out], minlength=n).astype(np.float64)
        coord = (w * inn * out).sum(axis=1)
        av = (w * inn).sum(axis=1) * out_all
        vb = (w * out).sum(axis=1) * in_all
        ab = (inn * out).sum(axis=1)
        counts[:, _COORDINATOR] = coord
        counts[:, _REPRESENTATIVE] = av - coord
        counts[:, _GATEKEEPER] = vb - coord
        counts[:, _CONSULTANT] = ab - coord
        counts[:, _LIAISON] = in_all * out_all - av - vb - ab + 2 * coord
        paths += (in_all * out_all).astype(np.int64)
        # Take out the pairs that are not two-paths: a == b (a <-> v) ...
        keys = src * n + dst
        mutual = np.isin(dst * n + src, keys) & ok_node[src]
        a, v = src[mutual], dst[mutual]
        np.add.at(counts, v, -_roles_of(w[a], w[v], w[a]))
        np.add.at(paths, v, -1)
        # ... and a -> v -> b closed by an arc a -> b.
        ca, cv, cb = _closed_two_paths(net, backend)
        if cv.size:
            np.add.at(counts, cv, -_roles_of(w[ca], w[cv], w[cb]))
            np.add.at(paths, cv, -1)
    counts = np.round(counts, 9) + 0.0  # sums of shares: no float dust, no -0.0
    result: list[dict[str, float] | None] = []
    for row, total, grouped in zip(counts.tolist(), paths.tolist(), ok_node.tolist()):
        if not grouped:
            result.append(None)
        else:
            entry: dict[str, float] = dict(zip(ROLES, row))
            entry["total"] = int(total)
            result.append(entry)
    return net.keyed(result)


def dominant_role(roles: dict[str, dict[str, float] | None]) -> dict[str, str | None]:
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


def roles_by_sector(G: nx.Graph | Network, roles: dict[str, dict[str, float] | None], *,
                    unassigned: Unassigned = "inherit") -> dict[str, dict[str, float]]:
    """Brokerage counts summed over the actors of each sector, each actor counting its share:
    ``{sector: {role: float}}``."""
    net = as_network(G, unassigned=unassigned)
    out = {g: dict.fromkeys(ROLES, 0.0) for g in net.groups}
    for iri, entry in roles.items():
        i = net.index[iri]
        if entry is None:
            continue
        for g, share in net.shares(i).items():
            for r in ROLES:
                out[g][r] += share * entry[r]
    return {g: {r: round(c, 9) + 0.0 for r, c in counts.items()} for g, counts in out.items()}
