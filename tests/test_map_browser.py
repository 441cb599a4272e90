"""The map in a real browser: Playwright driving Debian's Chromium, headless.

Each test opens the map of the hand-made ecosystem of tests/map_fixtures.py (seven actors,
seven ties) and checks what a viewer sees: every actor and tie drawn, nothing fetched from
anywhere, search, filters, the side panel, overlays, grouping, and hostile strings shown as
text without any dialog. Screenshots go to ``tmp_path`` (or to ``$D4D_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from map_fixtures import ID, QUOTE, XSS_LABEL, XSS_QUOTE, XSS_TITLE, ecosystem, metrics

from d4d.maps import ego_graph, write_map

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed", allow_module_level=True)

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
QUERY = "PREFIX d4d: <https://w3id.org/d4d/ontology#>\nCONSTRUCT { ?a d4d:fundedBy ?b } WHERE { ?a d4d:fundedBy ?b }"
DIMMED = "#e4e7eb"


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

    def panel_text(self) -> str:
        return self.page.inner_text("#d4d-panel-body")


def open_map(browser: Any, path: Path) -> Opened:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    opened = Opened(page)
    page.on("request", lambda request: opened.requests.append(request.url))
    page.on("console", lambda message: opened.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    # Belt and braces: nothing but the file itself may load, even if the CSP failed.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(path.as_uri())
    page.wait_for_function("() => window.d4dReady === true", timeout=10_000)
    return opened


@pytest.fixture()
def opened(browser: Any, maps: dict[str, Path]) -> Iterator[Opened]:
    page = open_map(browser, maps["full"])
    yield page
    page.page.close()


def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("D4D_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_opens_offline_and_cleanly(opened: Opened, maps: dict[str, Path]) -> None:
    assert opened.requests == [maps["full"].as_uri()]
    assert opened.errors == []
    assert opened.dialogs == []


def test_draws_every_actor_and_every_tie(opened: Opened) -> None:
    assert opened.counts() == (7, 7)
    # vis-network itself holds them (not just our DataSets), parallel ties included.
    assert opened.js("[d4dMap.network.body.nodeIndices.length, d4dMap.network.body.edgeIndices.length]") == [7, 7]
    rockefeller, pulse = opened.node_id("Rockefeller Foundation"), opened.node_id("UN Global Pulse")
    between = opened.js("([a, b]) => d4dMap.network.getConnectedEdges(a).filter("
                        "(e) => d4dMap.network.getConnectedNodes(e).includes(b)).length", [rockefeller, pulse])
    assert between == 2
    assert opened.page.inner_text("#d4d-summary").startswith("7 actors, 7 ties.")


def test_search_suggests_and_selects(opened: Opened) -> None:
    opened.page.fill("#d4d-search", "glob")
    assert opened.page.locator("#d4d-suggestions li").all_inner_texts()[0].startswith("UN Global Pulse")
    opened.page.press("#d4d-search", "Enter")
    assert opened.page.inner_text("#d4d-panel-body h2") == "UN Global Pulse"
    assert opened.js("d4dMap.network.getSelectedNodes()") == [opened.node_id("UN Global Pulse")]
    opened.page.fill("#d4d-search", "zzz-nobody")
    assert opened.page.locator("#d4d-suggestions li").count() == 0


def test_filters_hide_what_they_should(opened: Opened) -> None:
    def shown_types() -> set[str]:
        return set(opened.js("d4dMap.edges.getIds().map((id) => d4dMap.data.edges[id].type)"))

    page = opened.page
    page.locator('#d4d-types input[data-key="Funding"]').uncheck()
    assert opened.counts() == (7, 4) and "Funding" not in shown_types()
    page.locator('#d4d-sectors input[data-key="philanthropy"]').uncheck()
    shown = set(opened.js("d4dMap.nodes.getIds().map((id) => d4dMap.data.nodes[id].label)"))
    assert shown == {"UN Global Pulse", "DataKind", "Jane Doe", "Data Lab", XSS_LABEL}
    assert opened.counts() == (5, 3)  # the partnership with Rockefeller went with it
    page.locator('#d4d-kinds input[data-key="Person"]').uncheck()
    assert opened.counts() == (4, 2)
    page.click("#d4d-reset")
    assert opened.counts() == (7, 7)
    # The field as it stood in 2013: ties up to 2013 and undated ones; actors founded by then.
    page.locator("#d4d-year").fill("2013")
    page.wait_for_function("() => d4dMap.edges.length === 3")
    assert shown_types() == {"Funding", "Membership"}
    assert opened.counts() == (6, 3)  # the hostile company was founded in 2017
    assert page.inner_text("#d4d-year-value") == "2013"


def test_clicking_an_actor_shows_its_facts_and_quotes(opened: Opened, tmp_path: Path) -> None:
    rockefeller = opened.node_id("Rockefeller Foundation")
    opened.click_node(rockefeller)
    assert opened.page.inner_text("#d4d-panel-body h2") == "Rockefeller Foundation"
    quotes = opened.page.locator("#d4d-panel-body blockquote").all_inner_texts()
    assert QUOTE in quotes and len(quotes) == 3
    link = opened.page.locator("#d4d-panel-body a", has_text="Rockefeller annual report 2012")
    assert link.get_attribute("href") == "https://www.rockefellerfoundation.org/report"
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    # The neighbourhood stays in colour; the rest is dimmed.
    colour = "(id) => d4dMap.nodes.get(id).color.background"
    assert opened.js(colour, opened.node_id("Jane Doe")) == DIMMED
    assert opened.js(colour, opened.node_id("DataKind")) != DIMMED
    shot = artifacts(tmp_path) / "map-selected.png"
    opened.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    # Clicking empty canvas clears the selection.
    box = opened.page.locator("#mynetwork").bounding_box()
    opened.page.mouse.click(box["x"] + 15, box["y"] + 15)
    assert opened.page.inner_text("#d4d-panel-body") == ""
    assert opened.js(colour, opened.node_id("Jane Doe")) != DIMMED


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
    assert "funding" in text and "5,000,000 USD" in text and "Gates granted $5 million." in text


def test_hostile_strings_are_shown_as_text(opened: Opened) -> None:
    page = opened.page
    assert page.inner_text("#d4d-title") == XSS_TITLE
    assert page.title() == XSS_TITLE
    assert page.inner_text("#d4d-query") == QUERY
    hostile = opened.node_id(XSS_LABEL)
    opened.click_node(hostile)
    assert page.inner_text("#d4d-panel-body h2") == XSS_LABEL
    assert XSS_QUOTE in page.locator("#d4d-panel-body blockquote").all_inner_texts()
    assert "<b>bold</b> support" in opened.panel_text()
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
    # A suggestion for it is text as well.
    page.fill("#d4d-search", "<img")
    assert page.locator("#d4d-suggestions li").all_inner_texts()[0].startswith(XSS_LABEL)
    page.wait_for_timeout(200)
    assert opened.dialogs == [] and opened.errors == []


def test_overlays(opened: Opened) -> None:
    page = opened.page
    page.locator('#d4d-overlays input[data-key="recommended"]').check()
    assert opened.counts() == (7, 8)
    recommended = opened.js("d4dMap.edges.get('r0')")
    assert recommended["dashes"] and {recommended["from"], recommended["to"]} == {
        opened.node_id("Bill & Melinda Gates Foundation"), opened.node_id("DataKind")}
    opened.js("(i) => d4dMap.select(i)", opened.node_id("DataKind"))
    assert "Bill & Melinda Gates Foundation: Both fund <i>data</i> for development" in opened.panel_text()
    assert opened.js("d4dMap.edges.get('r0').color.color") == "#8250df"  # the selection's own: not dimmed
    opened.js("d4dMap.clearSelection()")
    page.locator('#d4d-overlays input[data-key="brokers"]').check()
    width = "(id) => d4dMap.nodes.get(id).borderWidth"
    assert opened.js(width, opened.node_id("UN Global Pulse")) == 5
    assert opened.js(width, opened.node_id("Jane Doe")) == 1
    page.locator('#d4d-overlays input[data-key="communities"]').check()
    colour = "(id) => d4dMap.nodes.get(id).color.background"
    # Gates (philanthropy) and the lab (academia) share community 0, so now share a colour.
    assert opened.js(colour, opened.node_id("Bill & Melinda Gates Foundation")) == opened.js(
        colour, opened.node_id("Data Lab"))


def test_grouped_map_opens_by_sector_and_expands(browser: Any, maps: dict[str, Path]) -> None:
    opened = open_map(browser, maps["grouped"])
    try:
        assert opened.counts()[0] == 6
        assert "Click a circle to show its actors" in opened.page.inner_text("#d4d-summary")
        assert "Philanthropy (2)" in opened.js("d4dMap.nodes.get().map((n) => n.label)")
        philanthropy = opened.js("d4dMap.data.nodes.find((n) => n.label === 'Rockefeller Foundation').group")
        opened.click_node(f"g{philanthropy}")
        labels = opened.js("d4dMap.nodes.get().map((n) => n.label)")
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
