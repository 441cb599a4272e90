"""The clients analysts use, against a real ``d4d serve`` of the seed build on 127.0.0.1:
SPARQLWrapper (every query form, every return format), rdflib's SPARQLStore, the service
description, CORS, predeclared prefixes, one-line errors; and the CLI's slugs, CSV output, busy port.

Expected answers come from rdflib reading ``ecosystem.ttl`` on its own (another SPARQL engine,
with PREFIX lines written out), never from the server under test.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDF, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from sparql_servers import d4d_serve

from d4d.cli import main
from d4d.sparql import PREDECLARED

pytestmark = pytest.mark.server

PROLOGUE = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREDECLARED.items())
# The same queries with no PREFIX line: the endpoint predeclares the d4d prefixes.
QUERIES = {
    "SELECT": "SELECT ?s ?name WHERE { ?s a d4d:Foundation ; d4d:name ?name }",
    "ASK": "ASK { d4did:data-pop-alliance d4d:name ?name }",
    "CONSTRUCT": "CONSTRUCT { ?s schema:name ?name } WHERE { ?s a d4d:Foundation ; d4d:name ?name }",
    "DESCRIBE": "DESCRIBE d4did:rockefeller-foundation",
}
RETURN_FORMATS = [JSON, XML, CSV, TSV, TURTLE, N3, RDF, RDFXML, JSONLD]


@pytest.fixture(scope="module")
def reference(seed_build: Path) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(seed_build / "ecosystem.ttl", format="turtle")
    return graph


@pytest.fixture(scope="module")
def endpoint(seed_build: Path) -> Iterator[str]:
    with d4d_serve(seed_build) as url:
        yield url


def http(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
         method: str | None = None) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _expected_rows(reference: rdflib.Graph) -> set[tuple[str, str]]:
    rows = reference.query(PROLOGUE + QUERIES["SELECT"])
    return {(str(row[0]), str(row[1])) for row in rows}  # type: ignore[index]


def _rows_from(converted: Any, content_type: str) -> set[tuple[str, str]]:
    """SELECT rows from what SPARQLWrapper's convert() gives for a content type."""
    if isinstance(converted, dict):
        return {(b["s"]["value"], b["name"]["value"]) for b in converted["results"]["bindings"]}
    data = converted.toxml().encode() if hasattr(converted, "toxml") else converted
    if content_type == "text/csv":  # lossy: plain values
        return {(row["s"], row["name"]) for row in csv.DictReader(io.StringIO(data.decode()))}
    results_format = ox.QueryResultsFormat.from_media_type(content_type)
    assert results_format is not None, content_type
    solutions = ox.parse_query_results(data, results_format)
    return {(s["s"].value, s["name"].value) for s in solutions}  # type: ignore[union-attr,index]


def _graph_from(converted: Any, content_type: str) -> rdflib.Graph:
    if isinstance(converted, rdflib.Graph):
        return converted
    data = converted.toxml().encode() if hasattr(converted, "toxml") else converted
    graph = rdflib.Graph()
    graph.parse(data=data, format={"text/turtle": "turtle", "application/n-triples": "nt",
                                   "application/rdf+xml": "xml", "application/ld+json": "json-ld"}[content_type])
    return graph


@pytest.mark.parametrize("form", sorted(QUERIES))
def test_sparqlwrapper_every_form_in_every_return_format(endpoint: str, reference: rdflib.Graph,
                                                          form: str) -> None:
    expected_graph = None
    if form == "CONSTRUCT":
        expected_graph = reference.query(PROLOGUE + QUERIES[form]).graph
    for return_format in RETURN_FORMATS:
        client = SPARQLWrapper(endpoint)  # its defaults: GET, format=... and the Accept header it picks
        client.setQuery(QUERIES[form])
        client.setReturnFormat(return_format)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # SPARQLWrapper warns of */* for odd pairs
            result = client.query()
            content_type = result.info()["content-type"].split(";")[0]
            converted = result.convert()
        where = f"{form} as {return_format}: {content_type}"
        if form == "SELECT":
            assert _rows_from(converted, content_type) == _expected_rows(reference), where
            assert len(_expected_rows(reference)) > 0
        elif form == "ASK":
            if isinstance(converted, dict):
                assert converted["boolean"] is True, where
            elif hasattr(converted, "toxml"):
                assert "<boolean>true</boolean>" in converted.toxml(), where
            else:
                assert converted.decode().strip().splitlines()[-1] == "true", where
        else:
            graph = _graph_from(converted, content_type)
            if form == "CONSTRUCT":
                assert expected_graph is not None and len(graph) == len(expected_graph) > 0, where
                assert isomorphic(graph, expected_graph), where
            else:  # DESCRIBE: at least every statement about the resource
                about = rdflib.URIRef(PREDECLARED["d4did"] + "rockefeller-foundation")
                mine = {(p, o) for p, o in reference.predicate_objects(about)}
                assert mine and mine <= {(p, o) for p, o in graph.predicate_objects(about)}, where
        # what a graph result is served as, whatever the client sent
        if form in ("CONSTRUCT", "DESCRIBE"):
            assert content_type == {XML: "application/rdf+xml", RDFXML: "application/rdf+xml",
                                    RDF: "application/rdf+xml", JSON: "application/ld+json",
                                    JSONLD: "application/ld+json", TURTLE: "text/turtle", N3: "text/turtle",
                                    CSV: "text/turtle", TSV: "text/turtle"}[return_format], where


def test_sparqlwrapper_post(endpoint: str, reference: rdflib.Graph) -> None:
    client = SPARQLWrapper(endpoint)
    client.setMethod("POST")
    client.setQuery(QUERIES["CONSTRUCT"])
    client.setReturnFormat(XML)
    graph = client.query().convert()
    assert isinstance(graph, rdflib.Graph) and len(graph) == len(reference.query(PROLOGUE + QUERIES["CONSTRUCT"]).graph)  # type: ignore[arg-type]


def test_rdflib_sparqlstore_every_form(endpoint: str, reference: rdflib.Graph) -> None:
    graph = rdflib.Graph(SPARQLStore(endpoint))
    rows = {(str(r[0]), str(r[1])) for r in graph.query(QUERIES["SELECT"])}  # type: ignore[index]
    assert rows == _expected_rows(reference)
    assert graph.query(QUERIES["ASK"]).askAnswer is True
    constructed = graph.query(QUERIES["CONSTRUCT"]).graph
    assert constructed is not None
    assert isomorphic(constructed, reference.query(PROLOGUE + QUERIES["CONSTRUCT"]).graph)  # type: ignore[arg-type]
    described = graph.query(QUERIES["DESCRIBE"]).graph
    assert described is not None and len(described) >= 5
    name = rdflib.URIRef(PREDECLARED["d4d"] + "name")
    assert len(list(graph.triples((None, name, rdflib.Literal("Data-Pop Alliance"))))) == 1
    graph.close()


def test_service_description(endpoint: str) -> None:
    status, headers, body = http(endpoint, headers={"Accept": "text/turtle"})
    assert status == 200 and headers["Content-Type"] == "text/turtle"
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    graph = rdflib.Graph().parse(data=body, format="turtle")
    service = rdflib.URIRef(endpoint)
    assert (service, rdflib.RDF.type, sd.Service) in graph
    assert (service, sd.endpoint, service) in graph
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in graph
    assert len(list(graph.objects(service, sd.resultFormat))) == 8
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    declared = {str(graph.value(d, sh.prefix)): str(graph.value(d, sh.namespace))
                for d in graph.objects(service, sh.declare)}
    assert declared == PREDECLARED
    status, headers, body = http(endpoint, headers={"Accept": "application/ld+json"})
    assert status == 200 and headers["Content-Type"] == "application/ld+json"
    assert isomorphic(rdflib.Graph().parse(data=body, format="json-ld"), graph)


def test_cors_preflight_and_headers(endpoint: str) -> None:
    status, headers, body = http(endpoint, method="OPTIONS", headers={
        "Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 204 and body == b""
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in headers["Access-Control-Allow-Methods"].split(", ")
    assert headers["Access-Control-Allow-Headers"] == "content-type"
    status, headers, _ = http(endpoint + "?" + urllib.parse.urlencode({"query": "ASK {}"}),
                              headers={"Origin": "http://elsewhere.example"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    status, headers, _ = http(endpoint + "?" + urllib.parse.urlencode({"query": "ASK {"}))
    assert status == 400 and headers["Access-Control-Allow-Origin"] == "*"  # errors are readable too


def test_endpoint_errors_are_one_line_with_the_position(endpoint: str) -> None:
    query = "SELECT ?s WHERE {\n  ?s a nope:Thing }"
    status, _, body = http(endpoint + "?" + urllib.parse.urlencode({"query": query}))
    text = body.decode()
    assert status == 400 and text.count("\n") == 1
    assert text.startswith("syntax error at line 2, column 8: the prefix nope: is not declared")
    status, _, body = http(endpoint + "?" + urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p }"}))
    assert status == 400 and body.decode().startswith("syntax error at line 1, column 25:")  # as the engine says without the prefixes


def test_endpoint_binds_declared_parameters(endpoint: str, reference: rdflib.Graph) -> None:
    query = ("# title: Names\n# param: who iri d4did:datakind The actor\n"
             "SELECT ?name WHERE { ?who d4d:name ?name }")
    for value in ("data-pop-alliance", "d4did:data-pop-alliance", f"<{PREDECLARED['d4did']}data-pop-alliance>"):
        status, _, body = http(endpoint + "?" + urllib.parse.urlencode({"query": query, "$who": value}),
                               headers={"Accept": "text/csv"})
        assert (status, body.decode().split()) == (200, ["name", "Data-Pop", "Alliance"]), value
    status, _, body = http(endpoint + "?" + urllib.parse.urlencode({"query": query}), headers={"Accept": "text/csv"})
    assert body.decode().split() == ["name", "DataKind"]  # the declared default
    status, _, body = http(endpoint + "?" + urllib.parse.urlencode({"query": query, "$who": "not an iri"}))
    assert status == 400 and "parameter who" in body.decode()
    status, _, body = http(endpoint + "?" + urllib.parse.urlencode({"query": query, "$who": "datakid"}))
    assert (status, body.decode()) == (400, "parameter who: no actor called 'datakid' "
                                            "(nothing is said about d4did:datakid)\n")


# -- the CLI ---------------------------------------------------------------------------------

def test_query_without_prefixes_prints_names_that_paste_back(seed_build: Path, reference: rdflib.Graph) -> None:
    runner = CliRunner()
    table = runner.invoke(main, ["query", "-e", "SELECT ?s WHERE { ?s a d4d:Foundation } ORDER BY ?s",
                                 "--store", str(seed_build)])
    assert table.exit_code == 0, table.output
    names = [line.strip() for line in table.output.splitlines()[2:-1]]
    expected = sorted(str(s) for s in reference.subjects(rdflib.RDF.type,
                                                         rdflib.URIRef(PREDECLARED["d4d"] + "Foundation")))
    assert len(names) == len(expected) > 0
    for name, iri in zip(names, expected):
        assert name.startswith("d4did:") and PREDECLARED["d4did"] + name[len("d4did:"):] == iri
        pasted = runner.invoke(main, ["query", "-e", f"ASK {{ {name} a d4d:Foundation }}", "--store",
                                      str(seed_build), "-f", "json"])
        assert json.loads(pasted.output)["boolean"] is True


def test_a_slug_is_taken_where_an_actor_is(seed_build: Path) -> None:
    runner = CliRunner()
    by_slug = runner.invoke(main, ["query", "neighbours", "-p", "actor=datakind", "--store", str(seed_build),
                                   "-f", "csv"])
    by_name = runner.invoke(main, ["query", "neighbours", "-p", "actor=d4did:datakind", "--store",
                                   str(seed_build), "-f", "csv"])
    assert by_slug.exit_code == 0 and by_slug.output == by_name.output
    assert len(list(csv.DictReader(io.StringIO(by_slug.output)))) > 0
    typo = runner.invoke(main, ["query", "neighbours", "-p", "actor=datakid", "--store", str(seed_build)])
    assert typo.exit_code == 1
    assert typo.output == "error: neighbours: parameter actor: no actor called 'datakid' " \
                          "(nothing is said about d4did:datakid)\n"


def test_export_csv_names(seed_build: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["export", "-f", "csv", "--store", str(seed_build), "-o"]
    refused = runner.invoke(main, base + [str(tmp_path / "x.csv")])
    assert refused.exit_code == 1 and "name the output .zip" in refused.output
    assert not (tmp_path / "x.csv").exists()
    assert runner.invoke(main, base + [str(tmp_path / "x.zip"), "--what", "edges"]).exit_code == 1
    edges = runner.invoke(main, base + [str(tmp_path / "edges.csv"), "--what", "edges"])
    assert edges.exit_code == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "edges.csv").read_text(encoding="utf-8"))))
    assert rows and set(rows[0]) >= {"source", "target", "key", "type"}
    assert runner.invoke(main, base + [str(tmp_path / "all.zip")]).exit_code == 0
    assert sorted(zipfile.ZipFile(tmp_path / "all.zip").namelist()) == ["edges.csv", "graph.json", "nodes.csv"]


def test_serve_on_a_busy_port_or_without_a_store_is_one_line(seed_build: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        busy = subprocess.run([sys.executable, "-m", "d4d.cli", "serve", "--store", str(seed_build), "--port",
                               str(port), "--workers", "1"], capture_output=True, text=True, timeout=120)
    assert busy.returncode == 1
    assert busy.stderr.count("\n") == 1 and busy.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}")
    missing = subprocess.run([sys.executable, "-m", "d4d.cli", "serve", "--store", str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "d4d build" in missing.stderr
