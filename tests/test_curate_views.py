"""The SPARQL views say whether each fact is stated or read, and each source's snapshot."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyoxigraph as ox

from d4d.sparql import load_catalogue, run_query

D4DID = "https://w3id.org/d4d/id/"


def _rows(store: ox.Store, name: str, **params: str) -> list[dict[str, str | None]]:
    return run_query(load_catalogue()[name], store=store, params=params).values()


def test_facts_by_source_show_stated_and_read(seed_store: ox.Store) -> None:
    rows = _rows(seed_store, "facts-by-source", source="d4did:seed-ssir-collaboration")
    basis = {(r["fact"] or "").removeprefix(D4DID): (r["basis"], r["note"]) for r in rows}
    assert basis["membership-porway-datakind"][0] == "read"
    assert (basis["membership-porway-datakind"][1] or "").startswith("Read, not stated: the article by Jake Porway")
    assert basis["activity-datakind-projects"] == ("stated", None)


def test_single_source_facts_and_profiles_show_the_basis(seed_store: ox.Store) -> None:
    rows = _rows(seed_store, "single-source-facts", type="d4d:Support")
    # by hand from graph/relationships/supports.yaml: four supports, each citing the website only;
    # the faculty's and ThoughtWorks NY's are read
    assert sorted(((r["fact"] or "").removeprefix(D4DID), r["basis"]) for r in rows) == [
        ("support-chan-school-hhi", "stated"), ("support-harvard-faculty-hhi", "read"),
        ("support-provost-hhi", "stated"), ("support-thoughtworks-data-pop-alliance", "read")]
    profile = _rows(seed_store, "actor-profile", actor="d4did:devex")
    assert {r["basis"] for r in profile if r["section"] == "citation"} == {"read"}


def test_sources_show_their_snapshot(seed_store: ox.Store, shared: Path) -> None:
    rows = {(r["source"] or "").removeprefix(D4DID): r for r in _rows(seed_store, "sources")}
    seed = shared / "seeds" / "002_bf8f84a71b0d6b1b.txt"
    assert rows["seed-ssir-collaboration"]["sha256"] == hashlib.sha256(seed.read_bytes()).hexdigest()
    assert rows["seed-ssir-collaboration"]["url"] is None  # the seeds came without their address
