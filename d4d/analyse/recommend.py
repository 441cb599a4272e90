"""Bridge recommendations: the new ties across sectors that would most reduce fragmentation.

How the candidates are chosen (bounded, so this stays fast on large graphs):

0. **Who can hold the tie.**  The relationship proposed is the one the ontology marks
   ``d4d:recommendedTie`` (a Partnership), and only actors whose kind the ontology lists for its
   ends (``d4d:edgeSourceKind`` / ``d4d:edgeTargetKind``) are proposed: no media outlet, no
   person.  (A graph that declares no recommended relationship lets every actor hold it.)
1. **Endpoints.**  Among those, in each sector, the ``per_sector`` members (actors with a share of
   it) with the most ties (the hubs a new tie would open the most paths to), plus the best-tied
   one of each of the ``per_sector`` largest components other than the largest.
2. **Pairs.**  Every pair of endpoints that is not tied already and whose tie would cross sectors
   (their sector shares are not the same single sector: some of the tie would count between
   sectors).  When there are more than ``max_candidates``, a seeded random sample of that many is
   scored.
3. **Score, one tie after another.**  The gain in global efficiency if the tie were added.  With breadth-first
   distances from the sources (every actor when exact, a seeded sample otherwise) and from both
   endpoints u and w, the new distance of a pair (s, t) is
   min(d(s, t), d(s, u) + 1 + d(w, t), d(s, w) + 1 + d(u, t)) -- exact, because a shortest path
   uses the new tie at most once.  Sampled gains are the mean over the sources, so they estimate
   the exact gain without bias; the path counts are scaled up by n / sources.

The recommendations are a sequence: the first is the candidate with the largest gain; each next
one is the best given that the ties above it are made (the distances are updated exactly), so a
second tie does not repeat what the first already did.  Each states its own gain, the change of
the sectors' modularity and E-I index it brings, and a sentence built from those numbers.
"""

from __future__ import annotations

import math
import random
from typing import Any

import networkx as nx
import numpy as np

from d4d.analyse._network import Backend, Network, Unassigned, as_network, sample_nodes
from d4d.analyse.connectivity import _weak_membership, distances_from


def recommended_relationship(net: Network) -> tuple[str | None, set[str] | None, set[str] | None]:
    """The relationship type recommendations propose, and the kinds that can hold its source and
    target ends (``None``: not declared, any kind)."""
    for name, spec in sorted((net.graph_attrs.get("edge_types") or {}).items()):
        if spec.get("recommended"):
            return (str(name), set(spec.get("source_kinds") or []) or None,
                    set(spec.get("target_kinds") or []) or None)
    return None, None, None


def _endpoints(net: Network, per_sector: int, backend: Backend, allowed: list[bool]) -> list[int]:
    degree = net.degree.tolist()
    chosen: set[int] = set()
    for g in range(len(net.groups)):
        members = [i for i in np.flatnonzero(net.member[:, g] > 0).tolist() if allowed[i]]
        members.sort(key=lambda i: (-degree[i], net.nodes[i]))
        chosen.update(members[:per_sector])
    for comp in _weak_membership(net, backend)[1:per_sector + 1]:
        best = [i for i in comp if allowed[i] and net.grouped[i]]
        if best:
            chosen.add(min(best, key=lambda i: (-degree[i], net.nodes[i])))
    return sorted(chosen)


def _sectors_text(net: Network, i: int) -> str:
    info = net.graph_attrs.get("sectors") or {}
    names = [str((info.get(g) or {}).get("label") or g) for g in net.shares(i)]
    return "; ".join(names) if names else "no sector"


def _count(x: float, approx: bool, noun: str) -> str:
    number = round(x)
    text = f"{number:,} {noun}{'' if number == 1 else 's'}"
    return f"about {text}" if approx else text


def _reason(net: Network, rec: dict[str, Any], *, approx: bool, sources: int) -> str:
    u, w = net.index[rec["source"]], net.index[rec["target"]]
    what = (rec.get("relationship") or "tie").lower()
    first = (f"A {what} between {net.label[u]} ({_sectors_text(net, u)}; "
             f"{_count(net.degree[u], False, 'tie')}) and {net.label[w]} "
             f"({_sectors_text(net, w)}; {_count(net.degree[w], False, 'tie')})")
    if rec["distance_before"] is None:
        first += ", which today are in separate parts of the network with no path between them"
    else:
        first += f", today {rec['distance_before']} steps apart"
    effects = []
    if rec["pairs_connected"]:
        effects.append(f"give {_count(rec['pairs_connected'], approx, 'pair')} of actors a path "
                       f"for the first time")
    if rec["paths_shortened"] or not effects:
        noun = "other path" if effects else "path"
        effects.append(f"shorten {_count(rec['paths_shortened'], approx, noun)}")
    second = (f"It would {' and '.join(effects)}, raising global efficiency by "
              f"{rec['efficiency_gain']:.3g} (from {rec['efficiency_before']:.3f} to "
              f"{rec['efficiency_after']:.3f})")
    if rec["cross_share"] < 1:
        second += f"; {rec['cross_share']:.0%} of the tie would cross sectors"
    if rec["ei_change"] is not None:
        second += f", moving the E-I index by {rec['ei_change']:+.3g}"
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
        ``relationship`` (the type proposed), ``source_sectors``, ``target_sectors`` (shares),
        ``source_kind``, ``target_kind``, ``cross_share`` (the share of the tie that would
        cross sectors), ``distance_before`` (hops, ``None`` when not
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
    relationship, source_kinds, target_kinds = recommended_relationship(net)
    can_source = [source_kinds is None or k in source_kinds for k in net.kind]
    can_target = [target_kinds is None or k in target_kinds for k in net.kind]
    ends = _endpoints(net, per_sector, backend, [s or t for s, t in zip(can_source, can_target)])
    tied = set((net.tie_u * n + net.tie_v).tolist())
    w = net.member
    pairs = [(a, b) for i, a in enumerate(ends) for b in ends[i + 1:]
             if float(w[a] @ w[b]) < 1 - 1e-9 and (min(a, b) * n + max(a, b)) not in tied
             and ((can_source[a] and can_target[b]) or (can_source[b] and can_target[a]))]
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
    from d4d.analyse.sectors import _tie_matrix, ei_of, modularity_of, tie_shares

    ties = _tie_matrix(net)
    q_before = modularity_of(ties)
    ei_before = ei_of(ties)

    def score(a: int, b: int) -> dict[str, Any]:
        da, db = end_dist[a], end_dist[b]
        alt = np.minimum(dist[:, [a]] + 1.0 + db[None, :], dist[:, [b]] + 1.0 + da[None, :])
        better = alt < dist
        gain = float((1.0 / alt[better]).sum() - inv[better].sum())
        newly = better & ~np.isfinite(dist)
        connected = float(newly.sum()) * scale / 2
        shortened = float(better.sum()) * scale / 2 - connected
        after = ties + tie_shares(net, a, b)
        q_after, ei_after = modularity_of(after), ei_of(after)
        before_ab = float(da[b])
        return {
            "source": net.nodes[a], "target": net.nodes[b],
            "source_label": net.label[a], "target_label": net.label[b],
            "relationship": relationship,
            "source_sectors": net.shares(a), "target_sectors": net.shares(b),
            "source_kind": net.kind[a], "target_kind": net.kind[b],
            "cross_share": 1.0 - float(w[a] @ w[b]),
            "distance_before": int(before_ab) if math.isfinite(before_ab) else None,
            "efficiency_before": base,
            "efficiency_after": base + gain / (k * (n - 1)),
            "efficiency_gain": gain / (k * (n - 1)),
            "paths_shortened": round(shortened), "pairs_connected": round(connected),
            "modularity_change": (q_after - q_before if q_after is not None and q_before is not None
                                  else None),
            "ei_change": ei_after - ei_before if ei_after is not None and ei_before is not None else None,
            "exact": exact,
        }

    chosen: list[dict[str, Any]] = []
    remaining = list(pairs)
    while remaining and len(chosen) < count:
        scored = [score(a, b) for a, b in remaining]
        scored.sort(key=lambda r: (-r["efficiency_gain"], -r["paths_shortened"],
                                   r["source"], r["target"]))
        rec = scored[0]
        chosen.append(rec)
        a, b = net.index[rec["source"]], net.index[rec["target"]]
        remaining.remove((a, b) if (a, b) in remaining else (b, a))
        # make the tie, then score the rest against the field with it (a shortest path uses the
        # new tie at most once, so the distances update exactly)
        da, db = end_dist[a].copy(), end_dist[b].copy()
        dist = np.minimum(dist, np.minimum(dist[:, [a]] + 1.0 + db[None, :], dist[:, [b]] + 1.0 + da[None, :]))
        for e in end_list:
            row = end_dist[e]
            end_dist[e] = np.minimum(row, np.minimum(row[a] + 1.0 + db, row[b] + 1.0 + da))
        with np.errstate(divide="ignore"):
            inv = np.where(np.isfinite(dist) & (dist > 0), 1.0 / dist, 0.0)
        base = float(inv.sum()) / (k * (n - 1))
        ties = ties + tie_shares(net, a, b)
        q_before, ei_before = modularity_of(ties), ei_of(ties)
    best = chosen
    for i, rec in enumerate(best):
        rec["reason"] = _reason(net, rec, approx=not exact, sources=k)
        if i:
            rec["reason"] = "With the ties above made: " + rec["reason"]
    return best
