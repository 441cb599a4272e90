"""Funding-compass import: organisations, donor agencies, projects and links against the tables (counted
here with json); identity through the crosswalk; the seed ecosystem and the compass in one graph."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from d4d.imports import SourceSpec, import_declared, import_source, resolver_for
from d4d.imports.identity import Resolver
from d4d.vocab import D4D, GRAPH
from project_fixtures import write_spreadsheet_source

ROOT = Path(__file__).resolve().parents[1]
HHI = "https://w3id.org/d4d/id/harvard-humanitarian-initiative"


@pytest.fixture(scope="module")
def compass(shared: Path) -> Path:
    return shared / "data/crafd-crisis-data-funding-compass"


@pytest.fixture(scope="module")
def tables(compass: Path) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    return {name: json.loads((compass / f"{name}-table.json").read_text(encoding="utf-8"))
            for name in ("organizations", "agencies", "ecosystem")}


@pytest.fixture(scope="module")
def imported(compass: Path):  # type: ignore[no-untyped-def]
    store = ox.Store()
    report = import_source(store, SourceSpec("crafd-compass", "compass", (compass,)), resolver=resolver_for(ROOT, decisions=False))
    return store, report


def _count(store: ox.Store, graph: str, cls: str) -> int:
    rows = store.query(f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?x a <{D4D[cls]}> }} }}")
    return int(next(iter(rows))["n"].value)  # type: ignore[arg-type]


def test_counts_equal_the_tables(imported, tables) -> None:  # type: ignore[no-untyped-def]
    store, report = imported
    orgs, agencies, projects = tables["organizations"], tables["agencies"], tables["ecosystem"]
    donor_links = sum(len(r["fields"].get("Org Donor Agencies", [])) for r in orgs)
    provider_links = sum(len(r["fields"].get("Provider Orgs Full Name", [])) for r in projects)
    project_donors = sum(len(r["fields"].get("Project Donor Agencies", [])) for r in projects)
    # SOURCES.md: 92 organisations, 242 agencies, 226 projects, 954 org -> donor-agency links,
    # 260 project -> provider links, 191 project -> donor links.
    assert (len(orgs), len(agencies), len(projects), donor_links, provider_links, project_donors) == \
        (92, 242, 226, 954, 260, 191)
    assert report.problems == []
    assert report.counts["compass organisations"] == len(orgs)
    assert report.counts["agencies"] == len(agencies)
    assert report.counts["projects"] == len(projects)
    assert report.counts["fundings"] == donor_links
    assert report.counts["provider links"] == provider_links and report.counts["donor links"] == project_donors
    assert _count(store, report.graph, "Funding") == donor_links
    activities = {a["iati_identifier"] for org in _iati_data(ROOT).values() for a in org["activities"]}
    assert _count(store, report.graph, "Project") == len(projects) + len(activities)
    assert _count(store, report.graph, "Participation") == provider_links + project_donors


def _iati_data(root: Path) -> dict:  # type: ignore[type-arg]
    path = root.parent / "shared/data/crafd-crisis-data-funding-compass/iati-data.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_iati_data_gives_the_activities_their_dates(imported) -> None:  # type: ignore[no-untyped-def]
    store, report = imported
    data = _iati_data(ROOT)
    # SOURCES.md: 734 activities of 28 organisations; org_keys that share an org-id share activities
    filed = [a for org in data.values() for a in org["activities"]]
    distinct = {a["iati_identifier"] for a in filed}
    assert (len(data), len(filed)) == (28, 734)
    assert report.counts["iati activities"] == len(distinct)
    assert report.counts["iati activities filed twice"] == len(filed) - len(distinct)
    # hhi's first activity: dates of type 1 (planned start) and 3 (planned end), reported by the org-id
    # US-EIN-45-4535664 (Harvard Global Research and Support Services, not HHI itself)
    act = "https://w3id.org/d4d/id/iati/activity/US-EIN-45-4535664-8381891-01"
    rows = [(r["s"].value, r["e"].value, r["r"].value) for r in store.query(f"""
        SELECT ?s ?e ?r WHERE {{ GRAPH <{report.graph}> {{ <{act}> <{D4D.startDate}> ?s ; <{D4D.endDate}> ?e ;
                                                             <{D4D.reportingOrganization}> ?r }} }}""")]  # type: ignore[union-attr]
    assert rows == [("2022-10-01", "2024-09-30", "https://w3id.org/d4d/id/org/us-ein-45-4535664")]
    with_start = sum(1 for a in {a["iati_identifier"]: a for a in filed}.values()
                     if set(a["activity_date_type"]) & {"1", "2"})
    assert report.counts["iati activities with a startDate"] == with_start


def test_agencies_fund_the_organisations_they_are_linked_to(imported, tables) -> None:  # type: ignore[no-untyped-def]
    store, report = imported
    hhi_record = next(r for r in tables["organizations"] if r["fields"]["org_key"] == "hhi")
    funders = {row["a"].value for row in store.query(f"""
        SELECT ?a WHERE {{ GRAPH <{report.graph}> {{ ?f <{D4D.recipient}> <{HHI}> ; <{D4D.funder}> ?a }} }}""")}  # type: ignore[union-attr]
    expected = {f"https://w3id.org/d4d/id/crafd/agency/{a}" for a in hhi_record["fields"]["Org Donor Agencies"]}
    assert funders == expected


def test_hhi_is_the_curated_node_and_gets_no_second_name_or_kind(imported) -> None:  # type: ignore[no-untyped-def]
    store, report = imported
    about = {(q.predicate.value, q.object.value) for q in store.quads_for_pattern(ox.NamedNode(HHI), None, None,
                                                                                    ox.NamedNode(report.graph))}
    assert (str(D4D.alternateName), "Harvard Humanitarian Initiative") in about
    assert not any(p in (str(D4D.name), str(D4D.sector), "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
                   for p, _ in about)
    assert (str(D4D.identifier), "US-EIN-45-4535664") in about      # the compass's claim, kept with its citation
    assert not list(store.quads_for_pattern(ox.NamedNode("https://w3id.org/d4d/id/crafd/org/hhi"), None, None, None))


def test_shared_and_wrong_iati_keys_identify_no_one(compass: Path) -> None:
    # Without the crosswalk: keys that two compass records give (XM-DAC-41127 for ocha and its data centre,
    # XM-DAC-41122 for unicef and Humanitarian Outcomes, ...) identify neither record.
    store = ox.Store()
    report = import_source(store, SourceSpec("c", "compass", (compass,)), resolver=Resolver())
    shared = [w for w in report.warning_counts if "is given to several compass organisations" in w]
    assert sorted(w.split()[3] for w in shared) == ["XM-DAC-41121", "XM-DAC-41122", "XM-DAC-41127", "XM-OCHA-HPC9829"]
    assert not list(store.quads_for_pattern(ox.NamedNode("https://w3id.org/d4d/id/org/xm-dac-41122"), None, None, None))
    # With the crosswalk (graph/crosswalk.csv) keeping the wrong ones apart, UNICEF, OCHA and UNHCR get their
    # org-id nodes and REACH/PANDA (still sharing one key) stay local.
    with_walk = ox.Store()
    import_source(with_walk, SourceSpec("c", "compass", (compass,)), resolver=resolver_for(ROOT, decisions=False))
    names = {q.object.value for q in with_walk.quads_for_pattern(ox.NamedNode("https://w3id.org/d4d/id/org/xm-dac-41122"),
                                                                 ox.NamedNode(str(D4D.name)), None, None)}
    assert names == {"UNICEF: United Nations Children's Fund"}
    assert list(with_walk.quads_for_pattern(ox.NamedNode("https://w3id.org/d4d/id/crafd/org/humanitarian-outcomes"),
                                            None, None, None))
    assert list(with_walk.quads_for_pattern(ox.NamedNode("https://w3id.org/d4d/id/crafd/org/reach"), None, None, None))


def test_kinds_and_sectors_come_from_the_mapping_file(imported, tables) -> None:  # type: ignore[no-untyped-def]
    store, report = imported
    kinds = Counter()
    for row in store.query(f"""SELECT ?a ?k WHERE {{ GRAPH <{report.graph}> {{ ?a a ?k
                               FILTER(STRSTARTS(STR(?a), "https://w3id.org/d4d/id/crafd/agency/")) }} }}"""):  # type: ignore[union-attr]
        kinds[row["k"].value.rsplit("#", 1)[-1]] += 1
    categories = Counter(r["fields"]["Country Name"] for r in tables["agencies"])
    assert kinds["Foundation"] == categories["Foundations"]
    assert kinds["Organization"] == len(tables["agencies"])


def test_seed_ecosystem_and_compass_share_identities_in_one_graph(compass: Path, tmp_path: Path) -> None:
    """The build's path in small: curated facts in a store, the declared compass imported beside them,
    the class hierarchy materialised, the network projected: HHI is one node with both kinds of facts."""
    from d4d import reason
    from d4d.load import load
    from d4d.network import project

    (tmp_path / "imports.yaml").write_text(
        f"crosswalk: {ROOT / 'graph/crosswalk.csv'}\n"
        f"sources:\n  - {{name: crafd-compass, kind: compass, paths: ['{compass}'], build: true}}\n", encoding="utf-8")
    loaded = load(ROOT / "ontology", ROOT / "graph")
    store = reason.store_of([loaded.ontology.graph, loaded.facts.graph],
                            names=[str(GRAPH["ontology"]), str(GRAPH["facts"])])
    reports = import_declared(tmp_path, store, ontology=loaded.ontology)
    assert [r.source for r in reports] == ["crafd-compass"]
    reason.materialise(store, [r for r in reason.compile_rules(loaded.ontology) if r.name.startswith("cax-sco")])
    network = project(store, loaded.ontology)
    assert network.nodes[HHI]["label"] == "Harvard Humanitarian Initiative"
    assert network.nodes[HHI]["kind"] == "ResearchCentre"      # the curated kind, not the compass's
    ties = [d for _, _, d in network.in_edges(HHI, data=True)] + [d for _, _, d in network.out_edges(HHI, data=True)]
    seed_ties = [d for d in ties if any(not s.startswith("https://w3id.org/d4d/id/source/") for s in d["sources"])]
    compass_ties = [d for d in ties if d["type"] == "Funding" and any("/source/crafd-compass/" in s for s in d["sources"])]
    assert seed_ties and len(compass_ties) == 6
    assert not [n for n in network if n.endswith("/crafd/org/hhi")]
    sources = {f["source_title"] for f in network.nodes[HHI]["facts"]}
    assert any("Data-Pop Alliance website" in s for s in sources) and any("Compass" in s for s in sources)
    dpa = "https://w3id.org/d4d/id/data-pop-alliance"
    assert network.nodes[dpa]["label"] == "Data-Pop Alliance"
    assert any("/source/crafd-compass/" in s for _, _, d in network.in_edges(dpa, data=True) for s in d["sources"])


def test_the_build_imports_declared_sources(tmp_path: Path) -> None:
    """d4d build imports a source marked build: true: its graph is in the store, its triples in the Turtle."""
    from d4d.pipeline import build
    from d4d.store import open_store

    write_spreadsheet_source(tmp_path)
    result = build(tmp_path, out=tmp_path / "build", ontology_dir=ROOT / "ontology", graph_dir=ROOT / "graph",
                   reasoner=False, extras=False)
    store = open_store(tmp_path / "build")
    graph = ox.NamedNode("https://w3id.org/d4d/graph/source/sheet")
    assert store.contains_named_graph(graph)
    assert ox.Quad(ox.NamedNode("https://w3id.org/d4d/id/sheet/sheet/test-funder"),
                   ox.NamedNode(str(D4D.name)), ox.Literal("Test Funder"), graph) in store
    assert "Test Funder" in (tmp_path / "build/ecosystem.ttl").read_text(encoding="utf-8")
    assert result.counts["triples"] > 0
