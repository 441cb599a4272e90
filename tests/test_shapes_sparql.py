"""The SHACL shapes compiled into SPARQL find exactly what pyshacl finds: nothing on the seed facts, and
the same focus nodes, paths, values and constraint components on a set of broken records."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyshacl import validate as shacl_validate
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import XSD

from d4d import shapes_sparql
from d4d.errors import OntologyError
from d4d.load import Loaded, load
from d4d.reason import store_of
from d4d.validate import load_shapes
from d4d.vocab import D4D, ID, SECTOR

SH = Namespace("http://www.w3.org/ns/shacl#")
FACTS = "https://w3id.org/d4d/graph/facts"
OTHER = "https://w3id.org/d4d/graph/source/other"


@pytest.fixture(scope="module")
def seed(root: Path) -> Loaded:
    return load(root / "ontology", root / "graph")


@pytest.fixture(scope="module")
def shapes(root: Path) -> Graph:
    return load_shapes(root / "ontology")


@pytest.fixture(scope="module")
def queries(shapes: Graph, seed: Loaded) -> list[shapes_sparql.ShapeQuery]:
    return shapes_sparql.compile_shapes(shapes, seed.ontology.graph)


def _with_hierarchy(facts: Graph, seed: Loaded) -> Graph:
    """What pyshacl validates in the build: the facts plus the ontology's class hierarchy and types."""
    data = Graph()
    data += facts
    for prop in (RDFS.subClassOf, RDF.type):
        for triple in seed.ontology.graph.triples((None, prop, None)):
            if isinstance(triple[0], URIRef) and isinstance(triple[2], URIRef):
                data.add(triple)
    return data


def _by_pyshacl(data: Graph, shapes: Graph) -> set[tuple[str, str, str | None, str | None]]:
    _, results, _ = shacl_validate(data_graph=data, shacl_graph=shapes, inference="none", advanced=True,
                                   allow_warnings=True)
    assert isinstance(results, Graph)
    out = set()
    for result in results.objects(None, SH.result):  # top-level results, not their sh:detail
        focus = results.value(result, SH.focusNode)
        component = results.value(result, SH.sourceConstraintComponent)
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        out.add((str(focus), str(component).rsplit("#", 1)[-1], str(path) if path is not None else None,
                 str(value) if value is not None else None))
    return out


def _by_sparql(data: Graph, queries: list[shapes_sparql.ShapeQuery],
               graph: str | None = None) -> set[tuple[str, str, str | None, str | None]]:
    store = store_of([data], names=[FACTS])
    return {(r.focus, r.component, r.path, r.value) for r in shapes_sparql.check_store(store, queries, graph=graph)}


def test_seed_facts_conform_for_both(seed: Loaded, shapes: Graph,
                                     queries: list[shapes_sparql.ShapeQuery]) -> None:
    data = _with_hierarchy(seed.facts.graph, seed)
    assert _by_pyshacl(data, shapes) == set()
    assert _by_sparql(data, queries) == set()
    assert len(queries) > 60  # every constraint of shapes.ttl has its query


def _broken(seed: Loaded) -> Graph:
    """Seed facts plus records that break every kind of constraint in shapes.ttl (answers known by hand)."""
    g = Graph()
    g += seed.facts.graph
    cite = ID["datakind/citation/1"]  # an existing, valid citation to reuse
    add = g.add

    # a funding: no funder, a literal recipient, two amounts (one negative), a lower-case currency
    f = ID["broken-funding"]
    add((f, RDF.type, D4D.Funding))
    add((f, D4D.citation, cite))
    add((f, D4D.recipient, Literal("DataKind")))
    add((f, D4D.amount, Literal("-5", datatype=XSD.decimal)))
    add((f, D4D.amount, Literal("7", datatype=XSD.integer)))
    add((f, D4D.currency, Literal("usd")))
    # a funding with an amount and no currency (the sh:or), recipient a place (sh:class)
    f2 = ID["broken-funding-2"]
    add((f2, RDF.type, D4D.Funding))
    add((f2, D4D.citation, cite))
    add((f2, D4D.funder, ID["rockefeller-foundation"]))
    add((f2, D4D.recipient, ID["place-x"]))
    add((ID["place-x"], RDF.type, D4D.Place))
    add((ID["place-x"], D4D.name, Literal("X")))
    add((ID["place-x"], D4D.citation, cite))
    add((f2, D4D.amount, Literal("10", datatype=XSD.decimal)))
    # a citation: quote too short and tagged with a language, two cited sources, one not a document
    c = ID["broken-funding-2/citation/1"]
    add((f2, D4D.citation, c))
    add((c, RDF.type, D4D.Citation))
    add((c, D4D.quote, Literal("ab", lang="en")))
    add((c, D4D.citedSource, ID["seed-datapop-website"]))
    add((c, D4D.citedSource, ID["datakind"]))
    # an actor without a name, with a bad URL, typed both person and organisation
    p = ID["broken-person"]
    add((p, RDF.type, D4D.Person))
    add((p, RDF.type, D4D.NGO))
    add((p, D4D.citation, cite))
    add((p, D4D.url, Literal("ftp://example.org", datatype=XSD.anyURI)))
    add((p, D4D.url, Literal("https://example.org")))  # plain string, not xsd:anyURI
    add((p, D4D.sector, ID["datakind"]))  # not a sector
    add((p, D4D.sector, SECTOR["development"]))
    # a founding with neither founder nor date, founding a person; and one with a date as text
    add((ID["broken-founding"], RDF.type, D4D.Founding))
    add((ID["broken-founding"], D4D.citation, cite))
    add((ID["broken-founding"], D4D.foundedOrganization, ID["jake-porway"]))
    add((ID["broken-founding-2"], RDF.type, D4D.Founding))
    add((ID["broken-founding-2"], D4D.citation, cite))
    add((ID["broken-founding-2"], D4D.foundedOrganization, ID["datakind"]))
    add((ID["broken-founding-2"], D4D.date, Literal("2011")))
    # a membership that ends before it starts (the sh:sparql constraint)
    m = ID["broken-membership"]
    add((m, RDF.type, D4D.Membership))
    add((m, D4D.citation, cite))
    add((m, D4D.member, ID["jake-porway"]))
    add((m, D4D.organization, ID["datakind"]))
    add((m, D4D.startDate, Literal("2015-06", datatype=XSD.gYearMonth)))
    add((m, D4D.endDate, Literal("2014", datatype=XSD.gYear)))
    # an activity with a negative count of the wrong type and an unknown qualifier, no description
    a = ID["broken-activity"]
    add((a, RDF.type, D4D.Activity))
    add((a, D4D.citation, cite))
    add((a, D4D.performer, ID["datakind"]))
    add((a, D4D.count, Literal("-1", datatype=XSD.integer)))
    add((a, D4D.count, Literal("3", datatype=XSD.decimal)))
    add((a, D4D.countQualifier, Literal("roughly")))
    # a partnership of one, without a source
    add((ID["broken-partnership"], RDF.type, D4D.Partnership))
    add((ID["broken-partnership"], D4D.partner, ID["datakind"]))
    return g


def test_broken_records_same_results_as_pyshacl(seed: Loaded, shapes: Graph,
                                                queries: list[shapes_sparql.ShapeQuery]) -> None:
    data = _with_hierarchy(_broken(seed), seed)
    expected = _by_pyshacl(data, shapes)
    found = _by_sparql(data, queries)
    assert found == expected
    components = {c for _, c, _, _ in found}
    # every kind of constraint that shapes.ttl uses is exercised by the fixtures
    assert components >= {"MinCountConstraintComponent", "MaxCountConstraintComponent", "ClassConstraintComponent",
                          "DatatypeConstraintComponent", "PatternConstraintComponent",
                          "MinExclusiveConstraintComponent", "MinInclusiveConstraintComponent",
                          "InConstraintComponent", "OrConstraintComponent", "NotConstraintComponent",
                          "NodeConstraintComponent", "MinLengthConstraintComponent", "SPARQLConstraintComponent"}
    # answers known by hand
    assert (str(ID["broken-funding"]), "MinCountConstraintComponent", str(D4D.funder), None) in found
    assert (str(ID["broken-funding-2"]), "OrConstraintComponent", None, str(ID["broken-funding-2"])) in found
    assert (str(ID["broken-person"]), "NotConstraintComponent", None, str(ID["broken-person"])) in found
    assert (str(ID["broken-membership"]), "SPARQLConstraintComponent", None, "2014") in found
    assert (str(ID["broken-founding-2"]), "NodeConstraintComponent", str(D4D.date), "2011") in found


def test_check_one_graph_only(seed: Loaded, queries: list[shapes_sparql.ShapeQuery]) -> None:
    """Focus nodes are those typed in the graph under check; their values are read from every graph."""
    broken = _broken(seed)
    added = Graph()
    for triple in broken:
        if triple not in seed.facts.graph:
            added.add(triple)
    store = store_of([_with_hierarchy(seed.facts.graph, seed), added], names=[FACTS, OTHER])
    in_other = shapes_sparql.check_store(store, queries, graph=OTHER)
    in_facts = shapes_sparql.check_store(store, queries, graph=FACTS)
    assert in_facts == []
    assert {r.focus for r in in_other} >= {str(ID["broken-funding"]), str(ID["broken-person"])}
    # the funding's funder (rockefeller) is typed in the facts graph, so the class check passes
    assert not [r for r in in_other if r.focus == str(ID["broken-funding-2"]) and r.path == str(D4D.funder)]


def test_results_carry_the_shapes_messages(seed: Loaded, queries: list[shapes_sparql.ShapeQuery]) -> None:
    store = store_of([_with_hierarchy(_broken(seed), seed)], names=[FACTS])
    results = shapes_sparql.check_store(store, queries)
    by = {(r.focus, r.component): r for r in results}
    assert by[(str(ID["broken-funding-2"]), "OrConstraintComponent")].message == \
        "an amount needs a currency (ISO 4217 code such as USD)"
    assert by[(str(ID["broken-funding"]), "PatternConstraintComponent")].message == \
        "a currency is one ISO 4217 code such as USD"
    assert by[(str(ID["broken-membership"]), "SPARQLConstraintComponent")].message == \
        "the end date is before the start date"


def test_unsupported_shacl_feature_is_an_error() -> None:
    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:T ;
            sh:property [ sh:path ex:p ; sh:qualifiedMinCount 1 ; sh:qualifiedValueShape [ sh:class ex:C ] ] .
        """, format="turtle")
    with pytest.raises(OntologyError, match="qualified"):
        shapes_sparql.compile_shapes(shapes)
