"""The map in a real browser: Playwright driving Debian's Chromium, headless.

Most tests open the map of the hand-made ecosystem of tests/map_fixtures.py (seven actors,
seven ties) and check what a viewer sees: every actor and tie drawn, nothing fetched from
anywhere, search, filters and the counts that follow them, the side panel in words, overlays,
grouping, links to views with Back and Forward, paths, pictures, and hostile strings shown as
text without any dialog. Three more open maps at the sizes the map must serve (the seed build,
the seed with the CRAF'd compass imported, about 358 actors, and a 5,000-actor synthetic
ecosystem), save screenshots to ``test-artifacts/`` (or ``$D4D_TEST_ARTIFACTS``) and count the
labels that overlap on screen from the boxes the page drew them in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from map_fixtures import ID, QUOTE, XSS_LABEL, XSS_QUOTE, XSS_TITLE, ecosystem, metrics, synthetic, synthetic_metrics

from d4d.maps import ego_graph, view_link, write_map

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
QUERY = "PREFIX d4d: <https://w3id.org/d4d/ontology#>\nCONSTRUCT { ?a d4d:fundedBy ?b } WHERE { ?a d4d:fundedBy ?b }"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def maps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("maps")
    G = ecosystem()
    return {
        "full": write_map(G, folder / "map.html", title=XSS_TITLE, metrics=metrics(), query=QUERY),
        "grouped": write_map(G, folder / "grouped.html", max_nodes=3),
        "ego": write_map(ego_graph(G, "gates", depth=1), folder / "ego.html", focus="gates"),
    }


@dataclass
class Opened:
    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def counts(self) -> tuple[int, int]:
        return tuple(self.js("[d4dMap.nodes.length, d4dMap.edges.length]"))

    def node_id(self, label: str) -> int:
        return self.js("(l) => d4dMap.data.nodes.find((n) => n.label === l).id", label)

    def click_node(self, node: int | str) -> None:
        x, y = self.js("""(id) => {
            const net = d4dMap.network;
            const p = net.canvasToDOM(net.getPosition(id));
            const box = document.getElementById('mynetwork').getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }""", node)
        self.page.mouse.click(x, y)

    def veiled(self, node: int) -> bool:
        """Whether the actor is drawn under the white veil of a selection: its centre pixel on the
        canvas is near white."""
        rgb = self.js("""async (id) => { const net = d4dMap.network;
            await new Promise((resolve) => { net.once('afterDrawing', resolve); net.redraw(); });
            const p = net.canvasToDOM(net.getPosition(id));
            const c = document.querySelector('#mynetwork canvas'); const r = c.width / c.clientWidth;
            return [...c.getContext('2d').getImageData(Math.round(p.x * r), Math.round(p.y * r), 1, 1).data].slice(0, 3); }""",
                      node)
        return min(rgb) > 215

    def panel_text(self) -> str:
        return self.page.inner_text("#d4d-panel-body")

    def fragment(self) -> str:
        return self.js("location.hash")

    def overlapping_labels(self) -> list[tuple[str, str]]:
        """Pairs of labels whose boxes on screen intersect, and labels cut at the canvas edge."""
        boxes = self.js("d4dMap.labels()")
        width, height = self.js("[document.getElementById('mynetwork').clientWidth, "
                                "document.getElementById('mynetwork').clientHeight]")
        bad = [(b["text"], "edge") for b in boxes
               if b["x"] < 0 or b["y"] < 0 or b["x"] + b["w"] > width or b["y"] + b["h"] > height]
        for k, a in enumerate(boxes):
            for b in boxes[k + 1:]:
                if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]:
                    bad.append((a["text"], b["text"]))
        return bad


def open_map(browser: Any, path: Path, fragment: str = "", *, timeout: float = 10_000) -> Opened:
    page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    opened = Opened(page)
    page.on("request", lambda request: opened.requests.append(request.url))
    page.on("console", lambda message: opened.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    # Belt and braces: nothing but the file itself may load, even if the CSP failed.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(path.as_uri() + fragment)
    page.wait_for_function("() => window.d4dReady === true", timeout=timeout)
    return opened


@pytest.fixture()
def opened(browser: Any, maps: dict[str, Path]) -> Iterator[Opened]:
    page = open_map(browser, maps["full"])
    yield page
    page.page.close()


def artifacts() -> Path:
    folder = Path(os.environ.get("D4D_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_opens_offline_and_cleanly(opened: Opened, maps: dict[str, Path]) -> None:
    assert opened.requests == [maps["full"].as_uri()]
    assert opened.errors == []
    assert opened.dialogs == []
    assert opened.fragment() == ""


def test_draws_every_actor_and_every_tie(opened: Opened) -> None:
    assert opened.counts() == (7, 7)
    # vis-network itself holds them (not just our DataSets), parallel ties included.
    assert opened.js("[d4dMap.network.body.nodeIndices.length, d4dMap.network.body.edgeIndices.length]") == [7, 7]
    rockefeller, pulse = opened.node_id("Rockefeller Foundation"), opened.node_id("UN Global Pulse")
    between = opened.js("([a, b]) => d4dMap.network.getConnectedEdges(a).filter("
                        "(e) => d4dMap.network.getConnectedNodes(e).includes(b)).length", [rockefeller, pulse])
    assert between == 2
    assert opened.page.inner_text("#d4d-summary").startswith("7 actors, 7 ties.")
    # Seven actors, seven labels, none overlapping nor cut at the edge.
    assert sorted(b["text"] for b in opened.js("d4dMap.labels()")) == sorted(
        opened.js("d4dMap.data.nodes.map((n) => n.label)"))
    assert opened.overlapping_labels() == []


def test_search_suggests_and_selects(opened: Opened) -> None:
    opened.page.fill("#d4d-search", "glob")
    assert opened.page.locator("#d4d-suggestions li").all_inner_texts()[0].startswith("UN Global Pulse")
    opened.page.press("#d4d-search", "Enter")
    assert opened.page.inner_text("#d4d-panel-body h2") == "UN Global Pulse"
    assert opened.js("d4dMap.network.getSelectedNodes()") == [opened.node_id("UN Global Pulse")]
    assert opened.fragment() == "#actor=un-global-pulse"
    opened.page.fill("#d4d-search", "zzz-nobody")
    assert opened.page.locator("#d4d-suggestions li").count() == 0


def legend_count(opened: Opened, list_id: str, key: str) -> int:
    return int(opened.page.locator(f'#{list_id} input[data-key="{key}"] ~ .d4d-count').inner_text())


def test_filters_hide_what_they_should_and_counts_follow(opened: Opened) -> None:
    def shown_types() -> set[str]:
        return set(opened.js("d4dMap.edges.getIds().map((id) => d4dMap.data.edges[id].type)"))

    page = opened.page
    assert legend_count(opened, "d4d-types", "Funding") == 3 and legend_count(opened, "d4d-sectors", "technology") == 2
    page.locator('#d4d-types input[data-key="Funding"]').uncheck()
    assert opened.counts() == (7, 4) and "Funding" not in shown_types()
    assert page.inner_text("#d4d-summary").startswith("7 actors, 4 of 7 ties.")
    assert legend_count(opened, "d4d-types", "Funding") == 0
    page.locator('#d4d-sectors input[data-key="philanthropy"]').uncheck()
    shown = set(opened.js("d4dMap.nodes.getIds().map((id) => d4dMap.data.nodes[id].label)"))
    assert shown == {"UN Global Pulse", "DataKind", "Jane Doe", "Data Lab", XSS_LABEL}
    assert opened.counts() == (5, 3)  # the partnership with Rockefeller went with it
    assert page.inner_text("#d4d-summary").startswith("5 of 7 actors, 3 of 7 ties.")
    assert legend_count(opened, "d4d-kinds", "Foundation") == 0 and legend_count(opened, "d4d-kinds", "NGO") == 1
    page.locator('#d4d-kinds input[data-key="Person"]').uncheck()
    assert opened.counts() == (4, 2)
    assert opened.fragment() == "#hide-sectors=philanthropy&hide-kinds=Person&hide-types=Funding"
    page.click("#d4d-reset")
    assert opened.counts() == (7, 7)
    # The field as it stood in 2013: ties up to 2013 and undated ones; actors founded by then.
    page.locator("#d4d-year").fill("2013")
    page.wait_for_function("() => d4dMap.edges.length === 3")
    assert shown_types() == {"Funding", "Membership"}
    assert opened.counts() == (6, 3)  # the hostile company was founded in 2017
    assert page.inner_text("#d4d-year-value") == "2013"
    assert page.inner_text("#d4d-summary").startswith("6 of 7 actors, 3 of 7 ties. As of 2013")
    assert legend_count(opened, "d4d-types", "Funding") == 2
    assert opened.fragment() == "#year=2013"


def test_the_panel_reads_in_words(opened: Opened) -> None:
    rockefeller = opened.node_id("Rockefeller Foundation")
    opened.click_node(rockefeller)
    assert opened.page.inner_text("#d4d-panel-body h2") == "Rockefeller Foundation"
    # Ties grouped by relationship, one item per fact, each with its details and its source.
    headings = opened.page.locator("#d4d-panel-body h4").all_inner_texts()
    assert headings == ["Funding (2)", "Partnership (1)"]
    items = opened.page.locator("#d4d-panel-body li.d4d-fact").all_inner_texts()
    assert len(items) == 3
    pulse = next(text for text in items if "UN Global Pulse · 2012" in text)
    assert "→ UN Global Pulse · 2012 · 1,000,000 USD" in pulse
    assert "Source: Rockefeller annual report 2012" in pulse and QUOTE in pulse
    quotes = opened.page.locator("#d4d-panel-body q").all_inner_texts()
    assert QUOTE in quotes and len(quotes) == 3
    # Whether the source states each fact or a curator read it in, with the curator's note.
    assert "1,000,000 USD stated" in pulse
    assert "read: The blog names both as partners of one programme." in next(t for t in items if "2015" in t)
    link = opened.page.locator("#d4d-panel-body a", has_text="Rockefeller annual report 2012")
    assert link.get_attribute("href") == "https://www.rockefellerfoundation.org/report"
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    # Measures in words, each with its one-line explanation; no raw keys.
    measures = opened.page.locator("#d4d-panel-body ul.d4d-measures li").all_inner_texts()
    assert measures[0].startswith("Actors tied to: 3 — ") and measures[1].startswith("Betweenness: 0.2 — Share of")
    assert "_" not in opened.panel_text().replace(ID, "")
    # The neighbourhood stays in colour; the rest goes under a white veil.
    assert opened.veiled(opened.node_id("Jane Doe"))
    assert not opened.veiled(opened.node_id("DataKind")) and not opened.veiled(rockefeller)
    opened.page.screenshot(path=str(artifacts() / "map-seven-selected.png"))
    # Clicking empty canvas clears the selection.
    box = opened.page.locator("#mynetwork").bounding_box()
    opened.page.mouse.click(box["x"] + 15, box["y"] + 15)
    assert opened.page.inner_text("#d4d-panel-body") == ""
    assert not opened.veiled(opened.node_id("Jane Doe"))


def test_a_membership_says_its_role(opened: Opened) -> None:
    opened.js("(i) => d4dMap.pick(i)", opened.node_id("DataKind"))
    items = opened.page.locator("#d4d-panel-body li.d4d-fact").all_inner_texts()
    assert any(t.startswith("\u2190 Jane Doe \u00b7 Volunteer; \u201cDataKind volunteer\u201d") for t in items)


def test_clicking_a_tie_shows_its_fact(opened: Opened) -> None:
    # Gates' grant is the only tie between Gates and Global Pulse: a straight line; click its middle.
    x, y = opened.js("""([a, b]) => {
        const net = d4dMap.network;
        const p = net.canvasToDOM(net.getPosition(a)), q = net.canvasToDOM(net.getPosition(b));
        const box = document.getElementById('mynetwork').getBoundingClientRect();
        return [box.left + (p.x + q.x) / 2, box.top + (p.y + q.y) / 2];
    }""", [opened.node_id("Bill & Melinda Gates Foundation"), opened.node_id("UN Global Pulse")])
    opened.page.mouse.click(x, y)
    text = opened.panel_text()
    assert text.startswith("Funding\n") and "2014 · 5,000,000 USD" in text and "Gates granted $5 million." in text
    assert opened.fragment() == "#tie=f-gates-pulse"


def test_hostile_strings_are_shown_as_text(opened: Opened) -> None:
    page = opened.page
    assert page.inner_text("#d4d-title") == XSS_TITLE
    assert page.title() == XSS_TITLE
    assert page.inner_text("#d4d-query") == QUERY
    hostile = opened.node_id(XSS_LABEL)
    opened.click_node(hostile)
    assert page.inner_text("#d4d-panel-body h2") == XSS_LABEL
    assert XSS_QUOTE in page.locator("#d4d-panel-body q").all_inner_texts()
    assert "<script>alert(2)</script>" in opened.panel_text()
    assert "Source: <script>alert(5)</script>" in opened.panel_text()
    # Nothing became markup: no images, no bold, no extra scripts, no javascript: link.
    assert opened.js("document.querySelectorAll('img, #d4d-panel b, iframe').length") == 0
    assert opened.js("document.scripts.length") == 6
    assert opened.js("[...document.querySelectorAll('a')].filter((a) => !a.href.startsWith('http')).length") == 0
    # The tooltip is text too.
    x, y = opened.js("""(id) => { const net = d4dMap.network; const p = net.canvasToDOM(net.getPosition(id));
        const box = document.getElementById('mynetwork').getBoundingClientRect(); return [box.left + p.x, box.top + p.y]; }""",
                     hostile)
    page.mouse.move(x - 40, y - 40)
    page.mouse.move(x, y, steps=5)
    page.wait_for_selector("#d4d-tooltip:not([hidden])", timeout=3000)
    assert page.inner_text("#d4d-tooltip strong") == XSS_LABEL
    # A suggestion for it is text as well, and so is its label in the SVG picture.
    page.fill("#d4d-search", "<img")
    assert page.locator("#d4d-suggestions li").all_inner_texts()[0].startswith(XSS_LABEL)
    svg = ET.fromstring(opened.js("d4dMap.svg()"))
    assert XSS_LABEL in [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    page.wait_for_timeout(200)
    assert opened.dialogs == [] and opened.errors == []


def test_overlays_and_the_legend_that_follows_them(opened: Opened) -> None:
    page = opened.page
    page.locator('#d4d-overlays input[data-key="recommended"]').check()
    assert opened.counts() == (7, 8)
    recommended = opened.js("d4dMap.edges.get('r0')")
    assert {recommended["from"], recommended["to"]} == {
        opened.node_id("Bill & Melinda Gates Foundation"), opened.node_id("DataKind")}
    # Recommended ties look like nothing else: no relationship type shares their colour or dots.
    styles = opened.js("d4dMap.edges.get().filter((e) => typeof e.id === 'number').map((e) => [e.color.color, e.dashes])")
    assert all(colour != recommended["color"]["color"] and dashes != recommended["dashes"] for colour, dashes in styles)
    opened.js("(i) => d4dMap.select(i)", opened.node_id("DataKind"))
    assert "Bill & Melinda Gates Foundation: Both fund <i>data</i> for development" in opened.panel_text()
    opened.js("d4dMap.clearSelection()")
    page.locator('#d4d-overlays input[data-key="brokers"]').check()
    width = "(id) => d4dMap.nodes.get(id).borderWidth"
    assert opened.js(width, opened.node_id("UN Global Pulse")) == 5
    assert opened.js(width, opened.node_id("Jane Doe")) == 1
    assert page.locator("#d4d-communities").is_hidden()
    page.locator('#d4d-overlays input[data-key="communities"]').check()
    colour = "(id) => d4dMap.nodes.get(id).color.background"
    # Gates (philanthropy) and the lab (academia) share community 0, so now share a colour.
    assert opened.js(colour, opened.node_id("Bill & Melinda Gates Foundation")) == opened.js(
        colour, opened.node_id("Data Lab"))
    # The legend swaps: communities with their counts; the sector swatches go.
    assert page.locator("#d4d-communities li").all_inner_texts() == ["Community 0\n4", "Community 1\n3"]
    assert page.locator("#d4d-sectors .d4d-sector-key").first.evaluate("(e) => getComputedStyle(e).visibility") == "hidden"
    assert opened.fragment() == "#overlay=brokers,communities,recommended"


def test_links_open_views_and_back_and_forward_walk_them(browser: Any, maps: dict[str, Path]) -> None:
    # A link made in Python (as the report makes them) opens that view.
    fragment = view_link(page="", actor=ID + "datakind", year=2014, overlays=["brokers"], hide_types=["Support"])
    opened = open_map(browser, maps["full"], fragment)
    try:
        page = opened.page
        assert page.inner_text("#d4d-panel-body h2") == "DataKind"
        assert page.inner_text("#d4d-year-value") == "2014"
        assert page.locator('#d4d-overlays input[data-key="brokers"]').is_checked()
        assert not page.locator('#d4d-types input[data-key="Support"]').is_checked()
        assert opened.fragment() == fragment  # read back unchanged
        opened.js("(i) => d4dMap.pick(i)", opened.node_id("UN Global Pulse"))
        assert opened.fragment() == fragment.replace("datakind", "un-global-pulse")
        page.locator('#d4d-overlays input[data-key="brokers"]').uncheck()
        page.go_back()
        page.wait_for_function("() => location.hash.includes('overlay=brokers')")
        assert page.inner_text("#d4d-panel-body h2") == "UN Global Pulse"
        assert page.locator('#d4d-overlays input[data-key="brokers"]').is_checked()
        page.go_back()
        page.wait_for_function("() => location.hash.includes('actor=datakind')")
        assert page.inner_text("#d4d-panel-body h2") == "DataKind"
        page.go_forward()
        page.wait_for_function("() => location.hash.includes('actor=un-global-pulse')")
        assert page.inner_text("#d4d-panel-body h2") == "UN Global Pulse"
        assert opened.errors == [] and opened.requests == [maps["full"].as_uri()]
    finally:
        page.close()


def test_a_path_link_highlights_the_shortest_chain_with_its_sources(browser: Any, maps: dict[str, Path]) -> None:
    # Gates and Jane Doe: Gates -> Global Pulse <- Rockefeller -> DataKind <- Jane (4 steps; by hand).
    opened = open_map(browser, maps["full"], view_link(page="", path=(ID + "gates", ID + "jane-doe")))
    try:
        page = opened.page
        steps = page.locator("#d4d-panel-body ol.d4d-path > li").all_inner_texts()
        assert len(steps) == 4
        assert steps[0].startswith("Bill & Melinda Gates Foundation → funding → UN Global Pulse · 2014")
        assert "Gates granted $5 million." in steps[0] and "Source: Gates grants database" in steps[0]
        assert steps[3].startswith("DataKind ← membership ← Jane Doe")
        path_nodes = {opened.node_id(n) for n in ("Bill & Melinda Gates Foundation", "UN Global Pulse",
                                                  "Rockefeller Foundation", "DataKind", "Jane Doe")}
        assert opened.veiled(opened.node_id("Data Lab"))
        assert not any(opened.veiled(i) for i in path_nodes)
        highlighted = opened.js("d4dMap.edges.get().filter((e) => e.color.color === '#0969da').length")
        assert highlighted == 4
        # With the Membership type filtered out there is no chain any more.
        page.locator('#d4d-types input[data-key="Membership"]').uncheck()
        opened.js("d4dMap.setPath(d4dMap.state.path.from, d4dMap.state.path.to)")
        assert "No chain of ties joins them" in opened.panel_text()
        assert opened.errors == []
    finally:
        page.close()


def test_pictures_of_the_view(opened: Opened) -> None:
    page = opened.page
    page.locator('#d4d-types input[data-key="Funding"]').uncheck()
    with page.expect_download() as png:
        page.click("#d4d-png")
    data = Path(png.value.path()).read_bytes()
    assert png.value.suggested_filename == "d4d-map.png" and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    with page.expect_download() as svg:
        page.click("#d4d-svg")
    tree = ET.parse(svg.value.path()).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    # The picture is the view: seven actors, the four ties left, one label per actor.
    actors = list(tree.find(f"{ns}g[@class='actors']"))
    # Seven shapes, and DataKind (civil society and technology) gets a pie of two.
    assert len([e for e in actors if e.get("class") != "pie"]) == 7
    assert sorted(e.get("fill") for e in actors if e.get("class") == "pie") == ["#00897b", "#1565c0"]
    assert len(tree.find(f"{ns}g[@class='ties']")) == 4
    assert len(tree.find(f"{ns}g[@class='labels']")) == 7
    shutil.copy(svg.value.path(), artifacts() / "map-seven.svg")
    assert [r for r in opened.requests if r.startswith(("http:", "https:"))] == []


def test_grouped_map_opens_by_sector_and_expands(browser: Any, maps: dict[str, Path]) -> None:
    opened = open_map(browser, maps["grouped"])
    try:
        assert opened.counts()[0] == 6
        assert "click a circle to show its actors" in opened.page.inner_text("#d4d-summary")
        assert "Philanthropy (2)" in [b["text"] for b in opened.js("d4dMap.labels()")]
        philanthropy = opened.js("d4dMap.data.nodes.find((n) => n.label === 'Rockefeller Foundation').group")
        opened.click_node(f"g{philanthropy}")
        labels = [b["text"] for b in opened.js("d4dMap.labels()")]
        assert "Rockefeller Foundation" in labels and "Bill & Melinda Gates Foundation" in labels
        # 5 circles + 2 foundations; the foundations' four ties go to two circles as three lines
        # (Rockefeller's two ties to Global Pulse share one), plus three circle-to-circle lines.
        assert opened.counts() == (7, 6)
        rockefeller = opened.node_id("Rockefeller Foundation")
        assert sorted(opened.js("(r) => d4dMap.edges.get().filter((e) => e.from === r || e.to === r)"
                                ".map((e) => e.width)", rockefeller)) == [1, 2]  # log2 scale: 1 tie, 2 ties
        opened.page.click("#d4d-collapse")
        assert opened.counts()[0] == 6
        # Searching an actor inside a circle opens that circle.
        opened.page.fill("#d4d-search", "DataKind")
        opened.page.press("#d4d-search", "Enter")
        assert opened.page.inner_text("#d4d-panel-body h2") == "DataKind"
        assert opened.overlapping_labels() == []
        assert opened.errors == [] and opened.requests == [maps["grouped"].as_uri()]
    finally:
        opened.page.close()


def test_ego_map_opens_on_its_centre(browser: Any, maps: dict[str, Path]) -> None:
    opened = open_map(browser, maps["ego"])
    try:
        assert opened.counts() == (2, 1)
        assert opened.page.inner_text("#d4d-panel-body h2") == "Bill & Melinda Gates Foundation"
        assert "Actors within 1 tie of Bill & Melinda Gates Foundation." in opened.page.inner_text("#d4d-summary")
        assert opened.js("d4dMap.meta.details[d4dMap.meta.focus].iri") == ID + "gates"
        assert opened.errors == []
    finally:
        opened.page.close()


def test_physics_option_runs_cleanly(browser: Any, tmp_path: Path) -> None:
    opened = open_map(browser, write_map(ecosystem(), tmp_path / "physics.html", physics=True))
    try:
        assert opened.counts() == (7, 7)
        opened.page.locator('#d4d-types input[data-key="Funding"]').uncheck()
        assert opened.counts() == (7, 4)
        assert opened.errors == []
    finally:
        opened.page.close()


# --- at the sizes the map must serve ------------------------------------------------------------

@pytest.fixture(scope="module")
def compass_build(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> Path:
    """The bundled project with the CRAF'd compass imported (build: true), built with its extras."""
    from d4d.fetch import fetch
    from d4d.pipeline import build

    project = tmp_path_factory.mktemp("compass-project")
    for name in ("ontology", "graph", "queries"):
        shutil.copytree(ROOT / name, project / name)
    text = (ROOT / "imports.yaml").read_text(encoding="utf-8").replace("build: true", "build: false")
    text = re.sub(r"(- name: crafd-compass\n(?:    .*\n)*?    build:) false", r"\1 true", text)
    (project / "imports.yaml").write_text(text, encoding="utf-8")
    fetch(project, mirror=shared / "data", sources=["crafd-compass"])   # ../shared/data through the mirror
    walk = project / "graph/crosswalk.csv"   # the compass as imported: no curator's same/apart decisions
    walk.write_text("".join(line for line in walk.read_text(encoding="utf-8").splitlines(keepends=True)
                            if line.split(",")[1:2] not in (["same"], ["apart"])), encoding="utf-8")
    build(project, out=project / "build", reasoner=False)
    return project / "build"


def check_at_size(opened: Opened, name: str, *, zooms: tuple[float, ...] = (2.5,)) -> dict[str, Any]:
    """Screenshots at fit and zoomed in; no overlapping label at any; no error, no request."""
    page = opened.page
    page.screenshot(path=str(artifacts() / f"map-{name}.png"))
    at_fit = opened.js("d4dMap.labels()")
    figures = {"labels_at_fit": len(at_fit), "labelled_at_fit": {b["id"] for b in at_fit},
               "overlaps": opened.overlapping_labels()}
    for zoom in zooms:
        opened.js("""(z) => new Promise((resolve) => { const net = d4dMap.network;
            net.once('afterDrawing', resolve); net.moveTo({scale: net.getScale() * z}); })""", zoom)
        page.screenshot(path=str(artifacts() / f"map-{name}-zoom{zoom:g}.png"))
        figures[f"labels_at_zoom_{zoom:g}"] = len(opened.js("d4dMap.labels()"))
        figures["overlaps"] += opened.overlapping_labels()
    assert figures["overlaps"] == []
    assert opened.errors == []
    assert [r for r in opened.requests if not r.startswith("file:")] == []
    return figures


def test_the_seed_map_as_a_viewer_sees_it(browser: Any, seed_build: Path, root: Path, tmp_path: Path) -> None:
    from d4d.analyse import analyse
    from d4d.network import project
    from d4d.ontology import load_ontology
    from d4d.store import open_store

    G = project(open_store(seed_build / "store"), load_ontology(root / "ontology"))
    path = write_map(G, tmp_path / "seed.html", metrics=json.loads(json.dumps(analyse(G), default=str)))
    opened = open_map(browser, path)
    try:
        figures = check_at_size(opened, "seed")
        # The most central actors of the seed map are labelled at "fit" (the first placed: nothing
        # can take their places); the others as room allows, more when zoomed in.
        ranked = opened.js("d4dMap.data.nodes.slice().sort((a, b) => a.rank - b.rank).slice(0, 5).map((n) => n.id)")
        assert set(ranked) <= figures["labelled_at_fit"]
        assert figures["labels_at_fit"] >= 0.5 * G.number_of_nodes() and figures["labels_at_zoom_2.5"] > 0
    finally:
        opened.page.close()


def test_the_compass_map_as_a_viewer_sees_it(browser: Any, compass_build: Path) -> None:
    opened = open_map(browser, compass_build / "map.html")
    try:
        actors = opened.js("d4dMap.data.nodes.length")
        assert actors == len(json.loads((compass_build / "metrics.json").read_text())["actors"])
        figures = check_at_size(opened, "compass")
        assert figures["labels_at_fit"] >= 20 and figures["labels_at_zoom_2.5"] > figures["labels_at_fit"]
        # Isolates are listed, not drawn. The lines drawn are a spanning forest of each group
        # (community) of the rest: drawn actors less the connected parts inside the groups; the
        # ties between groups are bundled, one band per pair of groups.
        view = opened.js("""() => { const v = d4dMap.view(); let bundled = 0; for (const b of v.bundles.values()) bundled += b.count;
            return {listed: v.listed.length, drawn: v.shownNodes.length, lines: v.shownEdges.length,
                    passing: v.passing.length, bands: v.bundles.size, bundled}; }""")
        isolates = opened.js("d4dMap.data.nodes.filter((n) => n.isolate).length")
        assert view["listed"] == isolates == opened.page.locator("#d4d-isolates li").count() > 0
        parts, between = opened.js("""() => { const parent = new Map(); const root = (i) => { while (parent.get(i) !== i) i = parent.get(i); return i; };
            const v = d4dMap.view(), N = d4dMap.data.nodes, E = d4dMap.data.edges; for (const i of v.shownNodes) parent.set(i, i);
            let between = 0;
            for (const id of v.passing) { const e = E[id]; if (N[e.from].group !== N[e.to].group) { between += 1; continue; }
                const a = root(e.from), b = root(e.to); if (a !== b) parent.set(Math.max(a, b), Math.min(a, b)); }
            return [v.shownNodes.filter((i) => parent.get(i) === i).length, between]; }""")
        assert view["lines"] == view["drawn"] - parts < view["passing"]
        assert view["bundled"] == between > 0 and view["bands"] > 0
        opened.page.check("#d4d-all-ties")
        assert opened.js("d4dMap.view().shownEdges.length") == view["passing"]
        assert opened.fragment() == "#ties=all"
        assert opened.errors == []
    finally:
        opened.page.close()


def test_a_5000_actor_map_as_a_viewer_sees_it(browser: Any, tmp_path: Path) -> None:
    G = synthetic(5000)
    path = write_map(G, tmp_path / "map-5000.html", metrics=synthetic_metrics(G), max_nodes=5000)
    opened = open_map(browser, path, timeout=60_000)
    try:
        figures = check_at_size(opened, "5000", zooms=(4.0,))
        assert figures["labels_at_fit"] >= 10
        # A click on the most central actor answers with its panel.
        top = opened.js("d4dMap.data.nodes.reduce((a, n) => (n.rank < a.rank ? n : a)).id")
        opened.js("(i) => d4dMap.network.focus(i, {scale: 1, animation: false})", top)
        opened.click_node(top)
        opened.page.wait_for_function("(l) => document.querySelector('#d4d-panel-body h2')?.textContent === l",
                                      arg=opened.js("(i) => d4dMap.data.nodes[i].label", top), timeout=5_000)
        assert opened.errors == []
    finally:
        opened.page.close()


def test_the_map_and_the_analysis_agree_on_every_year(opened: Opened) -> None:
    # The slider and d4d analyse --year read the one time rule (d4d.field): in every year from the
    # earliest date to the latest the map shows the actors and relationships the analysis counts.
    from d4d.analyse.temporal import network_at

    G = ecosystem()
    dated = [y for _, d in G.nodes(data=True) for y in (d.get("founded"),) if y]
    dated += [y for _, _, d in G.edges(data=True) for y in (d.get("year"), d.get("end_year")) if y]
    assert len(set(dated)) > 2
    for year in range(min(dated), max(dated) + 1):
        opened.page.locator("#d4d-year").fill(str(year))
        net = network_at(G, year)
        # the page redraws after the slider moves: wait for it to show the analysis's counts
        opened.page.wait_for_function("([n, r]) => d4dMap.nodes.length === n && d4dMap.edges.length === r",
                                      arg=[net.n, net.relationships], timeout=5_000)
        assert opened.page.inner_text("#d4d-year-value") == str(year)
