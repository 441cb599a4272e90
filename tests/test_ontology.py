"""The ontology: parses, every term documented and aligned, the namespace class matches, OWL reasoners load it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, RDFS, URIRef
from rdflib.namespace import OWL, SKOS

from d4d.ontology import load_ontology
from d4d.vocab import D4D

STANDARD = ("https://schema.org/", "http://www.w3.org/ns/org#", "http://xmlns.com/foaf/0.1/",
            "http://www.w3.org/ns/prov#", "http://www.w3.org/2004/02/skos/core#", "http://purl.org/dc/terms/")


@pytest.fixture(scope="module")
def onto(root: Path):  # type: ignore[no-untyped-def]
    return load_ontology(root / "ontology")


def d4d_terms(graph) -> set[URIRef]:  # type: ignore[no-untyped-def]
    return {s for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(str(D4D))}


def test_every_term_has_label_and_definition(onto) -> None:  # type: ignore[no-untyped-def]
    missing = [t for t in d4d_terms(onto.graph)
               if (t, RDFS.label, None) not in onto.graph or (t, SKOS.definition, None) not in onto.graph]
    assert missing == []


def test_ontology_metadata(onto) -> None:  # type: ignore[no-untyped-def]
    ontology = URIRef("https://w3id.org/d4d/ontology")
    for prop in (OWL.versionInfo, URIRef("http://purl.org/dc/terms/license"),
                 URIRef("http://purl.org/dc/terms/description")):
        assert (ontology, prop, None) in onto.graph


def test_namespace_class_lists_exactly_the_ontology_terms(onto) -> None:  # type: ignore[no-untyped-def]
    in_ontology = {str(t)[len(str(D4D)):] for t in d4d_terms(onto.graph)}
    in_python = {name for name in D4D.__annotations__}
    assert in_python == in_ontology
    with pytest.raises(AttributeError):
        D4D.fundr  # noqa: B018 - a misspelt term fails loudly


def _reaches_standard(onto, term: URIRef, link: URIRef) -> bool:  # type: ignore[no-untyped-def]
    seen, todo = set(), [term]
    while todo:
        node = todo.pop()
        for sup in onto.graph.objects(node, link):
            if isinstance(sup, URIRef) and str(sup).startswith(STANDARD):
                return True
            if sup not in seen:
                seen.add(sup)
                todo.append(sup)
        for other in onto.graph.objects(node, OWL.inverseOf):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return False


def test_every_class_is_aligned_to_a_standard_vocabulary(onto) -> None:  # type: ignore[no-untyped-def]
    unaligned = []
    for cls in onto.classes.values():
        if cls in onto.defined_classes:
            # Defined classes are intersections of an aligned class with a restriction.
            continue
        if not _reaches_standard(onto, cls, RDFS.subClassOf):
            unaligned.append(cls)
    assert unaligned == []


def test_every_property_is_aligned_or_is_an_internal_role(onto) -> None:  # type: ignore[no-untyped-def]
    props = [p for kind in (OWL.ObjectProperty, OWL.DatatypeProperty) for p in onto.graph.subjects(RDF.type, kind)
             if str(p).startswith(str(D4D))]
    unaligned = sorted(str(p) for p in props if not _reaches_standard(onto, p, RDFS.subPropertyOf))
    # The n-ary role properties of d4d's own relationship classes have no standard counterpart;
    # their shortcuts (fundedBy, foundedBy, ...) are aligned. Everything else must be aligned.
    roles = {str(D4D[n]) for n in ("founder", "foundedOrganization", "incubator", "incubatedOrganization",
                                   "unit", "parent", "partner", "supporter", "supported", "onBehalfOf",
                                   "investor", "investee", "collaborator", "dataPartner",
                                   "citation", "fromSeeds", "localFile")}
    assert [p for p in unaligned if p not in roles] == []


def test_edge_declarations_name_real_properties(onto) -> None:  # type: ignore[no-untyped-def]
    assert {"Funding", "Founding", "Incubation", "Membership", "SubOrganization", "Partnership", "Support",
            "MediaCoverage"} <= set(onto.edge_types)
    for edge in onto.edge_types.values():
        assert (edge.source, RDF.type, OWL.ObjectProperty) in onto.graph
        assert (edge.target, RDF.type, OWL.ObjectProperty) in onto.graph
        assert edge.color.startswith("#") and len(edge.color) == 7
    assert onto.edge_types["Funding"].weight == D4D.amount
    assert onto.edge_types["Partnership"].directed is False


def test_sector_scheme_has_the_sectors_the_field_needs(onto) -> None:  # type: ignore[no-untyped-def]
    assert {"humanitarian", "development", "academia", "technology", "philanthropy", "media", "government",
            "civil-society"} <= set(onto.sectors)


def test_person_and_organization_are_disjoint(onto) -> None:  # type: ignore[no-untyped-def]
    assert (D4D.Organization, OWL.disjointWith, D4D.Person) in onto.graph


def test_owlready2_loads_the_ontology_and_hermit_finds_it_consistent(onto) -> None:  # type: ignore[no-untyped-def]
    from rdflib import Graph

    from d4d.reason import check_consistency

    result = check_consistency(onto, Graph())
    assert result.seconds > 0
