"""Export: every RDF format parses back to the same graph (per named graph for N-Quads/TriG), every
network format reads back to the same nodes, edges and attributes (GraphML also in igraph), outputs are
byte-identical for the same graph, and a CONSTRUCT query narrows an export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.compare import isomorphic

from d4d import export
from d4d.cli import main
from d4d.network import project
from d4d.ontology import load_ontology

ROOT = Path(__file__).resolve().parents[1]
FACTS = """
@prefix d4d: <https://w3id.org/d4d/ontology#> .
@prefix d4did: <https://w3id.org/d4d/id/> .
@prefix sector: <https://w3id.org/d4d/sector/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

d4did:alpha a d4d:Foundation, d4d:Organization ; d4d:name "Alpha" ; rdfs:label "Alpha" ;
    d4d:sector sector:philanthropy ; d4d:foundingDate "1913"^^xsd:gYear ; d4d:url "https://alpha.example/"^^xsd:anyURI ;
    d4d:description "Ünïcode «text», \\"quotes\\", a\\nnew line" ; rdfs:comment "Alpha"@en, "Alfa"@es ;
    d4d:identifier "GB-CHC-1", "US-EIN-2" .
d4did:beta a d4d:NGO, d4d:Organization ; d4d:name "Beta" ; rdfs:label "Beta" ;
    d4d:sector sector:civil-society, sector:development .
d4did:gamma a d4d:University, d4d:Organization ; d4d:name "Gamma" ; rdfs:label "Gamma" .
d4did:pat a d4d:Person ; d4d:name "Pat" ; rdfs:label "Pat" .
d4did:doc a d4d:SourceDocument ; d4d:title "A document" ; d4d:fromSeeds false .
d4did:f1 a d4d:Funding ; d4d:funder d4did:alpha ; d4d:recipient d4did:beta ; d4d:amount 400000.5 ;
    d4d:currency "USD" ; d4d:date "2015"^^xsd:gYear ; rdfs:label "Funding: Alpha → Beta" ; d4d:citation d4did:f1c .
d4did:f1c a d4d:Citation ; d4d:quote "Alpha gave Beta $400,000.50" ; d4d:citedSource d4did:doc .
d4did:f2 a d4d:Funding ; d4d:funder d4did:alpha ; d4d:recipient d4did:beta ; rdfs:label "Funding: Alpha → Beta" .
d4did:pt a d4d:Partnership ; d4d:partner d4did:alpha, d4did:beta, d4did:gamma ; rdfs:label "Partnership" .
d4did:m a d4d:Membership ; d4d:member d4did:pat ; d4d:organization d4did:gamma ; d4d:startDate "2014-03"^^xsd:gYearMonth .
d4did:alpha d4d:note [ rdfs:label "a blank node" ; rdfs:seeAlso [ rdfs:label "another" ] ] .
"""
SOURCE = '<https://w3id.org/d4d/id/gamma> <https://w3id.org/d4d/ontology#alternateName> "Γάμμα" .\n'
GRAPHS = {"ontology": "https://w3id.org/d4d/graph/ontology", "facts": "https://w3id.org/d4d/graph/facts",
          "source": "https://w3id.org/d4d/graph/source/demo"}


def _store(reverse: bool = False) -> ox.Store:
    ontology = load_ontology(ROOT / "ontology").graph.serialize(format="nt", encoding="utf-8")
    parts = [(ontology, ox.RdfFormat.N_TRIPLES, GRAPHS["ontology"]), (FACTS.encode(), ox.RdfFormat.TURTLE, GRAPHS["facts"]),
             (SOURCE.encode(), ox.RdfFormat.N_TRIPLES, GRAPHS["source"])]
    store = ox.Store()
    for data, fmt, graph in (reversed(parts) if reverse else parts):
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph)) for t in ox.parse(data, format=fmt)]
        store.extend(reversed(quads) if reverse else quads)
    return store


@pytest.fixture(scope="module")
def store() -> ox.Store:
    return _store()


def _expected_dataset(store: ox.Store) -> rdflib.Dataset:
    dataset = rdflib.Dataset()
    dataset.parse(data=store.dump(format=ox.RdfFormat.N_QUADS), format="nquads")
    return dataset


def _merged(dataset: rdflib.Dataset) -> rdflib.Graph:
    graph = rdflib.Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


RDFLIB = {"turtle": "turtle", "ntriples": "nt", "rdfxml": "xml", "jsonld": "json-ld"}


@pytest.mark.parametrize("fmt", sorted(RDFLIB))
def test_triple_formats_parse_back_to_the_merged_graph(store: ox.Store, fmt: str) -> None:
    data = export.export(store, fmt)
    parsed = rdflib.Graph()
    parsed.parse(data=data, format=RDFLIB[fmt])
    expected = _merged(_expected_dataset(store))
    assert len(parsed) == len(expected)
    assert isomorphic(parsed, expected)


@pytest.mark.parametrize("fmt", ["nquads", "trig"])
def test_dataset_formats_keep_the_named_graphs(store: ox.Store, fmt: str) -> None:
    data = export.export(store, fmt)
    parsed = rdflib.Dataset()
    parsed.parse(data=data, format=fmt)
    expected = _expected_dataset(store)
    names = {str(g.identifier) for g in parsed.graphs() if len(g)}
    assert names == set(GRAPHS.values())
    for name in GRAPHS.values():
        assert isomorphic(parsed.graph(rdflib.URIRef(name)), expected.graph(rdflib.URIRef(name))), name


@pytest.mark.parametrize("fmt", sorted(export.FORMATS))
def test_outputs_are_byte_identical_whatever_the_load_order(fmt: str) -> None:
    # The second store has its statements and graphs loaded in the opposite order, and its blank nodes
    # got other random labels from the parser.
    assert export.export(_store(), fmt) == export.export(_store(reverse=True), fmt)


def test_jsonld_has_a_context_and_compact_names(store: ox.Store) -> None:
    document = json.loads(export.export(store, "jsonld"))
    assert document["@context"]["d4d"] == "https://w3id.org/d4d/ontology#"
    alpha = next(n for n in document["@graph"] if n["@id"] == "d4did:alpha")
    assert set(alpha["@type"]) == {"d4d:Foundation", "d4d:Organization"}
    assert {"@value": "Alfa", "@language": "es"} in alpha["rdfs:comment"]
    assert {"@value": "1913", "@type": "xsd:gYear"} in alpha["d4d:foundingDate"]


def _clean(data: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in data.items() if v is not None}


def _same_network(a: nx.MultiDiGraph, b: nx.MultiDiGraph, *, drop_none: bool, graph_attributes: bool = True) -> None:
    prune = _clean if drop_none else dict
    assert list(a.nodes) == list(b.nodes)
    assert sorted(a.edges(keys=True)) == sorted(b.edges(keys=True))
    for node in a.nodes:
        assert prune(a.nodes[node]) == prune(b.nodes[node]), node
    for u, v, key in a.edges(keys=True):
        assert prune(a.edges[u, v, key]) == prune(b.edges[u, v, key]), (u, v, key)
    if graph_attributes:
        assert a.graph == b.graph


@pytest.mark.parametrize("fmt", sorted(export.NETWORK_FORMATS))
def test_network_formats_read_back_to_the_same_network(store: ox.Store, fmt: str) -> None:
    network = project(store, export.ontology_from_store(store))
    assert network.number_of_nodes() == 4 and network.number_of_edges() == 6   # 2 fundings, 3 partner pairs, 1 membership
    back = export.read_network(export.export(store, fmt), fmt)
    # GraphML and GEXF cannot hold an absent value: None attributes are left out (and read back absent);
    # GEXF has no graph attributes.
    _same_network(network, back, drop_none=fmt in ("graphml", "gexf"), graph_attributes=fmt != "gexf")


def test_graphml_reads_in_igraph(store: ox.Store, tmp_path: Path) -> None:
    import igraph

    network = project(store, export.ontology_from_store(store))
    path = tmp_path / "network.graphml"
    path.write_bytes(export.export(store, "graphml"))
    graph = igraph.Graph.Read_GraphML(str(path))
    assert graph.vcount() == network.number_of_nodes() and graph.ecount() == network.number_of_edges()
    assert graph.is_directed()
    labels = dict(zip(graph.vs["id"], graph.vs["label"]))
    assert labels == {n: d["label"] for n, d in network.nodes(data=True)}
    edges = {(graph.vs[e.source]["id"], graph.vs[e.target]["id"], e["fact"]): e.attributes() for e in graph.es}
    for u, v, key, data in network.edges(keys=True, data=True):
        attrs = edges[(u, v, key)]
        assert attrs["type"] == data["type"] and attrs["weight"] == data["weight"]
        assert bool(attrs["directed"]) is data["directed"]
        assert json.loads(attrs["sources"]) == data["sources"]
    amounts = sorted(a for a in graph.es["amount"] if a == a)   # NaN where absent
    assert amounts == [400000.5]


def test_csv_single_tables(store: ox.Store) -> None:
    network = project(store, export.ontology_from_store(store))
    nodes = list(csv.DictReader(io.StringIO(export.export(store, "csv", what="nodes").decode("utf-8"))))
    edges = list(csv.DictReader(io.StringIO(export.export(store, "csv", what="edges").decode("utf-8"))))
    assert [row["id"] for row in nodes] == list(network.nodes)
    assert {row["label"] for row in nodes} == {"Alpha", "Beta", "Gamma", "Pat"}
    assert len(edges) == network.number_of_edges()
    funding = next(row for row in edges if row["key"].endswith("/f1"))
    assert (funding["source"], funding["amount"], funding["currency"], funding["year"]) == \
        ("https://w3id.org/d4d/id/alpha", "400000.5", "USD", "2015")
    assert json.loads(funding["sources"]) == ["https://w3id.org/d4d/id/doc"]
    with pytest.raises(Exception):
        export.export(store, "graphml", what="nodes")


def test_a_construct_query_narrows_the_export(seed_store: ox.Store) -> None:
    from d4d import sparql

    parsed = sparql.resolve_query("ego-network")
    triples = sparql.run_query(parsed, store=seed_store).triples or []
    expected = rdflib.Graph()
    expected.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    got = rdflib.Graph()
    got.parse(data=export.export(seed_store, "turtle", query="ego-network"), format="turtle")
    assert len(got) == len(triples) and isomorphic(got, expected)

    whole = export.network(seed_store)
    part = export.network(seed_store, query="ego-network")
    centre = "https://w3id.org/d4d/id/data-pop-alliance"
    assert centre in part and 0 < part.number_of_nodes() < whole.number_of_nodes()
    assert part.number_of_edges() > 0
    assert all(centre in (u, v) for u, v in part.edges())
    assert set(part.edges(keys=True)) <= set(whole.edges(keys=True))
    back = export.read_network(export.export(seed_store, "nodelink", query="ego-network"), "nodelink")
    _same_network(part, back, drop_none=False)


def test_whole_seed_build_round_trips(seed_store: ox.Store) -> None:
    expected = _expected_dataset(seed_store)
    parsed = rdflib.Dataset()
    parsed.parse(data=export.export(seed_store, "trig"), format="trig")
    for graph in expected.graphs():
        if len(graph):
            assert isomorphic(parsed.graph(graph.identifier), graph), graph.identifier
    network = export.network(seed_store)
    _same_network(network, export.read_network(export.export(seed_store, "csv"), "csv"), drop_none=False)


def test_cli_export(seed_build: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "graph.nq"
    result = runner.invoke(main, ["export", "-f", "nquads", "--store", str(seed_build), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "<https://w3id.org/d4d/graph/facts>" in out.read_text(encoding="utf-8")
    result = runner.invoke(main, ["export", "-f", "csv", "--what", "nodes", "--store", str(seed_build)])
    assert result.exit_code == 0 and result.output.startswith("id,label,kind,")
    result = runner.invoke(main, ["export", "-f", "graphml", "--query", "ego-network", "-p",
                                  "actor=d4did:harvard-humanitarian-initiative", "--store", str(seed_build)])
    assert result.exit_code == 0 and "harvard-humanitarian-initiative" in result.output
    result = runner.invoke(main, ["export", "-f", "turtle", "--query", "no-such-query", "--store", str(seed_build)])
    assert result.exit_code == 1 and result.output.startswith("error:")
    result = runner.invoke(main, ["export", "-f", "turtle", "--query", "actors", "--store", str(seed_build)])
    assert result.exit_code == 1 and "CONSTRUCT" in result.output
    from d4d.cli import export as command

    choices = next(p for p in command.params if p.name == "fmt").type.choices  # type: ignore[attr-defined]
    assert set(choices) == set(export.FORMATS)
