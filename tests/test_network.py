"""The projection RDF -> networkx: driven by the ontology, every relationship one edge, known counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from d4d import network
from d4d.pipeline import run_reasoning
from d4d.load import load
from d4d.vocab import D4D, ID

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
    # Media Lab foundings name no founder); memberships 11; coverage 5 outlets x subjects = 2+2+2+2+1+3;
    # supports 4 (the Rockefeller Foundation's backing is its funding: the support fact that cited only
    # the heading "Funders & Supporters" was removed in the review of the seed facts).
    assert Counter(d["type"] for _, _, d in seed_network.edges(data=True)) == {
        "Founding": 10, "Membership": 11, "MediaCoverage": 12, "Support": 4, "SubOrganization": 3,
        "Funding": 1, "Incubation": 1}


def test_parallel_relationships_stay_separate(seed_network) -> None:  # type: ignore[no-untyped-def]
    between = seed_network.get_edge_data(LETOUZE, DPA)
    assert sorted(d["type"] for d in between.values()) == ["Founding", "Founding", "Membership", "Membership",
                                                           "Membership"]
    assert len(set(between)) == 5  # keyed by fact IRI


def test_edge_attributes(seed_network) -> None:  # type: ignore[no-untyped-def]
    between = seed_network.get_edge_data(RF, DPA).values()
    assert sorted(d["type"] for d in between) == ["Funding"]
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


def test_same_as_clusters_count_once(root: Path) -> None:
    """Two records stated the same actor (owl:sameAs) are one node, with both records' sectors,
    the earliest founding and every relationship of either."""
    import pyoxigraph as ox

    from d4d.ontology import load_ontology
    from d4d.vocab import SECTOR

    def n(iri: str) -> ox.NamedNode:
        return ox.NamedNode(iri)

    rdf_type = n("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    a, b, c, d = (str(ID[x]) for x in ("x-a", "x-b", "x-c", "x-d"))
    store = ox.Store()
    triples = [
        (a, rdf_type, n(str(D4D.Organization))), (b, rdf_type, n(str(D4D.Organization))),
        (c, rdf_type, n(str(D4D.Organization))), (d, rdf_type, n(str(D4D.Organization))),
        (b, n("http://www.w3.org/2002/07/owl#sameAs"), n(a)),
        (d, n("http://www.w3.org/2002/07/owl#sameAs"), n(b)),  # transitively the same
        (a, n(str(D4D.sector)), n(str(SECTOR["humanitarian"]))),
        (b, n(str(D4D.sector)), n(str(SECTOR["academia"]))),
        (b, n(str(D4D.foundingDate)), ox.Literal("2005")), (d, n(str(D4D.foundingDate)), ox.Literal("2001")),
        ("f1", rdf_type, n(str(D4D.Partnership))), ("f1", n(str(D4D.partner)), n(a)), ("f1", n(str(D4D.partner)), n(c)),
        ("f2", rdf_type, n(str(D4D.Funding))), ("f2", n(str(D4D.funder)), n(d)), ("f2", n(str(D4D.recipient)), n(c)),
    ]
    for s, p, o in triples:
        subject = n(str(ID[s]) if s in ("f1", "f2") else s)
        store.add(ox.Quad(subject, p, o, ox.DefaultGraph()))
    G = network.project(store, load_ontology(root / "ontology"), facts=False)
    assert sorted(G.nodes) == [a, c]
    node = G.nodes[a]
    assert node["merged"] == [a, b, d]
    assert node["sectors"] == ["academia", "humanitarian"] and node["founded"] == 2001
    assert sorted(data["type"] for _, _, data in G.edges(data=True)) == ["Funding", "Partnership"]
    assert all({u, v} == {a, c} for u, v in G.edges())


def test_the_name_shown_follows_the_stated_rule() -> None:
    """Curated name first; else the name the most graphs state; then not all capitals; then the
    longest (a truncated name loses); characters only between names alike in all of these."""
    import pyoxigraph as ox

    from d4d.vocab import GRAPH

    store = ox.Store()
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    org = ox.NamedNode(str(D4D.Organization))
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    facts, one, two = (ox.NamedNode(str(GRAPH[g])) for g in ("facts", "source/one", "source/two"))
    names = {
        "curated": [("Short", facts), ("A much longer name", one), ("A much longer name", two)],
        "most": [("Stated twice", one), ("Stated twice", two), ("Stated once, and longer", one)],
        "caps": [("WORLD HEALTH ORGANIZATION", one), ("World Health Organization", two)],
        "cut": [("United Nations Office for the Coordination of Huma", one),
                ("United Nations Office for the Coordination of Humanitarian Affairs", two)],
        "tie": [("Beta", one), ("Alfa", two)],
    }
    for key, stated in names.items():
        actor = ox.NamedNode(str(ID[key]))
        store.add(ox.Quad(actor, rdf_type, org))
        for name, graph in stated:
            for g in (graph, ox.DefaultGraph()):
                store.add(ox.Quad(actor, label, ox.Literal(name), g))
    shown = network.display_names(store, {})
    assert {k.rsplit("/", 1)[-1]: v for k, v in shown.items()} == {
        "curated": "Short", "most": "Stated twice", "caps": "World Health Organization",
        "cut": "United Nations Office for the Coordination of Humanitarian Affairs", "tie": "Alfa"}


@pytest.mark.parametrize(("types", "kind"), [
    ({"ThinkTank", "ResearchCentre", "Organization"}, "ThinkTank"),
    ({"Foundation", "InternationalOrganization"}, "Organization"),
    ({"InternationalOrganization", "Foundation", "Organization"}, "Organization"),
    ({"ThinkTank", "University"}, "Organization"),
    ({"Person"}, "Person"),
    (set(), "Organization"),
])
def test_an_actor_of_two_kinds_is_counted_as_the_kind_they_share(root: Path, types: set[str], kind: str) -> None:
    """Of kinds neither of which is a subclass of the other, none is picked: the actor is their most
    specific shared kind, whatever the order its types come in (it was a set's first, which varied
    from one run to the next)."""
    ontology = load(root / "ontology", root / "graph").ontology
    iri = network.actor_kind({str(D4D[t]) for t in types}, ontology)
    assert iri == str(D4D[kind])


def test_an_actor_keeps_every_web_address(root: Path) -> None:
    """Two sources give two addresses: both are kept (sorted), none picked as the website."""
    import pyoxigraph as ox

    reasoned = run_reasoning(load(root / "ontology", root / "graph"), reasoner=False)
    datakind, url = ox.NamedNode(str(ID["datakind"])), ox.NamedNode(str(D4D.url))
    before = network.actor_attributes(reasoned.store, reasoned.loaded.ontology)[str(ID["datakind"])]["urls"]
    reasoned.store.add(ox.Quad(datakind, url, ox.Literal("https://www.datakind.org/about")))
    reasoned.store.add(ox.Quad(datakind, url, ox.Literal("http://datakind.org")))
    after = network.actor_attributes(reasoned.store, reasoned.loaded.ontology)[str(ID["datakind"])]["urls"]
    assert after == sorted({*before, "https://www.datakind.org/about", "http://datakind.org"})
    assert len(after) == len(before) + 2
