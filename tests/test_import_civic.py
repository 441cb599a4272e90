"""Civic Graph import: organisations by type and the four kinds of connection against civic.json (counted
here with json); people (Individual and Unknown nodes, key_people) are left out."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from d4d.imports import SourceSpec, import_source, resolver_for
from d4d.vocab import D4D

ROOT = Path(__file__).resolve().parents[1]
ORGS = {"For-Profit", "Non-Profit", "Government"}


@pytest.fixture(scope="module")
def civic(shared: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((shared / "data/civic-graph-API/civic.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imported(shared: Path):  # type: ignore[no-untyped-def]
    store = ox.Store()
    spec = SourceSpec("civic", "civic", (shared / "data/civic-graph-API/civic.json",))
    return store, import_source(store, spec, resolver=resolver_for(ROOT, decisions=False))


def _count(store: ox.Store, cls: str) -> int:
    rows = store.query(f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a <{D4D[cls]}> }}", use_default_graph_as_union=True)
    return int(next(iter(rows))["n"].value)  # type: ignore[arg-type]


def test_counts_equal_the_file(imported, civic) -> None:  # type: ignore[no-untyped-def]
    store, report = imported
    types = Counter(n["type"] for n in civic["nodes"])
    # SOURCES.md: For-Profit 216, Non-Profit 157, Government 42, Individual 163, Unknown 216
    assert types == {"For-Profit": 216, "Non-Profit": 157, "Government": 42, "Individual": 163, "Unknown": 216}
    assert report.problems == []
    kept = {n["ID"] for n in civic["nodes"] if n["type"] in ORGS}
    # the file repeats organisations: one name (folded), in one set of places, is one organisation
    def fold(name: str) -> str:
        return "-".join(re.findall(r"[^\W_]+", name.casefold()))

    places: dict[str, set[str]] = {}
    for n in civic["nodes"]:
        if n["type"] in ORGS:
            places.setdefault(fold(n["name"]), set()).add(repr(sorted(" ".join(p["location"].split()).strip(" ,")
                                                                       for p in n["location"] or [])))
    assert all(len(p) == 1 for p in places.values())   # no name in two places in this file
    assert len(places) == 243 and len(kept) == 415
    assert _count(store, "Organization") == len(places) == report.counts["organisations"]
    by_type = {t: len({fold(n["name"]) for n in civic["nodes"] if n["type"] == t}) for t in ORGS}
    assert (_count(store, "Company"), _count(store, "NGO"), _count(store, "GovernmentBody")) == \
        (by_type["For-Profit"], by_type["Non-Profit"], by_type["Government"])
    for listed, cls in (("funding_connections", "Funding"), ("investment_connections", "Investment"),
                        ("collaboration_connections", "Collaboration"), ("data_connections", "DataSharing")):
        names = {n["ID"]: fold(n["name"]) for n in civic["nodes"]}
        both = [e for e in civic[listed] if e["source"] in kept and e["target"] in kept
                and names[e["source"]] != names[e["target"]]]
        assert _count(store, cls) == len(both), listed
        assert report.counts[listed.replace("_", " ")] == len(both)
        out = [e for e in civic[listed] if e["source"] not in kept or e["target"] not in kept]
        assert report.counts[f"{listed.replace('_', ' ')} left out (a node left out)"] == len(out)


def test_direction_of_funding(imported, civic) -> None:  # type: ignore[no-untyped-def]
    store, _ = imported
    # SOURCES.md: in a funding edge the source received money from the target (Berkman Center <- Ford)
    rows = {(r["f"].value, r["r"].value) for r in store.query(f"""
        SELECT ?f ?r WHERE {{ ?x a <{D4D.Funding}> ; <{D4D.funder}>/<{D4D.name}> ?f ;
                                <{D4D.recipient}>/<{D4D.name}> ?r }}""", use_default_graph_as_union=True)}  # type: ignore[union-attr]
    names = {n["ID"]: n["name"].strip() for n in civic["nodes"]}
    received = [e for e in civic["funding_connections"] if e["type"] == "Received"
                and names[e["source"]].startswith("Berkman") and names[e["target"]] == "Ford Foundation"]
    assert received and (names[received[0]["target"]], names[received[0]["source"]]) in rows


def test_no_person_enters(imported, civic) -> None:  # type: ignore[no-untyped-def]
    store, _ = imported
    literals = {q.object.value for q in store if isinstance(q.object, ox.Literal)}
    org_names = {n["name"].strip() for n in civic["nodes"] if n["type"] in ORGS}
    people = {n["name"].strip() for n in civic["nodes"] if n["type"] == "Individual"}
    key_people = {p["name"].strip() for n in civic["nodes"] for p in n.get("key_people") or [] if p.get("name")}
    assert len(people) > 50 and len(key_people) > 500
    # a person's name appears only where an organisation of the file bears the same name
    assert (people | key_people) - org_names
    assert ((people | key_people) - org_names) & literals == set()
    assert _count(store, "Person") == 0
    handles = {n["twitter_handle"] for n in civic["nodes"] if n.get("twitter_handle") and n["type"] not in ORGS}
    assert handles
    assert handles & literals == set()
