"""Communities found by modularity maximisation, and how well they line up with the sectors.

The networkx backend runs Louvain (Blondel et al. 2008, ``networkx.community.louvain_communities``);
the igraph backend runs Leiden with the modularity objective (Traag, Waltman & van Eck 2019:
Louvain plus a refinement step that keeps communities connected; igraph's own Louvain took
90-180 s on 100k actors here, Leiden with two iterations 4 s, within 0.0001 of the modularity
Leiden reaches when run to convergence in 24 s).  ``backend="auto"`` runs Louvain up to
:data:`~d4d.analyse._network.LOUVAIN_MAX_NODES` actors and Leiden above.  Both maximise the
same quantity on the unweighted tie graph and are seeded, so a run is reproducible.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, Hashable

import networkx as nx
import numpy as np

from d4d.analyse._network import (
    LOUVAIN_MAX_NODES,
    Backend,
    Network,
    Unassigned,
    as_network,
    igraph_seed,
)


def _contingency(a: Sequence[Hashable], b: Sequence[Hashable]) -> np.ndarray:
    if len(a) != len(b):
        raise ValueError("the two labellings must have the same length")
    ia = {x: i for i, x in enumerate(sorted(set(a), key=repr))}
    ib = {x: i for i, x in enumerate(sorted(set(b), key=repr))}
    table = np.zeros((len(ia), len(ib)), dtype=np.float64)
    np.add.at(table, ([ia[x] for x in a], [ib[x] for x in b]), 1.0)
    return table


def _entropy(counts: np.ndarray) -> float:
    total = counts.sum()
    p = counts[counts > 0] / total
    return float(-(p * np.log(p)).sum())


def partition_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> dict[str, float]:
    """How far two labellings of the same items agree.

    Returns
    -------
    dict
        ``nmi``: normalised mutual information, I(A; B) / ((H(A) + H(B)) / 2) (1 when both are
        a single block); ``ari``: Hubert and Arabie's adjusted Rand index (1 for identical
        partitions, about 0 for chance agreement).

    Raises
    ------
    ValueError
        If the labellings differ in length.

    Examples
    --------
    >>> partition_agreement([0, 0, 1, 1], ["x", "x", "y", "y"])
    {'nmi': 1.0, 'ari': 1.0}
    """
    return table_agreement(_contingency(a, b))


def table_agreement(table: np.ndarray) -> dict[str, float]:
    """:func:`partition_agreement` from the contingency table of the two labellings (its cells
    may be fractional: an actor spread over several sectors adds its share to each cell).

    >>> table_agreement(np.array([[2.0, 0.0], [0.0, 2.0]]))
    {'nmi': 1.0, 'ari': 1.0}
    """
    n = table.sum()
    if n == 0:
        return {"nmi": 1.0, "ari": 1.0}
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    h_a, h_b = _entropy(rows), _entropy(cols)
    nz = table > 0
    mutual = float((table[nz] / n * np.log(table[nz] * n / np.outer(rows, cols)[nz])).sum())
    nmi = 1.0 if h_a + h_b == 0 else max(0.0, min(1.0, 2 * mutual / (h_a + h_b)))

    def pairs(x: np.ndarray) -> float:
        return float((x * (x - 1) / 2).sum())

    index, sum_a, sum_b = pairs(table), pairs(rows), pairs(cols)
    expected = sum_a * sum_b / (n * (n - 1) / 2) if n > 1 else 0.0
    maximum = (sum_a + sum_b) / 2
    ari = 1.0 if maximum == expected else (index - expected) / (maximum - expected)
    return {"nmi": nmi, "ari": float(ari)}


def community_partition(net: Network, *, seed: int, backend: Backend) -> tuple[list[int], str]:
    """Community number of each actor (0 = largest) and the method's name."""
    if net.n == 0:
        return [], "louvain"
    use = net.resolve(backend)
    if backend == "auto" and net.n <= LOUVAIN_MAX_NODES:
        use = "networkx"
    if use == "igraph":
        with igraph_seed(seed):
            found = net.igraph.community_leiden(objective_function="modularity", n_iterations=2)
        groups: list[list[int]] = [list(c) for c in found]
        method = "leiden"
    else:
        groups = [sorted(c) for c in nx.community.louvain_communities(net.nx_ties, seed=seed)]
        method = "louvain"
    groups.sort(key=lambda c: (-len(c), c[0]))
    membership = [0] * net.n
    for i, comp in enumerate(groups):
        for v in comp:
            membership[v] = i
    return membership, method


def _modularity(net: Network, membership: list[int]) -> float | None:
    if net.ties == 0:
        return None
    m = float(net.ties)
    labels = np.asarray(membership, dtype=np.int64)
    k = int(labels.max()) + 1
    inside = labels[net.tie_u] == labels[net.tie_v]
    internal = np.bincount(labels[net.tie_u][inside], minlength=k)
    volume = np.bincount(labels, weights=net.degree, minlength=k)
    return float((internal / m - (volume / (2 * m)) ** 2).sum())


def communities(G: nx.Graph | Network, *, seed: int = 0, backend: Backend = "auto",
                unassigned: Unassigned = "inherit", top: int = 20) -> dict[str, Any]:
    """Communities of the tie graph and their alignment with the sectors.

    Parameters
    ----------
    seed:
        Seed of the randomised algorithm; the same seed gives the same communities.
    top:
        How many of the largest communities to describe in ``composition``.

    Returns
    -------
    dict
        ``method`` ("louvain" or "leiden"), ``seed``, ``count``, ``modularity`` (of the found
        partition, ``None`` without ties), ``sizes`` (all, decreasing), ``membership``
        (``{iri: community number}``, 0 the largest), ``composition``: for the ``top`` largest,
        ``{"community", "size", "sector" (the sector with the largest share of its members, ``None``
        when two are level), "share" (that share), "sectors" ({sector: members, counting shares})}``; ``alignment``: :func:`partition_agreement`
        of communities against sector groups over the actors that have a group.
    """
    net = as_network(G, unassigned=unassigned)
    membership, method = community_partition(net, seed=seed, backend=backend)
    sizes = Counter(membership)
    count = len(sizes)
    # communities x sectors, each actor adding its sector shares
    table = np.zeros((count, len(net.groups)), dtype=np.float64)
    if count:
        np.add.at(table, np.asarray(membership, dtype=np.int64), net.member)
    composition = []
    for c in range(min(top, count)):
        row = table[c]
        grouped = float(row.sum())
        best = float(row.max()) if row.size else 0.0
        leaders = [g for g, x in zip(net.groups, row.tolist()) if grouped and abs(x - best) < 1e-9]
        dominant = leaders[0] if len(leaders) == 1 else None
        composition.append({
            "community": c, "size": sizes[c], "sector": dominant,
            "share": best / grouped if grouped else None,
            "sectors": {g: round(x, 9) for g, x in sorted(zip(net.groups, row.tolist()),
                                                          key=lambda kv: -kv[1]) if x > 0},
        })
    alignment = table_agreement(table[table.sum(axis=1) > 0] if count else table)
    modularity = _modularity(net, membership) if membership else None
    return {
        "method": method, "seed": seed, "count": count,
        "modularity": modularity if modularity is None or math.isfinite(modularity) else None,
        "sizes": [sizes[c] for c in range(count)],
        "membership": net.keyed(membership),
        "composition": composition,
        "alignment": alignment,
    }
