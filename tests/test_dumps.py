"""The RDF files of a build: sorted, the same for the same graph, in bounded memory."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from d4d.dumps import sorted_ntriples, write_rdf

EX = "http://example.org/"


def _lines(n: int) -> list[bytes]:
    return [f"<{EX}s{k % 97}> <{EX}p{k % 5}> \"{k}\" .\n".encode() for k in range(n)]


def _store(lines: list[bytes]) -> ox.Store:
    store = ox.Store()
    store.load(b"".join(lines), format=ox.RdfFormat.N_TRIPLES)
    store.load(f"<{EX}g> <{EX}p> <{EX}x> .\n".encode(), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(EX + "g"))
    return store


@pytest.mark.parametrize("run_bytes", [100, 1 << 20])
def test_the_default_graph_comes_out_sorted_in_runs_or_in_one(tmp_path: Path, run_bytes: int) -> None:
    lines = _lines(1000)
    random.Random(1).shuffle(lines)
    sorted_ntriples(_store(lines), tmp_path / "out.nt", run_bytes=run_bytes)
    assert (tmp_path / "out.nt").read_bytes() == b"".join(sorted(lines))  # the named graph's triple is not there
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nt"]


def test_the_same_graph_gives_the_same_files_whatever_the_order_it_was_loaded_in(tmp_path: Path) -> None:
    lines = _lines(500)
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    write_rdf(_store(lines), first, prefixes={"ex": EX})
    write_rdf(_store(list(reversed(lines))), second, prefixes={"ex": EX})
    for name in ("ecosystem.ttl", "ecosystem.jsonld"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    expected = Graph().parse(data=b"".join(lines).decode(), format="nt")
    assert isomorphic(Graph().parse(first / "ecosystem.ttl", format="turtle"), expected)
    assert isomorphic(Graph().parse(first / "ecosystem.jsonld", format="json-ld"), expected)
    assert json.loads((first / "ecosystem.jsonld").read_text())["@context"] == {"ex": EX}
    assert sorted(p.name for p in first.iterdir()) == ["ecosystem.jsonld", "ecosystem.ttl"]


def test_an_empty_graph_gives_empty_files_that_parse(tmp_path: Path) -> None:
    write_rdf(ox.Store(), tmp_path, prefixes={"ex": EX})
    assert len(Graph().parse(tmp_path / "ecosystem.ttl", format="turtle")) == 0
    assert json.loads((tmp_path / "ecosystem.jsonld").read_text())["@graph"] == []
