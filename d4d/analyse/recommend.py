"""Bridge recommendations: the new ties across sectors that would most reduce fragmentation.

How the candidates are chosen (bounded, so this stays fast on large graphs):

1. **Endpoints.**  In each sector, the ``per_sector`` organisations with the most ties (the hubs
   a new tie would open the most paths to), plus the best-tied organisation of each of the
   ``per_sector`` largest components other than the largest.  People are not proposed as
   endpoints; when a graph has no organisation at all, every actor may be one.
2. **Pairs.**  Every pair of endpoints in different sectors that is not tied already.  When there
   are more than ``max_candidates``, a seeded random sample of that many is scored.
3. **Score.**  The gain in global efficiency if the tie were added.  With breadth-first
   distances from the sources (every actor when exact, a seeded sample otherwise) and from both
   endpoints u and w, the new distance of a pair (s, t) is
   min(d(s, t), d(s, u) + 1 + d(w, t), d(s, w) + 1 + d(u, t)) -- exact, because a shortest path
   uses the new tie at most once.  Sampled gains are the mean over the sources, so they estimate
   the exact gain without bias; the path counts are scaled up by n / sources.

Each recommendation also states the change of the sector partition's modularity and of the E-I
index, and a sentence built from those numbers.
"""

from __future__ import annotations

import math
import random
from typing import Any

import networkx as nx
import numpy as np

from d4d.analyse._network import Backend, Network, Unassigned, as_network, sample_nodes
from d4d.analyse.connectivity import _weak_membership, distances_from


def _endpoints(net: Network, per_sector: int, backend: Backend) -> list[int]:
    people = [t == "Person" for t in net.actor_type]
    allowed = [not p for p in people] if not all(people) else [True] * net.n
    degree = net.degree.tolist()
    chosen: set[int] = set()
    by_group: dict[int, list[int]] = {}
    for i, code in enumerate(net.group_code.tolist()):
        if code >= 0 and allowed[i]:
            by_group.setdefault(code, []).append(i)
    for members in by_group.values():
        members.sort(key=lambda i: (-degree[i], net.nodes[i]))
        chosen.update(members[:per_sector])
    for comp in _weak_membership(net, backend)[1:per_sector + 1]:
        best = [i for i in comp if allowed[i] and net.group_code[i] >= 0]
        if best:
            chosen.add(min(best, key=lambda i: (-degree[i], net.nodes[i])))
    return sorted(chosen)


def _sector_label(net: Network, slug: str | None) -> str:
    info = (net.graph_attrs.get("sectors") or {}).get(slug) or {}
    return str(info.get("label") or slug or "no")


def _count(x: float, approx: bool, noun: str) -> str:
    number = round(x)
    text = f"{number:,} {noun}{'' if number == 1 else 's'}"
    return f"about {text}" if approx else text


def _reason(net: Network, rec: dict[str, Any], *, approx: bool, sources: int) -> str:
    u, w = net.index[rec["source"]], net.index[rec["target"]]
    first = (f"Links the {_sector_label(net, rec['source_sector'])} sector "
             f"({net.label[u]}, {_count(net.degree[u], False, 'tie')}) to the "
             f"{_sector_label(net, rec['target_sector'])} sector "
             f"({net.label[w]}, {_count(net.degree[w], False, 'tie')})")
    if rec["distance_before"] is None:
        first += ", which are not connected at all today"
    else:
        first += f", now {rec['distance_before']} steps apart"
    effects = []
    if rec["pairs_connected"]:
        effects.append(f"give {_count(rec['pairs_connected'], approx, 'pair')} of actors a path "
                       f"for the first time")
    if rec["paths_shortened"] or not effects:
        noun = "other path" if effects else "path"
        effects.append(f"shorten {_count(rec['paths_shortened'], approx, noun)}")
    second = (f"It would {' and '.join(effects)}, raising global efficiency from "
              f"{rec['efficiency_before']:.4f} to {rec['efficiency_after']:.4f}")
    if rec["modularity_change"] is not None:
        second += f"; the sector modularity would change by {rec['modularity_change']:+.4f}"
    parts = [first + ".", second + "."]
    if approx:
        parts.append(f"(Estimated from {sources} sampled actors.)")
    return " ".join(parts)


def recommend_ties(G: nx.Graph | Network, *, count: int = 10, per_sector: int = 5,
                   max_candidates: int = 100, samples: int | None = None, seed: int = 0,
                   backend: Backend = "auto", unassigned: Unassigned = "inherit"
                   ) -> list[dict[str, Any]]:
    """The ``count`` candidate new ties that would most raise global efficiency.

    Parameters
    ----------
    count:
        How many recommendations to return.
    per_sector, max_candidates:
        Bound the candidates (see the module docstring).
    samples:
        Sources for the distance sums, ``None`` for exact (every actor).
    seed:
        Seeds the source sample and the candidate sample.

    Returns
    -------
    list of dict
        Best first: ``source``, ``target`` (IRIs), ``source_label``, ``target_label``,
        ``source_sector``, ``target_sector``, ``distance_before`` (hops, ``None`` when not
        connected), ``efficiency_before``, ``efficiency_after``, ``efficiency_gain``,
        ``pairs_connected`` (unordered pairs of actors that would get a path for the first time)
        and ``paths_shortened`` (pairs already connected whose distance would shrink), both
        estimates when sampled, ``modularity_change`` and ``ei_change`` (of the sector partition), ``exact``
        and ``reason`` (a sentence).
    """
    net = as_network(G, unassigned=unassigned)
    n = net.n
    if n < 2 or count <= 0:
        return []
    ends = _endpoints(net, per_sector, backend)
    tied = set((net.tie_u * n + net.tie_v).tolist())
    code = net.group_code
    pairs = [(a, b) for i, a in enumerate(ends) for b in ends[i + 1:]
             if code[a] != code[b] and (min(a, b) * n + max(a, b)) not in tied]
    if len(pairs) > max_candidates:
        pairs = sorted(random.Random(seed).sample(pairs, max_candidates))
    if not pairs:
        return []
    exact = samples is None or samples >= n
    sources = list(range(n)) if exact else sample_nodes(n, int(samples or 0), seed)
    k = len(sources)
    dist = distances_from(net, sources, backend)
    with np.errstate(divide="ignore"):
        inv = np.where(np.isfinite(dist) & (dist > 0), 1.0 / dist, 0.0)
    base = float(inv.sum()) / (k * (n - 1))
    end_list = sorted({x for p in pairs for x in p})
    end_dist = dict(zip(end_list, distances_from(net, end_list, backend)))
    scale = 1.0 if exact else n / k

    # sector-level quantities for the modularity and E-I changes
    from d4d.analyse.sectors import _tie_matrix

    ties = _tie_matrix(net).astype(np.float64)
    internal = np.diag(ties)
    m = (ties.sum() + internal.sum()) / 2.0
    volume = ties.sum(axis=1) + internal
    E, I = float((ties.sum() - internal.sum()) / 2), float(internal.sum())

    def modularity(vol: np.ndarray, mm: float) -> float:
        return float((internal / mm - (vol / (2 * mm)) ** 2).sum()) if mm else 0.0

    q_before = modularity(volume, m)
    ei_before = (E - I) / (E + I) if E + I else None

    scored: list[dict[str, Any]] = []
    for a, b in pairs:
        da, db = end_dist[a], end_dist[b]
        alt = np.minimum(dist[:, [a]] + 1.0 + db[None, :], dist[:, [b]] + 1.0 + da[None, :])
        better = alt < dist
        gain = float((1.0 / alt[better]).sum() - inv[better].sum())
        newly = better & ~np.isfinite(dist)
        connected = float(newly.sum()) * scale / 2
        shortened = float(better.sum()) * scale / 2 - connected
        vol = volume.copy()
        vol[code[a]] += 1
        vol[code[b]] += 1
        q_change = modularity(vol, m + 1) - q_before if m else None
        ei_after = (E + 1 - I) / (E + 1 + I)
        before_ab = float(da[b])
        scored.append({
            "source": net.nodes[a], "target": net.nodes[b],
            "source_label": net.label[a], "target_label": net.label[b],
            "source_sector": net.group[a], "target_sector": net.group[b],
            "distance_before": int(before_ab) if math.isfinite(before_ab) else None,
            "efficiency_before": base,
            "efficiency_after": base + gain / (k * (n - 1)),
            "efficiency_gain": gain / (k * (n - 1)),
            "paths_shortened": round(shortened), "pairs_connected": round(connected),
            "modularity_change": q_change,
            "ei_change": ei_after - ei_before if ei_before is not None else None,
            "exact": exact,
        })
    scored.sort(key=lambda r: (-r["efficiency_gain"], -r["paths_shortened"],
                               r["source"], r["target"]))
    best = scored[:count]
    for rec in best:
        rec["reason"] = _reason(net, rec, approx=not exact, sources=k)
    return best
