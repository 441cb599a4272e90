"""The query editor in headless Chromium against a real endpoint of the seed build: a catalogue query
opens as written with a form for its parameters, share links reopen the query with its values, and a
query with no PREFIX line runs. Nothing the page asks for may leave the server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from d4d.serve import ServeOptions, SparqlServer, make_server
from d4d.sparql import load_catalogue, run_query

pytestmark = [pytest.mark.server, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(seed_build: Path) -> Iterator[SparqlServer]:
    srv = make_server(seed_build / "store", port=0, quiet=True, catalogue=load_catalogue(),
                      options=ServeOptions(workers=1))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser: Any, server: SparqlServer, outside: list[str], errors: list[str]) -> Any:
    page = browser.new_page()

    def guard(route: Any, request: Any) -> None:
        if request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    page.route("**/*", guard)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def _cells(page: Any, column: int) -> list[str]:
    page.wait_for_selector(".yasr table tbody tr", timeout=20000)
    return [cell.inner_text().strip() for cell in page.query_selector_all(f".yasr table tbody tr td:nth-child({column})")]


def test_a_catalogue_query_opens_with_a_form_and_its_share_link_reopens_it(
        browser: Any, server: SparqlServer, seed_store: Any) -> None:
    outside: list[str] = []
    errors: list[str] = []
    catalogue = load_catalogue()
    expected = sorted(row["otherName"] or "" for row in run_query(
        catalogue["neighbours"], store=seed_store, params={"actor": "d4did:datakind"}).values())
    assert "Jake Porway" in expected

    page = _page(browser, server, outside, errors)
    page.goto(server.url)
    page.wait_for_selector(".CodeMirror")
    page.wait_for_selector(f"body[data-catalogue-loaded='{len(catalogue)}']")
    page.select_option("#examples", "neighbours")
    # the query as written: no value pasted in, the parameter in a form
    assert page.evaluate("window.d4dYasgui.getTab().getQuery()") == catalogue["neighbours"].text
    field = page.wait_for_selector("#params input[data-param='actor']")
    assert field.get_attribute("placeholder") == "d4did:data-pop-alliance"
    field.fill("datakind")
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table td:has-text('Jake Porway')", timeout=20000)
    # YASR's table shows (# and) the columns relationship, direction, other, otherName, fact
    assert sorted(_cells(page, 5)) == expected

    page.click("#share")
    link = page.input_value("#share-link")
    assert link.startswith(server.url + "#")
    assert "%24actor=datakind" in link or "$actor=datakind" in link

    reopened = _page(browser, server, outside, errors)
    reopened.goto(link)
    reopened.wait_for_selector(f"body[data-catalogue-loaded='{len(catalogue)}']")
    assert reopened.evaluate("window.d4dYasgui.getTab().getQuery()") == catalogue["neighbours"].text
    assert reopened.input_value("#params input[data-param='actor']") == "datakind"
    assert reopened.input_value("#examples") == "neighbours"
    reopened.click(".yasqe_queryButton")
    reopened.wait_for_selector(".yasr table td:has-text('Jake Porway')", timeout=20000)
    assert sorted(_cells(reopened, 5)) == expected
    assert errors == [] and outside == [], (errors, outside)


def test_a_query_without_prefix_lines_runs_in_the_editor(browser: Any, server: SparqlServer) -> None:
    outside: list[str] = []
    errors: list[str] = []
    page = _page(browser, server, outside, errors)
    page.goto(server.url)
    page.wait_for_selector("body[data-catalogue-loaded]")
    page.evaluate("() => { window.d4dYasgui.getTab().setQuery('SELECT ?s WHERE { ?s a d4d:Foundation } ORDER BY ?s'); }")
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table td:has-text('rockefeller')", timeout=20000)
    # the predeclared prefixes shorten the IRIs, as in the CLI
    assert _cells(page, 2) == ["d4did:mastercard-center-for-inclusive-growth", "d4did:rockefeller-foundation"]
    assert errors == [] and outside == [], (errors, outside)


def test_a_page_on_another_origin_may_query_the_endpoint(browser: Any, server: SparqlServer, tmp_path: Path) -> None:
    """Chromium sends a CORS preflight for a POST of application/sparql-query from another origin;
    the answer lets the page read the results."""
    import functools
    import http.server

    (tmp_path / "index.html").write_text("<!doctype html><title>elsewhere</title>", encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{other.server_address[1]}/index.html")
        answer = page.evaluate("""async (endpoint) => {
            const response = await fetch(endpoint, {method: "POST", body: "ASK { d4did:datakind a d4d:NGO }",
              headers: {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}});
            return await response.json();
        }""", server.url + "sparql")
        assert answer == {"head": {}, "boolean": True}
    finally:
        other.shutdown()
        other.server_close()
