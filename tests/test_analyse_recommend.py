"""Bridge recommendations: computed gains, checked by adding the tie and measuring again."""

from __future__ import annotations

import networkx as nx
import pytest

from analyse_graphs import ecosystem, random_ecosystem
from d4d.analyse import recommend_ties, sector_modularity


def _islands() -> nx.MultiDiGraph:
    # sector A: star around hub a0 (a1..a4); sector B: path b0-b1-b2; person p in B's star
    edges = [("a0", f"a{i}") for i in range(1, 5)] + [("b0", "b1"), ("b1", "b2"), ("p", "b1")]
    nodes = {**{f"a{i}": "A" for i in range(5)}, "b0": "B", "b1": "B", "b2": "B", "p": "none"}
    G = ecosystem(nodes, [(u, v, {}) for u, v in edges])
    # as the ontology declares it: partnerships are held by organisations (here NGOs), not people
    G.graph["edge_types"] = {"Partnership": {"recommended": True, "source_kinds": ["NGO"],
                                             "target_kinds": ["NGO"]},
                             "Funding": {"recommended": False}}
    return G


def _efficiency(G: nx.MultiDiGraph, extra: tuple[str, str] | None = None) -> float:
    simple = nx.Graph(G.to_undirected())
    if extra:
        simple.add_edge(*extra)
    return nx.global_efficiency(simple)


@pytest.mark.parametrize("backend", ["networkx", "igraph"])
def test_best_tie_joins_the_hubs_of_the_two_islands(backend: str) -> None:
    G = _islands()
    recs = recommend_ties(G, count=3, backend=backend)  # type: ignore[arg-type]
    best = recs[0]
    assert {best["source"], best["target"]} == {"a0", "b1"}
    assert best["distance_before"] is None
    # 5 actors of A times 4 of B (with p) get a path for the first time
    assert best["pairs_connected"] == 20 and best["paths_shortened"] == 0
    assert best["efficiency_before"] == pytest.approx(_efficiency(G))
    assert best["efficiency_after"] == pytest.approx(_efficiency(G, ("a0", "b1")))
    # a sequence: each tie's gain is measured with the ties above it made
    H = nx.Graph(G.to_undirected())
    for rec in recs:
        before = nx.global_efficiency(H)
        H.add_edge(rec["source"], rec["target"])
        assert rec["efficiency_before"] == pytest.approx(before)
        assert rec["efficiency_after"] == pytest.approx(nx.global_efficiency(H))
        assert "p" not in (rec["source"], rec["target"])  # people are not proposed
        assert rec["source_sectors"].keys() | rec["target_sectors"].keys() == {"A", "B"}
    assert recs[1]["reason"].startswith("With the ties above made")


def test_modularity_change_and_reason_are_computed() -> None:
    G = _islands()
    best = recommend_ties(G, count=1)[0]
    H = G.copy()
    H.add_edge(best["source"], best["target"], key="new", type="Partnership", directed=False)
    assert best["modularity_change"] == pytest.approx(sector_modularity(H) - sector_modularity(G))
    reason = best["reason"]
    assert "Sector A" in reason and "Sector B" in reason
    assert "A0" in reason and "B1" in reason
    assert "no path between them" in reason
    assert "give 20 pairs of actors a path for the first time" in reason
    assert f"{best['efficiency_before']:.3f}" in reason and f"{best['efficiency_after']:.3f}" in reason
    assert f"by {best['efficiency_gain']:.3g}" in reason


def test_no_recommendation_within_a_sector_or_for_tied_pairs() -> None:
    G = ecosystem({"a": "A", "b": "A", "c": "B"}, [("a", "c", {}), ("b", "c", {})])
    recs = recommend_ties(G)
    assert recs == []  # a-b is within A; a-c and b-c are tied already


def test_paths_shortened_counts_pairs_brought_closer() -> None:
    # path a0 - a1 - a2 - b0 - b1: a new tie a0-b1 closes a cycle of 5
    G = ecosystem({"a0": "A", "a1": "A", "a2": "A", "b0": "B", "b1": "B"},
                  [("a0", "a1", {}), ("a1", "a2", {}), ("a2", "b0", {}), ("b0", "b1", {})])
    recs = recommend_ties(G, per_sector=3)
    chosen = next(r for r in recs if {r["source"], r["target"]} == {"a0", "b1"})
    # a0-b1 4 -> 1, a0-b0 3 -> 2, a1-b1 3 -> 2: three pairs shorter
    assert chosen["paths_shortened"] == 3 and chosen["pairs_connected"] == 0
    assert chosen["distance_before"] == 4
    assert "shorten 3 paths" in chosen["reason"]


def test_sampled_recommendations_estimate_the_gain() -> None:
    G = random_ecosystem(300, 500, seed=9)
    exact = {(r["source"], r["target"]): r for r in recommend_ties(G, count=5)}
    sampled = recommend_ties(G, count=5, samples=200, seed=1)
    assert not sampled[0]["exact"] and "Estimated from 200 sampled actors" in sampled[0]["reason"]
    for rec in sampled:
        key = (rec["source"], rec["target"])
        if key in exact:
            assert rec["efficiency_gain"] == pytest.approx(exact[key]["efficiency_gain"], rel=0.3)


def test_only_kinds_that_can_hold_the_tie_are_proposed() -> None:
    G = _islands()
    # a0, the hub of A, becomes a media outlet: it cannot hold a partnership
    G.nodes["a0"]["kind"] = "MediaOutlet"
    recs = recommend_ties(G, count=10)
    assert recs and all("a0" not in (r["source"], r["target"]) for r in recs)
    assert all("p" not in (r["source"], r["target"]) for r in recs)
    assert {r["relationship"] for r in recs} == {"Partnership"}
    # the best is now a1 (or another leaf of a0) with b1: a path for 20 pairs as before
    assert recs[0]["pairs_connected"] == 20


def test_multi_sector_pairs_sharing_their_only_sector_are_not_proposed() -> None:
    G = _islands()
    G.nodes["b1"]["sectors"] = ["A", "B"]
    recs = recommend_ties(G, count=50)
    for r in recs:
        shares = [r["source_sectors"], r["target_sectors"]]
        assert r["cross_share"] > 0
        assert not (shares[0] == shares[1] == {"A": 1.0})
    # a0 (A) and b1 (A, B): half the tie would cross sectors
    best = [r for r in recs if {r["source"], r["target"]} == {"a0", "b1"}]
    assert best and best[0]["cross_share"] == pytest.approx(0.5)
