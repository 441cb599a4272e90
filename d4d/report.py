"""The fragmentation report: one self-contained HTML page rendered from the metrics dict.

:func:`render_report` turns the dict :func:`d4d.analyse.analyse` returns into HTML with inline SVG
charts (no scripts, no external resources): the headline figures, the sector mixing heat map, the
E-I index by sector, the top brokers, the most critical actors, the recommended ties, the
communities and the series over time, each figure with one sentence on what it shows.  Every
piece of text that comes from the data is HTML-escaped.  :func:`write_report` writes the page
atomically.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from d4d.analyse.claims import quantity
from d4d.io import write_text_atomic

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_FALLBACK = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
             "#ff9da7", "#9c755f", "#bab0ac")

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
.meta { color: #666; font-size: .9rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: .7rem; }
.card { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: .7rem .8rem; }
.card .value { font-size: 1.45rem; font-weight: 600; }
.card .label { font-size: .82rem; color: #555; }
.explain { color: #333; font-size: .95rem; max-width: 850px; }
figure { margin: 1rem 0; background: #fff; border: 1px solid #e3e3e3; border-radius: 6px;
         padding: .8rem; overflow-x: auto; }
figcaption { font-size: .92rem; color: #333; margin-top: .4rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; background: #fff; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f2f2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px;
          margin-right: .35em; vertical-align: -.05em; }
ol.recs li { margin-bottom: .7rem; }
.small { font-size: .85rem; color: #555; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float | int | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _color(metrics: dict[str, Any], slug: str | None, index: int = 0) -> str:
    info = (metrics.get("network", {}).get("sectors", {}) or {}).get(slug or "") or {}
    color = info.get("color")
    return color if isinstance(color, str) and _HEX.match(color) else _FALLBACK[index % len(_FALLBACK)]


def _sector_label(metrics: dict[str, Any], slug: str | None) -> str:
    if slug is None:
        return "no sector"
    info = (metrics.get("network", {}).get("sectors", {}) or {}).get(slug) or {}
    return str(info.get("label") or slug)


def _shares_text(metrics: dict[str, Any], shares: dict[str, float] | None) -> str:
    if not shares:
        return "no sector"
    if len(shares) == 1:
        return _sector_label(metrics, next(iter(shares)))
    return ", ".join(f"{_sector_label(metrics, g)} {w:.0%}" for g, w in shares.items())


def _shares_cell(metrics: dict[str, Any], shares: dict[str, float] | None) -> str:
    if not shares:
        return "no sector"
    return "<br>".join(f'<span class="swatch" style="background:{_color(metrics, g)}"></span>'
                       f"{_e(_sector_label(metrics, g))}" + (f" {w:.0%}" if len(shares) > 1 else "")
                       for g, w in shares.items())


def _short(text: str, limit: int = 26) -> str:
    """``text`` cut to ``limit`` characters for a chart label (the full text goes in a tooltip)."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img"><title>{_e(title)}</title>{body}</svg>')


def _mix(color: str, share: float) -> str:
    """``color`` blended with white: share 0 gives white, 1 the colour."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    share = max(0.0, min(1.0, share))
    return "#" + "".join(f"{round(255 - (255 - c) * share):02x}" for c in (r, g, b))


def heatmap_svg(metrics: dict[str, Any]) -> str:
    """The sector mixing matrix as a heat map: cell shade = tie density between the two sectors
    (ties over possible pairs), the number = ties."""
    mixing = metrics["sectors"]["mixing"]
    slugs: list[str] = mixing["sectors"]
    k = len(slugs)
    if k == 0:
        return "<p>No actor has a sector.</p>"
    cell, left, top = 54, 190, 150
    dens = [d for row in mixing["density"] for d in row if d is not None]
    peak = max(dens) if dens else 0.0
    parts = []
    for i, slug in enumerate(slugs):
        label = _e(_short(_sector_label(metrics, slug)))
        y = top + i * cell + cell / 2 + 4
        parts.append(f'<text x="{left - 8}" y="{y:.0f}" text-anchor="end" font-size="12">{label}</text>')
        x = left + i * cell + cell / 2
        parts.append(f'<text transform="translate({x:.0f},{top - 8}) rotate(-45)" font-size="12">'
                     f'{label}</text>')
    for i in range(k):
        for j in range(k):
            d = mixing["density"][i][j]
            ties = mixing["ties"][i][j]
            share = (d / peak) if (d is not None and peak) else 0.0
            fill = _mix("#08519c", share) if d is not None else "#eeeeee"
            x, y = left + j * cell, top + i * cell
            ink = "#ffffff" if share > 0.55 else "#222222"
            density = "no pair possible" if d is None else f"density {d:.3f}"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}">'
                f'<title>{_e(_sector_label(metrics, slugs[i]))} - '
                f'{_e(_sector_label(metrics, slugs[j]))}: {ties:.3g} ties, {density}</title></rect>'
                f'<text x="{x + cell / 2 - 1:.0f}" y="{y + cell / 2 + 4:.0f}" text-anchor="middle" '
                f'font-size="12" fill="{ink}">{ties:.3g}</text>')
    return _svg(left + k * cell + 20, top + k * cell + 20, "Sector mixing matrix", "".join(parts))


def ei_bars_svg(metrics: dict[str, Any]) -> str:
    """E-I index of each sector as a bar from 0 towards -1 (inward) or +1 (outward), with a
    tick at the value expected from the sector's size."""
    rows = sorted(((slug, e) for slug, e in metrics["sectors"]["ei"]["by_sector"].items()
                   if e["value"] is not None), key=lambda kv: (kv[1]["value"], kv[0]))
    if not rows:
        return "<p>No sector has ties to count.</p>"
    width, left, bar, gap = 780, 200, 20, 10
    plot = width - left - 70
    zero = left + plot / 2
    height = 40 + len(rows) * (bar + gap)
    parts = [f'<line x1="{zero:.0f}" y1="20" x2="{zero:.0f}" y2="{height - 10}" stroke="#999"/>']
    for value, label in ((-1, "-1 inward"), (0, "0"), (1, "+1 outward")):
        x = zero + value * plot / 2
        parts.append(f'<text x="{x:.0f}" y="14" text-anchor="middle" font-size="11" fill="#555">'
                     f'{label}</text>')
    for i, (slug, entry) in enumerate(rows):
        y = 25 + i * (bar + gap)
        v = float(entry["value"])
        x0, x1 = sorted((zero, zero + v * plot / 2))
        color = _color(metrics, slug, i)
        name = _e(_sector_label(metrics, slug))
        parts.append(f'<text x="{left - 8}" y="{y + bar - 5}" text-anchor="end" font-size="12">'
                     f'{_e(_short(_sector_label(metrics, slug)))}<title>{name}</title></text>')
        parts.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{bar}" '
                     f'fill="{color}"><title>{name}: E-I {v:.3f} ({entry["external"]:.3g} ties out, '
                     f'{entry["internal"]:.3g} in)</title></rect>')
        if entry.get("expected") is not None:
            xe = zero + float(entry["expected"]) * plot / 2
            parts.append(f'<line x1="{xe:.1f}" y1="{y - 2}" x2="{xe:.1f}" y2="{y + bar + 2}" '
                         f'stroke="#000" stroke-width="2" stroke-dasharray="3,2">'
                         f'<title>expected {float(entry["expected"]):.3f}</title></line>')
        # the value sits right of the bar's outer end (or of the axis for inward bars), and right
        # of the expected tick when that reaches further, so the two never overlap
        tx = x1 + 4
        if entry.get("expected") is not None:
            tx = max(tx, zero + float(entry["expected"]) * plot / 2 + 5)
        parts.append(f'<text x="{tx:.1f}" y="{y + bar - 5}" font-size="11">{v:+.2f}</text>')
    return _svg(width, height, "E-I index by sector", "".join(parts))


def bars_svg(labels: Sequence[str], values: Sequence[float], shares: Sequence[dict[str, float]],
             metrics: dict[str, Any], *, title: str, digits: int = 3) -> str:
    """A horizontal bar chart (labels escaped here), each bar split into its actor's sector
    shares, in the sectors' colours."""
    if not values:
        return "<p>Nothing to show.</p>"
    width, left, bar, gap = 760, 260, 16, 6
    plot = width - left - 80
    peak = max(max(values), 1e-12)
    height = 10 + len(values) * (bar + gap)
    parts = []
    for i, (label, value, share) in enumerate(zip(labels, values, shares)):
        y = 5 + i * (bar + gap)
        w = max(plot * value / peak, 1)
        text = f"{value:.{digits}g}"
        parts.append(f'<text x="{left - 8}" y="{y + bar - 3}" text-anchor="end" font-size="12">'
                     f'{_e(_short(label, 34))}<title>{_e(label)}</title></text>')
        x = float(left)
        for g, part in (share or {"": 1.0}).items():
            color = _color(metrics, g) if g else "#999999"
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w * part:.1f}" height="{bar}" fill="{color}">'
                         f'<title>{_e(label)}: {text} ({_e(_shares_text(metrics, share))})</title></rect>')
            x += w * part
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 3}" font-size="11">{text}</text>')
    return _svg(width, height, title, "".join(parts))


def line_svg(years: Sequence[int], values: Sequence[float | None], *, title: str,
             color: str = "#08519c", fixed: tuple[float, float] | None = None) -> str:
    """A small line chart of one series (gaps where a value is undefined)."""
    width, height, left, right, top, bottom = 340, 190, 46, 12, 26, 28
    points = [(y, v) for y, v in zip(years, values) if v is not None]
    parts = [f'<text x="{left}" y="16" font-size="13" font-weight="600">{_e(title)}</text>']
    if not points:
        parts.append(f'<text x="{left}" y="{height / 2:.0f}" font-size="12">no values</text>')
        return _svg(width, height, title, "".join(parts))
    lo, hi = fixed if fixed else (min(v for _, v in points), max(v for _, v in points))
    if hi - lo < 1e-12:
        lo, hi = lo - 1, hi + 1
    y0, y1 = min(years), max(years)
    span = max(y1 - y0, 1)

    def px(year: float) -> float:
        return left + (year - y0) / span * (width - left - right)

    def py(value: float) -> float:
        return top + (hi - value) / (hi - lo) * (height - top - bottom)

    parts.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" '
                 f'y2="{height - bottom}" stroke="#bbb"/>')
    for value in (lo, hi):
        parts.append(f'<text x="{left - 4}" y="{py(value) + 4:.1f}" text-anchor="end" '
                     f'font-size="10" fill="#555">{_num(value, 2)}</text>')
    for year in sorted({y0, y1}):
        parts.append(f'<text x="{px(year):.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                     f'font-size="10" fill="#555">{year}</text>')
    path, pen = [], "M"
    for year, maybe in zip(years, values):
        if maybe is None:
            pen = "M"
            continue
        path.append(f"{pen}{px(year):.1f},{py(maybe):.1f}")
        pen = "L"
    parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="2"/>')
    for year, value in points:
        parts.append(f'<circle cx="{px(year):.1f}" cy="{py(value):.1f}" r="2.5" fill="{color}">'
                     f'<title>{year}: {_num(value, 3)}</title></circle>')
    return _svg(width, height, title, "".join(parts))


def _cards(metrics: dict[str, Any]) -> str:
    s = metrics["summary"]
    eff = metrics["connectivity"]["efficiency"]
    eff_note = "" if eff["exact"] else f" (±{eff['error_bound']:.3f})"
    cards = [
        ("actors", _num(s["actors"]), f"{_num(s['organizations'])} organisations, {_num(s['people'])} people"),
        ("relationships", _num(s["relationships"]), f"{_num(s['ties'])} distinct ties"),
        ("components", _num(s["weak_components"]), f"largest holds {_pct(s['largest_component_share'])}"),
        ("global efficiency", _num(s["efficiency"]) + eff_note, "1 = everyone tied to everyone"),
        ("E-I index", _num(s["ei_index"], 2), f"{_num(s['ei_expected'], 2)} if ties were random"),
        ("sector modularity", _num(s["sector_modularity"], 2), "high = sectors keep to themselves"),
        ("sector assortativity", _num(s["assortativity"], 2), "1 = ties only within sectors"),
        ("communities", _num(s["communities"]), f"NMI with sectors {_num(s['community_sector_nmi'], 2)}"),
        ("articulation points", _num(s["articulation_points"]), "actors whose loss splits the field"),
        ("bridges", _num(s["bridges"]), "ties whose loss splits the field"),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="value">{_e(v)}</div><div class="label">{_e(k)}</div>'
        f'<div class="small">{_e(note)}</div></div>' for k, v, note in cards) + "</div>"


MEASURES = (
    ("tie", "two actors joined by at least one relationship of any kind, in either direction."),
    ("sector share", "an actor with several sectors belongs to each with an equal share, and a "
                     "person takes the mean share of the actors its relationships lead to; a tie "
                     "counts between two sectors by the product of its ends' shares, so counts "
                     "of ties between sectors can be fractional."),
    ("density", "the ties between two sectors divided by the pairs of their actors that could be "
                "tied."),
    ("E-I index", "(ties across sectors - ties within) / all ties, from -1 (all inward) to +1 (all "
                  "outward), shown beside the value random ties would give for the same sectors."),
    ("sector modularity", "how much more the ties keep within sectors than random ties with the "
                          "same degrees would (0: as random; negative: fewer than random)."),
    ("assortativity", "Newman's coefficient: 1 when ties stay within sectors, 0 as random."),
    ("global efficiency", "the mean of 1 / (steps between two actors) over all pairs (0 for "
                          "pairs with no path): 1 means everyone is tied to everyone."),
    ("betweenness", "the share of shortest paths between other actors that run through an actor."),
    ("broker", "an actor in the top decile of betweenness that passes something on between two "
               "actors not tied to each other (a Gould-Fernandez two-path a -> broker -> b)."),
    ("Gould-Fernandez role", "for the directed two-paths an actor brokers, whether it coordinates "
                             "within its sector, represents it, guards its door, consults for "
                             "another sector or links three."),
    ("constraint, effective size", "Burt's measures of how far an actor's contacts are tied to "
                                   "each other (low constraint, high effective size: it spans "
                                   "structural holes)."),
)


def _headline_sentence(metrics: dict[str, Any]) -> str:
    s = metrics["summary"]
    if s["ei_index"] is None:
        return "There are no ties between actors with a sector, so the sector measures are undefined."
    direction = ("more inward, within sectors," if s["ei_index"] < (s["ei_expected"] or 0)
                 else "more outward, across sectors,")
    return (f"Of the {_num(s['ties'])} ties, the E-I index of {s['ei_index']:+.2f} against "
            f"{(s['ei_expected'] or 0):+.2f} for random ties between the same actors says the "
            f"field leans {direction} than chance; the largest connected part holds "
            f"{_pct(s['largest_component_share'])} of the {_num(s['actors'])} actors, in "
            f"{_num(s['weak_components'])} parts.")


def cut_off_pairs(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Every pair of sectors with its ties, possible pairs and density, the most cut off first:
    lowest density first, and among equal densities the most possible pairs first."""
    mixing = metrics["sectors"]["mixing"]
    slugs = mixing["sectors"]
    out = []
    for g in range(len(slugs)):
        for h in range(g + 1, len(slugs)):
            d = mixing["density"][g][h]
            if d is None:
                continue
            ties = mixing["ties"][g][h]
            out.append({"sectors": (slugs[g], slugs[h]), "ties": ties, "density": d,
                        "possible": ties / d if d else mixing["actors"][g] * mixing["actors"][h]})
    out.sort(key=lambda p: (p["density"], -p["possible"], p["sectors"]))
    return out


def _findings(metrics: dict[str, Any]) -> list[str]:
    s = metrics["summary"]
    out = ['<h2 id="findings">Findings</h2>', f'<p class="explain">{_e(_headline_sentence(metrics))}</p>']
    pairs = cut_off_pairs(metrics)
    density = metrics["sectors"]["mixing"].get("field_density") or 0.0
    if pairs:
        none = [p for p in pairs if p["ties"] < 1e-9]
        items = []
        for p in pairs[:5]:
            a, b = (_sector_label(metrics, x) for x in p["sectors"])
            others = [x for x in metrics["sectors"]["mixing"]["sectors"] if x not in p["sectors"]]
            items.append(f"<li><strong>{_e(a)} \u2013 {_e(b)}</strong>: {quantity(p['ties'])} ties of "
                         f"{quantity(p['possible'])} possible pairs (density {p['density']:.3g}, "
                         f"against {density:.3g} for the whole field; "
                         f"{_map_link('the two sectors on the map', hide_sectors=others)})</li>")
        out.append('<p class="explain">The sectors most cut off from each other (fewest ties for the '
                   f'pairs their actors could form; {len(none)} of {len(pairs)} pairs of sectors '
                   'have no tie at all):</p><ul>' + "".join(items) + "</ul>")
    by_sector = metrics["sectors"]["ei"]["by_sector"]
    closed = sorted(((slug, e) for slug, e in by_sector.items()
                     if e["value"] is not None and e["expected"] is not None),
                    key=lambda kv: kv[1]["value"] - kv[1]["expected"])
    if closed:
        slug, e = closed[0]
        out.append(f'<p class="explain">The sector most turned in on itself, against what its size '
                   f'would give, is <strong>{_e(_sector_label(metrics, slug))}</strong>: E-I '
                   f'{e["value"]:+.2f} against {e["expected"]:+.2f} expected '
                   f'({quantity(e["internal"])} ties within, {quantity(e["external"])} out).</p>')
    kinds = metrics["sectors"].get("by_relationship_type") or {}
    if kinds:
        total = sum(k["relationships"] for k in kinds.values())
        labels = metrics["network"].get("relationship_labels") or {}
        parts = [f"{_e(labels.get(name, name))} {k['relationships']:,} ({k['relationships'] / total:.0%}), "
                 f"{k['across'] / k['counted']:.0%} of it across sectors" if k["counted"] else
                 f"{_e(labels.get(name, name))} {k['relationships']:,} ({k['relationships'] / total:.0%})"
                 for name, k in kinds.items()]
        out.append('<p class="explain">What the ties are, and how much of each kind crosses '
                   "sectors (a tie between actors of several sectors counts by their shares): "
                   + "; ".join(parts) + ". Sources record different kinds of relationship, so "
                   "the E-I index of the whole field follows the kinds its sources record most.</p>")
    series = metrics.get("series") or {}
    if series.get("years") and len(series["years"]) > 1:
        first, last = series["years"][0], series["years"][-1]

        def change(key: str, fmt: str) -> str:
            a, b = series[key][0], series[key][-1]
            return "n/a" if a is None or b is None else f"{a:{fmt}} to {b:{fmt}}"

        undated = series.get("undated") or {}
        out.append(f'<p class="explain">Over time, from {first} to {last} (the earliest and latest '
                   f"dated facts): actors {change('actors', 'd')}, ties {change('ties', 'd')}, "
                   f"E-I index {change('ei_index', '+.2f')}, global efficiency "
                   f"{change('efficiency', '.3f')}. {undated.get('relationships', 0)} of "
                   f"{s['relationships']} relationships carry no date of their own (see "
                   f'<a href="#time">Over time</a>; the map in {_map_link(str(first), year=first)} '
                   f"and in {_map_link(str(last), year=last)}).</p>")
    claims = metrics.get("claims") or []
    if claims:
        rows = [[f"“{_e(c['quote'])}”<br><span class=\"small\">{_e(c['source'] or '')}</span>",
                 _e(c["measure"]), _e(c["value"])] for c in claims]
        out += ['<h3>The seed documents\' claims against the data</h3>',
                _table([("claim in the seed documents", False), ("measure", False), ("value", False)], rows)]
    return out


def _map_link(text: str, **view: Any) -> str:
    """``text`` as a link to the map view that shows it (``map.html`` beside the report)."""
    from d4d.maps import view_link
    return f'<a class="map" href="{_e(view_link(**view))}">{text}</a>'


def _table(headers: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f'<th class="num">{_e(h)}</th>' if num else f"<th>{_e(h)}</th>"
                   for h, num in headers)
    body = "".join("<tr>" + "".join(
        f'<td class="num">{cell}</td>' if num else f"<td>{cell}</td>"
        for cell, (_, num) in zip(row, headers)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _sector_cell(metrics: dict[str, Any], slug: str | None) -> str:
    return (f'<span class="swatch" style="background:{_color(metrics, slug)}"></span>'
            f"{_e(_sector_label(metrics, slug))}")


def render_report(metrics: dict[str, Any], *, title: str = "Fragmentation of the data-for-development ecosystem") -> str:
    """The report page for ``metrics`` (the dict :func:`d4d.analyse.analyse` returns).

    Returns
    -------
    str
        A complete HTML document with inline CSS and SVG; no scripts, no external resources.

    Raises
    ------
    KeyError
        If ``metrics`` lacks a section :func:`~d4d.analyse.analyse` always writes.
    """
    meta = metrics["meta"]
    s = metrics["summary"]
    scope = (f"the network as it stood in {meta['year']}" if meta.get("year") is not None
             else "the whole network")
    how = ("exact measures" if meta["exact"] else
           f"betweenness and efficiency estimated from {meta['samples']} sampled actors "
           f"(seed {meta['seed']})")
    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Analysis of {_e(scope)}: {_num(s["actors"])} actors, '
        f'{_num(s["relationships"])} relationships; {_e(how)}; computed with {_e(meta["backend"])}.</p>',
    ]
    out += _findings(metrics)
    out += ['<h2 id="headline">Headline figures</h2>', _cards(metrics)]
    out += ['<details open><summary>What each measure means</summary><dl>'
            + "".join(f"<dt><strong>{_e(k)}</strong></dt><dd>{_e(v)}</dd>" for k, v in MEASURES)
            + "</dl></details>"]

    mixing = metrics["sectors"]["mixing"]
    out += ['<h2 id="mixing">Who is tied to whom: the sector mixing matrix</h2>',
            _figure(heatmap_svg(metrics),
                    "Each cell counts the ties between two sectors (the diagonal: ties inside a "
                    "sector), a tie of a multi-sector actor shared out by its sector shares; the "
                    "darker the cell, the larger the share of possible pairs that are tied, so "
                    "pale off-diagonal cells are the gaps between sectors.")]
    if mixing["excluded_actors"]:
        why = ("no sector of their own (actors without one are left out, as asked)"
               if meta.get("unassigned") == "exclude" else
               "no sector of their own and none to take from the actors they are tied to")
        out.append(f'<p class="small">{_num(mixing["excluded_actors"])} actors with {why} are left '
                   f"out of the sector measures.</p>")

    out += ['<h2 id="ei">Inward or outward: the E-I index by sector</h2>',
            _figure(ei_bars_svg(metrics),
                    "Each bar is a sector's E-I index, (ties out - ties in) / all its ties, sorted "
                    "from the most inward: bars to the left mean a sector talks mostly to itself; "
                    "the dashed tick is the value its size alone would give if ties fell at "
                    "random.")]
    cond = metrics["sectors"]["conductance"]
    sizes = metrics["network"]["sectors"]
    rows = [[_sector_cell(metrics, slug), f'{sizes.get(slug, {}).get("members", 0)}',
             f'{sizes.get(slug, {}).get("actors", 0):.3g}', f'{e["external"]:.3g}', f'{e["internal"]:.3g}',
             _num(e["value"], 2), _num(e["expected"], 2), _num(cond.get(slug), 2)]
            for slug, e in sorted(metrics["sectors"]["ei"]["by_sector"].items(),
                                  key=lambda kv: (kv[1]["value"] is None, kv[1]["value"] or 0.0))]
    out.append(_table([("sector", False), ("actors in it", True), ("counting shares", True),
                       ("ties out", True), ("ties in", True), ("E-I", True),
                       ("expected", True), ("conductance", True)], rows))

    brokers = [b for b in metrics["brokerage"]["top_brokers"] if b["betweenness"] > 0]
    zero = sum(1 for a in metrics["actors"].values() if not a["betweenness"])
    btw = metrics["brokerage"]["betweenness"]
    bound = ("exact" if btw["exact"] else
             f"estimated from {btw['samples']} sampled actors, each value within "
             f"±{btw['error_bound']:.3f} with {btw['confidence']:.0%} confidence")
    threshold = metrics["brokerage"].get("broker_threshold")
    out += ['<h2 id="brokers">Brokers: who holds the field together</h2>',
            _figure(bars_svg([b["label"] for b in brokers], [b["betweenness"] for b in brokers],
                             [b["sectors"] for b in brokers], metrics,
                             title="Top actors by betweenness"),
                    f"Betweenness is the share of shortest paths between other actors that run "
                    f"through an actor ({bound}); bars are split by the actor's sector shares. "
                    f"{zero} actors lie on no such path (betweenness 0) and are not shown.")]

    def role_text(b: dict[str, Any]) -> str:
        if b["role"]:
            return _e(b["role"])
        if not b.get("two_paths"):
            if not b.get("out_arcs"):
                return (f"none: all its directed ties ({b.get('in_arcs', 0)}) point to it "
                        "(it is founded, funded, joined or covered), so it passes nothing on")
            if not b.get("in_arcs"):
                return (f"none: all its directed ties ({b.get('out_arcs', 0)}) start from it, "
                        "so nothing passes through it")
            return "none: everyone who sends to it is tied directly to everyone it sends to"
        return "none: the actors of its two-paths have no sector"

    rows = [[_map_link(_e(b["label"]), actor=b["actor"]) + (" <strong>(broker)</strong>" if b.get("broker") else ""),
             _shares_cell(metrics, b["sectors"]), f'{b["betweenness"]:.3g}',
             _num(b["constraint"]), _num(b["effective_size"], 1), role_text(b),
             _num(b.get("two_paths"))] for b in brokers]
    out.append(_table([("actor", False), ("sectors", False), ("betweenness", True),
                       ("constraint", True), ("effective size", True), ("main G-F role", False),
                       ("two-paths brokered", True)], rows))
    out.append('<p class="small">An actor is labelled <strong>broker</strong> when its betweenness '
               f'is in the top decile (at least {_num(threshold)} here) and it brokers at least one '
               "two-path a -> it -> b between actors not tied to each other. Low constraint and "
               "high effective size mark actors spanning structural holes (Burt); the "
               "Gould-Fernandez role says between which sectors an actor brokers most, counting "
               "directed relationships only (funding, founding, membership, coverage...).</p>")
    roles = metrics["brokerage"]["roles"]
    rows = [[_sector_cell(metrics, slug)] + [f"{counts[r]:.3g}" for r in roles]
            for slug, counts in metrics["brokerage"]["roles_by_sector"].items()
            if any(counts[r] for r in roles)]
    silent = sum(1 for counts in metrics["brokerage"]["roles_by_sector"].values()
                 if not any(counts[r] for r in roles))
    out.append(_table([("sector", False)] + [(r, True) for r in roles], rows))
    if silent:
        out.append(f'<p class="small">{silent} sectors broker no two-path and are not listed.</p>')

    ranked = sorted(metrics["resilience"], key=lambda c: (c["efficiency_change"], c["actor"]))
    critical = [c for c in ranked if c["efficiency_change"] < 0 or c["cut_off"]]
    harmless = len(ranked) - len(critical)
    losses = [c for c in critical if c["efficiency_change"] < 0]
    out += ['<h2 id="critical">Critical actors: what if one disappeared?</h2>',
            _figure(bars_svg([c["label"] for c in losses], [-c["efficiency_change"] for c in losses],
                             [c["sectors"] for c in losses], metrics,
                             title="Loss of global efficiency if the actor disappeared"),
                    f"Each bar is how much global efficiency the field would lose without the "
                    f"actor, the largest loss first. Of the {len(ranked)} actors ranked most "
                    f"critical (by the actors their loss would cut off, then the pairs it would "
                    f"disconnect), {harmless} would neither cut anyone off nor lower efficiency "
                    f"(removing a peripheral actor raises the mean over the pairs left) and are "
                    f"not shown.")]
    rows = [[_map_link(_e(c["label"]), actor=c["actor"]), _shares_cell(metrics, c["sectors"]), _num(c["cut_off"]),
             _num(c["pairs_disconnected"]), f'{c["efficiency_change"]:+.3g}',
             "n/a" if c["ei_change"] is None else f'{c["ei_change"]:+.3g}'] for c in critical]
    out.append(_table([("actor", False), ("sectors", False), ("actors cut off", True),
                       ("pairs disconnected", True), ("efficiency change", True),
                       ("E-I change", True)], rows))

    recs = metrics["recommendations"]
    out.append('<h2 id="recommendations">Recommended ties across sectors</h2>')
    out.append('<p class="explain">New partnerships between organisations that can hold one (the '
               "ontology says which kinds can: no media outlet, no person), ranked by how much "
               "they would raise global efficiency; each says why in plain words.</p>")
    if recs:
        out.append('<ol class="recs">' + "".join(
            f"<li><strong>{_e(r['source_label'])} — {_e(r['target_label'])}</strong> "
            f"(efficiency +{r['efficiency_gain']:.3g}). {_e(r['reason'])} "
            f"({_map_link('on the map', path=(r['source'], r['target']), overlays=['recommended'])})</li>"
            for r in recs)
            + "</ol>")
    else:
        out.append("<p>No candidate tie between sectors.</p>")

    comm = metrics["communities"]
    out += ['<h2 id="communities">Communities and sectors</h2>',
            f'<p class="explain">{_e(comm["method"].capitalize())} (seed {comm["seed"]}) finds '
            f'{_num(comm["count"])} communities (groups of actors tied more among themselves than '
            f'to others) with modularity {_num(comm["modularity"], 3)}; their agreement with the '
            f'sectors is {_num(comm["alignment"]["nmi"], 2)} (normalised mutual information, '
            f'1 = communities are the sectors).</p>']
    rows = [[_num(c["community"]), _num(c["size"]),
             _shares_cell(metrics, {g: x / max(sum(c["sectors"].values()), 1e-12)
                                    for g, x in list(c["sectors"].items())[:3]})]
            for c in comm["composition"]]
    out.append(_table([("community", True), ("actors", True), ("main sectors (share of members)", False)], rows))

    series = metrics.get("series")
    out.append('<h2 id="time">Over time</h2>')
    if series and series.get("years"):
        years = series["years"]
        charts = [
            line_svg(years, series["actors"], title="actors"),
            line_svg(years, series["relationships"], title="relationships"),
            line_svg(years, series["ei_index"], title="E-I index", color="#b2182b"),
            line_svg(years, series["efficiency"], title="global efficiency", color="#238b45"),
            line_svg(years, series["largest_component_share"], title="largest component share",
                     color="#6a51a3", fixed=(0.0, 1.0)),
            line_svg(years, series["sector_modularity"], title="sector modularity",
                     color="#d94801"),
        ]
        undated = series.get("undated") or {}
        out.append(_figure('<div style="display:flex;flex-wrap:wrap;gap:8px">' + "".join(charts)
                           + "</div>",
                           f"The network as it stood each year from {years[0]} to {years[-1]}, "
                           f"every year from the earliest dated fact to the latest. An actor "
                           f"counts from its founding (or its first dated relationship) to its "
                           f"dissolution; a relationship from its start to its end, while both "
                           f"its ends stand. {undated.get('relationships', 0)} of "
                           f"{s['relationships']} relationships have no date of their own and "
                           f"count from when both their ends exist; "
                           f"{undated.get('relationships_always', 0)} relationships and "
                           f"{undated.get('actors_always', 0)} actors have no date at all, even "
                           f"through their ends, and count in every year."))
    else:
        out.append("<p>No fact has a date, so there is no series over time.</p>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


def write_report(metrics: dict[str, Any], path: str | Path, **options: Any) -> Path:
    """Write :func:`render_report` to ``path`` atomically (:func:`d4d.io.write_text_atomic`), so a
    failure never leaves a half-written page.  Returns the path.

    Raises
    ------
    OSError
        If the folder cannot be written.
    """
    return write_text_atomic(path, render_report(metrics, **options))
