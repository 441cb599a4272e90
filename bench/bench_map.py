"""Benchmark of the map renderer: write time, file size, time to first drawing and memory in Chromium.

For synthetic ecosystems of 1k, 5k and 20k actors (about 1.5 ties per actor, eight sectors, a
fact with a quote per tie), it measures

- the time to lay out and write the map with :func:`d4d.maps.write_map`, as it opens by default
  (grouped above ``MAX_NODES`` actors) and with every actor drawn (``max_nodes`` above the size);
- as the baseline in the same run, pyvis's own path: ``Network.add_node``/``add_edge`` per actor
  and tie, then ``write_html`` (no layout, no side-panel data);
- in headless Chromium: time from navigation to vis-network's first complete drawing, the JS heap
  then (CDP ``Performance.getMetrics``), and the time of one redraw after a zoom and after a pan
  (what "usable" means: the map answers a gesture).

Run: ``/work/venv/bin/python bench/bench_map.py [--sizes 1000,5000,20000] [--out bench/RESULTS-map.md]``.
Maps are written under ``bench/out/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "tests"))

from map_fixtures import synthetic, synthetic_metrics  # noqa: E402

from d4d.maps import MAX_NODES, write_map  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def pyvis_naive(G: nx.MultiDiGraph, path: Path) -> float:
    """pyvis's documented path: add_node / add_edge one by one, then write_html."""
    from pyvis.network import Network

    start = time.perf_counter()
    net = Network(directed=True, cdn_resources="in_line")
    for node, data in G.nodes(data=True):
        net.add_node(node, label=data["label"], color=G.graph["sectors"][data["sector"]]["color"])
    for u, v, data in G.edges(data=True):
        net.add_edge(u, v, color=G.graph["edge_types"][data["type"]]["color"])
    net.write_html(str(path))
    return time.perf_counter() - start


WHERE = """(id) => { const net = d4dMap.network; const p = net.canvasToDOM(net.getPosition(id));
    const box = document.getElementById('mynetwork').getBoundingClientRect(); return [box.left + p.x, box.top + p.y]; }"""
CLICK = """async (i) => {
    const net = window.d4dMap.network;
    net.focus(i, {scale: 1, animation: false});
    await new Promise((resolve) => { net.once('afterDrawing', resolve); net.redraw(); });
    const p = net.canvasToDOM(net.getPosition(i));
    const box = document.getElementById('mynetwork').getBoundingClientRect();
    return [box.left + p.x, box.top + p.y];
}"""


def in_browser(browser: Any, path: Path) -> dict[str, Any]:
    """Open a d4d map; time its first drawing and a click on its most central actor answered."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    start = time.perf_counter()
    page.goto(path.resolve().as_uri())
    page.wait_for_function("() => window.d4dReady === true", timeout=300_000, polling=50)
    ready = time.perf_counter() - start
    first = page.evaluate("window.d4dTimings.firstDrawing")
    heap = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}["JSHeapUsedSize"]
    redraw = """async (move) => {
        const net = window.d4dMap.network;
        const done = new Promise((resolve) => net.once('afterDrawing', resolve));
        const t = performance.now();
        if (move === 'zoom') net.moveTo({scale: net.getScale() * 1.5});
        else net.moveTo({position: {x: net.getViewPosition().x + 200, y: net.getViewPosition().y}});
        await done;
        return performance.now() - t;
    }"""
    zoom = page.evaluate(redraw, "zoom")
    pan = page.evaluate(redraw, "pan")
    shown = page.evaluate("[window.d4dMap.nodes.length, window.d4dMap.edges.length]")
    labels = page.evaluate("window.d4dMap.labels().length")
    # The first click answered: on a grouped map, a click on the group of the most central actor
    # until its actors are drawn; then (on every map) a click on that actor until its panel shows.
    top = page.evaluate("d4dMap.data.nodes.reduce((a, n) => (n.rank < a.rank ? n : a)).id")
    group_ms = None
    if page.evaluate("d4dMap.meta.aggregated"):
        # Back to the whole map (the zoom and pan above moved it), as it opened.
        page.evaluate("() => new Promise((r) => { d4dMap.network.once('afterDrawing', r); "
                      "document.getElementById('d4d-fit').click(); d4dMap.network.redraw(); })")
        group = page.evaluate("(i) => 'g' + d4dMap.data.nodes[i].group", top)
        x, y = page.evaluate(WHERE, group)
        clicked = time.perf_counter()
        page.mouse.click(x, y)
        page.wait_for_function("(i) => d4dMap.nodes.get(i) !== null", arg=top, timeout=60_000, polling=10)
        page.evaluate("() => new Promise((r) => { d4dMap.network.once('afterDrawing', r); d4dMap.network.redraw(); })")
        group_ms = (time.perf_counter() - clicked) * 1000
    x, y = page.evaluate(CLICK, top)
    label = page.evaluate("(i) => d4dMap.data.nodes[i].label", top)
    clicked = time.perf_counter()
    page.mouse.click(x, y)
    page.wait_for_function("(l) => document.querySelector('#d4d-panel-body h2')?.textContent === l",
                           arg=label, timeout=60_000, polling=10)
    page.evaluate("() => new Promise((r) => { d4dMap.network.once('afterDrawing', r); d4dMap.network.redraw(); })")
    click = time.perf_counter() - clicked
    page.close()
    if errors:
        raise RuntimeError(f"{path}: errors in the page: {errors[:3]}")
    first_click_ms = group_ms if group_ms is not None else click * 1000
    return {"first_drawing_s": first / 1000, "ready_s": ready, "group_ms": group_ms, "click_ms": click * 1000,
            "answered_s": ready + first_click_ms / 1000, "heap_mb": heap / 2**20, "zoom_ms": zoom, "pan_ms": pan,
            "nodes_drawn": shown[0], "edges_drawn": shown[1], "labels": labels}


def pyvis_in_browser(browser: Any, path: Path, node: str, *, cap: float) -> tuple[float | None, str]:
    """Seconds from navigation until a click on ``node`` in pyvis's own page selects it, or
    ``None`` if it has not within ``cap`` seconds, with the progress its loading bar showed then.

    pyvis's page runs vis-network's physics until stable under a loading bar that takes the
    clicks; clicks are tried every 2 s at the node's current place. Its CDN links (Bootstrap)
    are refused: nothing here leaves the machine."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    start = time.perf_counter()
    try:
        page.goto(path.resolve().as_uri(), wait_until="domcontentloaded", timeout=cap * 1000)
    except PlaywrightTimeout:
        page.close()
        return None, "page not loaded"
    where = """(id) => { if (typeof network === 'undefined' || !network) return null;
        const p = network.canvasToDOM(network.getPosition(id));
        const box = document.getElementById('mynetwork').getBoundingClientRect();
        return [box.left + p.x, box.top + p.y]; }"""
    answered = None
    progress = ""
    while time.perf_counter() - start < cap:
        spot = page.evaluate(where, node)
        if spot is not None:
            page.mouse.click(*spot)
            if page.evaluate("(id) => network.getSelectedNodes().includes(id)", node):
                answered = time.perf_counter() - start
                break
        progress = "physics " + page.evaluate("() => (document.getElementById('text') || {}).innerHTML || ''")
        page.wait_for_timeout(2000)
    page.close()
    return answered, progress


def _median(values: list[Any]) -> Any:
    if any(v is None for v in values):
        return None
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS-map.md"))
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="Open each map this many times; report medians.")
    parser.add_argument("--pyvis-cap", type=float, default=180.0,
                        help="Give up on pyvis's page after this many seconds without an answer.")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    rows = []
    load_before = os.getloadavg()[0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        for n in sizes:
            G = synthetic(n)
            metrics = synthetic_metrics(G)
            m = G.number_of_edges()
            baseline = pyvis_answer = None
            if not args.no_baseline:
                pyvis_path = out_dir / f"pyvis-{n}.html"
                baseline = pyvis_naive(G, pyvis_path)
                hub = max(sorted(G), key=G.degree)
                # Once: pyvis's page takes minutes to settle at these sizes.
                pyvis_answer = pyvis_in_browser(browser, pyvis_path, hub, cap=args.pyvis_cap)
            for mode, max_nodes in (("default", MAX_NODES), ("all drawn", n)):
                if mode == "all drawn" and n <= MAX_NODES:
                    continue
                path = out_dir / f"map-{n}-{'default' if mode == 'default' else 'all'}.html"
                start = time.perf_counter()
                write_map(G, path, title=f"Synthetic ecosystem of {n:,} actors", max_nodes=max_nodes, metrics=metrics)
                write = time.perf_counter() - start
                runs = [in_browser(browser, path) for _ in range(args.repeat)]
                browser_figures = {key: _median([run[key] for run in runs]) for key in runs[0]}
                row = {"n": n, "m": m, "mode": mode if n > MAX_NODES else "all drawn", "write_s": write,
                       "size_mb": path.stat().st_size / 2**20, "baseline_s": baseline, "pyvis_answer_s": pyvis_answer,
                       **browser_figures}
                rows.append(row)
                print(row, flush=True)
        browser.close()

    lines = [
        "# Map benchmark",
        "",
        "`bench/bench_map.py`: synthetic sector-clustered ecosystems (~1.5 ties per actor, one fact with a",
        "quote per tie; communities by seeded Louvain, as the analysis gives them). `default` opens",
        f"grouped above {MAX_NODES:,} actors; `all drawn` draws every actor (backbone ties, labels placed).",
        "Write = layout + HTML + atomic write. pyvis = its own output (`add_node`/`add_edge`, `write_html`:",
        "physics on, no layout, no panel), written and opened (once) in the same run.",
        "In headless Chromium (`--disable-gpu`, software rendering): ready = navigation to the first",
        "drawing of the view with its labels; group = a real mouse click on the circle holding the most",
        "central actor until its actors are drawn (grouped maps); actor = a click on that actor until",
        "its panel shows and the map is redrawn; answered = ready + the first click (the group's on a",
        "grouped map), the time until a freshly opened map answers a click. For pyvis's page: navigation until a",
        "click on the same actor selects it (tried every 2 s while its physics settles under its",
        "loading bar, which takes the clicks), given up after `--pyvis-cap` seconds.",
        "Medians of several openings (the machine is shared: expect noise).",
        "",
        "| actors | ties | opens | write (s) | pyvis write (s) | file (MB) | ready (s) | group (ms) | actor (ms) | answered (s) | pyvis answered (s) | heap (MB) | zoom redraw (ms) | pan redraw (ms) | labels | nodes / lines drawn |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        base = f"{r['baseline_s']:.2f}" if r["baseline_s"] is not None else "-"
        answer = "-"
        if r["pyvis_answer_s"] is not None:
            seconds, progress = r["pyvis_answer_s"]
            answer = f"{seconds:.1f}" if seconds is not None else f"none in {args.pyvis_cap:.0f} s ({progress})"
        lines.append(f"| {r['n']:,} | {r['m']:,} | {r['mode']} | {r['write_s']:.2f} | {base} | {r['size_mb']:.1f} | "
                     f"{r['ready_s']:.2f} | {'-' if r['group_ms'] is None else format(r['group_ms'], '.0f')} | "
                     f"{r['click_ms']:.0f} | {r['answered_s']:.2f} | {answer} | {r['heap_mb']:.0f} | "
                     f"{r['zoom_ms']:.0f} | {r['pan_ms']:.0f} | {r['labels']} | {r['nodes_drawn']:,} / {r['edges_drawn']:,} |")
    lines += ["", f"Machine: {os.cpu_count()} cores; 1-minute load average {load_before:.1f} at the start of the run, "
              f"{os.getloadavg()[0]:.1f} at the end (above the core count, other work was competing: times inflate)."]
    five = {r["mode"]: r for r in rows if r["n"] == 5000}
    if five:
        worst = max(r["answered_s"] for r in five.values())
        lines += ["", "Goal, a 5,000-actor map answers a click within 2 s of opening: "
                  + ", ".join(f"{r['answered_s']:.2f} s ({mode})" for mode, r in five.items())
                  + (": met." if worst < 2 else ": NOT met.")]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
