"""The build's invariant: after any sequence of builds, imports, edits, removals and failed builds, the
store equals a fresh build of the same inputs, and the RDF files agree with the store.

Small real sources from ../shared/data: an IATI.cloud file (declared, ``build: true``), a 360Giving
file (declared, off until imported) and another IATI.cloud file (imported ad hoc).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph
from rdflib.compare import isomorphic, to_canonical_graph

from d4d.pipeline import build, local_entry
from d4d.errors import D4DError
from d4d.manifest import Manifest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
IATI_A = DATA / "IATI.cloud" / "5e87f792-3d59-4f06-afcf-a8efa8523553.xml"
IATI_B = DATA / "IATI.cloud" / "example_203_file.xml"
GIVING = DATA / "360giving-grantnav" / "grantnav-20180903134856.json"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not beside the checkout")

IMPORTS = f"""
crosswalk: graph/crosswalk.csv
sources:
  - name: iati-a
    kind: iati
    paths: [{IATI_A}]
    build: true
  - name: giving
    kind: 360giving
    paths: [{GIVING}]
    build: false
"""

NEW_ORG = """
- id: zz-new-org
  type: NGO
  name: A new organisation
  sector: [development]
  sources:
    - source: seed-datapop-website
      quote: Data-Pop Alliance
"""


def make_project(folder: Path) -> Path:
    for name in ("ontology", "graph"):
        shutil.copytree(ROOT / name, folder / name)
    (folder / "imports.yaml").write_text(IMPORTS, encoding="utf-8")
    return folder


def _canonical(triples: list[ox.Triple]) -> frozenset[str]:
    """A graph's triples as N-Triples lines, blank nodes labelled from the content."""
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    if b"_:" not in data:
        return frozenset(data.decode("utf-8").splitlines())
    graph = to_canonical_graph(Graph().parse(data=data.decode("utf-8"), format="nt"))
    return frozenset(graph.serialize(format="nt").splitlines()) - {""}


def snapshot(out: Path) -> dict[str, frozenset[str]]:
    """Every graph of the built store (named and default), blank nodes canonicalised."""
    store = ox.Store.read_only(str(out / "store"))
    names: list[ox.NamedNode | ox.DefaultGraph] = [ox.DefaultGraph()]
    names += sorted((g for g in store.named_graphs() if isinstance(g, ox.NamedNode)), key=lambda g: g.value)
    return {getattr(name, "value", ""): _canonical([q.triple for q in store.quads_for_pattern(None, None, None, name)])
            for name in names}


def outputs_agree(out: Path) -> None:
    """The store's default graph holds every triple of its named graphs (the same blank nodes); the
    Turtle and JSON-LD files hold that graph; the manifest counts it."""
    store = ox.Store.read_only(str(out / "store"))
    merged = {q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    assert {q.triple for q in store if not isinstance(q.graph_name, ox.DefaultGraph)} <= merged
    data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()) or b""
    default = Graph().parse(data=data.decode("utf-8"), format="nt")
    assert isomorphic(Graph().parse(out / "ecosystem.ttl", format="turtle"), default)
    assert isomorphic(Graph().parse(out / "ecosystem.jsonld", format="json-ld"), default)
    manifest = Manifest.read(out / "current")
    assert manifest is not None and manifest.triples == len(default)


class Session:
    """A project and its build folder, driven through operations; ``local`` is what the folder added."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.project = make_project(folder / "project")
        self.out = folder / "build"
        self.fresh_count = 0

    def build(self, **options: object) -> None:
        build(self.project, out=self.out, reasoner=False, extras=False, **options)  # type: ignore[arg-type]

    def local(self) -> list[dict[str, object]]:
        manifest = Manifest.read(self.out / "current")
        return manifest.local if manifest is not None else []

    def check(self) -> None:
        """The store equals a fresh build of the same inputs; the files agree with it."""
        self.fresh_count += 1
        fresh = self.folder / f"fresh-{self.fresh_count}"
        build(self.project, out=fresh, reasoner=False, extras=False, add=self.local())
        assert snapshot(self.out) == snapshot(fresh)
        outputs_agree(self.out)
        mine, theirs = Manifest.read(self.out / "current"), Manifest.read(fresh / "current")
        assert mine is not None and theirs is not None
        assert (mine.counts, mine.triples, mine.inferred) == (theirs.counts, theirs.triples, theirs.inferred)
        shutil.rmtree(fresh)


# The operations, each a change of the inputs followed by a build (or a build that fails).

def op_import_declared(s: Session) -> None:
    s.build(add=[local_entry(s.project, name="giving")])


def op_import_adhoc(s: Session) -> None:
    s.build(add=[local_entry(s.project, name="adhoc", kind="iati", paths=(IATI_B,))])


def op_remove_sources(s: Session) -> None:
    names = [str(e["name"]) for e in s.local()]
    s.build(remove=names)


def op_edit_fact(s: Session) -> None:
    path = s.project / "graph" / "organizations.yaml"
    text = path.read_text(encoding="utf-8")
    edited = "name: Data-Pop Alliance (edited)"
    path.write_text(text.replace("name: Data-Pop Alliance\n", edited + "\n") if edited not in text
                    else text.replace(edited, "name: Data-Pop Alliance"), encoding="utf-8")
    s.build()


def op_add_or_remove_fact(s: Session) -> None:
    path = s.project / "graph" / "zz-new.yaml"
    if path.exists():
        path.unlink()
    else:
        path.write_text(NEW_ORG, encoding="utf-8")
    s.build()


def op_edit_ontology(s: Session) -> None:
    path = s.project / "ontology" / "d4d.ttl"
    line = "\nd4d:Organization rdfs:comment \"An edit of the ontology.\"@en .\n"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(line, "") if line in text else text + line, encoding="utf-8")
    s.build()


def op_failed_build(s: Session) -> None:
    """A source that fails halfway through the build (after the facts and the declared source)."""
    with pytest.raises(D4DError):
        s.build(add=[local_entry(s.project, name="broken", kind="iati", paths=(s.folder / "missing.xml",))])


def op_failed_fact(s: Session) -> None:
    bad = s.project / "graph" / "zz-bad.yaml"
    bad.write_text("- id: x\n  type: Support\n  supporter: nobody\n  supported: datakind\n", encoding="utf-8")
    with pytest.raises(D4DError):
        s.build()
    bad.unlink()


OPERATIONS: dict[str, Callable[[Session], None]] = {
    "import declared": op_import_declared, "import ad hoc": op_import_adhoc, "remove sources": op_remove_sources,
    "edit a fact": op_edit_fact, "add or remove a fact": op_add_or_remove_fact, "edit the ontology": op_edit_ontology,
    "failed build": op_failed_build, "failed fact": op_failed_fact,
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_each_operation_after_a_build_leaves_the_store_of_a_fresh_build(name: str, tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.build()
    OPERATIONS[name](session)
    session.check()


def test_the_reported_sequence_keeps_no_triple_without_its_graph(tmp_path: Path) -> None:
    """build; import a declared source; build: the source stays, and the default graph is the merge of
    the named graphs and the inferences (issue 26); removing it gives back the first build's store."""
    session = Session(tmp_path)
    session.build()
    first = snapshot(session.out)
    op_import_declared(session)
    session.build()
    graphs = snapshot(session.out)
    assert "https://w3id.org/d4d/graph/source/giving" in graphs
    session.check()
    op_remove_sources(session)
    assert snapshot(session.out) == first


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(sorted(OPERATIONS)), min_size=2, max_size=3))
def test_any_sequence_of_operations_leaves_the_store_of_a_fresh_build(tmp_path_factory: pytest.TempPathFactory,
                                                                       names: list[str]) -> None:
    session = Session(tmp_path_factory.mktemp("sequence"))
    session.build()
    for name in names:
        OPERATIONS[name](session)
    session.check()


def test_blank_nodes_survive_canonicalisation() -> None:
    """The comparison itself: two labellings of one graph are equal, a different graph is not."""
    a = [ox.Triple(ox.BlankNode("x"), ox.NamedNode("http://example.org/p"), ox.Literal("1"))]
    b = [ox.Triple(ox.BlankNode("y"), ox.NamedNode("http://example.org/p"), ox.Literal("1"))]
    c = [ox.Triple(ox.BlankNode("y"), ox.NamedNode("http://example.org/p"), ox.Literal("2"))]
    assert _canonical(a) == _canonical(b) != _canonical(c)


def test_an_edited_fact_updates_the_store_in_place_measures_included(tmp_path: Path) -> None:
    """Only the curated facts changed: the build updates a copy of the previous store (its measures taken
    out and made again) and ends equal to a fresh build, measures and counts included."""
    session = Session(tmp_path)
    build(session.project, out=session.out, reasoner=False)
    path = session.project / "graph" / "zz-new.yaml"
    path.write_text(NEW_ORG, encoding="utf-8")
    first = build(session.project, out=session.out, reasoner=False)
    path.unlink()
    op_edit_fact(session)  # a build without measures, then one with them again
    second = build(session.project, out=session.out, reasoner=False)
    assert (first.store["mode"], second.store["mode"]) == ("update", "update")
    fresh = build(session.project, out=tmp_path / "fresh", reasoner=False)
    assert fresh.store["mode"] == "new"
    assert snapshot(session.out) == snapshot(tmp_path / "fresh")
    assert (second.counts, second.by_source, second.relationships) == (fresh.counts, fresh.by_source, fresh.relationships)
    assert "https://w3id.org/d4d/graph/metrics" in snapshot(session.out)
