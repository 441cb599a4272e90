"""analyse(): every measure in one JSON-serialisable, documented, deterministic dict."""

from __future__ import annotations

import json
import re

import pytest

import d4d.analyse
from analyse_graphs import random_ecosystem, three_sectors
from d4d.analyse import analyse, ei_index


def test_keys_are_the_documented_ones_and_json_is_strict() -> None:
    metrics = analyse(random_ecosystem(80, 200, seed=1))
    doc = d4d.analyse.analyse.__doc__ or ""
    documented = re.findall(r"^        ``(\w+)``\n", doc, flags=re.M)
    assert documented == list(metrics)
    text = json.dumps(metrics, allow_nan=False)
    assert json.loads(text) == metrics
    for key in ("summary", "sectors", "brokerage", "resilience", "recommendations", "series"):
        assert metrics[key]


def test_same_input_same_output() -> None:
    G = random_ecosystem(80, 200, seed=2)
    first = json.dumps(analyse(G, seed=3), sort_keys=True)
    assert json.dumps(analyse(G, seed=3), sort_keys=True) == first


def test_summary_agrees_with_the_measures() -> None:
    G = three_sectors()
    m = analyse(G)
    assert m["summary"]["ei_index"] == pytest.approx(-1 / 7)
    assert m["summary"]["ties"] == 7 and m["summary"]["relationships"] == 8
    assert m["sectors"]["ei"]["by_sector"] == ei_index(G)["by_sector"]
    assert m["actors"]["a1"]["ei"] == pytest.approx(-1 / 3)
    assert m["network"]["sectors"]["A"] == {"label": "Sector A", "color": "#aa0000", "actors": 3,
                                               "members": 3}
    assert m["meta"]["exact"] and m["meta"]["samples"] is None
    assert m["series"] is None  # no dated relationship


def test_backends_agree_except_for_the_community_method() -> None:
    G = random_ecosystem(120, 300, seed=4)
    a = analyse(G, backend="networkx")
    b = analyse(G, backend="igraph")
    for key in ("betweenness", "constraint", "effective_size", "cut_off", "brokerage", "role"):
        for iri in a["actors"]:
            assert a["actors"][iri][key] == pytest.approx(b["actors"][iri][key]), (key, iri)
    assert a["connectivity"]["efficiency"]["value"] == pytest.approx(
        b["connectivity"]["efficiency"]["value"])
    assert [r["actor"] for r in a["resilience"]] == [r["actor"] for r in b["resilience"]]
    assert [(r["source"], r["target"]) for r in a["recommendations"]] == [
        (r["source"], r["target"]) for r in b["recommendations"]]


def test_sampled_mode_in_a_worker_process_gives_the_same_result() -> None:
    G = random_ecosystem(300, 800, seed=5)
    opts = {"exact_max_nodes": 100, "samples": 64, "backend": "igraph", "by_year": False}
    parallel = analyse(G, workers=2, **opts)  # type: ignore[arg-type]
    serial = analyse(G, workers=1, **opts)  # type: ignore[arg-type]
    assert json.dumps(parallel, sort_keys=True) == json.dumps(serial, sort_keys=True)
    assert parallel["meta"]["samples"] == 64 and not parallel["brokerage"]["betweenness"]["exact"]
    assert parallel["brokerage"]["betweenness"]["error_bound"] > 0


def test_year_analyses_the_graph_as_it_stood() -> None:
    G = random_ecosystem(60, 150, seed=6)
    m2001 = analyse(G, year=2001)
    # no actor has a founding date: a relationship stands from its start, an undated one from
    # the first dated relationship of its ends (from always when neither has one)
    first: dict[str, int] = {}
    for u, v, d in G.edges(data=True):
        for x in (u, v):
            if d["year"] is not None:
                first[x] = min(first.get(x, d["year"]), d["year"])
    standing = 0
    for u, v, d in G.edges(data=True):
        start = d["year"] if d["year"] is not None else max([first[x] for x in (u, v) if x in first],
                                                            default=None)
        standing += start is None or start <= 2001
    assert m2001["summary"]["relationships"] == standing
    assert m2001["meta"]["year"] == 2001
    assert m2001["series"]["years"][-1] <= 2001


def test_every_seed_claim_quotes_a_seed_document_word_for_word(shared) -> None:  # type: ignore[no-untyped-def]
    from d4d.analyse.claims import load_claims

    seeds = " ".join(" ".join(p.read_text(encoding="utf-8").split())
                     for p in sorted((shared / "seeds").glob("*.txt")))
    for claim in load_claims():
        assert " ".join(claim["quote"].split()) in seeds, claim["id"]


def test_claims_give_the_measured_values() -> None:
    from d4d.analyse.claims import evaluate_claims

    m = analyse(three_sectors(), by_year=False)
    claims = [{"id": "x", "quote": "q", "test": "sectors-apart", "sectors": ["A", "B", "C"]},
              {"id": "y", "quote": "q", "test": "fragmented"}]
    apart, fragmented = evaluate_claims(m, claims)
    # A-B 2 ties of 6 pairs, A-C 0 of 3, B-C 1 of 2; field: 7 ties of 15 pairs
    assert [p["ties"] for p in apart["numbers"]["pairs"]] == [2, 0, 1]
    assert apart["numbers"]["field_density"] == pytest.approx(7 / 15)
    assert apart["numbers"]["below"] == 2
    assert fragmented["numbers"]["weak_components"] == 1
