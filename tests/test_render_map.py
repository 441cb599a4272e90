"""The map renderer without a browser: page structure, escaping, data, layout, determinism.

The browser half (drawing, search, filters, panel, script injection) is tests/test_map_browser.py.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import networkx as nx
import pytest
from map_fixtures import ID, QUOTE, XSS_LABEL, XSS_QUOTE, XSS_TITLE, ecosystem, metrics

from d4d.errors import D4DError
from d4d.maps import (ego_graph, graph_from_triples, layout_positions, render_map, resolve_actor, view_link,
                      write_map)

CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def blocks(html: str) -> dict[str, object]:
    """The JSON data blocks of a page, parsed."""
    found = dict(re.findall(r'<script type="application/json" id="d4d-(\w+)">(.*?)</script>', html, re.S))
    data = {name: json.loads(text) for name, text in found.items()}
    data["options"] = json.loads(data["options"])  # pyvis serialised them; the template wrapped that string
    return data


def by_label(nodes: list[dict], label: str) -> dict:
    return next(n for n in nodes if n["label"] == label)


@pytest.fixture(scope="module")
def page() -> str:
    return render_map(ecosystem(), title=XSS_TITLE, metrics=metrics(),
                      query="CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } # </script><b>")


def test_page_is_self_contained_with_a_csp(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    # No element loads anything: no src/href attribute on any tag, no CDN, no Bootstrap.
    assert not re.search(r"<(script|link|img|iframe|object|embed|source)\b[^>]*\b(src|href)\s*=", page, re.I)
    for host in ("cdnjs", "jsdelivr", "unpkg", "bootstrap", "googleapis"):
        assert host not in page.lower()
    # vis-network is inlined from pyvis's bundled copy.
    assert "vis-network" in page and "@version 9.1.2" in page
    assert len(re.findall(r"^<script", page, re.M)) == 6  # four JSON blocks, vis-network, the map script


def test_data_strings_never_appear_as_markup(page: str) -> None:
    # The heading is escaped; labels, quotes, descriptions and the query are JSON with < > & escaped.
    assert "<h1 id=\"d4d-title\">Map &lt;script&gt;alert(1)&lt;/script&gt; &amp; co</h1>" in page
    assert "<title>Map &lt;script&gt;alert(1)&lt;/script&gt; &amp; co</title>" in page
    for hostile in ("<img src=x", "<script>alert", "</script><b>", "<b>bold", "alert(5)</script>"):
        assert hostile not in page
    data = blocks(page)
    assert data["meta"]["title"] == XSS_TITLE
    assert data["meta"]["query"].endswith("# </script><b>")
    assert by_label(data["nodes"], XSS_LABEL)["kind"] == "Company"
    assert XSS_QUOTE in [f["quote"] for f in data["meta"]["facts"]]


def test_only_http_urls_survive(page: str) -> None:
    meta = blocks(page)["meta"]
    urls = {d["iri"]: d["urls"] for d in meta["details"]}
    assert urls[ID + "hostile"] == []  # was javascript:alert(3)
    assert urls[ID + "gates"] == ["https://example.org/gates"]
    sources = {f["source_title"]: f["source_url"] for f in meta["facts"]}
    assert sources["<script>alert(5)</script>"] is None  # was javascript:alert(6)
    assert sources["DataKind press release"] == "http://www.datakind.org/press"
    assert sources["DataKind team page"] is None


def test_every_actor_and_every_tie_is_drawn_with_its_style(page: str) -> None:
    data = blocks(page)
    nodes, edges = data["nodes"], data["edges"]
    assert len(nodes) == 7 and len(edges) == 7
    assert len({e["id"] for e in edges}) == 7
    rockefeller = by_label(nodes, "Rockefeller Foundation")
    pulse = by_label(nodes, "UN Global Pulse")
    assert rockefeller["color"] == "#f9a825" and rockefeller["shape"] == "diamond"
    assert pulse["shape"] == "hexagon"
    assert by_label(nodes, "Jane Doe")["sectors"] == ["none"]
    # Two ties between Rockefeller and Global Pulse: both kept, curved apart.
    pair = [e for e in edges if {e["from"], e["to"]} == {rockefeller["id"], pulse["id"]}]
    assert sorted(e["type"] for e in pair) == ["Funding", "Partnership"]
    assert all(e["smooth"] for e in pair)
    assert {(e["smooth"]["type"], e["smooth"]["roundness"]) for e in pair} == {("curvedCW", 0.15), ("curvedCCW", 0.15)}
    lone = [e for e in edges if e not in pair]
    assert all(e["smooth"] is False for e in lone)
    # Direction from the edge, colour and dashes from G.graph["edge_types"].
    funding = [e for e in edges if e["type"] == "Funding"]
    partnership = [e for e in edges if e["type"] == "Partnership"]
    assert all(e["arrows"] == "to" and e["color"] == "#2e7d32" and not e["dashes"] for e in funding)
    assert all(e["arrows"] == "" and e["dashes"] for e in partnership)
    # Width by amount (log scale): 5M widest, 200k narrowest, no amount at the base width.
    width = {e["amount"]: e["width"] for e in funding}
    assert width[5_000_000] > width[1_000_000] > width[200_000] == 1.5
    assert all(e["width"] == 1.5 for e in partnership)


def test_legend_lists_what_is_used_and_years_span_the_data(page: str) -> None:
    meta = blocks(page)["meta"]
    assert [s["key"] for s in meta["legend"]["sectors"]] == [
        "academia", "civil-society", "humanitarian", "none", "philanthropy", "technology"]
    assert [t["key"] for t in meta["legend"]["edgeTypes"]] == ["Funding", "Membership", "Partnership", "Support"]
    assert meta["years"] == [1913, 2018]  # Rockefeller founded 1913; the last tie 2018


def test_side_panel_data_has_every_fact_with_source_and_quote(page: str) -> None:
    meta = blocks(page)["meta"]
    pulse = next(d for d in meta["details"] if d["iri"] == ID + "un-global-pulse")
    facts = [meta["facts"][i] for i in pulse["facts"]]
    assert len(facts) == 4
    rockefeller_grant = next(f for f in facts if f["fact"] == ID + "f-rockefeller-pulse")
    assert rockefeller_grant["quote"] == QUOTE
    assert rockefeller_grant["source_title"] == "Rockefeller annual report 2012"
    assert rockefeller_grant["source_url"] == "https://www.rockefellerfoundation.org/report"
    # Facts shared by two actors are stored once; the tie points at the same record.
    assert len(meta["facts"]) == 7
    edge = next(e for e in blocks(page)["edges"] if e["type"] == "Funding" and e["amount"] == 1_000_000)
    assert [meta["facts"][i]["fact"] for i in edge["facts"]] == [ID + "f-rockefeller-pulse"]


def test_a_fact_with_two_citations_keeps_both_quotes() -> None:
    G = ecosystem()
    second = {"fact": ID + "f-gates-pulse", "type": "Funding", "text": "Gates Foundation funded UN Global Pulse.",
              "quote": "A second source confirms the grant.", "source_title": "Pulse annual report",
              "source_url": "https://www.unglobalpulse.org/report"}
    for node in (ID + "gates", ID + "un-global-pulse"):
        G.nodes[node]["facts"] = [*G.nodes[node]["facts"], second]
    data = blocks(render_map(G))
    facts = data["meta"]["facts"]
    gates = next(d for d in data["meta"]["details"] if d["iri"] == ID + "gates")
    assert [facts[i]["quote"] for i in gates["facts"]] == ["Gates granted $5 million.", "A second source confirms the grant."]
    edge = next(e for e in data["edges"] if e["amount"] == 5_000_000)
    assert [facts[i]["source_title"] for i in edge["facts"]] == ["Gates grants database", "Pulse annual report"]


def test_label_inside_shapes_are_drawn_as_sized_shapes() -> None:
    G = ecosystem()
    G.graph["kinds"]["Company"]["shape"] = "box"
    G.graph["kinds"]["NGO"]["shape"] = "text"
    data = blocks(render_map(G))
    shapes = {n["label"]: n["shape"] for n in data["nodes"]}
    assert shapes[XSS_LABEL] == "square" and shapes["DataKind"] == "triangleDown"
    assert {k["key"]: k["shape"] for k in data["meta"]["legend"]["kinds"]}["Company"] == "square"


def test_metrics_feed_overlays_and_sizes() -> None:
    data = blocks(render_map(ecosystem(), metrics=metrics(), size_by="betweenness"))
    meta, nodes = data["meta"], data["nodes"]
    details = {d["iri"]: d for d in meta["details"]}
    assert meta["hasCommunities"] and meta["hasBrokers"]
    assert details[ID + "datakind"]["community"] == 1 and details[ID + "gates"]["community"] == 0
    assert {iri for iri, d in details.items() if d["broker"]} == {ID + "un-global-pulse", ID + "datakind"}
    assert details[ID + "un-global-pulse"]["metrics"] == {"betweenness": 0.6, "degree": 5.0}
    gates, datakind = by_label(nodes, "Bill & Melinda Gates Foundation")["id"], by_label(nodes, "DataKind")["id"]
    assert meta["recommendations"] == [{"from": gates, "to": datakind, "reason": "Both fund <i>data</i> for development"}]
    # Largest betweenness largest; sqrt scale between 10 and 40; no value: smallest.
    sizes = {n["label"]: n["size"] for n in nodes}
    assert sizes["UN Global Pulse"] == 40.0
    assert sizes["DataKind"] == round(10 + 30 * math.sqrt(0.3 / 0.4), 1)
    assert sizes["Jane Doe"] == sizes["Rockefeller Foundation"] == 10.0
    assert meta["sizeBy"] == "betweenness"


def test_reads_the_analytics_output_shape() -> None:
    """The layout of d4d.analyse.analyse: measures under "actors", brokers under "brokerage"."""
    shaped = {
        "actors": {ID + "datakind": {"label": "DataKind", "degree": 3, "betweenness": 0.5, "community": 2,
                                     "role": "gatekeeper", "brokerage": None, "sector": "technology"},
                   ID + "gates": {"degree": 1, "betweenness": 0.0, "community": 0, "role": None}},
        "communities": {"count": 2, "sizes": [1, 1], "method": "louvain"},
        "brokerage": {"top_brokers": [{"actor": ID + "datakind", "betweenness": 0.5},
                                      {"actor": ID + "gates", "betweenness": 0.0}]},
        "recommendations": [{"source": ID + "gates", "target": ID + "lab", "reason": "r", "efficiency_gain": 0.1}],
    }
    meta = blocks(render_map(ecosystem(), metrics=shaped))["meta"]
    details = {d["iri"]: d for d in meta["details"]}
    assert details[ID + "datakind"]["metrics"] == {"betweenness": 0.5, "degree": 3.0}
    assert details[ID + "datakind"]["role"] == "gatekeeper" and details[ID + "datakind"]["community"] == 2
    assert [iri for iri, d in details.items() if d["broker"]] == [ID + "datakind"]  # betweenness 0 is no broker
    assert len(meta["recommendations"]) == 1


def test_works_without_metrics() -> None:
    meta = blocks(render_map(ecosystem()))["meta"]
    assert not meta["hasCommunities"] and not meta["hasBrokers"] and meta["recommendations"] == []
    assert meta["sizeBy"] == "degree" and meta["groupBy"] == "sector"


def test_bad_options_raise_named_errors() -> None:
    with pytest.raises(D4DError, match="no measure 'betweenes'.*known: degree"):
        render_map(ecosystem(), size_by="betweenes", metrics=metrics())
    with pytest.raises(D4DError, match="no communities"):
        render_map(ecosystem(), group_by="community")
    with pytest.raises(D4DError, match="group_by"):
        render_map(ecosystem(), group_by="colour")
    with pytest.raises(D4DError, match="no such actor"):
        render_map(ecosystem(), focus="nobody")


def test_large_maps_open_grouped_and_say_so() -> None:
    data = blocks(render_map(ecosystem(), max_nodes=3))
    meta = data["meta"]
    assert meta["aggregated"] and "one circle per sector (6)" in meta["summary"]
    # DataKind (civil society and technology) is grouped with no sector picked for it: "several".
    assert [g["key"] for g in meta["groups"]] == ["academia", "humanitarian", "none", "philanthropy", "several",
                                                  "technology"]
    # Each group is a disc holding its actors; discs do not overlap.
    groups = meta["groups"]
    for node in data["nodes"]:
        g = groups[node["group"]]
        assert math.dist((node["x"], node["y"]), (g["x"], g["y"])) <= g["radius"] + 0.2
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:
            assert math.dist((a["x"], a["y"]), (b["x"], b["y"])) >= a["radius"] + b["radius"]
    by_community = blocks(render_map(ecosystem(), max_nodes=3, metrics=metrics()))["meta"]
    assert by_community["groupBy"] == "community" and "one circle per community (2)" in by_community["summary"]
    assert not blocks(render_map(ecosystem()))["meta"]["aggregated"]


def test_same_input_same_bytes() -> None:
    G = ecosystem()
    shuffled = nx.MultiDiGraph()
    shuffled.graph.update(G.graph)
    shuffled.add_nodes_from(reversed(list(G.nodes(data=True))))
    shuffled.add_edges_from(reversed(list(G.edges(keys=True, data=True))))
    first = render_map(G, title="t", metrics=metrics())
    assert render_map(G, title="t", metrics=metrics()) == first
    assert render_map(shuffled, title="t", metrics=metrics()) == first


def test_layout_is_deterministic_and_spreads_nodes() -> None:
    G = nx.MultiDiGraph(nx.karate_club_graph())
    G.add_nodes_from(["lonely-1", "lonely-2"])
    mapping = {n: f"n{n:02d}" if isinstance(n, int) else n for n in G}
    G = nx.relabel_nodes(G, mapping)
    positions = layout_positions(G)
    assert positions == layout_positions(G)
    points = list(positions.values())
    assert len(set(points)) == len(points)
    closest = min(math.dist(a, b) for i, a in enumerate(points) for b in points[i + 1:])
    assert closest > 5  # no two actors drawn on top of each other
    grouped = layout_positions(G, groups={n: int(n[1:]) % 2 if n.startswith("n") else 2 for n in G})
    assert grouped != positions and set(grouped) == set(positions)


def test_ego_graph_by_depth() -> None:
    G = ecosystem()
    assert set(ego_graph(G, "gates", depth=0)) == {ID + "gates"}
    assert set(ego_graph(G, "gates", depth=1)) == {ID + "gates", ID + "un-global-pulse"}
    two = ego_graph(G, "d4did:gates", depth=2)
    assert set(two) == {ID + "gates", ID + "un-global-pulse", ID + "rockefeller", ID + "lab"}
    # Every tie among the kept actors, parallel ones included; legend data and the centre recorded.
    assert two.number_of_edges() == 4
    assert two.graph["edge_types"] == G.graph["edge_types"]
    assert two.graph["ego"] == {"actor": ID + "gates", "depth": 2}
    assert resolve_actor(G, ID + "lab") == ID + "lab"
    with pytest.raises(D4DError, match="no such actor"):
        ego_graph(G, "nobody", depth=1)
    with pytest.raises(D4DError, match="depth"):
        ego_graph(G, "gates", depth=-1)


def test_ego_map_focuses_its_centre() -> None:
    G = ego_graph(ecosystem(), "gates", depth=2)
    meta = blocks(render_map(G, focus="gates"))["meta"]
    assert meta["details"][meta["focus"]]["iri"] == ID + "gates"
    assert meta["ego"] == {"actor": ID + "gates", "depth": 2}


def test_graphs_with_few_attributes_still_render() -> None:
    G = nx.MultiDiGraph()
    G.add_edge("https://example.org/x", "https://example.org/y")
    G.add_edge("https://example.org/x", "https://example.org/y")
    G.add_node("https://example.org/z")
    data = blocks(render_map(G))
    assert [n["label"] for n in data["nodes"]] == ["x", "y", "z"]
    assert [e["type"] for e in data["edges"]] == ["Tie", "Tie"]
    assert blocks(render_map(nx.MultiDiGraph()))["nodes"] == []


def test_write_map_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "maps" / "map.html"
    assert write_map(ecosystem(), target, title="A") == target
    first = target.read_bytes()
    assert first.decode("utf-8") == render_map(ecosystem(), title="A")
    # A failing render leaves the old file as it was, and no temporary file behind.
    with pytest.raises(D4DError):
        write_map(ecosystem(), target, size_by="nothing")
    assert target.read_bytes() == first
    assert sorted(p.name for p in target.parent.iterdir()) == ["map.html"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(D4DError, match="cannot write the map"):
        write_map(ecosystem(), blocker / "map.html")


def test_graph_from_triples_draws_a_construct_result() -> None:
    import pyoxigraph as ox

    d4d = "https://w3id.org/d4d/ontology#"

    def iri(text: str) -> ox.NamedNode:
        return ox.NamedNode(text)

    triples = [
        ox.Triple(iri(ID + "datakind"), iri(d4d + "fundedBy"), iri(ID + "rockefeller")),
        ox.Triple(iri(ID + "datakind"), iri(d4d + "fundedBy"), iri(ID + "rockefeller")),  # duplicates collapse
        ox.Triple(iri(ID + "new-actor"), iri(d4d + "partnerOf"), iri(ID + "datakind")),
        ox.Triple(iri(ID + "new-actor"), iri(d4d + "name"), ox.Literal("New <actor>")),
        ox.Triple(iri(ID + "new-actor"), iri("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), iri(d4d + "NGO")),
        ox.Triple(iri(ID + "lonely"), iri("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal("Lonely")),
        ox.Triple(iri(ID + "datakind"), iri(d4d + "description"), ox.Literal("ignored")),
    ]
    network = ecosystem()
    G = graph_from_triples(triples, network=network, shortcuts={d4d + "fundedBy": "Funding"})
    assert sorted(G) == [ID + "datakind", ID + "lonely", ID + "new-actor", ID + "rockefeller"]
    assert G.nodes[ID + "datakind"] == network.nodes[ID + "datakind"]  # known actors keep their attributes
    assert G.nodes[ID + "new-actor"]["label"] == "New <actor>" and G.nodes[ID + "new-actor"]["kind"] == "NGO"
    assert G.nodes[ID + "lonely"]["label"] == "Lonely"
    edges = sorted((u, v, d["type"], d["label"]) for u, v, d in G.edges(data=True))
    assert edges == [(ID + "datakind", ID + "rockefeller", "Funding", "funded by"),
                     (ID + "new-actor", ID + "datakind", "partnerOf", "partner of")]
    assert G.graph["edge_types"]["Funding"]["color"] == "#2e7d32"  # the shortcut's type keeps its style
    assert G.graph["edge_types"]["partnerOf"]["label"] == "partner of"
    data = blocks(render_map(G, query="CONSTRUCT { ... }"))
    assert len(data["nodes"]) == 4 and len(data["edges"]) == 2
    assert data["meta"]["query"] == "CONSTRUCT { ... }"


def test_physics_is_off_unless_asked() -> None:
    assert blocks(render_map(ecosystem()))["options"]["physics"]["enabled"] is False
    options = blocks(render_map(ecosystem(), physics=True))["options"]
    assert options["physics"]["enabled"] is True and options["physics"]["stabilization"]["enabled"] is True
    assert options["layout"]["improvedLayout"] is False  # positions come from Python either way


def test_view_links_name_the_view_in_a_fixed_order() -> None:
    assert view_link() == "map.html"
    assert view_link(actor=ID + "datakind") == "map.html#actor=datakind"
    assert view_link(page="build/map.html", actor="d4did:un-global-pulse", year=2013) == \
        "build/map.html#actor=un-global-pulse&year=2013"
    # Order and duplicates of the sets do not matter; values are percent-encoded like encodeURIComponent.
    assert view_link(path=("gates", "https://example.org/x y"), overlays=["recommended", "brokers", "brokers"],
                     hide_sectors=["media", "civil-society"], hide_types=["Media coverage"], all_ties=True) == (
        "map.html#path=gates,https%3A%2F%2Fexample.org%2Fx%20y&overlay=brokers,recommended"
        "&hide-sectors=civil-society,media&hide-types=Media%20coverage&ties=all")
    assert view_link(tie=ID + "f-gates-pulse") == "map.html#tie=f-gates-pulse"
    with pytest.raises(D4DError, match="no overlay 'heat'"):
        view_link(overlays=["heat"])


def test_isolates_are_listed_not_laid_out_and_labels_rank_by_centrality() -> None:
    G = ecosystem()
    G.add_node(ID + "alone", label="Alone", kind="NGO", sectors=[], facts=[])
    G.add_edge(ID + "alone", ID + "alone", key="self", type="Support")  # a tie to itself is no tie
    data = blocks(render_map(G, metrics=metrics()))
    alone = by_label(data["nodes"], "Alone")
    assert alone["isolate"] and alone["group"] == -1
    assert [n["label"] for n in data["nodes"] if n["isolate"]] == ["Alone"]
    # Rank: betweenness first (Global Pulse 0.6, DataKind 0.5, Rockefeller 0.2), then ties.
    ranked = [n["label"] for n in sorted(data["nodes"], key=lambda n: n["rank"])]
    assert ranked[:3] == ["UN Global Pulse", "DataKind", "Rockefeller Foundation"]
    # Then by ties: one each, in IRI order (.../gates, .../hostile, .../jane-doe, .../lab); Alone last.
    assert ranked[3:] == ["Bill & Melinda Gates Foundation", XSS_LABEL, "Jane Doe", "Data Lab", "Alone"]


def test_every_measure_the_analysis_gives_has_words() -> None:
    from d4d.analyse import analyse

    result = json.loads(json.dumps(analyse(ecosystem()), default=str))
    numeric = {k for record in result["actors"].values() for k, v in record.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "community"}
    meta = blocks(render_map(ecosystem(), metrics=result))["meta"]
    explained = {m["key"] for m in meta["measures"]}
    assert numeric and numeric <= explained
    assert all(m["label"] and m["explain"].endswith(".") for m in meta["measures"])
    # The panel gets only measures it can explain.
    assert all(set(d["metrics"]) <= explained for d in meta["details"])
