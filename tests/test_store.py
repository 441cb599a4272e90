"""The store stage: writing, replacing and opening the on-disk pyoxigraph store."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from d4d.errors import StoreError
from d4d.store import (count_matches, find_store, hashed_join, memory_store, mirror_graph, open_store, query_options,
                       store_path, store_summary, write_store)

EX = "http://example.org/"
TURTLE = """
@prefix ex: <http://example.org/> .
ex:a ex:name "Alpha" ; ex:knows ex:b .
ex:b ex:name "Beta" ; ex:tags ( "x" "y" ) .
"""  # 4 + a list of two cells (2 x 2 triples) = 8 triples


def names(store: ox.Store) -> list[str]:
    rows = store.query(f"SELECT ?n WHERE {{ ?s <{EX}name> ?n }} ORDER BY ?n")
    return [row["n"].value for row in rows]  # type: ignore[union-attr]


def test_write_and_open_turtle_file(tmp_path: Path) -> None:
    source = tmp_path / "g.ttl"
    source.write_text(TURTLE, encoding="utf-8")
    stats = write_store(tmp_path / "store", [source])
    assert stats == {"quads": 8, "graphs": 0}
    store = open_store(tmp_path / "store")
    assert names(store) == ["Alpha", "Beta"]
    # the blank nodes of the list survive as one connected list
    items = store.query(f"SELECT ?i WHERE {{ <{EX}b> <{EX}tags>/rdf:rest*/rdf:first ?i }} ORDER BY ?i",
                        prefixes={"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"})
    assert [row["i"].value for row in items] == ["x", "y"]  # type: ignore[union-attr]


def test_build_dir_resolves_to_its_store(tmp_path: Path) -> None:
    write_store(store_path(tmp_path), [(TURTLE.encode(), None)], format="ttl")
    assert find_store(tmp_path) == tmp_path / "store"
    assert names(open_store(tmp_path)) == ["Alpha", "Beta"]


def test_named_graphs_and_rdflib_graph(tmp_path: Path) -> None:
    graph = rdflib.Graph()
    graph.add((rdflib.URIRef(EX + "c"), rdflib.URIRef(EX + "name"), rdflib.Literal("Gamma")))
    write_store(tmp_path / "store", [(TURTLE.encode(), EX + "g1"), (graph, None)], format="turtle")
    store = open_store(tmp_path / "store")
    summary = store_summary(store)
    assert summary == {"": 1, EX + "g1": 8}
    assert names(store) == ["Gamma"]  # the default graph alone
    union = store.query(f"SELECT ?n WHERE {{ ?s <{EX}name> ?n }} ORDER BY ?n", use_default_graph_as_union=True)
    assert [row["n"].value for row in union] == ["Alpha", "Beta", "Gamma"]  # type: ignore[union-attr]


def test_rdflib_dataset_keeps_its_graphs(tmp_path: Path) -> None:
    dataset = rdflib.Dataset()
    dataset.graph(rdflib.URIRef(EX + "g2")).add(
        (rdflib.URIRef(EX + "d"), rdflib.URIRef(EX + "name"), rdflib.Literal("Delta")))
    store = memory_store([dataset])
    assert store_summary(store) == {"": 0, EX + "g2": 1}


def test_rewrite_replaces_the_whole_store(tmp_path: Path) -> None:
    first = tmp_path / "one.nt"
    first.write_text(f'<{EX}a> <{EX}name> "Old" .\n', encoding="utf-8")
    second = tmp_path / "two.nt"
    second.write_text(f'<{EX}a> <{EX}name> "New" .\n', encoding="utf-8")
    write_store(tmp_path / "store", [first])
    write_store(tmp_path / "store", [second])
    assert names(open_store(tmp_path / "store")) == ["New"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.nt", "store", "two.nt"]  # nothing left over


def test_failed_write_keeps_the_old_store(tmp_path: Path) -> None:
    good = tmp_path / "good.nt"
    good.write_text(f'<{EX}a> <{EX}name> "Kept" .\n', encoding="utf-8")
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:name \"unterminated .\n", encoding="utf-8")
    write_store(tmp_path / "store", [good])
    with pytest.raises(StoreError, match="malformed RDF") as caught:
        write_store(tmp_path / "store", [good, bad])
    assert caught.value.path == str(bad)
    assert names(open_store(tmp_path / "store")) == ["Kept"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ttl", "good.nt", "store"]


def test_missing_store_says_run_build(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="run `d4d build` first"):
        open_store(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()  # opening never creates an empty store


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    write_store(tmp_path / "store", [(TURTLE.encode(), None)], format="ttl")
    store = open_store(tmp_path / "store")
    with pytest.raises(Exception):
        store.add(ox.Quad(ox.NamedNode(EX + "z"), ox.NamedNode(EX + "name"), ox.Literal("Z")))
    writable = open_store(tmp_path / "store", read_only=False)
    writable.add(ox.Quad(ox.NamedNode(EX + "z"), ox.NamedNode(EX + "name"), ox.Literal("Zeta")))
    assert names(writable) == ["Alpha", "Beta", "Zeta"]


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    odd = tmp_path / "g.weird"
    odd.write_text("", encoding="utf-8")
    with pytest.raises(StoreError, match="cannot tell the RDF format"):
        memory_store([odd])
    with pytest.raises(StoreError, match="no such RDF file"):
        memory_store([tmp_path / "absent.ttl"])
    with pytest.raises(StoreError, match="unknown RDF format"):
        memory_store([(b"", None)], format="nonsense")


# ---------------------------------------------------------------------------------------------
# The default graph as the merge of the named graphs


def _default(store: ox.Store) -> set[ox.Triple]:
    return {q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}


def _named(store: ox.Store) -> set[ox.Triple]:
    return {q.triple for q in store.quads_for_pattern(None, None, None, None)
            if not isinstance(q.graph_name, ox.DefaultGraph)}


def test_merged_store_holds_each_triple_of_its_graphs_once(tmp_path: Path) -> None:
    shared = f"<{EX}a> <{EX}name> \"Alpha\" .\n".encode()
    other = f"<{EX}c> <{EX}name> \"Gamma\" .\n".encode()
    stats = write_store(tmp_path / "store", [(TURTLE.encode(), EX + "g1"), (shared + other, EX + "g2")],
                        format="turtle", merge=True)
    assert stats == {"quads": 8 + 2 + 9, "graphs": 2}  # Alpha is in both graphs, once in the default graph
    store = open_store(tmp_path / "store")
    assert _default(store) == _named(store)
    assert names(store) == ["Alpha", "Beta", "Gamma"]
    assert query_options(store) == {}
    # the union of the named graphs repeats a triple each graph holds; the default graph does not
    unmerged = memory_store([(TURTLE.encode(), EX + "g1"), (shared + other, EX + "g2")], format="turtle")
    union = unmerged.query(f"SELECT ?n WHERE {{ ?s <{EX}name> ?n }} ORDER BY ?n", **query_options(unmerged))
    assert [row["n"].value for row in union] == ["Alpha", "Alpha", "Beta", "Gamma"]  # type: ignore[union-attr]
    # the list's blank nodes are the same nodes in the default graph as in g1
    items = store.query(f"SELECT ?i WHERE {{ <{EX}b> <{EX}tags>/rdf:rest*/rdf:first ?i }} ORDER BY ?i",
                        prefixes={"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"})
    assert [row["i"].value for row in items] == ["x", "y"]  # type: ignore[union-attr]


def test_an_unmerged_store_is_read_as_the_union_of_its_graphs() -> None:
    store = memory_store([(TURTLE.encode(), EX + "g1")], format="turtle")
    assert query_options(store) == {"use_default_graph_as_union": True}
    assert [r["n"].value for r in store.query(f"SELECT ?n WHERE {{ ?s <{EX}name> ?n }} ORDER BY ?n",
                                              **query_options(store))] == ["Alpha", "Beta"]  # type: ignore[union-attr]


def test_a_store_with_triples_outside_the_default_graph_is_read_as_a_union() -> None:
    """Asserted triples in the default graph and inferred ones in a named graph (d4d.reason.store_of and
    d4d.reason.materialise): not a merged store."""
    store = memory_store([TURTLE.encode(), (f"<{EX}c> <{EX}name> \"Gamma\" .\n".encode(), EX + "inferred")],
                         format="turtle")
    assert query_options(store) == {"use_default_graph_as_union": True}
    mirror_graph(store, EX + "inferred")
    assert query_options(store) == {}


def test_count_matches_stops_at_its_limit_and_reads_the_graphs_it_is_given() -> None:
    store = ox.Store()
    p, g = ox.NamedNode("http://example.org/p"), ox.NamedNode("http://example.org/g")
    for k in range(5):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/s{k}"), p, ox.Literal(str(k))))
    store.add(ox.Quad(ox.NamedNode("http://example.org/t"), p, ox.Literal("x"), g))
    assert count_matches(store, "?s ?p ?o") == 5
    assert count_matches(store, "?s ?p ?o", limit=3) == 3
    assert count_matches(store, "?s ?p ?o", limit=10) == 5
    assert count_matches(store, "?s ?p ?o", default_graph=[g]) == 1
    assert count_matches(store, "?s ?p ?o", default_graph=[g, ox.DefaultGraph()], limit=4) == 4


def test_a_hashed_join_has_the_solutions_of_the_plain_join() -> None:
    store = memory_store([rdflib.Graph().parse(data=TURTLE, format="turtle")])
    patterns = (f"?a <{EX}knows> ?b .", f"?b <{EX}name> ?n .", f"?a <{EX}name> ?m .")
    plain = store.query(f"SELECT ?m ?n WHERE {{ {' '.join(patterns)} }}")
    hashed = store.query(f"SELECT ?m ?n WHERE {{ {hashed_join(*patterns)} }}")
    rows = [[(row["m"].value, row["n"].value) for row in answer] for answer in (plain, hashed)]  # type: ignore[union-attr]
    assert rows[0] == rows[1] == [("Alpha", "Beta")]
    assert hashed_join("?x a ?c") == "{ SELECT * WHERE { ?x a ?c } }"


def test_a_copied_graph_and_its_merge_keep_the_blank_nodes_of_the_source(tmp_path: Path) -> None:
    """A source copied from the last build's store, then merged from the file it was copied through:
    the default graph is the merge of the named graph, blank nodes included (the same nodes)."""
    from d4d.assemble import copy_graph

    graph = ox.NamedNode(EX + "g")
    source = ox.Store()
    source.load(f"<{EX}a> <{EX}knows> [ <{EX}name> \"Ana\" ] . <{EX}a> <{EX}name> \"A _: B\" .\n".encode(),
                format=ox.RdfFormat.TURTLE, to_graph=graph)
    target = ox.Store()
    text = tmp_path / "g.nt"
    copy_graph(source, target, graph.value, text)
    mirror_graph(target, graph, text=text)
    named = {(q.subject, q.predicate, q.object) for q in target.quads_for_pattern(None, None, None, graph)}
    default = {(q.subject, q.predicate, q.object) for q in target.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    assert len(named) == 3 and named == default
    assert {(q.subject, q.predicate, q.object) for q in source} == named


def test_a_persisted_store_equals_the_one_in_memory(tmp_path: Path) -> None:
    """An in-memory store written to disk: the same quads in every graph, its blank nodes the same
    nodes, however its lines were shared between the bulk loads (here over 2 MiB of them)."""
    from d4d.store import persist

    memory, graph = ox.Store(), ox.NamedNode(EX + "g")
    memory.load(f"<{EX}a> <{EX}knows> [ <{EX}name> \"Ana\" ] . <{EX}a> <{EX}name> \"A _: B\" .\n".encode(),
                format=ox.RdfFormat.TURTLE, to_graph=graph)
    memory.extend(ox.Quad(ox.NamedNode(f"{EX}s{k}"), ox.NamedNode(EX + "label"), ox.Literal("x" * 40 + str(k)),
                          graph if k % 3 else ox.DefaultGraph()) for k in range(40_000))
    disk = persist(memory, tmp_path / "store")
    assert len(disk) == len(memory) == 40_003
    assert set(disk) == set(memory)
