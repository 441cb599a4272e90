"""Sector structure on the hand-worked three-sector graph (tests/analyse_graphs.py) and on a published network.

Ties: within A 3 (a1-a2 counted once although two relationships carry it), within B 1,
A-B 2, B-C 1; 7 in all.  Sizes: A 3, B 2, C 1.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from analyse_graphs import ecosystem, random_ecosystem, three_sectors
from d4d.analyse import (
    Network,
    conductance,
    ei_index,
    mixing_matrix,
    sector_assortativity,
    sector_modularity,
    sector_partition,
)
from d4d.analyse.sectors import ei_overall


def test_mixing_matrix_counts_ties_and_relationships() -> None:
    mixing = mixing_matrix(three_sectors())
    assert mixing["sectors"] == ["A", "B", "C"]
    assert mixing["actors"] == [3, 2, 1]
    assert mixing["ties"] == [[3, 2, 0], [2, 1, 1], [0, 1, 0]]
    # a1-a2 is two relationships
    assert mixing["relationships"] == [[4, 2, 0], [2, 1, 1], [0, 1, 0]]
    # density: A-A 3 of 3 pairs, A-B 2 of 6, B-C 1 of 2, C-C no pair possible
    assert mixing["density"][0][0] == 1.0
    assert mixing["density"][0][1] == pytest.approx(2 / 6)
    assert mixing["density"][1][2] == pytest.approx(1 / 2)
    assert mixing["density"][2][2] is None


def test_ei_index_by_hand() -> None:
    ei = ei_index(three_sectors())
    # E = 3 (a1-b1, a3-b2, b2-c1), I = 4: (3 - 4) / 7
    assert (ei["external"], ei["internal"]) == (3, 4)
    assert ei["value"] == pytest.approx(-1 / 7)
    # possible pairs: 15, within 3 + 1 + 0 = 4, across 11: (11 - 4) / 15
    assert ei["expected"] == pytest.approx(7 / 15)
    # A: EL 2, IL 3 -> -1/5; B: EL 3, IL 1 -> 1/2; C: EL 1, IL 0 -> 1
    assert ei["by_sector"]["A"]["value"] == pytest.approx(-0.2)
    assert ei["by_sector"]["B"]["value"] == pytest.approx(0.5)
    assert ei["by_sector"]["C"]["value"] == 1.0
    # expected: A 9 across vs 3 within -> 0.5; B 8 vs 1 -> 7/9; C 5 vs 0 -> 1
    assert ei["by_sector"]["A"]["expected"] == pytest.approx(0.5)
    assert ei["by_sector"]["B"]["expected"] == pytest.approx(7 / 9)
    # actors: a1 has 2 internal and 1 external tie; b2 1 internal, 2 external
    assert ei["by_actor"]["a1"] == pytest.approx(-1 / 3)
    assert ei["by_actor"]["b2"] == pytest.approx(1 / 3)
    assert ei["by_actor"]["c1"] == 1.0
    assert ei_overall(three_sectors()) == (ei["value"], ei["expected"])


def test_krackhardt_extremes() -> None:
    # all ties inside groups -> -1; all across -> +1 (Krackhardt & Stern's bounds)
    inside = ecosystem({"a": "A", "b": "A", "c": "B", "d": "B"}, [("a", "b", {}), ("c", "d", {})])
    across = ecosystem({"a": "A", "b": "A", "c": "B", "d": "B"}, [("a", "c", {}), ("b", "d", {})])
    assert ei_index(inside)["value"] == -1.0
    assert ei_index(across)["value"] == 1.0
    assert ei_index(ecosystem({"a": "A"}))["value"] is None


def _with_person() -> nx.MultiDiGraph:
    G = three_sectors()
    G.add_node("p", label="P", kind="Person", actor_type="Person", sectors=[], sector="none")
    for org in ("b1", "a2", "a3"):
        G.add_edge("p", org, key=f"m-{org}", type="Membership", directed=True, year=None)
    return G


def test_people_take_the_mean_share_of_the_actors_their_relationships_lead_to() -> None:
    G = _with_person()
    # p is a member of a2 and a3 (A) and of b1 (B): 2/3 A, 1/3 B
    assert sector_partition(G)["p"] == pytest.approx({"A": 2 / 3, "B": 1 / 3})
    ei = ei_index(G)
    # p-a2 and p-a3 are each 2/3 within A, p-b1 1/3 within B: I = 4 + 5/3, E = 3 + 4/3
    assert (ei["external"], ei["internal"]) == pytest.approx((13 / 3, 17 / 3))
    assert ei["value"] == pytest.approx(-2 / 15)
    # p's own E-I: within 2/3 + 2/3 + 1/3 = 5/3, across 4/3
    assert ei["by_actor"]["p"] == pytest.approx((4 / 3 - 5 / 3) / 3)


def test_people_can_be_excluded() -> None:
    G = _with_person()
    assert sector_partition(G, unassigned="exclude")["p"] == {}
    ei = ei_index(G, unassigned="exclude")
    assert ei["value"] == pytest.approx(-1 / 7)
    assert ei["by_actor"]["p"] is None
    assert mixing_matrix(G, unassigned="exclude")["excluded_actors"] == 1


def test_inheritance_has_no_tie_break_and_loners_stay_out() -> None:
    G = ecosystem({"p": "none", "q": "none", "x": "B", "y": "A"},
                  [("p", "x", {}), ("p", "y", {})])
    groups = sector_partition(G)
    assert groups["p"] == {"A": 0.5, "B": 0.5}  # one relationship each: half each
    assert groups["q"] == {}  # no related actor with a sector


def _multi_sector() -> nx.MultiDiGraph:
    """h [hum, acad] tied to u [acad], to d [dev] and to m [hum, acad]; u-d tied.

    Shares: h = m = (acad 1/2, hum 1/2), u = acad, d = dev.
    Tie h-u: 1/2 within acad, 1/2 acad-hum.  Tie h-d: 1/2 acad-dev, 1/2 dev-hum.
    Tie h-m: 1/4 within acad, 1/4 within hum, 1/2 acad-hum.  Tie u-d: acad-dev.
    """
    G = ecosystem({"h": "none", "u": "A", "d": "D", "m": "none"},
                  [("h", "u", {}), ("h", "d", {}), ("h", "m", {}), ("u", "d", {})])
    G.graph["sectors"] = {"A": {"label": "Academia"}, "D": {"label": "Development"},
                          "H": {"label": "Humanitarian"}}
    for v in ("h", "m"):
        G.nodes[v].update(sectors=["H", "A"], kind="ResearchCentre", actor_type="Organization")
    return G


def test_multi_sector_mixing_worked_by_hand() -> None:
    m = mixing_matrix(_multi_sector())
    assert m["sectors"] == ["A", "D", "H"]
    assert m["actors"] == pytest.approx([2.0, 1.0, 1.0])  # u 1 + h 1/2 + m 1/2; d; h 1/2 + m 1/2
    assert m["members"] == [3, 1, 2]
    # within A: h-u 1/2 + h-m 1/4; A-D: h-d 1/2 + u-d 1; A-H: h-u 1/2 + h-m 1/2;
    # D-H: h-d 1/2; within H: h-m 1/4
    expected = [[0.75, 1.5, 1.0], [1.5, 0.0, 0.5], [1.0, 0.5, 0.25]]
    for row, want in zip(m["ties"], expected):
        assert row == pytest.approx(want)


def test_multi_sector_ei_modularity_worked_by_hand() -> None:
    G = _multi_sector()
    ei = ei_index(G)
    # I = 0.75 + 0.25 = 1, E = 1.5 + 1 + 0.5 = 3: (3 - 1) / 4
    assert ei["value"] == pytest.approx(0.5)
    assert ei["by_sector"]["H"]["external"] == pytest.approx(1.5)
    assert ei["by_sector"]["H"]["internal"] == pytest.approx(0.25)
    # h: within 1/2 (u) + 0 (d) + 1/2 (m), across 1/2 + 1 + 1/2: (2 - 1) / 3
    assert ei["by_actor"]["h"] == pytest.approx(1 / 3)
    # modularity: m = 4 ties; L = (0.75, 0, 0.25); degree sums D_g = row sum + diagonal:
    # A 3.25 + 0.75 = 4, D 2, H 1.75 + 0.25 = 2 -> 1/4 - (4/8)^2 - (2/8)^2 - (2/8)^2 = -1/8
    assert sector_modularity(G) == pytest.approx(0.25 - 0.25 - 0.0625 - 0.0625)
    # the degree sums are the actors' degrees shared out: A = h 3 * 1/2 + m 1 * 1/2 + u 2 = 4
    # possible pairs: 6; within A: (2^2 - (1/4 + 1/4 + 1)) / 2 = 1.25, within H: (1 - 1/2) / 2
    # = 0.25: expected E-I = (4.5 - 1.5) / 6
    assert ei["expected"] == pytest.approx(0.5)


def test_multi_sector_actors_are_measured_in_each_of_their_sectors() -> None:
    # the humanitarian sector has no actor of its own here, yet it is measured
    ei = ei_index(_multi_sector())
    assert ei["by_sector"]["H"]["actors"] == pytest.approx(1.0)
    assert ei["by_sector"]["H"]["value"] == pytest.approx((1.5 - 0.25) / 1.75)


def test_assortativity_by_hand_and_against_igraph() -> None:
    # tie ends: e = [[6, 2, 0], [2, 2, 1], [0, 1, 0]] / 14; trace 8/14; a = [8, 5, 1] / 14
    # r = (8/14 - 90/196) / (1 - 90/196) = 22/106
    assert sector_assortativity(three_sectors()) == pytest.approx(22 / 106)
    G = random_ecosystem(60, 150, seed=4, people=0.0)
    net = Network(G)
    g = net.igraph
    code = net.member.argmax(axis=1)  # one sector each here
    expected = g.assortativity_nominal(code.tolist(), directed=False)
    assert sector_assortativity(G) == pytest.approx(expected)


def test_modularity_by_hand_and_against_networkx() -> None:
    # m = 7; L = (3, 1, 0); degree sums (8, 5, 1): 4/7 - (64 + 25 + 1)/196 = 22/196
    assert sector_modularity(three_sectors()) == pytest.approx(22 / 196)
    G = random_ecosystem(60, 150, seed=5, people=0.0)
    simple = nx.Graph(G.to_undirected())
    simple.remove_edges_from(nx.selfloop_edges(simple))
    parts = [{v for v in simple if G.nodes[v]["sector"] == s} for s in "ABC"]
    assert sector_modularity(G) == pytest.approx(nx.community.modularity(simple, parts))


def test_conductance_by_hand_and_against_networkx() -> None:
    # A: cut 2, volumes 8 and 6 -> 2/6; B: cut 3, volumes 5 and 9 -> 3/5; C: cut 1, volume 1
    values = conductance(three_sectors())
    assert values == pytest.approx({"A": 1 / 3, "B": 3 / 5, "C": 1.0})
    G = random_ecosystem(50, 120, seed=6, people=0.0)
    simple = nx.Graph(G.to_undirected())
    for s in "ABC":
        members = {v for v in simple if G.nodes[v]["sector"] == s}
        assert conductance(G)[s] == pytest.approx(nx.conductance(simple, members))


def test_sector_order_follows_the_graph_declaration() -> None:
    G = three_sectors()
    G.graph["sectors"] = {"C": {}, "A": {}, "B": {}}
    assert mixing_matrix(G)["sectors"] == ["C", "A", "B"]



def _jemaah_islamiyah() -> nx.MultiDiGraph:
    """Koschade's (2006) published network of the Bali bombing cell (tests/data), groups = roles."""
    path = Path(__file__).parent / "data" / "koschade-2006-jemaah-islamiyah.tsv"
    rows = [line.rstrip("\n").split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")]
    names = rows[0][2:]
    nodes = {row[1]: row[0] for row in rows[1:]}
    edges = [(row[1], name, {"type": "Partnership", "directed": False})
             for row in rows[1:] for name, cell in zip(names, row[2:]) if cell == "1" and row[1] < name]
    return ecosystem(nodes, edges)


def test_ei_index_on_a_published_network() -> None:
    # Koschade's Table 1 with the cell's roles as groups; the values are those published for this
    # network in the documentation of the R package homophily (ei_index, scopes "global" and "node").
    ei = ei_index(_jemaah_islamiyah())
    assert (ei["external"], ei["internal"]) == (43, 20)  # 63 ties
    assert ei["value"] == pytest.approx(0.3650794, abs=1e-7)
    published = {"MUKLAS": 0.5555556, "AMROZI": 0.5, "IMRON": 1.0, "SAMUDRA": 0.7333333, "DULMATIN": 0.1111111,
                 "IDRIS": 0.6, "MUBAROK": 0.3333333, "AZAHARI": 0.1111111, "GHONI": 0.1111111, "ARNASAN": 1.0,
                 "RAUF": -0.2, "OCTAVIA": -0.2, "HIDAYAT": -0.2, "JUNAEDI": -0.2, "PATEK": 0.1111111,
                 "FERI": 1.0, "SARIJO": 0.1111111}
    assert ei["by_actor"] == pytest.approx(published, abs=1e-7)
