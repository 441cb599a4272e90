"""The projection RDF -> networkx: driven by the ontology, every relationship one edge, known counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from d4d import network
from d4d.build import run_reasoning
from d4d.load import load
from d4d.vocab import ID

DPA, LETOUZE, RF = str(ID["data-pop-alliance"]), str(ID["emmanuel-letouze"]), str(ID["rockefeller-foundation"])


@pytest.fixture(scope="module")
def seed_network(root: Path):  # type: ignore[no-untyped-def]
    reasoned = run_reasoning(load(root / "ontology", root / "graph"), reasoner=False)
    return network.project(reasoned.store, reasoned.loaded.ontology)


def test_nodes_are_the_actors(seed_network) -> None:  # type: ignore[no-untyped-def]
    kinds = Counter(d["actor_type"] for _, d in seed_network.nodes(data=True))
    assert kinds == {"Organization": 19, "Person": 7}
    hhi = seed_network.nodes[str(ID["harvard-humanitarian-initiative"])]
    assert (hhi["kind"], hhi["sectors"], hhi["founded"]) == ("ResearchCentre", ["academia", "humanitarian"], 2005)
    # both of its sectors, half each; it stands from its founding
    assert hhi["sector_weights"] == {"academia": 0.5, "humanitarian": 0.5}
    assert (hhi["from"], hhi["to"]) == (2005, None)
    assert "sector" not in hhi  # no one sector picked out of several
    assert seed_network.nodes[str(ID["overseas-development-institute"])]["kind"] == "ThinkTank"
    assert seed_network.nodes[LETOUZE]["sectors"] == []
    # a person's shares are the mean of the actors its relationships lead to
    assert sum(seed_network.nodes[LETOUZE]["sector_weights"].values()) == pytest.approx(1.0)


def test_every_relationship_is_an_edge(seed_network) -> None:  # type: ignore[no-untyped-def]
    # By hand from graph/relationships: foundings with founders give 3 + 1 + 6 edges (the HHI and
    # Media Lab foundings name no founder); memberships 11; coverage 5 outlets x subjects = 2+2+2+2+1+3.
    assert Counter(d["type"] for _, _, d in seed_network.edges(data=True)) == {
        "Founding": 10, "Membership": 11, "MediaCoverage": 12, "Support": 5, "SubOrganization": 3,
        "Funding": 1, "Incubation": 1}


def test_parallel_relationships_stay_separate(seed_network) -> None:  # type: ignore[no-untyped-def]
    between = seed_network.get_edge_data(LETOUZE, DPA)
    assert sorted(d["type"] for d in between.values()) == ["Founding", "Founding", "Membership", "Membership",
                                                           "Membership"]
    assert len(set(between)) == 5  # keyed by fact IRI


def test_edge_attributes(seed_network) -> None:  # type: ignore[no-untyped-def]
    between = seed_network.get_edge_data(RF, DPA).values()
    assert sorted(d["type"] for d in between) == ["Funding", "Support"]
    funding = [d for d in between if d["type"] == "Funding"]
    f = funding[0]
    assert (f["amount"], f["currency"], f["weight"], f["directed"]) == (400000.0, "USD", 400000.0, True)
    assert f["sources"] == [str(ID["seed-datapop-website"])]
    assert f["quote"].startswith("Core seed funding ($400,000)")
    coverage = seed_network.get_edge_data(str(ID["wired"]), str(ID["alex-pentland"]))
    assert [d["year"] for d in coverage.values()] == [2015]


def test_graph_attributes_come_from_the_ontology(seed_network) -> None:  # type: ignore[no-untyped-def]
    assert seed_network.graph["edge_types"]["Funding"] == {
        "label": "Funding", "color": "#2e7d32", "dashes": False, "directed": True,
        "source_kinds": [], "target_kinds": [], "recommended": False}
    partnership = seed_network.graph["edge_types"]["Partnership"]
    assert partnership["recommended"] and "MediaOutlet" not in partnership["source_kinds"]
    assert "Person" not in partnership["target_kinds"] and "NGO" in partnership["target_kinds"]
    assert seed_network.graph["sectors"]["humanitarian"]["color"] == "#d32f2f"
    assert seed_network.graph["kinds"]["Person"]["shape"] == "diamond"


def test_side_panel_facts_carry_quotes(seed_network) -> None:  # type: ignore[no-untyped-def]
    facts = seed_network.nodes[RF]["facts"]
    funding = [f for f in facts if f["type"] == "Funding"]
    assert funding and funding[0]["quote"].startswith("Core seed funding")
    assert funding[0]["source_title"].startswith("Data-Pop Alliance website")
    assert funding[0]["from_seeds"] is True


def test_undirected_relationships_give_one_edge_per_pair(project_copy: Path) -> None:
    (project_copy / "graph" / "zz-partners.yaml").write_text(
        "- id: p-three\n  type: Partnership\n  partner: [datakind, watsi, crisis-text-line]\n  sources:\n"
        "    - source: seed-ssir-collaboration\n      quote: DataKind\n", encoding="utf-8")
    reasoned = run_reasoning(load(project_copy / "ontology", project_copy / "graph"), reasoner=False)
    graph = network.project(reasoned.store, reasoned.loaded.ontology, facts=False)
    partnerships = [(u, v, d) for u, v, d in graph.edges(data=True) if d["type"] == "Partnership"]
    assert len(partnerships) == 3
    assert all(d["directed"] is False and u < v for u, v, d in partnerships)


def test_undirected_simple_collapses_and_counts(seed_network) -> None:  # type: ignore[no-untyped-def]
    simple = network.undirected_simple(seed_network)
    assert simple[LETOUZE][DPA]["weight"] == 5.0
    assert simple[LETOUZE][DPA]["types"] == ["Founding", "Membership"]
    assert simple.number_of_edges() < seed_network.number_of_edges()
