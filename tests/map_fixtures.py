"""A small hand-made ecosystem for the map tests (shared by test_render_map and test_map_browser).

Seven actors and seven ties whose counts, directions and years are known by construction:
Rockefeller funds UN Global Pulse (2012) and DataKind (2013) and partners with Global Pulse (2015),
so the Rockefeller-Global Pulse pair has two parallel ties; Gates funds Global Pulse (2014); a
person is a member of DataKind (undated); a lab partners with Global Pulse (2016); and a
"hostile" actor whose label, description, URL and quote are script injections supports DataKind
(2018).
"""

from __future__ import annotations

import random

import networkx as nx

ID = "https://w3id.org/d4d/id/"
XSS_LABEL = "<img src=x onerror=alert(1)>"
XSS_QUOTE = "</script><script>alert(4)</script>"
XSS_TITLE = "Map <script>alert(1)</script> & co"
QUOTE = "The Rockefeller Foundation provided a grant of $1 million to Global Pulse."


def fact(slug: str, kind: str, text: str, quote: str, title: str, url: str | None, *, basis: str | None = None,
         note: str | None = None) -> dict[str, object]:
    return {"fact": ID + slug, "type": kind, "text": text, "quote": quote, "source_title": title,
            "source_url": url, "from_seeds": True, "basis": basis, "note": note}


def ecosystem() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    G.graph["edge_types"] = {
        "Funding": {"label": "funding", "color": "#2e7d32", "dashes": False, "directed": True},
        "Partnership": {"label": "partnership", "color": "#6a1b9a", "dashes": True, "directed": False},
        "Membership": {"label": "membership", "color": "#546e7a", "dashes": False, "directed": True},
        "Support": {"label": "support", "color": "#ef6c00", "dashes": False, "directed": True},
    }
    G.graph["sectors"] = {
        "philanthropy": {"label": "Philanthropy", "color": "#f9a825"},
        "humanitarian": {"label": "Humanitarian", "color": "#c62828"},
        "civil-society": {"label": "Civil society", "color": "#00897b"},
        "technology": {"label": "Technology", "color": "#1565c0"},
        "academia": {"label": "Academia", "color": "#6d4c41"},
    }
    G.graph["kinds"] = {
        "Foundation": {"label": "Foundation", "shape": "diamond"},
        "InternationalOrganization": {"label": "International organisation", "shape": "hexagon"},
        "NGO": {"label": "NGO", "shape": "dot"},
        "AcademicUnit": {"label": "Academic unit", "shape": "triangle"},
        "Company": {"label": "Company", "shape": "square"},
        "Person": {"label": "Person", "shape": "star"},
    }
    f_rock_pulse = fact("f-rockefeller-pulse", "Funding", "Rockefeller Foundation funded UN Global Pulse.",
                        QUOTE, "Rockefeller annual report 2012", "https://www.rockefellerfoundation.org/report",
                        basis="stated")
    f_gates_pulse = fact("f-gates-pulse", "Funding", "Gates Foundation funded UN Global Pulse.",
                         "Gates granted $5 million.", "Gates grants database", "https://www.gatesfoundation.org/grants")
    f_rock_dk = fact("f-rockefeller-datakind", "Funding", "Rockefeller Foundation funded DataKind.",
                     "A $200,000 grant to DataKind.", "DataKind press release", "http://www.datakind.org/press")
    f_rock_pulse_p = fact("f-rockefeller-pulse-partner", "Partnership", "Rockefeller and Global Pulse partner.",
                          "A partnership on data philanthropy.", "Global Pulse blog", "https://www.unglobalpulse.org/blog",
                          basis="read", note="The blog names both as partners of one programme.")
    f_jane = fact("f-jane-datakind", "Membership", "Jane Doe is a member of DataKind.",
                  "Jane Doe, DataKind volunteer.", "DataKind team page", None)
    f_lab = fact("f-lab-pulse", "Partnership", "The lab partners with Global Pulse.",
                 "Joint research on mobile data.", "Lab news", "https://lab.example.edu/news")
    f_xss = fact("f-xss-datakind", "Support", "<b>bold</b> support", XSS_QUOTE,
                 "<script>alert(5)</script>", "javascript:alert(6)")
    actors = {
        "rockefeller": ("Rockefeller Foundation", "Foundation", ["philanthropy"], 1913,
                        [f_rock_pulse, f_rock_dk, f_rock_pulse_p]),
        "gates": ("Bill & Melinda Gates Foundation", "Foundation", ["philanthropy"], 2000, [f_gates_pulse]),
        "un-global-pulse": ("UN Global Pulse", "InternationalOrganization", ["humanitarian"], 2009,
                            [f_rock_pulse, f_gates_pulse, f_rock_pulse_p, f_lab]),
        "datakind": ("DataKind", "NGO", ["civil-society", "technology"], 2011, [f_rock_dk, f_jane, f_xss]),
        "jane-doe": ("Jane Doe", "Person", [], None, [f_jane]),
        "lab": ("Data Lab", "AcademicUnit", ["academia"], 2010, [f_lab]),
        "hostile": (XSS_LABEL, "Company", ["technology"], 2017, [f_xss]),
    }
    for slug, (label, kind, sectors, founded, facts) in actors.items():
        G.add_node(ID + slug, label=label, kind=kind, actor_type="Person" if kind == "Person" else "Organization",
                   sectors=sectors, sector=sectors[0] if sectors else "none", founded=founded,
                   description="<script>alert(2)</script>" if slug == "hostile" else f"About {label}.",
                   urls=["javascript:alert(3)"] if slug == "hostile" else [f"https://example.org/{slug}"],
                   facts=facts)

    def tie(source: str, target: str, f: dict[str, object], *, year: int | None, amount: float | None = None,
            directed: bool = True, role: str | None = None) -> None:
        G.add_edge(ID + source, ID + target, key=str(f["fact"]), type=f["type"], label=str(f["type"]).lower(),
                   fact=f["fact"], directed=directed, amount=amount, currency="USD" if amount else None,
                   year=year, end_year=None, weight=1.0, sources=[ID + "source-" + source],
                   quote=f["quote"], role=role)

    tie("rockefeller", "un-global-pulse", f_rock_pulse, year=2012, amount=1_000_000)
    tie("gates", "un-global-pulse", f_gates_pulse, year=2014, amount=5_000_000)
    tie("rockefeller", "datakind", f_rock_dk, year=2013, amount=200_000)
    tie("rockefeller", "un-global-pulse", f_rock_pulse_p, year=2015, directed=False)
    tie("jane-doe", "datakind", f_jane, year=None, role="Volunteer; \u201cDataKind volunteer\u201d")
    tie("lab", "un-global-pulse", f_lab, year=2016, directed=False)
    tie("hostile", "datakind", f_xss, year=2018)
    return G


def metrics() -> dict[str, object]:
    """Metrics as the analytics stage returns them, for the same seven actors."""
    return {
        "nodes": {ID + "un-global-pulse": {"betweenness": 0.6, "degree": 5},
                  ID + "datakind": {"betweenness": 0.5, "degree": 3},
                  ID + "rockefeller": {"betweenness": 0.2, "degree": 3}},
        "communities": {ID + "rockefeller": 0, ID + "gates": 0, ID + "un-global-pulse": 0, ID + "lab": 0,
                        ID + "datakind": 1, ID + "jane-doe": 1, ID + "hostile": 1},
        "brokers": [ID + "un-global-pulse", ID + "datakind"],
        "recommendations": [{"source": ID + "gates", "target": ID + "datakind",
                             "reason": "Both fund <i>data</i> for development"}],
    }


# --- a synthetic ecosystem of any size (the browser tests and bench/bench_map.py) -------------

SECTORS = ["humanitarian", "development", "academia", "technology", "philanthropy", "media",
           "government", "civil-society"]
COLOURS = ["#c62828", "#ef6c00", "#6d4c41", "#1565c0", "#f9a825", "#8e24aa", "#37474f", "#00897b"]
KINDS = {"Foundation": "diamond", "University": "triangle", "NGO": "dot", "Company": "square",
         "GovernmentBody": "hexagon", "MediaOutlet": "triangleDown", "Person": "star"}
TYPES = {"Funding": ("#2e7d32", False, True), "Partnership": ("#6a1b9a", True, False),
         "Membership": ("#546e7a", False, True), "Founding": ("#d81b60", False, True),
         "MediaCoverage": ("#8d6e63", True, True)}


def synthetic(n: int, *, seed: int = 7) -> nx.MultiDiGraph:
    """A sector-clustered ecosystem: most ties within a sector, some across, hubs by preference."""
    rng = random.Random(seed)
    G = nx.MultiDiGraph()
    G.graph["sectors"] = {s: {"label": s.replace("-", " ").capitalize(), "color": c} for s, c in zip(SECTORS, COLOURS)}
    G.graph["kinds"] = {k: {"label": k, "shape": s} for k, s in KINDS.items()}
    G.graph["edge_types"] = {t: {"label": t.lower(), "color": c, "dashes": d, "directed": dr}
                             for t, (c, d, dr) in TYPES.items()}
    by_sector: dict[str, list[str]] = {s: [] for s in SECTORS}
    nodes = []
    for i in range(n):
        sector = SECTORS[rng.randrange(len(SECTORS))]
        kind = rng.choice(list(KINDS))
        iri = f"{ID}actor-{i:06d}"
        G.add_node(iri, label=f"{kind} {i} of {sector}", kind=kind, sectors=[sector], sector=sector,
                   founded=rng.randint(1950, 2020), description=f"A synthetic {kind.lower()} in {sector}.",
                   urls=[f"https://example.org/{i}"], facts=[])
        by_sector[sector].append(iri)
        nodes.append(iri)
    for i in range(int(n * 1.5)):
        source = nodes[rng.randrange(n)]
        pool = by_sector[G.nodes[source]["sector"]] if rng.random() < 0.8 else nodes
        # Preferential attachment by squaring a uniform draw: low indices become hubs.
        target = pool[int(len(pool) * rng.random() ** 2)]
        if target == source:
            continue
        kind = rng.choice(list(TYPES))
        f_iri = f"{ID}fact-{i:07d}"
        amount = float(rng.randint(1, 1000) * 10_000) if kind == "Funding" else None
        fact = {"fact": f_iri, "type": kind, "text": f"{G.nodes[source]['label']} {kind.lower()} {G.nodes[target]['label']}.",
                "quote": f"Quoted sentence number {i} from the annual report about this {kind.lower()}.",
                "source_title": f"Annual report {i % 97}", "source_url": f"https://example.org/report/{i % 97}",
                "from_seeds": False}
        G.add_edge(source, target, key=f_iri, type=kind, fact=f_iri, directed=TYPES[kind][2], amount=amount,
                   currency="USD" if amount else None, year=rng.randint(1990, 2024), end_year=None,
                   sources=[f"{ID}report-{i % 97}"], quote=fact["quote"], weight=1.0)
        G.nodes[source]["facts"].append(fact)
        G.nodes[target]["facts"].append(fact)
    return G


def synthetic_metrics(G: nx.MultiDiGraph, *, seed: int = 1) -> dict[str, object]:
    """Communities of a synthetic ecosystem (Louvain, seeded), as the analysis gives them."""
    simple = nx.Graph()
    simple.add_nodes_from(G)
    simple.add_edges_from((u, v) for u, v in G.edges() if u != v)
    found = nx.community.louvain_communities(simple, seed=seed)
    ordered = sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))
    return {"communities": {iri: k for k, members in enumerate(ordered) for iri in members}}
