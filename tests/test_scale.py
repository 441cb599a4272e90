"""The scalable path, on small sizes: the store's rules derive exactly what the reason stage's
materialisation derives (seed graph and a synthetic IATI source); the one-triple rules closed in
Python equal the same rules run in the store; the store's serialiser writes deterministic, complete
Turtle and JSON-LD; a graph above the dump limit writes no stale files; a join rule's first sweep is
written from its smallest pattern and hashed, with the same answers; a build in memory goes to disk in
chunks while it imports, into the same store."""

from __future__ import annotations

import doctest
import hashlib
import io
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

import d4d.materialise
from d4d import pipeline as build_module
from d4d import reason
from d4d.pipeline import build
from d4d.dumps import write_jsonld, write_turtle
from d4d.imports import SourceSpec, import_source
from d4d.load import Loaded, load
from d4d.materialise import LocalRules, Materialiser, Report, materialise_store, plan_rule
from d4d.vocab import GRAPH, PREFIXES

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import synthetic_iati  # noqa: E402

ONTOLOGY, FACTS, INFERRED = str(GRAPH["ontology"]), str(GRAPH["facts"]), str(reason.INFERRED)
SOURCE = str(GRAPH["source/synthetic"])


@pytest.fixture(scope="module")
def seed(root: Path) -> Loaded:
    return load(root / "ontology", root / "graph")


def _inferred(store: ox.Store) -> set[ox.Triple]:
    return {q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(INFERRED))}


def _asserted(store: ox.Store, graphs: list[str]) -> set[ox.Triple]:
    return {q.triple for g in graphs for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g))}


def _fails_cleanly(seed: Loaded, rules: list[reason.Rule], monkeypatch: pytest.MonkeyPatch) -> None:
    """Materialising the seed (with a part broken to raise ``OSError("disk full")``) raises that error
    and leaves no scratch folder and no scratch graph."""
    scratch: list[Path] = []
    enter = Materialiser.__enter__

    def remember(self: Materialiser) -> Materialiser:
        entered = enter(self)
        assert self._scratch_dir is not None
        scratch.append(self._scratch_dir)
        return entered

    monkeypatch.setattr(Materialiser, "__enter__", remember)
    store = reason.store_of([seed.ontology.graph, seed.facts.graph], names=[ONTOLOGY, FACTS])
    with pytest.raises(OSError, match="disk full"):
        materialise_store(store, rules, asserted=[ONTOLOGY, FACTS])
    assert scratch and not scratch[0].exists()
    assert not [g for g in store.named_graphs() if "/scratch/" in g.value]


def test_store_rules_equal_the_reason_stage_on_the_seed(seed: Loaded) -> None:
    rules = reason.all_rules(seed.ontology)
    reference = reason.store_of([seed.ontology.graph, seed.facts.graph], names=[ONTOLOGY, FACTS])
    reason.materialise(reference, rules)
    scalable = reason.store_of([seed.ontology.graph, seed.facts.graph], names=[ONTOLOGY, FACTS])
    report = materialise_store(scalable, rules, asserted=[ONTOLOGY, FACTS])
    assert _inferred(scalable) == _inferred(reference)
    assert len(_inferred(scalable)) > 1000
    assert report.sweeps >= 2
    assert not [g for g in scalable.named_graphs() if "/scratch/" in g.value]


def test_a_merged_full_run_writes_the_same_inferences_into_the_default_graph(seed: Loaded, synthetic: Path) -> None:
    """The layout of a store built on disk: the default graph ends as the merge of the asserted graphs
    and the inferences a run into a named graph derives, whatever the default graph held before."""
    rules = reason.all_rules(seed.ontology)
    named = _store_with_source(seed, synthetic)
    materialise_store(named, rules, asserted=[ONTOLOGY, FACTS, SOURCE])
    merged = _store_with_source(seed, synthetic)
    stale = ox.Quad(ox.NamedNode("http://example.org/stale"), ox.NamedNode("http://example.org/p"),
                    ox.Literal("left over"), ox.DefaultGraph())
    merged.add(stale)
    report = Materialiser(merged, rules, asserted=[ONTOLOGY, FACTS, SOURCE], merged=True).full()
    default = {q.triple for q in merged.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    asserted = _asserted(merged, [ONTOLOGY, FACTS, SOURCE])
    assert stale.triple not in default
    assert asserted <= default
    assert default - asserted == _inferred(named) - asserted
    assert len(default - asserted) > 1000 and report.sweeps >= 2
    assert not merged.contains_named_graph(ox.NamedNode(INFERRED))
    assert not [g for g in merged.named_graphs() if "/scratch/" in g.value]


@pytest.fixture(scope="module")
def synthetic(seed: Loaded, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "iati.xml"
    counts = synthetic_iati.write(path, 120, seed=3)
    assert counts["transactions"] == 120
    return path


def _store_with_source(seed: Loaded, xml: Path) -> ox.Store:
    store = reason.store_of([seed.ontology.graph, seed.facts.graph], names=[ONTOLOGY, FACTS])
    import_source(store, SourceSpec(name="synthetic", kind="iati", paths=(xml,)))
    return store


def test_store_rules_equal_the_reason_stage_on_imported_data(seed: Loaded, synthetic: Path) -> None:
    """The same as on the seed, with an IATI source: inferences equal, up to the triples the reason
    stage also writes into the inferences although an asserted graph holds them."""
    rules = reason.all_rules(seed.ontology)
    reference = _store_with_source(seed, synthetic)
    reason.materialise(reference, rules)
    scalable = _store_with_source(seed, synthetic)
    materialise_store(scalable, rules, asserted=[ONTOLOGY, FACTS, SOURCE])
    asserted = _asserted(scalable, [ONTOLOGY, FACTS, SOURCE])
    assert _inferred(scalable) == _inferred(reference) - asserted
    assert not _inferred(scalable) & asserted
    assert len(_inferred(scalable)) > 5_000


def test_local_rules_in_python_equal_the_same_rules_in_the_store(seed: Loaded, synthetic: Path) -> None:
    rules = reason.all_rules(seed.ontology)
    plans = [plan_rule(r) for r in rules]
    local = LocalRules(plans)
    assert len(local.names) > 100 and len(local.names) < len(rules)  # the joins stay in the store
    store = _store_with_source(seed, synthetic)
    graphs = [ONTOLOGY, FACTS, SOURCE]
    only_local = [r for r, p in zip(rules, plans) if p.name in local.names]
    in_store = Materialiser(store, only_local, asserted=graphs)
    with in_store:
        in_store._sweeps(Report(), seed=None)  # every rule as a SPARQL query in the store
    expected = _inferred(store) - _asserted(store, graphs)
    out = io.BytesIO()
    for graph in graphs:
        local.expand(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)) or b"", out)
    derived = ox.Store()
    derived.load(out.getvalue(), format=ox.RdfFormat.N_TRIPLES)
    assert {q.triple for q in derived} - _asserted(store, graphs) == expected


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _on_disk(path: Path, quads: list[ox.Quad]) -> ox.Store:
    store = ox.Store(str(path))
    store.extend(quads)
    return store


def test_the_stores_serialiser_writes_every_graph_deterministically(seed: Loaded, synthetic: Path,
                                                                      tmp_path: Path) -> None:
    """The on-disk store (what the build writes from) lists triples in the order of its index."""
    loaded = _store_with_source(seed, synthetic)
    quads = list(loaded.quads_for_pattern(None, None, None, None))
    store = _on_disk(tmp_path / "s1", quads)
    materialise_store(store, reason.all_rules(seed.ontology), asserted=[ONTOLOGY, FACTS, SOURCE])
    graphs = [ONTOLOGY, FACTS, SOURCE, INFERRED]
    write_turtle(store, tmp_path / "a.ttl", graphs, prefixes=PREFIXES)
    write_jsonld(store, tmp_path / "a.jsonld", graphs, prefixes=PREFIXES)
    text = (tmp_path / "a.ttl").read_text(encoding="utf-8")
    assert text.startswith("@prefix ") and text.count("@prefix d4d:") == 1
    expected = _asserted(store, graphs)
    for name, fmt in (("a.ttl", ox.RdfFormat.TURTLE), ("a.jsonld", ox.RdfFormat.JSON_LD)):
        back = ox.Store()
        back.load(path=str(tmp_path / name), format=fmt)
        triples = {q.triple for q in back}
        named = {t for t in triples if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}
        assert named == {t for t in expected if not isinstance(t.subject, ox.BlankNode)
                         and not isinstance(t.object, ox.BlankNode)}, name
        assert len(triples) == len(expected), name
    # the same content, loaded in another order and derived again, writes the same bytes
    other = _on_disk(tmp_path / "s2", list(reversed(quads)))
    materialise_store(other, reason.all_rules(seed.ontology), asserted=[ONTOLOGY, FACTS, SOURCE])
    write_turtle(other, tmp_path / "b.ttl", graphs, prefixes=PREFIXES)
    write_jsonld(other, tmp_path / "b.jsonld", graphs, prefixes=PREFIXES)
    assert _sha(tmp_path / "a.ttl") == _sha(tmp_path / "b.ttl")
    assert _sha(tmp_path / "a.jsonld") == _sha(tmp_path / "b.jsonld")


def _project(tmp_path: Path, xml: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "imports.yaml").write_text(
        f"sources:\n  - {{name: synthetic, kind: iati, paths: [{xml}], build: true}}\n", encoding="utf-8")
    return project


def test_a_large_build_streams_its_files_and_is_deterministic(root: Path, synthetic: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "LARGE_GRAPH", 1000)
    project = _project(tmp_path, synthetic)
    first = build(project, out=tmp_path / "a", ontology_dir=root / "ontology", graph_dir=root / "graph",
                  reasoner=False, extras=False)
    assert first.counts["triples"] > build_module.LARGE_GRAPH  # written by the store's serialiser
    assert first.store["imported"] == ["synthetic"]
    assert first.counts["relationships"] > 120
    second = build(project, out=tmp_path / "b", ontology_dir=root / "ontology", graph_dir=root / "graph",
                   reasoner=False, extras=False)
    for name in ("ecosystem.ttl", "ecosystem.jsonld"):
        assert _sha(tmp_path / "a" / name) == _sha(tmp_path / "b" / name)
    assert second.counts == first.counts
    store = ox.Store.read_only(str(tmp_path / "a" / "store"))
    turtle = ox.Store()
    turtle.load(path=str(tmp_path / "a" / "ecosystem.ttl"), format=ox.RdfFormat.TURTLE)

    def named(triples: set[ox.Triple]) -> set[ox.Triple]:
        return {t for t in triples if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}

    # the file is the store's default graph: the merge of its graphs and the inferences
    default = {q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    assert named({q.triple for q in turtle}) == named(default)
    assert named(_asserted(store, [ONTOLOGY, FACTS, SOURCE])) < named(default)


def test_above_the_dump_limit_no_stale_files_remain(root: Path, synthetic: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "LARGE_GRAPH", 1000)
    project = _project(tmp_path, synthetic)
    out = tmp_path / "build"
    build(project, out=out, ontology_dir=root / "ontology", graph_dir=root / "graph", reasoner=False, extras=False)
    assert (out / "ecosystem.ttl").is_file()
    monkeypatch.setattr(build_module, "DUMP_LIMIT", 1000)
    result = build(project, out=out, ontology_dir=root / "ontology", graph_dir=root / "graph", reasoner=False,
                   extras=False)
    assert result.skipped and "d4d export" in result.skipped[0]
    assert not (out / "ecosystem.ttl").exists() and not (out / "ecosystem.jsonld").exists()
    assert (out / "store" / "CURRENT").is_file()
    forced = build(project, out=out, ontology_dir=root / "ontology", graph_dir=root / "graph", reasoner=False,
                   extras=False, dumps=True)
    assert not forced.skipped and (out / "ecosystem.ttl").is_file()


def test_an_updated_large_build_writes_the_bytes_of_a_fresh_one(project_copy: Path, synthetic: Path,
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built in memory then updated on disk, or built afresh: the same files, byte for byte."""
    monkeypatch.setattr(build_module, "LARGE_GRAPH", 1000)
    (project_copy / "imports.yaml").write_text(
        f"sources:\n  - {{name: synthetic, kind: iati, paths: [{synthetic}], build: true}}\n", encoding="utf-8")
    out = tmp_path / "build"
    assert build(project_copy, out=out, reasoner=False, extras=False).store["mode"] == "full"
    fundings = project_copy / "graph" / "relationships" / "fundings.yaml"
    fundings.write_text(fundings.read_text(encoding="utf-8").replace(
        "funder: rockefeller-foundation", "funder: mit-media-lab", 1), encoding="utf-8")
    updated = build(project_copy, out=out, reasoner=False, extras=False)
    assert updated.store["mode"] == "update" and updated.store["imported"] == []
    fresh = build(project_copy, out=tmp_path / "fresh", reasoner=False, extras=False)
    for name in ("ecosystem.ttl", "ecosystem.jsonld"):
        assert _sha(out / name) == _sha(tmp_path / "fresh" / name), name
    assert updated.counts == fresh.counts


def test_a_closing_store_mirrors_batches_in_the_built_layout(seed: Loaded) -> None:
    """Each batch of N-Quads goes to the mirror as its quads, the same triples in the default graph
    and their closure; a write it cannot copy as text (blank nodes, triples into a graph) is reported."""
    from d4d.materialise import ClosingStore

    local = LocalRules(plan_rule(r) for r in reason.all_rules(seed.ontology))
    store, out = ox.Store(), io.BytesIO()
    written: list[bytes] = []  # what the mirror is given
    closing = ClosingStore(store, local, out, mirror=written.append)
    org = "<https://w3id.org/d4d/id/x>"
    batch = (f'{org} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/d4d/ontology#Organization> <{SOURCE}> .\n'
             f'{org} <https://schema.org/name> "X <y> ." <{SOURCE}> .\n').encode()
    closing.bulk_load(input=batch, format=ox.RdfFormat.N_QUADS)
    assert len(written) == 2 and closing.uncopied == set() and closing.closure_copied
    copy = ox.Store()
    copy.load(b"".join(written), format=ox.RdfFormat.N_QUADS)
    named = {q for q in copy if not isinstance(q.graph_name, ox.DefaultGraph)}
    assert named == set(store)
    default = {q.triple for q in copy.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    closure = {q.triple for q in ox.parse(out.getvalue(), format=ox.RdfFormat.N_TRIPLES)} if out.getvalue() else set()
    assert default == {q.triple for q in named} | closure
    assert ox.Triple(ox.NamedNode(org[1:-1]), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                     ox.NamedNode("http://xmlns.com/foaf/0.1/Organization")) in default

    closing.load(f'{org} <https://schema.org/name> "X" .\n'.encode(), format=ox.RdfFormat.N_TRIPLES,
                 to_graph=ox.NamedNode(FACTS))
    assert closing.uncopied == {FACTS}
    closing.bulk_load(input=f'_:b <https://schema.org/name> "X" <{SOURCE}> .\n'.encode(), format=ox.RdfFormat.N_QUADS)
    assert closing.uncopied is None
    assert len(written) == 2


def test_the_default_copy_of_a_batch_moves_every_line_to_the_default_graph() -> None:
    """A batch in one graph (a plain replace), in two graphs (line by line), and one that cannot be
    copied as text."""
    from d4d.materialise import _default_copy

    one = (f'<https://w3id.org/d4d/id/x> <https://schema.org/name> "a <{SOURCE}> .\\n" <{SOURCE}> .\n'
           f'<https://w3id.org/d4d/id/x> <https://schema.org/url> <https://x.org/> <{SOURCE}> .\n').encode()
    assert _default_copy(one) == (f'<https://w3id.org/d4d/id/x> <https://schema.org/name> "a <{SOURCE}> .\\n" .\n'
                                  '<https://w3id.org/d4d/id/x> <https://schema.org/url> <https://x.org/> .\n').encode()
    two = one + f'<https://w3id.org/d4d/id/y> <https://schema.org/name> "y" <{FACTS}> .\n'.encode()
    copied = _default_copy(two)
    assert copied is not None and copied.startswith(_default_copy(one) or b"")
    assert copied.endswith(b'<https://w3id.org/d4d/id/y> <https://schema.org/name> "y" .\n')
    assert {q.triple for q in ox.parse(copied, format=ox.RdfFormat.N_TRIPLES)} == \
        {q.triple for q in ox.parse(two, format=ox.RdfFormat.N_QUADS)}
    assert _default_copy(one + f'_:b <https://schema.org/name> "b" <{SOURCE}> .\n'.encode()) is None
    assert _default_copy(b'<https://w3id.org/d4d/id/y> <https://schema.org/name> "y" .\n') is None
    assert _default_copy(b"") == b""


def test_a_merging_closing_store_fills_the_default_graph_as_it_loads(seed: Loaded) -> None:
    """With ``merge``, a batch of N-Quads is loaded into the default graph too; other writes are
    named in ``uncopied``."""
    from d4d.materialise import ClosingStore

    local = LocalRules(plan_rule(r) for r in reason.all_rules(seed.ontology))
    store = ox.Store()
    closing = ClosingStore(store, local, io.BytesIO(), merge=True)
    batch = (f'<https://w3id.org/d4d/id/x> <https://schema.org/name> "X" <{SOURCE}> .\n'
             f'<https://w3id.org/d4d/id/x> <https://schema.org/url> <https://x.org/> <{SOURCE}> .\n').encode()
    closing.bulk_load(input=batch, format=ox.RdfFormat.N_QUADS)
    named = {q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(SOURCE))}
    assert len(named) == 2
    assert {q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())} == named
    assert closing.uncopied == set()
    closing.load(b'<https://w3id.org/d4d/id/y> <https://schema.org/name> "Y" .\n', format=ox.RdfFormat.N_TRIPLES,
                 to_graph=ox.NamedNode(FACTS))
    assert closing.uncopied == {FACTS}
    assert len(list(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))) == 2
    closing.bulk_load(input=f'_:b <https://schema.org/name> "Z" <{SOURCE}> .\n'.encode(), format=ox.RdfFormat.N_QUADS)
    assert closing.uncopied is None


def _counted_store(sizes: dict[str, int]) -> ox.Store:
    """A store whose default graph holds ``n`` triples ``<s{k}> <p> <o{k}>`` for each predicate."""
    store = ox.Store()
    ex = "http://example.org/"
    store.extend(ox.Quad(ox.NamedNode(f"{ex}s{k}"), ox.NamedNode(p), ox.NamedNode(f"{ex}o{k}"), ox.DefaultGraph())
                 for p, n in sizes.items() for k in range(n))
    return store


def test_a_plan_written_again_or_hashed_keeps_its_filters_and_its_answers() -> None:
    rule = reason.Rule("r", "", "PREFIX ex: <http://example.org/>\nCONSTRUCT { ?a ex:linked ?c } "
                                "WHERE { ?b ex:p ?a . ?b ex:q ?c . FILTER(?a != ?c) }")
    plan = plan_rule(rule)
    again = plan.reordered([1, 0])
    assert again.atoms == (plan.atoms[1], plan.atoms[0])
    assert again.body == ("?b <http://example.org/q> ?c . ?b <http://example.org/p> ?a . FILTER(?a != ?c)")
    assert plan.reordered([0, 1]) is plan
    with pytest.raises(ValueError):
        plan.reordered([0, 0])
    store = ox.Store()
    ex = "http://example.org/"
    for s, p, o in [("b1", "p", "a1"), ("b1", "q", "c1"), ("b2", "p", "x"), ("b2", "q", "x"), ("b3", "p", "a3")]:
        store.add(ox.Quad(ox.NamedNode(ex + s), ox.NamedNode(ex + p), ox.NamedNode(ex + o)))
    queries = [plan.query(check="none"), again.query(check="none"), plan.query(check="none", hashed=True)]
    assert "SELECT * WHERE { ?b <http://example.org/p> ?a . }" in queries[2] and "FILTER(?a != ?c)" in queries[2]
    answers = [{(t.subject.value, t.object.value) for t in store.query(q)} for q in queries]  # type: ignore[union-attr]
    assert answers == [{(ex + "a1", ex + "c1")}] * 3
    with pytest.raises(ValueError):
        plan.query(restrict=[(plan.atoms[0], ["http://example.org/g"])], hashed=True)
    # a rule the quick reader does not take (OPTIONAL) is never written again
    opaque = plan_rule(reason.Rule("o", "", f"CONSTRUCT {{ ?a <{ex}r> ?b }} "
                                            f"WHERE {{ ?a <{ex}p> ?b OPTIONAL {{ ?b <{ex}q> ?c }} }}"))
    assert opaque.reordered(list(range(len(opaque.atoms)))[::-1]) is opaque
    assert opaque.query(hashed=True) == opaque.sparql


def test_join_rules_are_written_from_their_smaller_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = "http://example.org/"
    rules = [reason.Rule("two", "", f"CONSTRUCT {{ ?x <{ex}t> ?y }} WHERE {{ ?v <{ex}p> ?x . ?v <{ex}q> ?y }}"),
             reason.Rule("tie", "", f"CONSTRUCT {{ ?x <{ex}u> ?y }} WHERE {{ ?v <{ex}q> ?x . ?v <{ex}r> ?y }}"),
             reason.Rule("three", "", f"CONSTRUCT {{ ?a <{ex}w> ?d }} "
                                      f"WHERE {{ ?a <{ex}p> ?b . ?c <{ex}s> ?d . ?b <{ex}q> ?c }}")]

    hashed: set[str] = set()

    def first_atoms(sizes: dict[str, int]) -> dict[str, list[str]]:
        run = Materialiser(_counted_store({ex + p: n for p, n in sizes.items()}), rules, asserted=[], merged=True)
        run.smallest_first(run.joins)
        hashed.clear()
        hashed.update(run.plans[i].name for i in run.hashed)
        return {plan.name: [a.p[len(ex) + 1:-1] for a in plan.atoms]
                for plan in run.plans if plan.name in {"two", "tie", "three"}}

    # above the first count's cap (4096) both patterns of "two" are counted again with a larger one
    assert first_atoms({"p": 20000, "q": 5000, "r": 5000, "s": 3}) == {
        "two": ["q", "p"], "tie": ["q", "r"],  # same size: the written order stays
        "three": ["s", "q", "p"]}  # the smallest, then what shares a variable with it (never p before q)
    assert hashed == {"two", "tie", "three"}
    assert first_atoms({"p": 3, "q": 5000, "r": 7, "s": 9}) == {
        "two": ["p", "q"], "tie": ["r", "q"], "three": ["p", "q", "s"]}
    # the store hashes the first pattern: a rule whose smallest pattern is too large keeps the lookups
    monkeypatch.setattr(d4d.materialise, "HASH_LIMIT", 7)
    assert first_atoms({"p": 3, "q": 5000, "r": 7, "s": 9})["tie"] == ["r", "q"]
    assert hashed == {"two", "three"}


def test_docstring_examples() -> None:
    result = doctest.testmod(d4d.materialise)
    assert result.attempted > 0 and result.failed == 0


def test_a_first_sweep_is_hashed_below_the_limit_and_gives_the_same_inferences(seed: Loaded,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    rules = reason.all_rules(seed.ontology)
    queries: list[str] = []
    construct = Materialiser._construct

    def spy(self: Materialiser, query: str, **options: object) -> object:
        queries.append(query)
        return construct(self, query, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(Materialiser, "_construct", spy)
    found = {}
    for limit in (0, d4d.materialise.HASH_LIMIT):
        monkeypatch.setattr(d4d.materialise, "HASH_LIMIT", limit)
        queries.clear()
        store = reason.store_of([seed.ontology.graph, seed.facts.graph], names=[ONTOLOGY, FACTS])
        materialise_store(store, rules, asserted=[ONTOLOGY, FACTS])
        found[limit] = (_inferred(store), sum("{ SELECT * WHERE {" in q for q in queries))
    lookups, hashed = found.values()
    assert lookups[0] == hashed[0] and len(hashed[0]) > 1000
    assert lookups[1] == 0 and hashed[1] >= 10  # every join rule with two patterns or more


def test_rule_outputs_are_closed_one_at_a_time_beside_the_queries_and_their_errors_surface(
        seed: Loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    rules = reason.all_rules(seed.ontology)
    close = Materialiser._close
    running: list[str] = []
    most = [0]
    threads: set[str] = set()
    lock = threading.Lock()

    def slow_close(self: Materialiser, path: Path) -> Path:
        name = threading.current_thread().name
        with lock:
            running.append(name)
            most[0] = max(most[0], running.count(name))
        threads.add(name)
        time.sleep(0.01)  # long enough for the next query to start beside it
        try:
            return close(self, path)
        finally:
            with lock:
                running.remove(name)

    monkeypatch.setattr(Materialiser, "_close", slow_close)
    store = reason.store_of([seed.ontology.graph, seed.facts.graph], names=[ONTOLOGY, FACTS])
    materialise_store(store, rules, asserted=[ONTOLOGY, FACTS])
    reference = reason.store_of([seed.ontology.graph, seed.facts.graph], names=[ONTOLOGY, FACTS])
    reason.materialise(reference, rules)
    assert _inferred(store) == _inferred(reference)
    # the main thread's closings in their own thread; the rules run beside close their own outputs
    assert "d4d-close" in threads and threads <= {"d4d-close", "d4d-aside"} and most[0] == 1

    def broken(self: Materialiser, path: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Materialiser, "_close", broken)
    _fails_cleanly(seed, rules, monkeypatch)


def test_rules_that_nothing_feeds_and_nothing_reads_run_beside_the_others_and_their_errors_surface(
        seed: Loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    rules = reason.all_rules(seed.ontology)
    store = reason.store_of([seed.ontology.graph, seed.facts.graph], names=[ONTOLOGY, FACTS])
    engine = Materialiser(store, rules, asserted=[ONTOLOGY, FACTS])
    joins = engine.joins
    consumers = {i: engine.consumers(i, joins, extended=True) for i in joins}
    aside = {engine.plans[i].name for i in joins if engine._aside_rule(i, joins, consumers)}
    d4d_ = "https://w3id.org/d4d/ontology#"
    # the property chains nothing reads (d4d:fundedBy is read by the defined class d4d:FundedOrganization)
    assert aside == {f"prp-spo2 {d4d_}{p}" for p in ("coveredBy", "fundedByProject", "hasParticipant", "memberOf",
                                                        "partOf", "source", "supportedBy")} | \
        {"founding-date", "partner-of"}

    construct = Materialiser._construct
    spans: list[tuple[str, float, float]] = []

    def timed(self: Materialiser, query: str, **kwargs: object) -> Path | None:
        name = threading.current_thread().name
        started = time.perf_counter()
        if name == "d4d-aside":
            time.sleep(0.2)  # long enough for the main thread's queries to run beside it
        try:
            return construct(self, query, **kwargs)  # type: ignore[arg-type]
        finally:
            spans.append((name, started, time.perf_counter()))

    monkeypatch.setattr(Materialiser, "_construct", timed)
    materialise_store(store, rules, asserted=[ONTOLOGY, FACTS])
    reference = reason.store_of([seed.ontology.graph, seed.facts.graph], names=[ONTOLOGY, FACTS])
    reason.materialise(reference, rules)
    assert _inferred(store) == _inferred(reference)
    beside = [(a, b) for name, a, b in spans if name == "d4d-aside"]
    main = [(a, b) for name, a, b in spans if name == "MainThread"]
    assert beside and any(a < m < b for a, b in beside for m, _ in main)

    def broken(self: Materialiser, query: str, **kwargs: object) -> Path | None:
        if threading.current_thread().name == "d4d-aside":
            raise OSError("disk full")
        return construct(self, query, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Materialiser, "_construct", broken)
    _fails_cleanly(seed, rules, monkeypatch)


def test_a_build_past_the_aside_limit_runs_every_rule_in_the_build_thread_to_the_same_store(
        root: Path, synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build expected to make more than d4d.incremental.ASIDE_LIMIT triples starts no thread for the
    rules that nothing feeds, and writes the store the build with that thread writes."""
    from collections import deque

    import d4d.incremental as incremental

    project = _project(tmp_path, synthetic)
    started: list[int] = []  # for each aside thread started: the rules given to it
    run_aside = Materialiser._run_aside

    def recorded(self: Materialiser, queue: deque[int], graphs: list[str], local: bool) -> list[tuple[int, int]]:
        started.append(len(queue))
        return run_aside(self, queue, graphs, local)

    monkeypatch.setattr(Materialiser, "_run_aside", recorded)

    def stored(name: str) -> set[ox.Quad]:
        build(project, out=tmp_path / name, ontology_dir=root / "ontology", graph_dir=root / "graph",
              reasoner=False, extras=False)
        return set(ox.Store.read_only(str(tmp_path / name / "store")))

    beside = stored("beside")
    assert started and started[0] > 0
    started.clear()
    monkeypatch.setattr(incremental, "ASIDE_LIMIT", 0)
    alone = stored("alone")
    assert started == []
    assert alone == beside


def test_a_build_in_memory_goes_to_disk_in_chunks_while_it_imports(root: Path, synthetic: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """An import into memory comes in batches of d4d.incremental.MEMORY_BATCH quads, and each chunk of
    them is handed to the disk store's writer as it fills, before the import ends: with small batches
    and chunks the store on disk is the one a build with one batch and one chunk writes."""
    import d4d.incremental as incremental

    project = _project(tmp_path, synthetic)

    def stored(name: str) -> set[ox.Quad]:
        build(project, out=tmp_path / name, ontology_dir=root / "ontology", graph_dir=root / "graph",
              reasoner=False, extras=False)
        return set(ox.Store.read_only(str(tmp_path / name / "store")))

    whole = stored("whole")
    monkeypatch.setattr(incremental, "MEMORY_BATCH", 200)
    monkeypatch.setattr(incremental._Persister, "CHUNK", 1 << 14)
    handed: list[bool] = []  # for each chunk handed to the writer: had the import ended?
    import_ended = False
    hand_over, import_ = incremental._Persister._hand_over, incremental._import

    def handing(self: incremental._Persister) -> None:
        if self._chunk is not None:
            handed.append(import_ended)
        hand_over(self)

    def importing(*args: object, **options: object) -> object:
        nonlocal import_ended
        report = import_(*args, **options)  # type: ignore[arg-type]
        import_ended = True
        return report

    monkeypatch.setattr(incremental._Persister, "_hand_over", handing)
    monkeypatch.setattr(incremental, "_import", importing)
    chunked = stored("chunked")
    assert handed.count(False) > 10, handed
    assert chunked == whole
