"""The fragmentation report: every figure explained, data escaped, written atomically, and
rendered by headless Chromium without errors on the seed ecosystem."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest

from analyse_graphs import random_ecosystem, three_sectors
from d4d.analyse import analyse
from d4d.report import render_report, write_report

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", page, flags=re.S)


def test_every_section_and_figure_is_there_and_explained() -> None:
    page = render_report(analyse(random_ecosystem(60, 160, seed=1)))
    for anchor in ("headline", "mixing", "ei", "brokers", "critical", "recommendations",
                   "communities", "time"):
        assert f'id="{anchor}"' in page
    figures = re.findall(r"<figure>(.*?)</figure>", page, flags=re.S)
    assert len(figures) == 5
    for figure in figures:
        caption = re.search(r"<figcaption>(.*?)</figcaption>", figure, flags=re.S)
        assert caption and len(caption.group(1)) > 40
    svgs = _svgs(page)
    assert len(svgs) == 10  # heat map, E-I, brokers, critical, six series charts
    for svg in svgs:
        ET.fromstring(svg)  # well-formed
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page


def test_data_derived_text_is_escaped() -> None:
    G = three_sectors()
    G.nodes["a1"]["label"] = '<script>alert("x")</script> & Co'
    G.graph["sectors"]["A"] = {"label": 'Sector "A" <b>', "color": "javascript:bad"}
    page = render_report(analyse(G))
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
    assert "javascript:" not in page  # a colour that is not #rrggbb is replaced
    for svg in _svgs(page):
        ET.fromstring(svg)


def test_numbers_in_the_report_are_the_metrics() -> None:
    metrics = analyse(three_sectors())
    page = render_report(metrics)
    assert "-0.14" in page  # E-I index -1/7
    assert "+0.47 for random ties" in page  # expected 7/15
    assert ">7 distinct ties<" in page
    rec = metrics["recommendations"][0]
    assert rec["reason"].split(",")[0] in page


def test_report_is_deterministic_and_written_atomically(tmp_path: Path) -> None:
    metrics = analyse(random_ecosystem(40, 90, seed=2))
    assert render_report(metrics) == render_report(metrics)
    target = tmp_path / "report.html"
    write_report(metrics, target)
    assert target.read_text(encoding="utf-8") == render_report(metrics)
    broken = dict(metrics)
    del broken["sectors"]
    with pytest.raises(KeyError):
        write_report(broken, target)
    assert target.read_text(encoding="utf-8") == render_report(metrics)  # old page intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_no_series_without_dates() -> None:
    page = render_report(analyse(three_sectors()))
    assert "No fact has a date" in page


@pytest.fixture(scope="module")
def seed_graph(root: Path) -> nx.MultiDiGraph:
    from d4d import network
    from d4d.pipeline import run_reasoning
    from d4d.load import load

    reasoned = run_reasoning(load(root / "ontology", root / "graph"), reasoner=False)
    return network.project(reasoned.store, reasoned.loaded.ontology)


@pytest.mark.browser
def test_seed_report_renders_in_chromium(seed_graph: nx.MultiDiGraph, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    metrics = analyse(seed_graph)
    path = write_report(metrics, tmp_path / "report.html")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                "file://") else route.abort())
            page.goto(path.as_uri())
            cards = page.locator(".card .value").all_inner_texts()
            assert cards[0] == str(seed_graph.number_of_nodes())
            assert cards[1] == str(seed_graph.number_of_edges())
            sizes = page.eval_on_selector_all(
                "svg", "els => els.map(e => [e.getBoundingClientRect().width, "
                       "e.getBoundingClientRect().height])")
            assert len(sizes) >= 4 and all(w > 100 and h > 50 for w, h in sizes)
            top = metrics["brokerage"]["top_brokers"][0]["label"]
            assert top in page.locator("#brokers ~ table").first.inner_text()
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert errors == []


def test_first_page_reads_as_findings_on_a_multi_sector_graph() -> None:
    G = three_sectors()
    G.nodes["a1"]["sectors"] = ["A", "C"]  # a1 is half in C
    m = analyse(G)
    page = render_report(m)
    findings = page[page.index('id="findings"'):page.index('id="headline"')]
    # pairs of sectors by density: A-C 1.5 ties... the least dense pair comes first
    pairs = re.findall(r"<li><strong>(.*?)</strong>: ([0-9.]+) ties of ([0-9.]+) possible", findings)
    densities = [float(t) / float(p) for _, t, p in pairs]
    assert densities == sorted(densities)
    assert "claim in the seed documents" in findings
    assert "institutional fragmentation" in findings
    assert "What the ties are" in findings


def test_zero_rows_are_left_out_with_a_count() -> None:
    G = three_sectors()  # c1 and others lie on no shortest path between others
    m = analyse(G)
    zero = sum(1 for a in m["actors"].values() if not a["betweenness"])
    assert zero > 0
    page = render_report(m)
    brokers = page[page.index('id="brokers"'):page.index('id="critical"')]
    assert f"{zero} actors lie on no such path (betweenness 0) and are not shown" in brokers
    drawn = re.findall(r"<title>([^<]*?): ([0-9.e-]+) \(", brokers)
    values = [float(v) for _, v in drawn]
    assert values and all(v > 0 for v in values) and values == sorted(values, reverse=True)


def test_findings_brokers_and_recommendations_link_to_map_views() -> None:
    import html
    from urllib.parse import parse_qs

    from d4d.maps import ID_NAMESPACE

    G = random_ecosystem(60, 160, seed=1)
    metrics = analyse(G)
    page = render_report(metrics)
    views = [parse_qs(html.unescape(h)[1:])
             for h in re.findall(r'<a class="map" href="map\.html(#[^"]*)"', page)]
    views = [{k: v[0] for k, v in view.items()} for view in views]

    def node(value: str) -> str:
        return value if value in G else ID_NAMESPACE + value

    actors = [v["actor"] for v in views if "actor" in v]
    top = [b["actor"] for b in metrics["brokerage"]["top_brokers"] if b["betweenness"] > 0]
    assert actors and all(node(a) in G for a in actors)
    assert {node(a) for a in actors} >= set(top)
    paths = [v["path"] for v in views if "path" in v]
    assert len(paths) == len(metrics["recommendations"])
    for path, rec in zip(paths, metrics["recommendations"]):
        assert [node(p) for p in path.split(",")] == [rec["source"], rec["target"]]
    if len(metrics["series"]["years"]) > 1:
        assert {v.get("year") for v in views} >= {str(metrics["series"]["years"][0])}
