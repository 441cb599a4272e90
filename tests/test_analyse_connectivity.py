"""Connectivity measures on graphs whose answers are known by hand, and the collapse rules."""

from __future__ import annotations

import networkx as nx
import pytest

from analyse_graphs import ecosystem, random_ecosystem
from d4d.analyse import (
    Network,
    articulation_points,
    bridges,
    component_membership,
    component_summary,
    global_efficiency,
)

BACKENDS = ["networkx", "igraph"]


def _two_parts() -> nx.MultiDiGraph:
    # a triangle with a tail (a-b-c triangle, c-d, d-e), a pair f-g, an isolate h;
    # f -> g twice (parallel relationships), d <-> e both ways
    return ecosystem({v: "A" for v in "abcdefgh"},
                     [("a", "b", {}), ("b", "c", {}), ("c", "a", {}), ("c", "d", {}),
                      ("d", "e", {}), ("e", "d", {}), ("f", "g", {}), ("f", "g", {})])


def test_collapse_keeps_one_tie_per_pair_and_counts_relationships() -> None:
    net = Network(_two_parts())
    assert net.relationships == 8
    assert net.ties == 6
    pairs = {(net.nodes[u], net.nodes[v]): c for u, v, c in
             zip(net.tie_u.tolist(), net.tie_v.tolist(), net.tie_count.tolist())}
    assert pairs[("f", "g")] == 2 and pairs[("d", "e")] == 2 and pairs[("a", "b")] == 1
    arcs = set(zip([net.nodes[i] for i in net.arc_src.tolist()],
                   [net.nodes[i] for i in net.arc_dst.tolist()]))
    assert ("d", "e") in arcs and ("e", "d") in arcs and ("g", "f") not in arcs


def test_undirected_relationships_give_arcs_both_ways_and_self_loops_are_dropped() -> None:
    net = Network(ecosystem({"a": "A", "b": "B"},
                            [("a", "b", {"type": "Partnership", "directed": False}),
                             ("a", "a", {})]))
    assert net.ties == 1
    assert sorted(zip(net.arc_src.tolist(), net.arc_dst.tolist())) == [(0, 1), (1, 0)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_components_and_isolates(backend: str) -> None:
    summary = component_summary(_two_parts(), backend=backend)  # type: ignore[arg-type]
    assert summary["weak_components"] == 3
    assert summary["component_sizes"] == [5, 2, 1]
    assert summary["largest_component_share"] == pytest.approx(5 / 8)
    assert summary["isolates"] == ["h"]
    # strong: {a, b, c} cycle, {d, e} mutual, f, g, h alone
    assert summary["strong_components"] == 5
    assert summary["largest_strong_component"] == 3
    membership = component_membership(_two_parts(), backend=backend)  # type: ignore[arg-type]
    assert membership["a"] == membership["e"] == 0 and membership["f"] == 1 and membership["h"] == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_articulation_points_and_bridges(backend: str) -> None:
    G = _two_parts()
    assert articulation_points(G, backend=backend) == ["c", "d"]  # type: ignore[arg-type]
    assert bridges(G, backend=backend) == [["c", "d"], ["d", "e"], ["f", "g"]]  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
def test_global_efficiency_exact(backend: str) -> None:
    # path a-b-c: ordered pairs at distance 1 (4) and 2 (2): (4 + 1) / 6
    path = nx.path_graph(["a", "b", "c"])
    assert global_efficiency(path, backend=backend)["value"] == pytest.approx(5 / 6)  # type: ignore[arg-type]
    G = random_ecosystem(60, 90, seed=2)
    expected = nx.global_efficiency(nx.Graph(G.to_undirected()))
    result = global_efficiency(G, backend=backend)  # type: ignore[arg-type]
    assert result["value"] == pytest.approx(expected)
    assert result["exact"] and result["error_bound"] == 0.0


def test_sampled_efficiency_states_its_error() -> None:
    G = random_ecosystem(200, 500, seed=3)
    exact = global_efficiency(G)["value"]
    for backend in BACKENDS:
        est = global_efficiency(G, samples=50, seed=1, backend=backend)  # type: ignore[arg-type]
        assert not est["exact"] and est["samples"] == 50
        assert abs(est["value"] - exact) <= est["error_bound"]
        # the empirical standard error is far tighter than Hoeffding's guarantee
        assert 0 < est["standard_error"] < est["error_bound"] / 5
        assert abs(est["value"] - exact) < 4 * est["standard_error"]
    assert global_efficiency(G, samples=50, seed=1, backend="igraph")["value"] == pytest.approx(
        global_efficiency(G, samples=50, seed=1, backend="networkx")["value"])


def test_nodes_are_ordered_by_iri_whatever_the_insertion_order() -> None:
    G1 = ecosystem({"b": "A", "a": "A", "c": "B"}, [("b", "c", {}), ("a", "b", {})])
    G2 = ecosystem({"c": "B", "a": "A", "b": "A"}, [("a", "b", {}), ("b", "c", {})])
    assert Network(G1).nodes == Network(G2).nodes == ["a", "b", "c"]
    assert component_membership(G1) == component_membership(G2)


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend"):
        component_summary(_two_parts(), backend="graph-tool")  # type: ignore[arg-type]
