"""Incremental builds: nothing changed reuses the store; an edited curated fact updates the inferences in
place (delete and re-derive), exactly as a build from scratch would; an unchanged source is not imported
again; a changed ontology derives everything anew; a failed rebuild leaves the previous build."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDF, Graph

from d4d import materialise, reason
from d4d.pipeline import build
from d4d.errors import ReasoningError, ValidationError
from d4d.incremental import GraphState, Manifest, build_store, plan
from d4d.load import Loaded, load
from d4d.materialise import Materialiser
from d4d.store import fill_default_graph
from d4d.vocab import D4D, GRAPH, ID
from project_fixtures import write_spreadsheet_source

ONTOLOGY, FACTS, INFERRED = str(GRAPH["ontology"]), str(GRAPH["facts"]), str(reason.INFERRED)


def _layout(store_dir: Path) -> tuple[set[ox.Triple], set[ox.Triple]]:
    """The default graph of a built store and the merge of its named graphs, checked to be its layout:
    the default graph holds the named graphs' triples, and the inferences only there."""
    store = ox.Store.read_only(str(store_dir))
    assert not store.contains_named_graph(ox.NamedNode(INFERRED))
    default = {q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    named = {q.triple for q in store.quads_for_pattern(None, None, None, None)
             if not isinstance(q.graph_name, ox.DefaultGraph)}
    assert named <= default
    return default, named


def _inferred(store_dir: Path) -> set[ox.Triple]:
    """The inferences of a built store: what its default graph holds and no named graph does."""
    default, named = _layout(store_dir)
    return default - named


def _merged(store_dir: Path) -> set[ox.Triple]:
    """The default graph of a built store (checked as :func:`_layout` does)."""
    return _layout(store_dir)[0]


def _named(store_dir: Path) -> set[ox.Quad]:
    """The quads of a built store's named graphs (where each asserted triple comes from)."""
    store = ox.Store.read_only(str(store_dir))
    return {q for q in store.quads_for_pattern(None, None, None, None) if not isinstance(q.graph_name, ox.DefaultGraph)}


def _digest(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
            for name in ("ecosystem.ttl", "ecosystem.jsonld")}


# ---------------------------------------------------------------------------------------------
# Delete and re-derive, on the seed graph


@pytest.fixture(scope="module")
def seed(root: Path) -> Loaded:
    return load(root / "ontology", root / "graph")


def _fresh(seed: Loaded, facts: Graph) -> ox.Store:
    store = reason.store_of([seed.ontology.graph, facts], names=[ONTOLOGY, FACTS])
    Materialiser(store, reason.all_rules(seed.ontology), asserted=[ONTOLOGY, FACTS]).full()
    return store


def _triples(store: ox.Store) -> set[ox.Triple]:
    return {q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(INFERRED))}


def _edits(seed: Loaded) -> dict[str, Graph]:
    """Edits of the curated facts, each a new facts graph."""
    edits = {}
    funding = ID["funding-rockefeller-data-pop-alliance-seed"]
    g = Graph()
    g += seed.facts.graph
    for t in list(g.triples((funding, None, None))):
        g.remove(t)
    edits["remove a funding"] = g
    g = Graph()
    g += seed.facts.graph
    g.remove((funding, D4D.funder, ID["rockefeller-foundation"]))
    g.add((funding, D4D.funder, ID["mit-media-lab"]))
    edits["change a funder"] = g
    g = Graph()
    g += seed.facts.graph
    m = ID["membership-new"]
    g.add((m, RDF.type, D4D.Membership))
    g.add((m, D4D.member, ID["jake-porway"]))
    g.add((m, D4D.organization, ID["data-pop-alliance"]))
    edits["add a membership"] = g
    g = Graph()
    g += seed.facts.graph
    for t in list(g.triples((ID["datakind"], RDF.type, None))):
        g.remove(t)
    edits["untype an organisation"] = g
    return edits


@pytest.mark.parametrize("inline", [materialise.INLINE_ROWS, 0], ids=["deltas inline", "deltas as graphs"])
def test_replace_graph_gives_what_a_full_run_gives(seed: Loaded, inline: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # small deltas are written into the queries (VALUES); larger ones are read from their graphs
    monkeypatch.setattr(materialise, "INLINE_ROWS", inline)
    store = _fresh(seed, seed.facts.graph)
    rules = reason.all_rules(seed.ontology)
    for name, facts in _edits(seed).items():
        before = len(_triples(store))
        report = Materialiser(store, rules, asserted=[ONTOLOGY, FACTS]).replace_graph(
            FACTS, facts.serialize(format="nt", encoding="utf-8"))
        expected = _triples(_fresh(seed, facts))
        assert _triples(store) == expected, name
        assert report.net == len(expected) - before, name
        assert not [g for g in store.named_graphs() if "/scratch/" in g.value], name


def test_an_update_keeps_the_default_graph_the_merge_of_the_graphs(seed: Loaded) -> None:
    # a built store's layout: the inferences in the default graph only
    store = _fresh(seed, seed.facts.graph)
    derived = next(iter(sorted(_triples(store), key=str)))
    fill_default_graph(store)
    store.remove_graph(ox.NamedNode(INFERRED))
    rules = reason.all_rules(seed.ontology)

    def inferences() -> int:
        named = {q.triple for q in store.quads_for_pattern(None, None, None, None)
                 if not isinstance(q.graph_name, ox.DefaultGraph)}
        return len(default() - named)

    def ground(quads: Iterable[ox.Quad]) -> tuple[set[ox.Triple], int]:
        """The triples without blank nodes, and how many have one (the ontology's blank nodes are
        labelled anew in each store)."""
        triples = {q.triple for q in quads}
        plain = {t for t in triples if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}
        return plain, len(triples) - len(plain)

    def default() -> set[ox.Triple]:
        return {q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}

    for name, facts in _edits(seed).items():
        before = inferences()
        report = Materialiser(store, rules, asserted=[ONTOLOGY, FACTS], merged=True).replace_graph(
            FACTS, facts.serialize(format="nt", encoding="utf-8"))
        expected = ground(_fresh(seed, facts).quads_for_pattern(None, None, None, None))
        assert ground(store.quads_for_pattern(None, None, None, ox.DefaultGraph())) == expected, name
        assert report.net == inferences() - before, name
        assert not store.contains_named_graph(ox.NamedNode(INFERRED)), name
    # a triple both asserted and derived stays in the default graph while either holds
    facts = seed.facts.graph.serialize(format="nt", encoding="utf-8")
    extra = ox.serialize([derived], format=ox.RdfFormat.N_TRIPLES) or b""
    Materialiser(store, rules, asserted=[ONTOLOGY, FACTS], merged=True).replace_graph(FACTS, facts + extra)
    assert derived in default()
    Materialiser(store, rules, asserted=[ONTOLOGY, FACTS], merged=True).replace_graph(FACTS, facts)
    assert derived in default()
    assert ground(store.quads_for_pattern(None, None, None, ox.DefaultGraph())) == \
        ground(_fresh(seed, seed.facts.graph).quads_for_pattern(None, None, None, None))


def test_stale_inferences_are_removed(seed: Loaded) -> None:
    store = _fresh(seed, seed.facts.graph)
    dpa, rf = ox.NamedNode(str(ID["data-pop-alliance"])), ox.NamedNode(str(ID["rockefeller-foundation"]))
    funded_by = ox.NamedNode(str(D4D.fundedBy))
    assert ox.Triple(dpa, funded_by, rf) in _triples(store)
    facts = _edits(seed)["remove a funding"]
    report = Materialiser(store, reason.all_rules(seed.ontology), asserted=[ONTOLOGY, FACTS]).replace_graph(
        FACTS, facts.serialize(format="nt", encoding="utf-8"))
    assert ox.Triple(dpa, funded_by, rf) not in _triples(store)
    assert ox.Triple(rf, ox.NamedNode(str(D4D.funds)), dpa) not in _triples(store)
    assert report.removed > 0


def test_a_triple_still_derived_another_way_stays(seed: Loaded) -> None:
    """Asserting a triple the rules derive, then removing the assertion, leaves it inferred."""
    store = _fresh(seed, seed.facts.graph)
    derived = next(iter(_triples(store)))
    rules = reason.all_rules(seed.ontology)
    extra = ox.serialize([derived], format=ox.RdfFormat.N_TRIPLES) or b""
    facts = seed.facts.graph.serialize(format="nt", encoding="utf-8")
    Materialiser(store, rules, asserted=[ONTOLOGY, FACTS]).replace_graph(FACTS, facts + extra)
    assert derived not in _triples(store)  # asserted now: the inferences hold only what no graph asserts
    Materialiser(store, rules, asserted=[ONTOLOGY, FACTS]).replace_graph(FACTS, facts)
    assert derived in _triples(store)


def test_blank_nodes_cannot_be_replaced_in_place(seed: Loaded) -> None:
    store = _fresh(seed, seed.facts.graph)
    with pytest.raises(ReasoningError, match="blank nodes"):
        Materialiser(store, reason.all_rules(seed.ontology), asserted=[ONTOLOGY, FACTS]).replace_graph(
            FACTS, b"_:b <https://w3id.org/d4d/ontology#name> \"x\" .\n")


# ---------------------------------------------------------------------------------------------
# The plan


def test_plan_decides_from_the_manifest() -> None:
    wanted = {FACTS: GraphState("a", 10, "facts"), "g/source/s": GraphState("b", 0, "source")}
    assert plan(None, engine="e", wanted=wanted).mode == "full"
    previous = Manifest(engine="e", graphs={FACTS: GraphState("a", 10, "facts"),
                                            "g/source/s": GraphState("b", 500_000, "source")})
    assert plan(previous, engine="e", wanted=wanted).mode == "reuse"
    assert plan(previous, engine="other", wanted=wanted).mode == "full"
    assert plan(previous, engine="other", wanted=wanted).unchanged == ["g/source/s"]  # copied, not imported
    edited = {**wanted, FACTS: GraphState("a2", 11, "facts")}
    decision = plan(previous, engine="e", wanted=edited, sizes={FACTS: 11})
    assert (decision.mode, decision.changed) == ("update", [FACTS])
    big = {**wanted, "g/source/s": GraphState("b2", 0, "source")}
    assert plan(previous, engine="e", wanted=big).mode == "full"  # a large source changed


# ---------------------------------------------------------------------------------------------
# Builds


def _edit_funder(project: Path) -> None:
    path = project / "graph" / "relationships" / "fundings.yaml"
    text = path.read_text(encoding="utf-8")
    assert "funder: rockefeller-foundation" in text
    path.write_text(text.replace("funder: rockefeller-foundation", "funder: mit-media-lab", 1), encoding="utf-8")


def test_rebuild_reuses_then_updates_like_a_full_build(project_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    first = build(project_copy, out=out, reasoner=False, extras=False)
    assert first.store["mode"] == "full"
    digest = _digest(out)

    again = build(project_copy, out=out, reasoner=False, extras=False)
    assert again.store["mode"] == "reuse" and again.store["imported"] == []
    assert _digest(out) == digest
    assert again.counts == first.counts

    _edit_funder(project_copy)
    edited = build(project_copy, out=out, reasoner=False, extras=False)
    assert edited.store["mode"] == "update"
    assert edited.store["changed"] == [FACTS]
    fresh = tmp_path / "fresh"
    scratch = build(project_copy, out=fresh, reasoner=False, extras=False)
    assert scratch.store["mode"] == "full"
    assert _inferred(out / "store") == _inferred(fresh / "store")
    assert _merged(out / "store") == _merged(fresh / "store")
    assert _digest(out) == _digest(fresh)
    assert edited.counts == scratch.counts
    dpa = ox.NamedNode(str(ID["data-pop-alliance"]))
    assert ox.Triple(dpa, ox.NamedNode(str(D4D.fundedBy)), ox.NamedNode(str(ID["mit-media-lab"]))) \
        in _inferred(out / "store")
    assert ox.Triple(dpa, ox.NamedNode(str(D4D.fundedBy)), ox.NamedNode(str(ID["rockefeller-foundation"]))) \
        not in _inferred(out / "store")


def test_an_unchanged_source_is_not_imported_again(project_copy: Path, tmp_path: Path) -> None:
    write_spreadsheet_source(project_copy)
    out = tmp_path / "build"
    first = build(project_copy, out=out, reasoner=False, extras=False)
    assert first.store["imported"] == ["sheet"]
    # the importer's organisation has no sector: reported, not fatal
    assert first.store["validation"]["sheet"]["violations"] >= 1

    _edit_funder(project_copy)
    edited = build(project_copy, out=out, reasoner=False, extras=False)
    assert edited.store["mode"] == "update" and edited.store["imported"] == []
    assert edited.store["validation"] == first.store["validation"]

    ties = project_copy / "ties.csv"
    ties.write_text(ties.read_text(encoding="utf-8") + "Test Funder,datakind\n", encoding="utf-8")
    changed = build(project_copy, out=out, reasoner=False, extras=False)
    assert changed.store["mode"] == "update" and changed.store["imported"] == ["sheet"]
    fresh = build(project_copy, out=tmp_path / "fresh", reasoner=False, extras=False)
    assert _inferred(out / "store") == _inferred(tmp_path / "fresh" / "store")
    assert _merged(out / "store") == _merged(tmp_path / "fresh" / "store")
    assert changed.counts == fresh.counts

    (project_copy / "ontology" / "d4d.ttl").write_text(
        (project_copy / "ontology" / "d4d.ttl").read_text(encoding="utf-8") +
        "\n<https://w3id.org/d4d/ontology#Extra> a <http://www.w3.org/2002/07/owl#Class> .\n", encoding="utf-8")
    anew = build(project_copy, out=out, reasoner=False, extras=False)
    assert anew.store["mode"] == "full"
    assert anew.store["imported"] == [] and anew.store["copied"] == ["sheet"]  # copied from the last store
    # a copied graph goes to disk whole, not batch by batch: the same store all the same
    fresh = build(project_copy, out=tmp_path / "fresh2", reasoner=False, extras=False)
    assert _merged(out / "store") == _merged(tmp_path / "fresh2" / "store")
    assert _named(out / "store") == _named(tmp_path / "fresh2" / "store")


def test_a_failed_rebuild_keeps_the_previous_build(project_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    build(project_copy, out=out, reasoner=False, extras=False)
    digest = _digest(out)
    inferred = _inferred(out / "store")
    # a person used as an organisation: the rules make it both, which the ontology forbids
    path = project_copy / "graph" / "relationships" / "zz.yaml"
    path.write_text("- id: founding-x\n  type: Founding\n  founded: jake-porway\n  date: 2011\n  sources:\n"
                    "    - source: seed-ssir-collaboration\n      quote: DataKind\n", encoding="utf-8")
    with pytest.raises(Exception):
        build(project_copy, out=out, reasoner=False, extras=False)
    assert _digest(out) == digest
    assert _inferred(out / "store") == inferred
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    path.unlink()
    assert build(project_copy, out=out, reasoner=False, extras=False).store["mode"] == "reuse"


def test_a_failed_first_build_stops_its_write_to_disk(project_copy: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A full build in memory writes the asserted graphs to disk while the rules run: when the rules
    then find a clash, that write is waited for and cleaned up before the error goes out."""
    import tempfile
    import threading

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = project_copy / "graph" / "relationships" / "zz.yaml"
    path.write_text("- id: founding-x\n  type: Founding\n  founded: jake-porway\n  date: 2011\n  sources:\n"
                    "    - source: seed-ssir-collaboration\n      quote: DataKind\n", encoding="utf-8")
    loaded = load(project_copy / "ontology", project_copy / "graph")  # not validated: SHACL would stop it
    with pytest.raises(ReasoningError, match="jake-porway is both"):
        build_store(tmp_path / "store", loaded=loaded, project=project_copy)
    assert not [t for t in threading.enumerate() if t.name == "d4d-persist"]
    assert not list(scratch.iterdir())


@pytest.mark.parametrize("limit", [None, 0], ids=["in memory", "on disk"])
def test_a_strict_build_stops_at_a_source_that_breaks_a_shape(project_copy: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               limit: int | None) -> None:
    """The sources are checked while the closure loads in a thread: a violation stops a strict build
    once that load has ended, and nothing is left behind."""
    import tempfile
    import threading

    import d4d.incremental

    if limit is not None:
        monkeypatch.setattr(d4d.incremental, "MEMORY_LIMIT", limit)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    write_spreadsheet_source(project_copy)  # its organisation has no sector
    loaded = load(project_copy / "ontology", project_copy / "graph")
    with pytest.raises(ValidationError, match="sector") as caught:
        build_store(tmp_path / "store", loaded=loaded, project=project_copy, strict=True)
    assert "Test Funder" in str(caught.value)
    assert not [t for t in threading.enumerate() if t.name in ("d4d-closure", "d4d-persist")]
    assert not list(scratch.iterdir())


@pytest.mark.parametrize("limit", [None, 0], ids=["in memory", "on disk"])
def test_a_build_checks_its_sources_beside_the_join_rules(project_copy: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch, limit: int | None) -> None:
    """A build that is not strict loads the closure on its own, then checks the sources in a thread while
    the join rules run: the report is the one a strict build's order gives, and an error in the checks
    surfaces from the build."""
    import threading
    import time

    import d4d.incremental
    from d4d import shapes_sparql

    if limit is not None:
        monkeypatch.setattr(d4d.incremental, "MEMORY_LIMIT", limit)
    write_spreadsheet_source(project_copy)
    loaded = load(project_copy / "ontology", project_copy / "graph")
    spans: list[tuple[str, str, float, float]] = []  # (what, thread, start, end)
    check_store, construct = shapes_sparql.check_store, Materialiser._construct

    def checked(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        if not spans or all(what != "check" for what, *_ in spans):
            time.sleep(0.3)  # the first check lasts long enough for the rules' queries to run beside it
        try:
            return check_store(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            spans.append(("check", threading.current_thread().name, started, time.perf_counter()))

    def joined(self: Materialiser, query: str, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return construct(self, query, **kwargs)  # type: ignore[arg-type]
        finally:
            spans.append(("join", threading.current_thread().name, started, time.perf_counter()))

    monkeypatch.setattr(shapes_sparql, "check_store", checked)
    monkeypatch.setattr(Materialiser, "_construct", joined)
    built = build_store(tmp_path / "store", loaded=loaded, project=project_copy)
    checks = [(a, b) for what, thread, a, b in spans if what == "check"]
    assert checks and {thread for what, thread, *_ in spans if what == "check"} == {"d4d-check"}
    joins = [a for what, thread, a, _ in spans if what == "join" and thread == "MainThread"]
    assert any(a < j < b for a, b in checks for j in joins)
    report = built.manifest.graphs[str(GRAPH["source/sheet"])].validation
    assert report["violations"] == 1 and list(report["rules"]) == [
        "Organization: an organisation needs one or more sectors (see ontology/sectors.ttl)"]
    assert "validate sources (a thread, beside the join rules)" in built.seconds

    def broken(*args: object, **kwargs: object) -> object:
        raise ValidationError("the shape query of X failed: boom")

    monkeypatch.setattr(shapes_sparql, "check_store", broken)
    with pytest.raises(ValidationError, match="boom"):
        build_store(tmp_path / "again", loaded=loaded, project=project_copy)
    assert not [t for t in threading.enumerate() if t.name in ("d4d-check", "d4d-persist")]


def test_the_manifest_round_trips(tmp_path: Path) -> None:
    manifest = Manifest(engine="e", graphs={FACTS: GraphState("a", 3, "facts", types={"x": 1})}, inferred=7)
    manifest.write(tmp_path)
    again = Manifest.read(tmp_path)
    assert again == manifest
    (tmp_path / "d4d-manifest.json").write_text("{not json", encoding="utf-8")
    assert Manifest.read(tmp_path) is None
    shutil.rmtree(tmp_path)


def test_a_build_on_disk_gives_the_store_a_build_in_memory_gives(project_copy: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Above d4d.incremental.MEMORY_LIMIT expected triples the build works in the on-disk store."""
    import d4d.incremental

    write_spreadsheet_source(project_copy)
    in_memory = build(project_copy, out=tmp_path / "memory", reasoner=False, extras=False)
    monkeypatch.setattr(d4d.incremental, "MEMORY_LIMIT", 0)
    on_disk = build(project_copy, out=tmp_path / "disk", reasoner=False, extras=False)
    assert "store: merge" in on_disk.seconds and "store: write to disk" not in on_disk.seconds
    assert "store: write to disk" in in_memory.seconds
    assert _inferred(tmp_path / "disk" / "store") == _inferred(tmp_path / "memory" / "store")
    assert _merged(tmp_path / "disk" / "store") == _merged(tmp_path / "memory" / "store")
    assert _named(tmp_path / "disk" / "store") == _named(tmp_path / "memory" / "store")
    assert _digest(tmp_path / "disk") == _digest(tmp_path / "memory")
    assert on_disk.counts == in_memory.counts
