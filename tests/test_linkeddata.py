"""Linked Data: ``d4d serve`` answers the graph's IRIs (/id/<slug>, /sector/..., /ontology) with an HTML
page for a browser and RDF by content negotiation. Expected answers come from rdflib reading the seed
build's ``ecosystem.ttl``; a hand-made store with hostile text checks the escaping."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib
from rdflib.compare import isomorphic

from d4d.linkeddata import local_path, resource_iri
from d4d.serve import ServeOptions, SparqlServer, make_server
from d4d.store import write_store

pytestmark = pytest.mark.server

D4D = rdflib.Namespace("https://w3id.org/d4d/ontology#")
ID = rdflib.Namespace("https://w3id.org/d4d/id/")


def _start(store: Path) -> SparqlServer:
    server = make_server(store, port=0, quiet=True, options=ServeOptions(workers=1))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def server(seed_build: Path) -> Iterator[SparqlServer]:
    srv = _start(seed_build / "store")
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def reference(seed_build: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(seed_build / "ecosystem.ttl", format="turtle")


def get(url: str, accept: str | None = None) -> tuple[int, str, bytes, Any]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read(), error.headers


def test_paths_and_iris() -> None:
    assert resource_iri("/id/datakind") == str(ID.datakind)
    assert resource_iri("/id/datakind/citation/1") == str(ID["datakind/citation/1"])
    assert resource_iri("/sector/technology") == "https://w3id.org/d4d/sector/technology"
    assert resource_iri("/ontology") == "https://w3id.org/d4d/ontology"
    assert [resource_iri(p) for p in ("/id", "/id/", "/ontology/x", "/static/a.js", "/id/a b")] == [None] * 5
    assert local_path(str(D4D.Funding)) == "/ontology#Funding"
    assert local_path("https://schema.org/name") is None


def test_an_actor_page_for_a_browser(server: SparqlServer, reference: rdflib.Graph) -> None:
    status, kind, body, headers = get(server.url + "id/datakind",
                                      "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    page = body.decode()
    assert status == 200 and kind.startswith("text/html") and headers["Vary"] == "Accept"
    assert "<h1>DataKind</h1>" in page
    assert 'href="/map.html#actor=datakind"' in page
    # its relationships, counted by rdflib: each is shown with the other parties and its quotes
    ties = set(reference.query("""PREFIX d4d: <https://w3id.org/d4d/ontology#>
        SELECT DISTINCT ?fact WHERE { ?fact ?role <https://w3id.org/d4d/id/datakind> . ?fact a d4d:Relationship }"""))
    assert page.count('<div class="tie">') == len(ties) > 0
    for (fact,) in ties:  # type: ignore[misc]
        assert f'href="/id/{str(fact)[len(str(ID)):]}"' in page
        for citation in reference.objects(fact, D4D.citation):
            quote = str(reference.value(citation, D4D.quote))
            assert quote.replace("'", "&#39;").replace('"', "&#34;") in page
    assert 'href="/id/jake-porway"' in page and "Jake Porway" in page


def test_an_actor_in_rdf_by_negotiation(server: SparqlServer, reference: rdflib.Graph) -> None:
    about = {(p, o) for p, o in reference.predicate_objects(ID.datakind)}
    assert len(about) > 20
    graphs = {}
    for accept, media, fmt in (("text/turtle", "text/turtle", "turtle"), ("application/ld+json", "application/ld+json", "json-ld"),
                               ("application/rdf+xml", "application/rdf+xml", "xml"), ("*/*", "text/turtle", "turtle"),
                               (None, "text/turtle", "turtle")):
        status, kind, body, _ = get(server.url + "id/datakind", accept)
        assert (status, kind) == (200, media), accept
        graphs[accept] = rdflib.Graph().parse(data=body, format=fmt)
        assert about <= set(graphs[accept].predicate_objects(ID.datakind)), accept
    assert isomorphic(graphs["text/turtle"], graphs["application/ld+json"])
    status, kind, body, _ = get(server.url + "id/datakind?format=jsonld")
    assert (status, kind) == (200, "application/ld+json")
    json.loads(body)
    request = urllib.request.Request(server.url + "id/datakind", method="HEAD", headers={"Accept": "text/turtle"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert (response.status, response.headers["Content-Type"], response.read()) == (200, "text/turtle", b"")
        assert int(response.headers["Content-Length"]) > 1000
    assert get(server.url + "id/datakind", "image/png")[0] == 406
    assert get(server.url + "id/datakind?format=png")[0] == 406


def test_ontology_sector_and_unknown_paths(server: SparqlServer, reference: rdflib.Graph,
                                           seed_build: Path) -> None:
    status, kind, body, _ = get(server.url + "ontology", "text/turtle")
    ontology = rdflib.Graph().parse(data=body, format="turtle")
    expected = rdflib.Graph().parse(Path(__file__).resolve().parents[1] / "ontology" / "d4d.ttl")
    assert status == 200 and len(ontology) >= len(expected)
    assert (D4D.Funding, rdflib.RDF.type, rdflib.OWL.Class) in ontology
    status, _, body, _ = get(server.url + "ontology", "text/html")
    assert status == 200 and '<tr id="Funding">' in body.decode()
    status, _, body, _ = get(server.url + "sector/technology", "text/html")
    members = set(reference.subjects(D4D.sector, rdflib.URIRef("https://w3id.org/d4d/sector/technology")))
    assert status == 200 and members
    assert all(f'href="/id/{str(m)[len(str(ID)):]}"' in body.decode() for m in members)
    status, kind, body, _ = get(server.url + "id/no-such-actor")
    assert (status, body.decode()) == (404, "nothing is said about <https://w3id.org/d4d/id/no-such-actor> in this graph\n")
    assert get(server.url + "map.html")[0] == 404  # the seed build here wrote no map


HOSTILE = """
@prefix d4d: <https://w3id.org/d4d/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/d4d/id/x> a d4d:Organization ; rdfs:label "<script>alert('x')</script>" ;
    d4d:description "a & b \\" <img src=x onerror=alert(1)>" ; d4d:url "javascript:alert(1)" .
<https://w3id.org/d4d/id/tie> a d4d:Relationship, d4d:Funding ; d4d:funder <https://w3id.org/d4d/id/x> ;
    d4d:recipient <javascript:alert(2)> ; d4d:citation <https://w3id.org/d4d/id/tie/c> .
<https://w3id.org/d4d/id/tie/c> d4d:quote "</q><script>bad()</script>" ; d4d:citedSource <https://w3id.org/d4d/id/doc> .
<https://w3id.org/d4d/id/doc> d4d:title "Doc" ; d4d:url "javascript:alert(3)" .
"""


def test_every_value_is_escaped_and_no_script_link(tmp_path: Path) -> None:
    write_store(tmp_path / "build" / "store", [(HOSTILE.encode(), None)], format="turtle")
    (tmp_path / "build" / "map.html").write_text("<!doctype html><title>map</title>", encoding="utf-8")
    srv = _start(tmp_path / "build" / "store")
    try:
        status, _, body, _ = get(srv.url + "id/x", "text/html")
        page = body.decode()
        assert status == 200
        assert "<script>" not in page and "<img" not in page
        assert "javascript:alert(2)" in page  # shown as text, never as a link
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
        assert "&lt;/q&gt;&lt;script&gt;bad()&lt;/script&gt;" in page
        assert 'href="javascript' not in page
        status, kind, body, _ = get(srv.url + "map.html")
        assert (status, body) == (200, b"<!doctype html><title>map</title>")
    finally:
        srv.shutdown()
        srv.server_close()
