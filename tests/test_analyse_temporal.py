"""Time: the graph as it stood in a year, and the series."""

from __future__ import annotations

import networkx as nx
import pytest

from analyse_graphs import ecosystem, random_ecosystem
from d4d.analyse import Network, ei_index, global_efficiency, graph_at, network_at, series
from d4d.analyse.temporal import series_years


def _history() -> nx.MultiDiGraph:
    G = ecosystem({"a": "A", "b": "B", "c": "A", "d": "B"},
                  [("a", "b", {"year": 2000}),
                   ("a", "c", {"year": 2005, "end_year": 2008}),
                   ("c", "d", {"year": 2010}),
                   ("b", "d", {})])  # undated
    G.nodes["a"]["founded"] = 1990
    G.nodes["c"]["founded"] = 2004
    G.nodes["d"]["founded"] = 2009
    return G


def test_graph_at_keeps_what_stood_that_year() -> None:
    G = _history()
    # 2006: a-b (2000), a-c (2005-2008), b-d undated (kept); d is founded in 2009 but the
    # undated relationship involves it, so it stands too
    H = graph_at(G, 2006)
    assert sorted(H.nodes) == ["a", "b", "c", "d"]
    assert sorted(d["fact"] for _, _, d in H.edges(data=True)) == ["f0", "f1", "f3"]
    # 2009: a-c ended in 2008
    assert sorted(d["fact"] for _, _, d in graph_at(G, 2009).edges(data=True)) == ["f0", "f3"]
    # dropping undated relationships: in 2003 only a-b, and c, d are not founded yet
    H = graph_at(G, 2003, undated="drop")
    assert sorted(H.nodes) == ["a", "b"] and H.number_of_edges() == 1
    assert H.graph["sectors"] == G.graph["sectors"]
    with pytest.raises(ValueError):
        graph_at(G, 2003, undated="guess")  # type: ignore[arg-type]


@pytest.mark.parametrize("year", [1999, 2001, 2006, 2012])
@pytest.mark.parametrize("undated", ["keep", "drop"])
def test_network_at_equals_the_network_of_graph_at(year: int, undated: str) -> None:
    G = random_ecosystem(50, 140, seed=year)
    for v in list(G)[:10]:
        G.nodes[v]["founded"] = 2003
    fast = network_at(G, year, undated=undated)  # type: ignore[arg-type]
    slow = Network(graph_at(G, year, undated=undated))  # type: ignore[arg-type]
    assert fast.nodes == slow.nodes
    assert fast.relationships == slow.relationships
    assert fast.tie_u.tolist() == slow.tie_u.tolist() and fast.tie_v.tolist() == slow.tie_v.tolist()
    assert fast.tie_count.tolist() == slow.tie_count.tolist()
    assert fast.group == slow.group


def test_series_years_and_values() -> None:
    G = _history()
    assert series_years(G) == list(range(2000, 2011))
    s = series(G, years=[2000, 2006, 2010])
    assert s["years"] == [2000, 2006, 2010]
    assert s["actors"] == [3, 4, 4]  # 2000: a, b and d (undated b-d); c founded 2004
    assert s["relationships"] == [2, 3, 3]
    assert s["undated"] == "keep" and s["undated_relationships"] == 1
    for i, y in enumerate(s["years"]):
        H = graph_at(G, y)
        assert s["ei_index"][i] == ei_index(H)["value"]
        assert s["efficiency"][i] == pytest.approx(global_efficiency(H)["value"])
    dropped = series(G, years=[2000], undated="drop")
    assert dropped["relationships"] == [1] and dropped["actors"] == [2]
