"""One actor, one node: reconciliation's evidence (places, shared websites), the curator's decisions
(--accept, --reject) and their effect on the next build, and precision and recall on the labelled
sample tests/data/reconcile-sample.csv."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from d4d.cli import main
from d4d.errors import SourceError
from d4d.imports import SourceSpec, import_source
from d4d.imports.identity import (
    DEFAULT_MIN_SCORE,
    Crosswalk,
    Resolver,
    reconcile,
    record_decision,
)
from d4d.vocab import D4D, GRAPH

ROOT = Path(__file__).resolve().parents[1]
ID = "https://w3id.org/d4d/id/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _org(store: ox.Store, iri: str, graph: str, name: str, *, url: str | None = None, place: str | None = None) -> None:
    g = ox.NamedNode(f"{GRAPH}source/{graph}")
    node = ox.NamedNode(ID + iri)
    store.add(ox.Quad(node, RDF_TYPE, ox.NamedNode(str(D4D.Organization)), g))
    store.add(ox.Quad(node, ox.NamedNode(str(D4D.name)), ox.Literal(name), g))
    if url:
        store.add(ox.Quad(node, ox.NamedNode(str(D4D.url)), ox.Literal(url), g))
    if place:
        where = ox.NamedNode(ID + "place/" + place.lower())
        store.add(ox.Quad(where, ox.NamedNode(str(D4D.name)), ox.Literal(place), g))
        store.add(ox.Quad(node, ox.NamedNode(str(D4D.location)), where, g))


def _pairs(store: ox.Store, **options) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(c.a.removeprefix(ID), c.b.removeprefix(ID)) for c in reconcile(store, **options)}


def test_charities_sharing_a_name_in_different_towns_are_not_proposed() -> None:
    store = ox.Store()
    _org(store, "a/1", "one", "Community Foundation", place="Springfield")
    _org(store, "b/1", "two", "Community Foundation", place="Shelbyville")
    _org(store, "b/2", "two", "Community Foundation", place="Springfield")
    _org(store, "c/1", "three", "Community Foundation")   # not placed: the name is the evidence
    pairs = _pairs(store)
    assert ("a/1", "b/1") not in pairs and ("b/1", "b/2") not in pairs
    assert {("a/1", "b/2"), ("a/1", "c/1"), ("b/1", "c/1"), ("b/2", "c/1")} <= pairs


def test_ministries_sharing_a_website_are_not_proposed() -> None:
    store = ox.Store()
    # one source's two records on one government portal; a third source's ministry elsewhere
    _org(store, "compass/1", "compass", "Ministry of Education, Culture and Science", url="https://www.government.nl/ocw")
    _org(store, "compass/2", "compass", "Ministry of Foreign Affairs", url="https://www.government.nl/bz")
    _org(store, "other/3", "other", "Ministry of Infrastructure and Water Management", url="https://www.government.nl")
    assert _pairs(store) == set()
    # a website with a similar name is evidence enough; a website alone is not
    _org(store, "other/4", "other", "Ushahidi Inc.", url="https://www.ushahidi.com")
    _org(store, "civic/5", "civic", "Ushahidi", url="http://ushahidi.com/about")
    _org(store, "civic/6", "civic", "Crisis Mappers", url="http://ushahidi.com/")
    found = {(c.a.removeprefix(ID), c.b.removeprefix(ID)): c for c in reconcile(store)}
    assert set(found) == {("civic/5", "other/4")}
    assert found[("civic/5", "other/4")].score == pytest.approx(1 - 0.55 * 0.6, abs=0.001)
    assert ("civic/5", "civic/6") in _pairs(store, min_score=0.4)


def test_decisions_are_recorded_and_respected(tmp_path: Path) -> None:
    walk = tmp_path / "crosswalk.csv"
    walk.write_text("id,scheme,value,note\n", encoding="utf-8")
    store = ox.Store()
    _org(store, "a/1", "one", "Open Data Watch")
    _org(store, "b/1", "two", "Open Data Watch")
    _org(store, "c/1", "three", "Open Data Watch")
    assert len(_pairs(store)) == 3
    done = record_decision(walk, "a/1", ID + "b/1", same=True, note="same website in 2024")
    assert (done.kept, done.other, done.line) == (ID + "a/1", ID + "b/1", 2)
    apart = record_decision(walk, "c/1", "b/1", same=False)   # b/1 stands for a/1 now
    assert (apart.kept, apart.other, apart.line) == (ID + "c/1", ID + "a/1", 3)
    rows = list(csv.reader(walk.open(encoding="utf-8")))
    assert rows[1][:3] == ["a/1", "same", "b/1"] and rows[1][3].endswith("same website in 2024")
    assert rows[2][:3] == ["c/1", "apart", "a/1"]
    decisions = Crosswalk.load(walk)
    assert _pairs(store, decisions=decisions) == set()
    # deciding again changes nothing; contradicting a decision is refused
    assert record_decision(walk, "b/1", "a/1", same=True).line is None
    with pytest.raises(SourceError, match="keeps .* apart"):
        record_decision(walk, "a/1", "c/1", same=True)
    with pytest.raises(SourceError, match="one node"):
        record_decision(walk, "a/1", "b/1", same=False)
    with pytest.raises(SourceError, match="both curated"):
        record_decision(walk, "x", "y", same=True, curated={ID + "x", ID + "y"})
    # the curated node is the one kept, whichever the curator names first
    kept = record_decision(walk, "d/1", "z", same=True, curated={ID + "z"})
    assert (kept.kept, kept.other) == (ID + "z", ID + "d/1")
    assert len(walk.read_text(encoding="utf-8").splitlines()) == 4


def test_a_merge_is_applied_by_the_import(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    walk = tmp_path / "crosswalk.csv"
    record_decision(walk, "dpg/org/acme-foundation", "dpg/org/acme-foundation-inc", same=True)
    store = ox.Store()
    report = import_source(store, SourceSpec("tiny", "dpg", (registry,)), resolver=Resolver(Crosswalk.load(walk)))
    assert report.counts["organisations"] == 1
    names = sorted(q.object.value for q in store.quads_for_pattern(ox.NamedNode(ID + "dpg/org/acme-foundation"), None,
                                                                   None, None) if isinstance(q.object, ox.Literal))
    assert "Acme Foundation" in names and "ACME Foundation Inc." in names


def _registry(folder: Path) -> Path:
    registry = folder / "registry"
    (registry / "dpgs").mkdir(parents=True)
    (registry / "nominees").mkdir()
    product = {"description": "d", "website": "https://example.org", "license": [], "SDGs": [], "sectors": [],
               "type": ["software"], "stage": "DPG"}
    (registry / "dpgs/index.json").write_text(json.dumps([
        {**product, "id": "tool-a", "name": "Tool A", "organizations": [
            {"name": "Acme Foundation", "org_type": "owner", "website": "https://acme.org"}]},
        {**product, "id": "tool-b", "name": "Tool B", "organizations": [
            {"name": "ACME Foundation Inc.", "org_type": "funder", "website": "https://www.acme.org/",
             "contact_name": "Jane Roe", "contact_email": "jane@acme.org"}]}]), encoding="utf-8")
    (registry / "nominees/index.json").write_text("[]", encoding="utf-8")
    return registry


def test_a_decision_survives_a_rebuild(tmp_path: Path) -> None:
    from d4d.pipeline import build
    from d4d.store import open_store

    for name in ("ontology", "graph"):
        shutil.copytree(ROOT / name, tmp_path / name)
    registry = _registry(tmp_path)
    (tmp_path / "imports.yaml").write_text(
        f"sources:\n  - name: tiny\n    kind: dpg\n    paths: [{registry}]\n    build: true\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["reconcile", "--project", str(tmp_path), "--accept", "dpg/org/acme-foundation",
                                  "dpg/org/acme-foundation-inc"])
    assert result.exit_code == 0 and "the next build applies it" in result.output, result.output
    out = tmp_path / "build"

    def organisations() -> list[str]:
        store = open_store(out / "store")
        rows = store.query(f"SELECT DISTINCT ?o WHERE {{ GRAPH <{GRAPH}source/tiny> {{ ?o a <{D4D.Organization}> }} }}")
        return sorted(r["o"].value for r in rows)  # type: ignore[union-attr]

    build(tmp_path, out=out, extras=False)
    assert organisations() == [ID + "dpg/org/acme-foundation"]
    build(tmp_path, out=out, extras=False)           # nothing changed: the store is reused
    assert organisations() == [ID + "dpg/org/acme-foundation"]
    result = runner.invoke(main, ["reconcile", "--project", str(tmp_path), "--store", str(out / "store"),
                                  "--min-score", "0"])
    assert result.exit_code == 0 and "acme-foundation-inc" not in result.output


def _sample() -> list[dict[str, str]]:
    with (ROOT / "tests/data/reconcile-sample.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def field_store(shared: Path) -> ox.Store:
    """The curated facts and the six field sources imported, resolving through the project's crosswalk
    without the curator's decisions (which would merge the sample's pairs)."""
    from d4d.imports import resolver_for

    data = shared / "data"
    store = ox.Store()
    resolver = resolver_for(ROOT, decisions=False)
    specs = [SourceSpec("crafd-compass", "compass", (data / "crafd-crisis-data-funding-compass",)),
             SourceSpec("iati-covid", "iati", (data / "hdx-scraper-iati-viz/covid/dportal.xml",)),
             SourceSpec("iati-foodsecurity", "iati", (data / "hdx-scraper-iati-viz/foodsecurity/dportal.xml",)),
             SourceSpec("iati-cloud", "iati", tuple(data / "IATI.cloud" / f for f in (
                 "example_203_file.xml", "MAEC_IATI_INDONESIA.xml", "5e87f792-3d59-4f06-afcf-a8efa8523553.xml"))),
             SourceSpec("dpg", "dpg", (data / "publicgoods-api",)),
             SourceSpec("civic", "civic", (data / "civic-graph-API/civic.json",))]
    for spec in specs:
        import_source(store, spec, resolver=resolver)
    return store


def test_precision_and_recall_on_the_labelled_sample(field_store: ox.Store) -> None:
    sample = {frozenset((ID + r["a"], ID + r["b"])): r["same"] == "yes" for r in _sample()}
    assert len(sample) == 139 and sum(sample.values()) == 107
    proposed = {frozenset((c.a, c.b)) for c in reconcile(field_store, min_score=DEFAULT_MIN_SCORE)}
    judged = [pair for pair in proposed if pair in sample]
    right = sum(1 for pair in judged if sample[pair])
    precision = right / len(judged)
    recall = right / sum(sample.values())
    # bench/RESULTS-reconcile.md: 96 of 101 proposals right, 96 of the 107 pairs found
    assert precision >= 0.9 and recall >= 0.85, (precision, recall)
    assert (right, len(judged)) == (96, 101)
    # every pair the reconciler proposes on these sources is in the sample: the sample is all of them
    assert len(judged) == len(proposed)
