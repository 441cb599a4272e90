"""DPG registry import: products, organisations and their roles against the registry's files (counted
here with json); no contact data of a person enters the graph."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from d4d.errors import SourceError
from d4d.imports import SourceSpec, import_source, resolver_for
from d4d.vocab import D4D

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def registry(shared: Path) -> Path:
    return shared / "data/publicgoods-api"


@pytest.fixture(scope="module")
def products(registry: Path) -> list[dict]:  # type: ignore[type-arg]
    return [p for name in ("dpgs", "nominees")
            for p in json.loads((registry / name / "index.json").read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def imported(registry: Path):  # type: ignore[no-untyped-def]
    store = ox.Store()
    report = import_source(store, SourceSpec("dpg", "dpg", (registry,)), resolver=resolver_for(ROOT, decisions=False))
    return store, report


def _select(store: ox.Store, text: str) -> list[tuple[str, ...]]:
    return sorted(tuple(t.value for t in row) for row in store.query(text, use_default_graph_as_union=True))  # type: ignore[union-attr]


def test_counts_equal_the_registry(imported, products) -> None:  # type: ignore[no-untyped-def]
    store, report = imported
    stages = Counter(p["stage"] for p in products)
    roles = Counter(o["org_type"] for p in products for o in p["organizations"])
    # SOURCES.md: 165 DPGs, 63 nominees; 198 + 69 organisation entries; owner 145 + 47 ...
    assert stages == {"DPG": 165, "nominee": 63}
    assert roles == {"owner": 145 + 47, "maintainer": 26 + 11, "funder": 23 + 10, "implementer": 4 + 1}
    assert report.problems == [] and report.warnings == []
    assert report.counts["products (DPG)"] == 165 and report.counts["products (nominee)"] == 63
    assert report.counts["participations"] == sum(roles.values())
    for role, n in roles.items():
        assert report.counts[f"{role} participations"] == n
    # organisations: names folded (case, punctuation) are one organisation of the registry
    names = {"-".join(re.findall(r"\w+", o["name"].casefold())) for p in products for o in p["organizations"]}
    assert report.counts["organisations"] == len(names)
    rows = _select(store, f"SELECT DISTINCT ?o WHERE {{ ?o a <{D4D.Organization}> }}")
    assert len(rows) == len(names)
    dpgs = _select(store, f"SELECT ?p WHERE {{ ?p a <{D4D.DigitalPublicGood}> }}")
    nominees = _select(store, f"SELECT ?p WHERE {{ ?p a <{D4D.DigitalPublicGoodNominee}> }}")
    assert (len(dpgs), len(nominees)) == (165, 63)


def test_a_product_and_its_roles(imported) -> None:  # type: ignore[no-untyped-def]
    store, _ = imported
    # dpgs/index.json: Aam Digital, maintained by Aam Digital GmbH
    rows = _select(store, f"""
        SELECT ?role ?name WHERE {{
          ?p <{D4D.project}> <https://w3id.org/d4d/id/dpg/aam-digital> ; <{D4D.participationRole}> ?role ;
             <{D4D.participant}> ?o . ?o <{D4D.name}> ?name }}""")
    assert rows == [("Maintainer", "Aam Digital GmbH")]
    # UNICEF Ventures Fund is one node, a funder of 12 products
    funded = _select(store, f"""
        SELECT DISTINCT ?p WHERE {{
          ?x <{D4D.participant}> ?o ; <{D4D.participationRole}> "Funder" ; <{D4D.project}> ?p .
          ?o <{D4D.name}> "UNICEF Ventures Fund" }}""")
    assert len(funded) == 12


def test_no_contact_data_enters_the_graph(imported, products) -> None:  # type: ignore[no-untyped-def]
    store, _ = imported
    literals = {q.object.value for q in store if isinstance(q.object, ox.Literal)}
    org_names = {o["name"].strip() for p in products for o in p["organizations"]}
    contacts = {o.get("contact_name", "").strip() for p in products for o in p["organizations"]} - {""}
    emails = {o.get("contact_email", "").strip() for p in products for o in p["organizations"]} - {""}
    assert len(contacts) > 100 and len(emails) > 100
    assert not any("@" in text for text in literals)
    assert (contacts - org_names) & literals == set()
    assert _select(store, f"SELECT ?x WHERE {{ ?x a <{D4D.Person}> }}") == []


def test_a_broken_registry_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "index.json"
    bad.write_text('{"not": "a list"}', encoding="utf-8")
    with pytest.raises(SourceError, match="JSON list"):
        import_source(ox.Store(), SourceSpec("dpg", "dpg", (bad,)))
    bad.write_text('[{"id": "x", "name": "X", "stage": "DPG", "organizations": [{"name": "O", "org_type": "boss"}]}]',
                   encoding="utf-8")
    with pytest.raises(SourceError, match="unknown org_type 'boss'") as err:
        import_source(ox.Store(), SourceSpec("dpg", "dpg", (bad,)), strict=True)
    assert "product x, organization 1" in str(err.value)
