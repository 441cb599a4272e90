"""Write-back: the measures as RDF observations, queryable in SPARQL, every term in the ontology."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import networkx as nx
import pytest
from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.namespace import PROV

from analyse_graphs import ecosystem, three_sectors
from d4d.analyse import analyse
from d4d.analyse.rdf import QB, ROLE, metrics_graph
from d4d.ontology import load_ontology
from d4d.vocab import D4D, ID, SCHEMA, SECTOR

DAY = dt.date(2024, 5, 1)
XSD_NS = "http://www.w3.org/2001/XMLSchema#"


def _graph() -> tuple[dict, object]:  # type: ignore[type-arg]
    G = nx.relabel_nodes(three_sectors(), {v: str(ID[v]) for v in three_sectors()})
    metrics = analyse(G)
    return metrics, metrics_graph(metrics, when=DAY)


def test_network_ei_is_an_observation_with_date_and_method() -> None:
    metrics, g = _graph()
    rows = list(g.query(  # type: ignore[attr-defined]
        """SELECT ?obs ?ei ?date ?method ?run WHERE {
             ?obs a d4d:MetricObservation ; d4d:eiIndex ?ei ; schema:observationDate ?date ;
                  schema:measurementTechnique ?method ; prov:wasGeneratedBy ?run .
             FILTER NOT EXISTS { ?obs d4d:observedSector ?s }
           }"""))
    assert len(rows) == 1
    obs, ei, date, method, run = rows[0]
    assert ei.toPython() == pytest.approx(-1 / 7)
    assert date == Literal("2024-05-01", datatype=XSD_NS + "date")
    assert "Krackhardt" in str(method)
    assert run == URIRef(f"{ID}analysis/all")
    assert (run, RDF.type, D4D.NetworkAnalysis) in g  # type: ignore[operator]
    assert (obs, RDF.type, D4D.MetricObservation) in g  # type: ignore[operator]


def test_sector_and_actor_observations() -> None:
    metrics, g = _graph()
    sector_b = URIRef(f"{ID}analysis/all/sector/B")
    assert (sector_b, D4D.observedSector, SECTOR["B"]) in g  # type: ignore[operator]
    assert g.value(sector_b, D4D.eiIndex).toPython() == pytest.approx(0.5)  # type: ignore[attr-defined]
    actor = str(ID["a1"])
    obs = URIRef(f"{ID}analysis/all/actor/a1")
    assert (obs, D4D.observedActor, URIRef(actor)) in g  # type: ignore[operator]
    assert g.value(obs, D4D.betweenness).toPython() == pytest.approx(  # type: ignore[attr-defined]
        metrics["actors"][actor]["betweenness"])
    assert g.value(obs, D4D.burtConstraint).toPython() == pytest.approx(  # type: ignore[attr-defined]
        metrics["actors"][actor]["constraint"])
    top = list(g.query(  # type: ignore[attr-defined]
        "SELECT ?a ?b WHERE { ?o d4d:observedActor ?a ; d4d:betweenness ?b } "
        "ORDER BY DESC(?b) LIMIT 1"))
    best = max(metrics["actors"], key=lambda i: metrics["actors"][i]["betweenness"])
    assert str(top[0][0]) == best


def test_brokerage_role_points_to_a_role_concept() -> None:
    nodes = {"a": "A", "v": "B", "b": "A"}
    G = ecosystem({str(ID[k]): s for k, s in nodes.items()},
                  [(str(ID["a"]), str(ID["v"]), {}), (str(ID["v"]), str(ID["b"]), {})])
    g = metrics_graph(analyse(G), when=DAY)
    assert g.value(URIRef(f"{ID}analysis/all/actor/v"), D4D.brokerageRole) == ROLE.consultant


def test_year_and_sampling_are_recorded() -> None:
    G = three_sectors()
    for i, (_, _, d) in enumerate(G.edges(data=True)):
        d["year"] = 2000 + i
    metrics = analyse(G, year=2004, exact_max_nodes=2, samples=3)
    g = metrics_graph(metrics, when=DAY, actors=False)
    run = URIRef(f"{ID}analysis/2004")
    eff = URIRef(f"{run}/network/globalEfficiency")
    assert g.value(eff, D4D.referenceYear) == Literal(2004, datatype=XSD_NS + "integer")  # type: ignore[attr-defined]
    assert g.value(eff, SCHEMA.marginOfError) is not None  # type: ignore[attr-defined]
    assert "sampled source actors" in str(g.value(run, RDFS.comment))  # type: ignore[attr-defined]
    assert not list(g.subjects(D4D.observedActor, None))  # type: ignore[attr-defined]


def test_structure_lists_the_components_and_output_is_deterministic() -> None:
    metrics, g = _graph()
    structure = URIRef(f"{ID}analysis/all/structure")
    measures = set(g.objects(None, QB.measure))  # type: ignore[attr-defined]
    assert {D4D.eiIndex, D4D.betweenness, D4D.brokerageRole} <= measures
    assert (URIRef(f"{ID}analysis/all/dataset"), QB.structure, structure) in g  # type: ignore[operator]
    again = metrics_graph(metrics, when=DAY)
    assert again.serialize(format="nt") == g.serialize(format="nt")  # type: ignore[attr-defined]
    assert set(g.objects(None, PROV.wasGeneratedBy)) == {URIRef(f"{ID}analysis/all")}  # type: ignore[attr-defined]


def test_every_d4d_term_used_is_defined_in_the_ontology(root: Path) -> None:
    onto = load_ontology(root / "ontology").graph
    _, g = _graph()
    used = {t for triple in g for t in triple  # type: ignore[attr-defined]
            if isinstance(t, URIRef) and str(t).startswith(str(D4D))}
    assert used
    for term in used:
        assert (term, None, None) in onto, term
    for role in ("coordinator", "gatekeeper", "representative", "consultant", "liaison"):
        assert (ROLE[role], RDF.type, D4D.BrokerageRole) in onto
