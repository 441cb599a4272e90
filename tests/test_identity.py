"""Identity: org-ids, the crosswalk, the resolution order, local nodes, and reconciliation."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from d4d.cli import main
from d4d.errors import SourceError
from d4d.imports.identity import (
    Crosswalk,
    Resolver,
    identity_conflicts,
    local_iri,
    names_related,
    parse_org_id,
    reconcile,
)
from d4d.vocab import D4D, GRAPH

ROOT = Path(__file__).resolve().parents[1]
ID = "https://w3id.org/d4d/id/"


@pytest.mark.parametrize("ref,iri,registered", [
    ("GB-GOV-1", ID + "org/gb-gov-1", True),
    (" XM-DAC-41114 ", ID + "org/xm-dac-41114", True),
    ("US-EIN-06-1597-668", ID + "org/us-ein-06-1597-668", True),
    ("gb-coh-213890", ID + "org/gb-coh-213890", True),
    ("CH-FDJP-f7f0b51e-7432", ID + "org/ch-fdjp-f7f0b51e-7432", True),
    ("XI-IATI-EC_NEAR", ID + "org/xi-iati-ec_near", True),
    ("KR-GOV-010", ID + "org/kr-gov-010", False),     # a publisher id before org-id.guide: identifies, flagged
    ("DAC-1601", ID + "org/dac-1601", False),
    ("360G-ALWF-123", ID + "org/360g-alwf-123", True),
    ("GB-COH-A/B", ID + "org/gb-coh-a%2Fb", True),
])
def test_org_ids(ref: str, iri: str, registered: bool) -> None:
    org_id = parse_org_id(ref)
    assert org_id is not None and org_id.iri == iri and org_id.registered is registered


@pytest.mark.parametrize("ref", ["N/A", "GB", "12711", "41122", "Education Cannot Wait", "CZE0002114", "", "  ", "XM-", None])
def test_refs_that_are_not_org_ids(ref: str | None) -> None:
    assert parse_org_id(ref) is None


def test_local_nodes_are_scoped_and_fold_case_and_punctuation() -> None:
    a = local_iri("iati/org/xm-dac-41114", name="UNDP Funding Windows")
    assert a == local_iri("iati/org/xm-dac-41114", name="undp  funding-windows")
    assert a != local_iri("iati/org/gb-gov-1", name="UNDP Funding Windows")       # another publisher: another node
    assert local_iri("crafd/agency", key="recAbC") == ID + "crafd/agency/recAbC"     # record keys keep their case
    assert local_iri("s", name="Česká rozvojová agentura") == ID + "s/česká-rozvojová-agentura"


def _walk(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "crosswalk.csv"
    path.write_text("id,scheme,value,note\n" + rows, encoding="utf-8")
    return path


def test_crosswalk_and_resolution_order(tmp_path: Path) -> None:
    walk = Crosswalk.load(_walk(tmp_path, "harvard-humanitarian-initiative,crafd,HHI,\n"
                                          "crafd/org/keep-apart,crafd,keep-apart,wrong org-id\n"
                                          "data-pop-alliance,org-id,xx-test-1,\n"))
    store = ox.Store()
    facts = ox.NamedNode(str(GRAPH["facts"]))
    for slug in ("harvard-humanitarian-initiative", "data-pop-alliance", "rockefeller-foundation"):
        store.add(ox.Quad(ox.NamedNode(ID + slug), ox.NamedNode(str(D4D.name)), ox.Literal(slug), facts))
    store.add(ox.Quad(ox.NamedNode(ID + "rockefeller-foundation"), ox.NamedNode(str(D4D.identifier)),
                      ox.Literal("US-EIN-13-1659629"), facts))
    store.add(ox.Quad(ox.NamedNode(ID + "rockefeller-foundation"), ox.NamedNode(str(D4D.sameAs)),
                      ox.Literal("http://www.wikidata.org/entity/Q1456193"), facts))
    resolver = Resolver.from_store(store, walk)
    hhi = resolver.resolve(org_id=parse_org_id("US-EIN-45-4535664"), keys=[("crafd", "hhi")])
    assert hhi is not None and hhi.iri == ID + "harvard-humanitarian-initiative" and hhi.curated
    assert hhi.via == "crosswalk crafd"                                # the declared key wins over the org-id
    apart = resolver.resolve(org_id=parse_org_id("XM-DAC-41122"), keys=[("crafd", "keep-apart")])
    assert apart is not None and apart.iri == ID + "crafd/org/keep-apart" and not apart.curated
    by_id = resolver.resolve(org_id=parse_org_id("us-ein-13-1659629"))
    assert by_id is not None and by_id.iri == ID + "rockefeller-foundation" and by_id.via == "curated identifier"
    by_walk = resolver.resolve(org_id=parse_org_id("XX-TEST-1"))
    assert by_walk is not None and by_walk.iri == ID + "data-pop-alliance"
    by_qid = resolver.resolve(keys=[("wikidata", "https://www.wikidata.org/wiki/Q1456193")])
    assert by_qid is not None and by_qid.iri == ID + "rockefeller-foundation"
    plain = resolver.resolve(org_id=parse_org_id("GB-CHC-1"))
    assert plain is not None and plain.iri == ID + "org/gb-chc-1" and plain.via == "org-id"
    assert resolver.resolve(keys=[("crafd", "unknown")]) is None   # the importer makes a local node


def test_crosswalk_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as error:
        Crosswalk.load(_walk(tmp_path, "a,crafd,x,\nb,crafd,X,\n"))
    assert "line 3" in error.value.message and "two nodes" in error.value.message
    with pytest.raises(SourceError) as error:
        Crosswalk.load(_walk(tmp_path, "a,,x,\n"))
    assert "line 2" in error.value.message
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode(ID + "known"), ox.NamedNode(str(D4D.name)), ox.Literal("k"), ox.NamedNode(str(GRAPH["facts"]))))
    with pytest.raises(SourceError) as error:
        Resolver.from_store(store, Crosswalk.load(_walk(tmp_path, "unknown-record,crafd,x,\n")))
    assert "no curated record has the id 'unknown-record'" in error.value.message


def test_the_project_crosswalk_loads_and_names_curated_records() -> None:
    from d4d.imports import resolver_for

    resolver = resolver_for(ROOT)
    hhi = resolver.resolve(keys=[("crafd", "hhi")])
    assert hhi is not None and hhi.iri == ID + "harvard-humanitarian-initiative" and hhi.curated


def _org(store: ox.Store, iri: str, graph: str, name: str, *, url: str | None = None, ident: str | None = None,
         ref: str | None = None, label: str | None = None) -> None:
    g = ox.NamedNode(f"https://w3id.org/d4d/graph/source/{graph}")
    node = ox.NamedNode(ID + iri)
    store.add(ox.Quad(node, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(str(D4D.Organization)), g))
    store.add(ox.Quad(node, ox.NamedNode(str(D4D.name)), ox.Literal(name), g))
    store.add(ox.Quad(node, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal(label or name), g))
    if url:
        store.add(ox.Quad(node, ox.NamedNode(str(D4D.url)), ox.Literal(url), g))
    if ident:
        store.add(ox.Quad(node, ox.NamedNode(str(D4D.identifier)), ox.Literal(ident), g))
    if ref:
        store.add(ox.Quad(node, ox.NamedNode("http://purl.org/dc/terms/identifier"), ox.Literal(ref), g))


@pytest.fixture
def dupes() -> ox.Store:
    store = ox.Store()
    _org(store, "org/xm-dac-41122", "iati", "UNICEF: United Nations Children's Fund", url="https://www.unicef.org",
         ident="XM-DAC-41122")
    _org(store, "iati/org/undp/united-nations-children-s-fund", "iati", "UNITED NATIONS CHILDREN'S FUND", ref="41122")
    _org(store, "crafd/agency/rec1", "compass", "Ministry of Foreign Affairs", label="Ministry of Foreign Affairs, Norway")
    _org(store, "crafd/agency/rec2", "compass", "Ministry of Foreign Affairs", label="Ministry of Foreign Affairs, Qatar")
    _org(store, "crafd/agency/rec3", "compass", "Inter-American Development Bank (IDB)", url="https://www.iadb.org/en")
    _org(store, "crafd/agency/rec4", "compass", "Inter American Development Bank (IDB)", url="http://iadb.org")
    _org(store, "org/xx-unrelated", "iati", "Something Else Entirely")
    _org(store, "org/de-1", "iati", "GOVERNMENT OF GERMANY", ident="DE-1")
    _org(store, "org/de-1", "iati2", "KREDITANSTALT FUR WIEDERAUFBAU")
    return store


def test_reconcile_lists_likely_duplicates_with_evidence(dupes: ox.Store) -> None:
    pairs = {(c.a.removeprefix(ID), c.b.removeprefix(ID)): c for c in reconcile(dupes)}
    unicef = pairs[("iati/org/undp/united-nations-children-s-fund", "org/xm-dac-41122")]
    assert "same name 'united nations childrens fund'" in unicef.evidence
    assert any("local ref 41122 is the number of org-id XM-DAC-41122" in e for e in unicef.evidence)
    idb = pairs[("crafd/agency/rec3", "crafd/agency/rec4")]
    assert "same website iadb.org" in idb.evidence and idb.score > 0.9
    # Two records the compass itself tells apart (one ministry per country) are not paired on their name.
    assert ("crafd/agency/rec1", "crafd/agency/rec2") not in pairs
    assert not [p for p in pairs if "org/xx-unrelated" in p]
    scores = [c.score for c in reconcile(dupes)]
    assert scores == sorted(scores, reverse=True)


def test_conflicting_names_on_one_node(dupes: ox.Store) -> None:
    conflicts = {c.node.removeprefix(ID): c for c in identity_conflicts(dupes)}
    assert set(conflicts) == {"org/de-1"}
    assert conflicts["org/de-1"].names == ("GOVERNMENT OF GERMANY", "KREDITANSTALT FUR WIEDERAUFBAU")
    assert names_related("WPDx", "WPDx: Water Point Data Exchange") and not names_related("UNICEF", "Oxfam")


def test_cli_reconcile(dupes: ox.Store, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    disk = ox.Store(str(folder))
    disk.extend(list(dupes.quads_for_pattern(None, None, None, None)))
    disk.flush()
    del disk
    runner = CliRunner()
    result = runner.invoke(main, ["reconcile", "--store", str(folder)])
    assert result.exit_code == 0, result.output
    assert "same website iadb.org" in result.output and "names disagree on <https://w3id.org/d4d/id/org/de-1>" in result.output
    result = runner.invoke(main, ["reconcile", "--store", str(folder), "--json", "--min-score", "0.95"])
    import json

    data = json.loads(result.output)
    assert all(c["score"] >= 0.95 for c in data["candidates"]) and data["conflicts"]
    result = runner.invoke(main, ["reconcile", "--store", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and result.output.startswith("error:")
