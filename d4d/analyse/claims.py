"""The seed documents' claims about the field, tested against the measures.

The claims are data (``d4d/data/seed-claims.yaml``): each quotes a seed document and names a test.
:func:`evaluate_claims` evaluates every test on the dict :func:`d4d.analyse.analyse` returns and gives,
for each claim, the measure used and its value in words and numbers.  Whether the data bear the
claim out is left to the reader: the value is stated, not judged against a threshold.
"""

from __future__ import annotations

from importlib import resources
from itertools import combinations
from typing import Any

import yaml

from d4d.errors import D4DError
from d4d.vocab import ID

TESTS = ("sectors-apart", "fragmented", "hub", "within")


def load_claims(text: str | None = None) -> list[dict[str, Any]]:
    """The claims file (the packaged one unless ``text`` is given) as a list of records.

    Raises
    ------
    D4DError
        If a record lacks ``id``, ``quote`` or a known ``test``.
    """
    if text is None:
        text = resources.files("d4d").joinpath("data/seed-claims.yaml").read_text(encoding="utf-8")
    records = yaml.safe_load(text) or []
    for n, record in enumerate(records, 1):
        if not isinstance(record, dict) or not record.get("id") or not record.get("quote"):
            raise D4DError(f"seed-claims.yaml: record {n} needs an id and a quote")
        if record.get("test") not in TESTS:
            raise D4DError(f"seed-claims.yaml: claim {record['id']}: test must be one of {', '.join(TESTS)}")
    return records


def _label(metrics: dict[str, Any], slug: str) -> str:
    return str((metrics["network"]["sectors"].get(slug) or {}).get("label") or slug)


def quantity(x: float) -> str:
    """A count that may be fractional (shares), for reading: whole numbers from 100 up, three
    significant digits below.

    >>> quantity(6370.4), quantity(13.83), quantity(0.05), quantity(2.0)
    ('6,370', '13.8', '0.05', '2')
    """
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _g(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def _field_density(metrics: dict[str, Any]) -> float | None:
    value = metrics["sectors"]["mixing"].get("field_density")
    return None if value is None else float(value)


def _sectors_apart(metrics: dict[str, Any], claim: dict[str, Any]) -> dict[str, Any]:
    mixing = metrics["sectors"]["mixing"]
    code = {s: g for g, s in enumerate(mixing["sectors"])}
    missing = [s for s in claim["sectors"] if s not in code]
    field = _field_density(metrics)
    pairs = []
    for a, b in combinations([s for s in claim["sectors"] if s in code], 2):
        ga, gb = code[a], code[b]
        pairs.append({"sectors": [a, b], "ties": mixing["ties"][ga][gb], "density": mixing["density"][ga][gb]})
    below = [p for p in pairs if p["density"] is not None and field is not None and p["density"] < field]
    parts = [f"{_label(metrics, p['sectors'][0])}\u2013{_label(metrics, p['sectors'][1])} "
             f"{quantity(p['ties'])} ties (density {p['density']:.3g})" if p["density"] is not None else
             f"{_label(metrics, p['sectors'][0])}\u2013{_label(metrics, p['sectors'][1])} no pair possible"
             for p in pairs]
    texts = []
    if pairs and field is not None:
        texts.append(f"{len(below)} of {len(pairs)} pairs of these sectors are tied less densely than "
                     f"the field as a whole ({field:.3g}): " + "; ".join(parts))
    elif pairs:
        texts.append("; ".join(parts))
    if missing:
        texts.append(f"no actor of: {', '.join(missing)}")
    value = ". ".join(texts) if texts else "no sector named is in the network"
    return {"measure": "ties and tie density between each pair of the sectors named (density: ties over "
                       "possible pairs), against the density of the whole field",
            "value": value, "numbers": {"pairs": pairs, "field_density": field, "below": len(below), "missing": missing}}


def _fragmented(metrics: dict[str, Any], claim: dict[str, Any]) -> dict[str, Any]:
    s = metrics["summary"]
    value = (f"{s['weak_components']} separate parts; the largest holds {s['largest_component_share']:.0%} of "
             f"{s['actors']} actors; global efficiency {s['efficiency']:.3g} (1 = all tied directly); "
             f"{s['bridges']} ties and {s['articulation_points']} actors whose loss would split it")
    return {"measure": "connected components, global efficiency, bridges and articulation points",
            "value": value, "numbers": {k: s[k] for k in ("weak_components", "largest_component_share", "efficiency",
                                          "bridges", "articulation_points")}}


def _hub(metrics: dict[str, Any], claim: dict[str, Any]) -> dict[str, Any]:
    iri = str(ID[claim["actor"]])
    actor = metrics["actors"].get(iri)
    if actor is None:
        return {"measure": "betweenness rank", "value": f"{claim['actor']} is not in the network", "numbers": {}}
    ranked = sorted(metrics["actors"], key=lambda i: -(metrics["actors"][i]["betweenness"] or 0.0))
    rank = ranked.index(iri) + 1
    value = (f"{actor['label']} ranks {rank} of {len(ranked)} by betweenness ({actor['betweenness']:.3g}: "
             f"the share of shortest paths between others through it); without it "
             f"{actor['cut_off']} actors would be cut off; "
             + ("it is labelled a broker" if actor["broker"] else
                "it is not labelled a broker (see the brokers section)"))
    return {"measure": "betweenness rank, actors cut off without it, broker label",
            "value": value, "numbers": {"rank": rank, "actors": len(ranked), "betweenness": actor["betweenness"],
                        "cut_off": actor["cut_off"], "broker": actor["broker"]}}


def _within(metrics: dict[str, Any], claim: dict[str, Any]) -> dict[str, Any]:
    e = metrics["sectors"]["ei"]["by_sector"].get(claim["sector"])
    mixing = metrics["sectors"]["mixing"]
    if e is None:
        return {"measure": "ties within the sector", "value": f"no actor of {claim['sector']}", "numbers": {}}
    g = mixing["sectors"].index(claim["sector"])
    density = mixing["density"][g][g]
    field = _field_density(metrics)
    ei = "n/a" if e["value"] is None else f"{e['value']:+.2f}"
    value = (f"{_label(metrics, claim['sector'])}: {quantity(e['internal'])} ties within the sector "
             f"(density {_g(density)} against {_g(field)} for the field), "
             f"{quantity(e['external'])} to other sectors; E-I {ei}")
    return {"measure": "ties and tie density within the sector, against the field's density",
            "value": value,
            "numbers": {"internal": e["internal"], "external": e["external"], "density": density,
                        "field_density": field}}


def evaluate_claims(metrics: dict[str, Any], claims: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Each claim with its test's result: ``id``, ``source``, ``quote``, ``test``, ``measure``,
    ``value`` (words) and ``numbers``."""
    out = []
    for claim in load_claims() if claims is None else claims:
        result = {"sectors-apart": _sectors_apart, "fragmented": _fragmented, "hub": _hub,
                  "within": _within}[claim["test"]](metrics, claim)
        out.append({"id": claim["id"], "source": claim.get("source"), "quote": " ".join(claim["quote"].split()),
                    "test": claim["test"], **result})
    return out
