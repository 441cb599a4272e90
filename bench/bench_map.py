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
import random
import sys
import time
from pathlib import Path

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


def in_browser(browser, path: Path) -> dict[str, float]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    start = time.perf_counter()
    page.goto(path.resolve().as_uri())
    page.wait_for_function("() => window.d4dReady === true", timeout=300_000, polling=50)
    wall = time.perf_counter() - start
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
    # On a grouped map: click-to-open of the largest group, until it is drawn.
    expand = page.evaluate("""async () => {
        const map = window.d4dMap;
        if (!map.meta.aggregated) return null;
        const sizes = map.meta.groups.map((g) => map.data.nodes.filter((n) => n.group === g.id).length);
        const largest = sizes.indexOf(Math.max(...sizes));
        const done = new Promise((resolve) => map.network.once('afterDrawing', resolve));
        const t = performance.now();
        map.expand(largest);
        map.network.redraw();
        await done;
        return performance.now() - t;
    }""")
    page.close()
    if errors:
        raise RuntimeError(f"{path}: errors in the page: {errors[:3]}")
    return {"first_drawing_s": first / 1000, "wall_s": wall, "heap_mb": heap / 2**20,
            "zoom_ms": zoom, "pan_ms": pan, "expand_ms": expand, "nodes_drawn": shown[0], "edges_drawn": shown[1]}


def _median(values: list):  # type: ignore[no-untyped-def]
    if any(v is None for v in values):
        return None
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS-map.md"))
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="Open each map this many times; report medians.")
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
            m = G.number_of_edges()
            baseline = None if args.no_baseline else pyvis_naive(G, out_dir / f"pyvis-naive-{n}.html")
            for mode, max_nodes in (("default", MAX_NODES), ("all drawn", n + 1)):
                if mode == "all drawn" and n <= MAX_NODES:
                    continue
                path = out_dir / f"map-{n}-{'default' if mode == 'default' else 'all'}.html"
                start = time.perf_counter()
                write_map(G, path, title=f"Synthetic ecosystem of {n:,} actors", max_nodes=max_nodes)
                write = time.perf_counter() - start
                runs = [in_browser(browser, path) for _ in range(args.repeat)]
                browser_figures = {key: _median([run[key] for run in runs]) for key in runs[0]}
                row = {"n": n, "m": m, "mode": mode if n > MAX_NODES else "all drawn", "write_s": write,
                       "size_mb": path.stat().st_size / 2**20, "baseline_s": baseline, **browser_figures}
                rows.append(row)
                print(row, flush=True)
        browser.close()

    lines = [
        "# Map benchmark",
        "",
        "`bench/bench_map.py`: synthetic sector-clustered ecosystems (~1.5 ties per actor, one fact with a",
        f"quote per tie). `default` opens grouped above {MAX_NODES:,} actors; `all drawn` draws every actor.",
        "Write = layout + HTML + atomic write. pyvis baseline = `add_node`/`add_edge` per item + `write_html`",
        "(no layout, no panel data), measured in the same run. First drawing = navigation start to",
        "vis-network's first `afterDrawing` in headless Chromium (`--disable-gpu`, software rendering);",
        "heap = CDP `JSHeapUsedSize` then; zoom/pan = one redraw after `moveTo`; open largest group = `expand`",
        "until drawn. Browser figures are medians of several openings (the machine is shared: expect noise).",
        "",
        "| actors | ties | opens | write (s) | pyvis naive (s) | speed-up | file (MB) | first drawing (s) | heap (MB) | zoom redraw (ms) | pan redraw (ms) | open largest group (ms) | nodes / edges drawn |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        base = f"{r['baseline_s']:.2f}" if r["baseline_s"] is not None else "-"
        ratio = f"{r['baseline_s'] / r['write_s']:.1f}x" if r["baseline_s"] is not None else "-"
        lines.append(f"| {r['n']:,} | {r['m']:,} | {r['mode']} | {r['write_s']:.2f} | {base} | {ratio} | {r['size_mb']:.1f} | "
                     f"{r['first_drawing_s']:.2f} | {r['heap_mb']:.0f} | {r['zoom_ms']:.0f} | {r['pan_ms']:.0f} | "
                     f"{'-' if r['expand_ms'] is None else format(r['expand_ms'], '.0f')} | "
                     f"{r['nodes_drawn']:,} / {r['edges_drawn']:,} |")
    lines += ["", f"Machine: {os.cpu_count()} cores; 1-minute load average {load_before:.1f} at the start of the run, "
              f"{os.getloadavg()[0]:.1f} at the end (above the core count, other work was competing: times inflate)."]
    five = {r["mode"]: r for r in rows if r["n"] == 5000}
    if five:
        worst = max(r["first_drawing_s"] for r in five.values())
        lines += ["", "Target, a 5,000-actor map usable within 3 s of opening: first drawing "
                  + ", ".join(f"{r['first_drawing_s']:.2f} s ({mode})" for mode, r in five.items())
                  + (": met." if worst < 3 else ": NOT met.")]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
