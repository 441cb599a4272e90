"""Brokers: betweenness, Burt's constraint and effective size, Gould--Fernandez roles."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest

from analyse_graphs import ecosystem, random_ecosystem
from d4d.analyse import (
    Network,
    betweenness,
    betweenness_error,
    brokerage_roles,
    constraint,
    dominant_role,
    effective_size,
    roles_by_sector,
)

BACKENDS = ["networkx", "igraph"]


def _gould_fernandez_example() -> nx.MultiDiGraph:
    """Each of v1..v5 brokers exactly one two-path, one of each role (Gould & Fernandez 1989,
    fig. 1): sender -> broker -> receiver, with sectors

        v1 coordinator     X -> X -> X      (x1 -> v1 -> x2)
        v2 consultant      Y -> X -> Y      (y1 -> v2 -> y2)
        v3 representative  X -> X -> Y      (x3 -> v3 -> y3)
        v4 gatekeeper      Y -> X -> X      (y4 -> v4 -> x4)
        v5 liaison         Y -> X -> Z      (y5 -> v5 -> z5)

    plus three cases that are not brokerage or count twice:
        w closes a triad (c1 -> w -> c2 with c1 -> c2): no brokerage;
        u and m tie both ways (m -> u -> m): a == b, no brokerage;
        p1 - w3 - p2 are undirected partnerships (all X): w3 brokers p1 -> p2 and p2 -> p1.
    """
    nodes = {"x1": "X", "v1": "X", "x2": "X",
             "y1": "Y", "v2": "X", "y2": "Y",
             "x3": "X", "v3": "X", "y3": "Y",
             "y4": "Y", "v4": "X", "x4": "X",
             "y5": "Y", "v5": "X", "z5": "Z",
             "c1": "X", "w": "X", "c2": "X", "u": "X", "m": "Y",
             "p1": "X", "w3": "X", "p2": "X"}
    edges = [("x1", "v1"), ("v1", "x2"), ("y1", "v2"), ("v2", "y2"), ("x3", "v3"), ("v3", "y3"),
             ("y4", "v4"), ("v4", "x4"), ("y5", "v5"), ("v5", "z5"),
             ("c1", "w"), ("w", "c2"), ("c1", "c2"), ("m", "u"), ("u", "m")]
    G = ecosystem(nodes, [(a, b, {}) for a, b in edges]
                  + [("p1", "w3", {"type": "Partnership", "directed": False}),
                     ("w3", "p2", {"type": "Partnership", "directed": False})])
    return G


@pytest.mark.parametrize("backend", BACKENDS)
def test_gould_fernandez_each_role_exactly_once(backend: str) -> None:
    roles = brokerage_roles(_gould_fernandez_example(), backend=backend)  # type: ignore[arg-type]
    expected = {"v1": "coordinator", "v2": "consultant", "v3": "representative",
                "v4": "gatekeeper", "v5": "liaison"}
    for broker, role in expected.items():
        entry = roles[broker]
        assert entry is not None
        assert entry[role] == 1 and entry["total"] == 1, (broker, entry)
    for not_broker in ("w", "u", "m", "x1", "x2", "c1", "c2"):
        assert roles[not_broker]["total"] == 0  # type: ignore[index]
    assert roles["w3"] == {"coordinator": 2, "gatekeeper": 0, "representative": 0,
                           "consultant": 0, "liaison": 0, "total": 2}
    assert dominant_role(roles)["v4"] == "gatekeeper"
    assert dominant_role(roles)["w"] is None


def _brute_force_roles(G: nx.MultiDiGraph) -> dict[str, dict[str, float]]:
    """Every two-path enumerated, and every draw of the three actors' sectors from their shares
    weighed by its chance: the role of each draw by the discrete rule of Gould and Fernandez."""
    net = Network(G)
    arcs = set(zip(net.arc_src.tolist(), net.arc_dst.tolist()))
    shares = [net.shares(i) for i in range(net.n)]
    counts = {v: dict.fromkeys(["coordinator", "gatekeeper", "representative", "consultant",
                                "liaison"], 0.0) for v in range(net.n)}
    for a, v, b in itertools.permutations(range(net.n), 3):
        if (a, v) in arcs and (v, b) in arcs and (a, b) not in arcs and shares[a] and shares[v] and shares[b]:
            for (ga, wa), (gv, wv), (gb, wb) in itertools.product(shares[a].items(), shares[v].items(),
                                                                  shares[b].items()):
                if ga == gv == gb:
                    role = "coordinator"
                elif ga == gb:
                    role = "consultant"
                elif ga == gv:
                    role = "representative"
                elif gb == gv:
                    role = "gatekeeper"
                else:
                    role = "liaison"
                counts[v][role] += wa * wv * wb
    return {net.nodes[v]: c for v, c in counts.items() if shares[v]}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("backend", BACKENDS)
def test_brokerage_counts_match_brute_force_enumeration(seed: int, backend: str) -> None:
    G = random_ecosystem(30, 110, seed=seed, sectors="ABCD")
    # a third of the organisations hold two or three sectors
    rng = random.Random(seed)
    for v in sorted(G):
        if G.nodes[v]["sectors"] and rng.random() < 1 / 3:
            G.nodes[v]["sectors"] = sorted(set(G.nodes[v]["sectors"]) | set(rng.sample("ABCD", 2)))
    fast = brokerage_roles(G, backend=backend)  # type: ignore[arg-type]
    slow = _brute_force_roles(G)
    assert any(len(G.nodes[v]["sectors"]) > 1 for v in G)
    for v, counts in slow.items():
        entry = fast[v]
        assert entry is not None
        assert {r: entry[r] for r in counts} == pytest.approx(counts), v
        assert entry["total"] == pytest.approx(sum(counts.values()))
    assert sum(1 for e in fast.values() if e is None) == len(fast) - len(slow)


def test_roles_by_sector_sums_the_members() -> None:
    G = _gould_fernandez_example()
    by_sector = roles_by_sector(G, brokerage_roles(G))
    assert by_sector["X"] == {"coordinator": 3, "gatekeeper": 1, "representative": 1,
                              "consultant": 1, "liaison": 1}
    assert sum(by_sector["Y"].values()) == 0


def _burt_ego() -> nx.Graph:
    # ego e with contacts a, b, c; a and b are tied
    return nx.Graph([("e", "a"), ("e", "b"), ("e", "c"), ("a", "b")])


@pytest.mark.parametrize("backend", BACKENDS)
def test_constraint_by_hand(backend: str) -> None:
    c = constraint(_burt_ego(), backend=backend)  # type: ignore[arg-type]
    # e: p = 1/3 each; a and b: (1/3 + 1/3 * 1/2)^2 = 1/4 each; c: (1/3)^2 -> 1/2 + 1/9
    assert c["e"] == pytest.approx(11 / 18)
    # a: p_ae = p_ab = 1/2; via b to e: (1/2 + 1/2 * p_be = 1/2 * 1/2)^2 = 9/16;
    #    via e to b: (1/2 + 1/2 * p_eb = 1/2 * 1/3)^2 = 4/9; 9/16 + 4/9 = 145/144
    assert c["a"] == pytest.approx(145 / 144)
    assert c["c"] == pytest.approx(1.0)  # a single contact: fully constrained


@pytest.mark.parametrize("backend", BACKENDS)
def test_effective_size_by_hand(backend: str) -> None:
    e = effective_size(_burt_ego(), backend=backend)  # type: ignore[arg-type]
    # n - 2t/n: e 3 - 2/3; a 2 - 2*1/2; c 1 - 0
    assert e == pytest.approx({"e": 7 / 3, "a": 1.0, "b": 1.0, "c": 1.0})


@pytest.mark.parametrize("backend", BACKENDS)
def test_constraint_weighs_ties_by_relationship_count_like_networkx(backend: str) -> None:
    G = random_ecosystem(40, 160, seed=7)
    net = Network(G)
    simple = nx.Graph()
    simple.add_nodes_from(G)
    for u, v in zip(net.tie_u.tolist(), net.tie_v.tolist()):
        simple.add_edge(net.nodes[u], net.nodes[v], count=0)
    for u, v in G.edges():
        if u != v:
            simple[u][v]["count"] += 1
    expected = nx.constraint(simple, weight="count")
    got = constraint(G, backend=backend)  # type: ignore[arg-type]
    for v in G:
        if simple.degree(v):
            assert got[v] == pytest.approx(expected[v])
        else:
            assert got[v] is None
    assert effective_size(G, backend=backend) == pytest.approx(  # type: ignore[arg-type]
        {v: (x if simple.degree(v) else None) for v, x in nx.effective_size(simple).items()})


@pytest.mark.parametrize("backend", BACKENDS)
def test_betweenness_exact(backend: str) -> None:
    assert betweenness(nx.path_graph(["a", "b", "c"]), backend=backend) == {  # type: ignore[arg-type]
        "a": 0.0, "b": 1.0, "c": 0.0}
    star = nx.star_graph(4)  # the centre lies on all 6 leaf pairs
    star = nx.relabel_nodes(star, str)
    assert betweenness(star, backend=backend)["0"] == pytest.approx(1.0)  # type: ignore[arg-type]
    G = random_ecosystem(50, 120, seed=8)
    expected = nx.betweenness_centrality(nx.Graph(G.to_undirected()))
    assert betweenness(G, backend=backend) == pytest.approx(expected)  # type: ignore[arg-type]


def test_sampled_betweenness_is_within_its_stated_bound() -> None:
    # barbell: two 25-cliques joined through a 10-node path, whose middle carries half the pairs
    G = nx.relabel_nodes(nx.barbell_graph(25, 10), lambda v: f"v{v:02d}")
    n = G.number_of_nodes()
    exact = betweenness(G)
    for backend in BACKENDS:
        sampled = betweenness(G, samples=40, seed=3, backend=backend)  # type: ignore[arg-type]
        bound = betweenness_error(n, 40)["error_bound_all"]
        assert max(abs(sampled[v] - exact[v]) for v in G) <= bound
        assert 0 < bound < 0.35
    middle = "v29"
    assert exact[middle] > 0.45
    # both backends sample the same sources and agree exactly
    assert betweenness(G, samples=40, seed=3, backend="igraph") == pytest.approx(
        betweenness(G, samples=40, seed=3, backend="networkx"))


def test_sampled_betweenness_equals_the_subset_sum_scaled() -> None:
    G = nx.relabel_nodes(nx.les_miserables_graph(), str)
    from d4d.analyse._network import sample_nodes

    net = Network(G)
    sources = [net.nodes[i] for i in sample_nodes(net.n, 20, 11)]
    raw = nx.betweenness_centrality_subset(nx.Graph(G), sources, list(G), normalized=False)
    n = net.n
    scale = 2 / ((n - 1) * (n - 2)) * n / 20
    assert betweenness(G, samples=20, seed=11) == pytest.approx({v: raw[v] * scale for v in G})


def test_betweenness_error_shrinks_with_samples() -> None:
    assert betweenness_error(100, None) == {"exact": True, "samples": 100, "error_bound": 0.0,
                                            "error_bound_all": 0.0, "confidence": 0.95}
    few, many = betweenness_error(10_000, 64), betweenness_error(10_000, 1024)
    assert many["error_bound"] == pytest.approx(few["error_bound"] / 4, rel=1e-3)
    assert few["error_bound_all"] > few["error_bound"]
