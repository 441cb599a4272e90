"""The local SPARQL endpoint, over HTTP on 127.0.0.1, with real clients and a real browser."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from SPARQLWrapper import CSV, JSON, POST, TURTLE, XML, SPARQLWrapper
from rdflib.plugins.stores.sparqlstore import SPARQLStore

from d4d.serve import ServeOptions, SparqlServer, make_server, negotiate, RESULT_MEDIA_TYPES
from d4d.sparql import load_catalogue, run_query
from d4d.store import write_store

pytestmark = pytest.mark.server

EX = "http://example.org/"
DATA = """
@prefix ex: <http://example.org/> .
ex:a ex:name "Alpha" ; ex:knows ex:b .
ex:b ex:name "Beta" ; ex:knows ex:c .
ex:c ex:name "Gamma" .
"""  # 5 triples
BY_NAME = """# title: Who is called NAME
# description: Looks an actor up by exact name.
# param: name string "Beta" The exact name
# returns: ?who ?name
PREFIX ex: <http://example.org/>
SELECT ?who ?name WHERE { ?who ex:name ?name . }
"""
# 5^16 rows to count (a cross product of 16 patterns): hours of work for the engine.
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(16)) + " }"
TIME_LIMIT = 1.5
MAX_ROWS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparqlServer]:
    root = tmp_path_factory.mktemp("serve")
    write_store(root / "store", [(DATA.encode(), None)], format="turtle")
    (root / "queries").mkdir()
    (root / "queries" / "by-name.rq").write_text(BY_NAME, encoding="utf-8")
    srv = make_server(root / "store", port=0, quiet=True, catalogue=load_catalogue(root / "queries"),
                      options=ServeOptions(time_limit=TIME_LIMIT, max_rows=MAX_ROWS, workers=2))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def endpoint(server: SparqlServer) -> str:
    return server.url + "sparql"


def http(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
         method: str | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def get(server: SparqlServer, query: str, accept: str | None = None, **extra: str) -> tuple[int, str, bytes]:
    params = urllib.parse.urlencode({"query": query, **extra})
    return http(f"{endpoint(server)}?{params}", headers={"Accept": accept} if accept else {})


def test_binds_loopback_by_default(server: SparqlServer) -> None:
    assert server.server_address[0] == "127.0.0.1"


# -- real clients ----------------------------------------------------------------------------

def test_sparqlwrapper_select_in_every_results_format(server: SparqlServer) -> None:
    client = SPARQLWrapper(endpoint(server))
    client.setQuery(f"SELECT ?name WHERE {{ ?s <{EX}name> ?name }} ORDER BY ?name")
    client.setReturnFormat(JSON)
    data = client.query().convert()
    assert [b["name"]["value"] for b in data["results"]["bindings"]] == ["Alpha", "Beta", "Gamma"]  # type: ignore[index]

    client.setReturnFormat(XML)
    document = client.query().convert()
    assert [n.firstChild.data for n in document.getElementsByTagName("literal")] == ["Alpha", "Beta", "Gamma"]  # type: ignore[union-attr]

    client.setReturnFormat(CSV)
    assert client.query().convert().decode().splitlines() == ["name", "Alpha", "Beta", "Gamma"]  # type: ignore[union-attr]

    client.setMethod(POST)  # form-encoded POST
    client.setReturnFormat(JSON)
    assert len(client.query().convert()["results"]["bindings"]) == 3  # type: ignore[index]


def test_sparqlwrapper_construct_and_ask(server: SparqlServer) -> None:
    client = SPARQLWrapper(endpoint(server))
    client.setQuery(f"CONSTRUCT {{ ?b <{EX}knownBy> ?a }} WHERE {{ ?a <{EX}knows> ?b }}")
    client.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=client.query().convert(), format="turtle")  # type: ignore[arg-type]
    assert set(graph.subject_objects(rdflib.URIRef(EX + "knownBy"))) == {
        (rdflib.URIRef(EX + "b"), rdflib.URIRef(EX + "a")), (rdflib.URIRef(EX + "c"), rdflib.URIRef(EX + "b"))}
    client.setQuery(f"ASK {{ <{EX}a> <{EX}knows> <{EX}c> }}")
    client.setReturnFormat(JSON)
    assert client.query().convert()["boolean"] is False  # type: ignore[index]


def test_rdflib_sparqlstore(server: SparqlServer) -> None:
    graph = rdflib.Graph(SPARQLStore(endpoint(server)))
    rows = graph.query(f"SELECT ?who WHERE {{ ?who <{EX}knows> ?x }} ORDER BY ?who")
    assert [str(row[0]) for row in rows] == [EX + "a", EX + "b"]  # type: ignore[index]
    assert len(list(graph.triples((None, rdflib.URIRef(EX + "name"), None)))) == 3
    graph.close()


def test_post_sparql_query_body_and_d4d_client(server: SparqlServer) -> None:
    status, kind, body = http(endpoint(server), data=f"ASK {{ <{EX}a> ?p ?o }}".encode(),
                              headers={"Content-Type": "application/sparql-query",
                                       "Accept": "application/sparql-results+json"})
    assert (status, kind, json.loads(body)["boolean"]) == (200, "application/sparql-results+json", True)
    # our own remote client, with a bound parameter, against our own server
    assert run_query(BY_NAME, endpoint=endpoint(server)).values() == [{"who": EX + "b", "name": "Beta"}]


# -- content negotiation ---------------------------------------------------------------------

@pytest.mark.parametrize("accept, expected_type, first_line", [
    (None, "application/sparql-results+json", '{"head":{"vars":["name"]}'),
    ("*/*", "application/sparql-results+json", '{"head":{"vars":["name"]}'),
    ("text/csv", "text/csv", "name"),
    ("text/tab-separated-values", "text/tab-separated-values", "?name"),
    ("application/sparql-results+xml;q=0.9, text/csv;q=0.1", "application/sparql-results+xml", "<?xml"),
])
def test_negotiated_results(server: SparqlServer, accept: str | None, expected_type: str, first_line: str) -> None:
    status, kind, body = get(server, f"SELECT ?name WHERE {{ <{EX}a> <{EX}name> ?name }}", accept)
    assert status == 200 and kind.startswith(expected_type)
    assert body.decode().startswith(first_line)


def test_negotiated_graphs_and_406(server: SparqlServer) -> None:
    query = f"CONSTRUCT WHERE {{ <{EX}a> <{EX}name> ?n }}"
    assert get(server, query)[1] == "text/turtle"
    status, kind, body = get(server, query, "application/n-triples")
    assert (status, kind, body.decode()) == (200, "application/n-triples", f'<{EX}a> <{EX}name> "Alpha" .\n')
    assert get(server, query, "text/csv")[0] == 406
    assert get(server, query, format="rdfxml")[1] == "application/rdf+xml"
    assert get(server, "ASK {}", "image/png")[0] == 406


def test_negotiate_prefers_quality_then_our_order() -> None:
    assert negotiate("text/csv, application/json", RESULT_MEDIA_TYPES) == "json"
    assert negotiate("text/csv;q=1.0, application/json;q=0.5", RESULT_MEDIA_TYPES) == "csv"
    assert negotiate("application/json;q=0", RESULT_MEDIA_TYPES) is None


def test_graph_parameters(server: SparqlServer) -> None:
    # default-graph-uri naming a graph that does not exist: an empty default graph
    status, _, body = get(server, "SELECT * WHERE { ?s ?p ?o }", **{"default-graph-uri": EX + "none"})
    assert status == 200 and json.loads(body)["results"]["bindings"] == []
    assert get(server, "ASK {}", **{"named-graph-uri": "not an iri"})[0] == 400


# -- refusals and limits ---------------------------------------------------------------------

@pytest.mark.parametrize("request_kwargs", [
    {"data": urllib.parse.urlencode({"update": f'INSERT DATA {{ <{EX}x> <{EX}name> "X" }}'}).encode(),
     "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    {"data": f'INSERT DATA {{ <{EX}x> <{EX}name> "X" }}'.encode(),
     "headers": {"Content-Type": "application/sparql-update"}},
    {"data": urllib.parse.urlencode({"query": f"DELETE WHERE {{ <{EX}a> ?p ?o }}"}).encode(),
     "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    {"data": "LOAD <http://127.0.0.1:9/data.ttl>".encode(),
     "headers": {"Content-Type": "application/sparql-query"}},
])
def test_updates_and_load_are_refused(server: SparqlServer, request_kwargs: dict) -> None:  # type: ignore[type-arg]
    status, kind, body = http(endpoint(server), **request_kwargs)
    assert status == 403 and kind.startswith("text/plain")
    assert "read-only" in body.decode()
    assert get(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }}", "text/csv")[2].decode().split() == ["n", "5"]


def test_service_is_refused_without_calling_out(server: SparqlServer) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    target = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
    try:
        status, _, body = get(server, f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}")
        assert status == 403 and "SERVICE is not allowed" in body.decode() and target in body.decode()
        with pytest.raises(socket.timeout):
            listener.accept()  # nobody called the target
    finally:
        listener.close()


def test_time_limit_stops_the_query_and_the_server_recovers(server: SparqlServer) -> None:
    started = time.monotonic()
    status, _, body = get(server, SLOW)
    elapsed = time.monotonic() - started
    assert status == 503 and "time limit of 1.5 s" in body.decode()
    assert TIME_LIMIT <= elapsed < TIME_LIMIT + 5
    # the killed worker is replaced; both workers answer again
    for _ in range(4):
        assert get(server, "ASK { ?s ?p ?o }")[0] == 200


def test_result_size_limit(server: SparqlServer) -> None:
    status, _, body = get(server, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }")  # 25 rows > 20
    assert status == 422 and "more than 20 rows" in body.decode()
    status, _, body = get(server, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 20", "text/csv")
    assert status == 200 and len(body.decode().splitlines()) == 21


def test_syntax_error_is_400_with_position(server: SparqlServer) -> None:
    status, _, body = get(server, "SELECT * WHERE {\n  ?s ?p }")
    assert status == 400 and body.decode().startswith("syntax error at line 2, column")


def test_bad_requests(server: SparqlServer) -> None:
    assert http(endpoint(server), data=b"", headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 400
    assert http(endpoint(server), data=b"query=ASK{}", headers={"Content-Type": "text/plain"})[0] == 415
    assert http(server.url + "elsewhere")[0] == 404
    assert http(server.url + "static/../serve.py")[0] == 404


# -- the page --------------------------------------------------------------------------------

def test_page_assets_are_served_locally(server: SparqlServer) -> None:
    status, kind, page = http(server.url)
    assert status == 200 and kind.startswith("text/html")
    assert b"static/yasgui/yasgui.min.js" in page and b"//cdn" not in page
    assert http(server.url + "static/yasgui/yasgui.min.js")[0:2] == (200, "application/javascript; charset=utf-8")
    assert http(server.url + "static/yasgui/yasgui.min.css")[0] == 200
    catalogue = json.loads(http(server.url + "catalogue.json")[2])
    assert [entry["name"] for entry in catalogue] == ["by-name"]
    # the example text arrives as written; its parameters (with their defaults) are for the form
    assert catalogue[0]["text"] == BY_NAME
    assert catalogue[0]["params"] == [{"name": "name", "type": "string", "default": '"Beta"',
                                       "description": "The exact name"}]


@pytest.mark.browser
def test_page_runs_a_catalogue_query_in_chromium(server: SparqlServer) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    outside: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()

            def guard(route, request) -> None:  # type: ignore[no-untyped-def]
                if request.url.startswith(server.url):
                    route.continue_()
                else:
                    outside.append(request.url)
                    route.abort()

            page.route("**/*", guard)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(server.url)
            page.wait_for_selector(".CodeMirror")  # the editor is up
            page.wait_for_selector("body[data-catalogue-loaded='1']")
            page.select_option("#examples", "by-name")
            assert "Looks an actor up" in page.inner_text("#example-description")
            assert page.evaluate("window.d4dYasgui.getTab().getQuery()") == BY_NAME
            assert page.get_attribute("#params input[data-param='name']", "placeholder") == '"Beta"'

            page.click(".yasqe_queryButton")
            cell = page.wait_for_selector(".yasr table td:has-text('Beta')", timeout=15000)
            assert cell is not None
            assert "ex:b" in page.inner_text(".yasr table")  # YASR shows IRIs with the query's prefixes
            assert errors == []
        finally:
            browser.close()
    assert outside == [], f"the page tried to reach beyond the server: {outside}"
