"""Time: the graph as it stood in a year, and the series, on a hand-made timeline.

The timeline (answers worked by hand from the rule of d4d.field.lifespans):

    a  founded 1990                       b  founded 2000, dissolved 2008
    c  no founding date (first seen 2005) d  founded 2009
    p  a person with no dated relationship: stands in every year

    f0  a-b  2000 (open)    -> stands 2000..2008 (b dissolves in 2008)
    f1  a-c  2005..2008     -> 2005..2008
    f2  b-d  undated        -> from 2009 (d) to 2008 (b): never
    f3  a-d  undated        -> from 2009
    f4  c-p  undated        -> from 2005 (c first seen)
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from analyse_graphs import ecosystem, random_ecosystem
from d4d.analyse import Network, analyse, ei_index, global_efficiency, graph_at, network_at, series
from d4d.analyse.temporal import series_years, undated_counts
from d4d.field import annotate


def _timeline() -> nx.MultiDiGraph:
    G = ecosystem({"a": "A", "b": "B", "c": "A", "d": "B", "p": "none"},
                  [("a", "b", {"year": 2000}),
                   ("a", "c", {"year": 2005, "end_year": 2008}),
                   ("b", "d", {}),
                   ("a", "d", {}),
                   ("c", "p", {"type": "Membership"})])
    G.nodes["a"]["founded"] = 1990
    G.nodes["b"].update(founded=2000, dissolved=2008)
    G.nodes["d"]["founded"] = 2009
    return G


@pytest.mark.parametrize(("year", "actors", "facts"), [
    (1995, ["a", "p"], []),
    (2003, ["a", "b", "p"], ["f0"]),
    (2006, ["a", "b", "c", "p"], ["f0", "f1", "f4"]),
    (2009, ["a", "c", "d", "p"], ["f3", "f4"]),
])
def test_graph_at_follows_the_rule(year: int, actors: list[str], facts: list[str]) -> None:
    H = graph_at(_timeline(), year)
    assert sorted(H.nodes) == actors
    assert sorted(d["fact"] for _, _, d in H.edges(data=True)) == facts
    net = network_at(_timeline(), year)
    assert net.nodes == actors and net.relationships == len(facts)


def test_the_map_gets_the_same_years() -> None:
    G = _timeline()
    annotate(G)
    spans = {v: (G.nodes[v]["from"], G.nodes[v]["to"]) for v in G}
    assert spans == {"a": (1990, None), "b": (2000, 2008), "c": (2005, None), "d": (2009, None),
                     "p": (None, None)}
    edges = {d["fact"]: (d["from"], d["to"]) for _, _, d in G.edges(data=True)}
    assert edges == {"f0": (2000, 2008), "f1": (2005, 2008), "f2": (2009, 2008),
                     "f3": (2009, None), "f4": (2005, None)}
    # in any year the map shows what the analysis measures
    for year in range(1985, 2012):
        shown = {v for v, (lo, hi) in spans.items()
                 if (lo is None or lo <= year) and (hi is None or hi >= year)}
        assert shown == set(network_at(G, year).nodes), year


def test_undated_counts() -> None:
    assert undated_counts(_timeline()) == {"relationships": 3, "relationships_always": 0,
                                           "actors_always": 1}


def test_series_covers_every_year_of_the_dated_facts() -> None:
    G = _timeline()
    assert series_years(G) == list(range(1990, 2010))
    s = series(G)
    assert s["years"] == list(range(1990, 2010))
    at = dict(zip(s["years"], zip(s["actors"], s["relationships"])))
    assert at[1995] == (2, 0) and at[2003] == (3, 1) and at[2006] == (4, 3) and at[2009] == (4, 2)
    assert s["undated"] == undated_counts(G)
    for i, y in enumerate(s["years"]):
        H = graph_at(G, y)
        assert s["efficiency"][i] == pytest.approx(global_efficiency(H)["value"])
        expected = ei_index(H)["value"] if H.number_of_edges() else None
        if expected is None:
            assert s["ei_index"][i] is None or math.isfinite(s["ei_index"][i])
        else:
            assert s["ei_index"][i] == pytest.approx(expected)


def test_year_option_of_analyse_uses_the_rule() -> None:
    m = analyse(_timeline(), year=2009, by_year=False)
    assert m["summary"]["actors"] == 4 and m["summary"]["relationships"] == 2
    assert m["meta"]["undated"] == {"relationships": 2, "relationships_always": 0, "actors_always": 1}


@pytest.mark.parametrize("year", [1999, 2001, 2006, 2012])
def test_network_at_equals_the_network_of_graph_at(year: int) -> None:
    G = random_ecosystem(50, 140, seed=year)
    for v in list(G)[:10]:
        G.nodes[v]["founded"] = 2003
    fast = network_at(G, year)
    slow = Network(graph_at(G, year))
    assert fast.nodes == slow.nodes
    assert fast.relationships == slow.relationships
    assert fast.tie_u.tolist() == slow.tie_u.tolist() and fast.tie_v.tolist() == slow.tie_v.tolist()
    assert fast.tie_count.tolist() == slow.tie_count.tolist()
    # organisations keep their own shares; people keep the shares inherited on the whole network
    full = Network(G)
    for i, v in enumerate(fast.nodes):
        assert np.allclose(fast.member[i], full.member[full.index[v]])
