"""Pushing to a real Oxigraph server (the `oxigraph` PyPI package) on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from d4d.errors import QueryError, StoreError
from d4d.push import checkpoint_path, graph_store_url, plan_chunks, push, read_triples
from d4d.sparql import run_query
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


def oxigraph_binary() -> str:
    for candidate in (Path(sys.executable).parent / "oxigraph", shutil.which("oxigraph")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.skip("the oxigraph server binary (pip install oxigraph) is not installed")
    raise AssertionError  # unreachable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Oxigraph:
    base: str

    @property
    def store(self) -> str:
        return self.base + "/store"

    @property
    def query(self) -> str:
        return self.base + "/query"

    def count(self, graph: str | None = None) -> int:
        pattern = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
        result = run_query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}", endpoint=self.query)
        return int(result.values()[0]["n"] or 0)


@pytest.fixture()
def oxigraph(tmp_path: Path) -> Iterator[Oxigraph]:
    port = free_port()
    process = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(tmp_path / "oxigraph"),
                                "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Oxigraph(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(server.query + "?query=" + urllib.parse.quote("ASK {}"), timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("oxigraph serve did not start")
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    path = tmp_path / "build" / "ecosystem.ttl"
    path.parent.mkdir()
    path.write_text(DATA, encoding="utf-8")
    return path


def test_plan_puts_blank_nodes_first_and_is_deterministic(source: Path) -> None:
    chunks = plan_chunks(read_triples(source), chunk_size=4)
    assert [len(chunk) for chunk in chunks] == [BLANK, 4, 4, 1]  # the blank-node chunk may exceed 4
    assert all("_:" not in str(t) for chunk in chunks[1:] for t in chunk)
    again = plan_chunks(read_triples(source), chunk_size=4)
    assert [[str(t) for t in c] for c in chunks[1:]] == [[str(t) for t in c] for c in again[1:]]
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
    assert oxigraph.count() == BLANK + 4
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
    write_store(tmp_path / "build" / "store", [source])
    push(tmp_path / "build", oxigraph.store, chunk_size=4)
    assert oxigraph.count() == GROUND + BLANK


def test_errors(source: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="run `d4d build` first"):
        push(tmp_path / "absent.ttl", "http://127.0.0.1:9/store")
    with pytest.raises(QueryError, match="PUT failed"):
        push(source, f"http://127.0.0.1:{free_port()}/store", retries=0, timeout=2)
