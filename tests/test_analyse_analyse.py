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
    assert m["network"]["sectors"]["A"] == {"label": "Sector A", "color": "#aa0000", "actors": 3}
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
    undated_or_early = sum(1 for _, _, d in G.edges(data=True)
                           if d["year"] is None or d["year"] <= 2001)
    assert m2001["summary"]["relationships"] == undated_or_early
    assert m2001["meta"]["year"] == 2001
    assert m2001["series"]["years"][-1] <= 2001
