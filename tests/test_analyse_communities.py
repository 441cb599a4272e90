"""Communities: seeded, reproducible, aligned with sectors; NMI and ARI checked by hand."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from analyse_graphs import ecosystem
from d4d.analyse import communities, partition_agreement


def _two_cliques(sector_of_second: str = "B") -> nx.MultiDiGraph:
    left = [f"l{i}" for i in range(5)]
    right = [f"r{i}" for i in range(5)]
    nodes = {**{v: "A" for v in left}, **{v: sector_of_second for v in right}}
    edges = [(u, v, {}) for group in (left, right) for i, u in enumerate(group)
             for v in group[i + 1:]]
    edges.append(("l0", "r0", {}))
    return ecosystem(nodes, edges)


@pytest.mark.parametrize("backend", ["networkx", "igraph"])
def test_two_cliques_are_two_communities_matching_the_sectors(backend: str) -> None:
    result = communities(_two_cliques(), seed=1, backend=backend)  # type: ignore[arg-type]
    assert result["method"] == ("louvain" if backend == "networkx" else "leiden")
    assert result["count"] == 2 and result["sizes"] == [5, 5]
    members = result["membership"]
    assert len({members[f"l{i}"] for i in range(5)}) == 1
    assert members["l0"] != members["r0"]
    # m = 21; each community has 10 internal ties and degree sum 21: 2 * (10/21 - 1/4)
    assert result["modularity"] == pytest.approx(2 * (10 / 21 - 0.25))
    assert result["alignment"] == {"nmi": 1.0, "ari": 1.0}
    assert {c["sector"] for c in result["composition"]} == {"A", "B"}
    assert all(c["share"] == 1.0 for c in result["composition"])


def test_same_sector_everywhere_gives_no_alignment() -> None:
    result = communities(_two_cliques("A"), seed=1)
    # two communities against one sector: mutual information 0, H(sectors) = 0
    assert result["alignment"]["ari"] == 0.0
    assert result["alignment"]["nmi"] == 0.0


def test_seeded_runs_are_identical() -> None:
    G = nx.relabel_nodes(nx.les_miserables_graph(), str)
    nx.set_node_attributes(G, "A", "sector")
    for backend in ("networkx", "igraph"):
        first = communities(G, seed=7, backend=backend)  # type: ignore[arg-type]
        assert communities(G, seed=7, backend=backend) == first  # type: ignore[arg-type]


def test_partition_agreement_by_hand() -> None:
    # contingency [[2, 1, 0], [0, 1, 2]]: index 2; row pairs 6; column pairs 3; 15 pairs
    # ARI = (2 - 6*3/15) / ((6 + 3)/2 - 6*3/15) = 0.8 / 3.3
    # I = 2/3 ln 2; H = ln 2 and ln 3: NMI = (4/3 ln 2) / (ln 2 + ln 3)
    got = partition_agreement([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])
    assert got["ari"] == pytest.approx(0.8 / 3.3)
    assert got["nmi"] == pytest.approx((4 / 3 * math.log(2)) / (math.log(2) + math.log(3)))
    with pytest.raises(ValueError):
        partition_agreement([0], [0, 1])
