"""Pushing to a real Oxigraph server (the `oxigraph` PyPI package) on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from sparql_servers import Oxigraph, free_port, oxigraph_server

from d4d.errors import QueryError, StoreError
from d4d.push import checkpoint_path, graph_store_url, plan_chunks, push, read_triples
from d4d.sparql import CatalogueQuery, load_catalogue, run_query
from d4d.store import write_store

pytestmark = pytest.mark.server

EX = "http://example.org/"
# 9 ground triples and 5 triples touching blank nodes (a list of two items, and one anonymous node)
DATA = """
@prefix ex: <http://example.org/> .
ex:a ex:name "Alpha" ; ex:knows ex:b , ex:c ; ex:age 30 .
ex:b ex:name "Beta" ; ex:knows ex:c ; ex:age 41 .
ex:c ex:name "Gamma \\"quoted\\"" ; ex:age 52 .
ex:b ex:tags ( "x" "y" ) .
"""
GROUND, BLANK = 9, 5


@pytest.fixture()
def oxigraph(tmp_path: Path) -> Iterator[Oxigraph]:
    with oxigraph_server(tmp_path / "oxigraph") as server:
        yield server


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    path = tmp_path / "build" / "ecosystem.ttl"
    path.parent.mkdir()
    path.write_text(DATA, encoding="utf-8")
    return path


def test_plan_is_ground_and_the_same_for_every_parse(source: Path) -> None:
    chunks = plan_chunks(read_triples(source), chunk_size=4)
    assert [len(chunk) for chunk in chunks] == [4, 4, 4, 2]
    text = [str(t) for chunk in chunks for t in chunk]
    assert not any("_:" in line for line in text)
    # the list's two nodes and nothing else became skolem IRIs, each in its own triples
    skolems = {term for chunk in chunks for t in chunk for term in (t.subject, t.object)
               if str(term).startswith("<https://w3id.org/d4d/.well-known/genid/")}
    assert len(skolems) == 2
    again = plan_chunks(read_triples(source), chunk_size=4)  # a new parse: new blank-node labels
    assert [str(t) for chunk in again for t in chunk] == text
    assert [len(c) for c in plan_chunks(read_triples(source), chunk_size=100)] == [GROUND + BLANK]


def test_push_twice_does_not_duplicate(oxigraph: Oxigraph, source: Path) -> None:
    seen: list[tuple[int, int, int, int]] = []
    report = push(source, oxigraph.store, chunk_size=4, progress=lambda *a: seen.append(a))
    assert (report.triples, report.chunks, report.resumed_from) == (GROUND + BLANK, 4, 0)
    assert seen[-1] == (4, 4, GROUND + BLANK, GROUND + BLANK)
    assert oxigraph.count() == GROUND + BLANK
    push(source, oxigraph.store, chunk_size=3)  # other chunking, same graph
    assert oxigraph.count() == GROUND + BLANK
    tags = run_query(f"SELECT ?i WHERE {{ <{EX}b> <{EX}tags>/<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>*/"
                     f"<http://www.w3.org/1999/02/22-rdf-syntax-ns#first> ?i }} ORDER BY ?i", endpoint=oxigraph.query)
    assert [row["i"] for row in tags.values()] == ["x", "y"]
    assert not checkpoint_path(source.parent, oxigraph.store, None).exists()


def test_push_replaces_what_the_graph_held(oxigraph: Oxigraph, source: Path, tmp_path: Path) -> None:
    push(source, oxigraph.store, chunk_size=5)
    smaller = tmp_path / "smaller.nt"
    smaller.write_text(f'<{EX}z> <{EX}name> "Zeta" .\n', encoding="utf-8")
    push(smaller, oxigraph.store)
    assert oxigraph.count() == 1


def test_named_graph(oxigraph: Oxigraph, source: Path) -> None:
    graph = "https://w3id.org/d4d/graph/test"
    report = push(source, oxigraph.store, graph=graph, chunk_size=4)
    assert report.url == graph_store_url(oxigraph.store, graph)
    assert oxigraph.count(graph) == GROUND + BLANK
    assert oxigraph.count() == 0  # the default graph is untouched
    with pytest.raises(QueryError, match="is not an IRI"):
        push(source, oxigraph.store, graph="not an iri")


class Interrupt(Exception):
    pass


def test_interrupted_push_resumes(oxigraph: Oxigraph, source: Path) -> None:
    def stop_after_two(done: int, total: int, sent: int, all_triples: int) -> None:
        if done == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        push(source, oxigraph.store, chunk_size=4, progress=stop_after_two)
    state = json.loads(checkpoint_path(source.parent, oxigraph.store, None).read_text())
    assert (state["done"], state["chunks"]) == (2, 4)
    assert oxigraph.count() == 8
    report = push(source, oxigraph.store, chunk_size=4)
    assert report.resumed_from == 2
    assert oxigraph.count() == GROUND + BLANK


def test_changed_data_starts_over(oxigraph: Oxigraph, source: Path) -> None:
    def stop_after_two(done: int, *rest: int) -> None:
        if done == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        push(source, oxigraph.store, chunk_size=4, progress=stop_after_two)
    source.write_text(DATA + f'<{EX}d> <{EX}name> "Delta" .\n', encoding="utf-8")
    report = push(source, oxigraph.store, chunk_size=4)
    assert report.resumed_from == 0
    assert oxigraph.count() == GROUND + BLANK + 1


def test_push_from_a_store(oxigraph: Oxigraph, source: Path, tmp_path: Path) -> None:
    """A built store: the triples in named graphs, their merge in the default graph, which is pushed."""
    inferred = tmp_path / "inferred.nt"  # one triple asserted too, one new
    inferred.write_text(f"<{EX}a> <{EX}knows> <{EX}b> .\n<{EX}b> <{EX}knows> <{EX}a> .\n", encoding="utf-8")
    write_store(tmp_path / "build" / "store", [(source, "https://w3id.org/d4d/graph/facts"),
                                               (inferred, "https://w3id.org/d4d/graph/inferred")], merge=True)
    push(tmp_path / "build", oxigraph.store, chunk_size=4)
    assert oxigraph.count() == GROUND + BLANK + 1


def test_errors(source: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="run `d4d build` first"):
        push(tmp_path / "absent.ttl", "http://127.0.0.1:9/store")
    with pytest.raises(QueryError, match="PUT failed"):
        push(source, f"http://127.0.0.1:{free_port()}/store", retries=0, timeout=2)


def test_catalogue_answers_the_same_on_a_remote_server(seed_build: Path, seed_store: ox.Store,
                                                        tmp_path: Path) -> None:
    """Push the seed build to a real Oxigraph server; every catalogue query, with its default
    parameters bound, returns there what it returns on the local store."""
    catalogue = load_catalogue()
    with oxigraph_server(tmp_path / "oxigraph") as server:
        report = push(seed_build / "ecosystem.ttl", server.store, chunk_size=1000,
                      checkpoint_dir=tmp_path)
        assert server.count() == report.triples
        for query in catalogue.values():
            local = rows_of(query, store=seed_store)
            remote = rows_of(query, endpoint=server.query)
            assert remote == local, query.name
            assert local, f"{query.name} finds nothing on the seed graph"
        # and with parameters given by the user
        chain = catalogue["chain"]
        params = {"from": "d4did:thoughtworks-ny", "to": "d4did:harvard-university"}
        local_chain = rows_of(chain, store=seed_store, params=params)
        assert local_chain and {row[0] for row in local_chain} == {'"3"^^<http://www.w3.org/2001/XMLSchema#integer>'}
        assert rows_of(chain, endpoint=server.query, params=params) == local_chain


#: Separators of the catalogue's GROUP_CONCAT cells, whose order SPARQL leaves to the store.
SEPARATORS = (" | ", ", ")
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


def rows_of(query: CatalogueQuery, *, store: ox.Store | None = None, endpoint: str | None = None,
            params: dict[str, str] | None = None, booleans_as_numbers: bool = False) -> list[tuple[str, ...]]:
    """Rows as sorted tuples of N-Triples terms, or triples. A literal holding a GROUP_CONCAT
    separator has its parts sorted. With ``booleans_as_numbers``, true and false read as the
    integers 1 and 0 (Virtuoso 7 has no boolean type in its answers: it writes 1 and 0)."""
    result = run_query(query, store=store, endpoint=endpoint, params=params)
    if result.triples is not None:
        return sorted((str(t.subject), str(t.predicate), str(t.object)) for t in result.triples)
    rows = []
    for row in result.rows():
        cells = []
        for name in result.variables:
            cells.append(cell_text(row[name], booleans_as_numbers=booleans_as_numbers))
        rows.append(tuple(cells))
    return sorted(rows)


def cell_text(term: object, *, booleans_as_numbers: bool = False) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        if booleans_as_numbers and term.datatype.value == XSD_BOOLEAN:
            number = "1" if term.value in ("true", "1") else "0"
            return str(ox.Literal(number, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
        for separator in SEPARATORS:
            if separator in term.value:
                value = separator.join(sorted(term.value.split(separator)))
                return str(ox.Literal(value, datatype=term.datatype) if term.language is None
                           else ox.Literal(value, language=term.language))
    return str(term)
