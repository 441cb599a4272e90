"""Small hand-made ecosystem graphs for the analytics tests, with answers worked out by hand in
the tests that use them."""

from __future__ import annotations

import random

import networkx as nx

SECTORS = {"A": {"label": "Sector A", "color": "#aa0000"},
           "B": {"label": "Sector B", "color": "#00aa00"},
           "C": {"label": "Sector C", "color": "#0000aa"}}


def ecosystem(nodes: dict[str, str], edges: list[tuple[str, str, dict]] | None = None
              ) -> nx.MultiDiGraph:
    """A contract-shaped MultiDiGraph: ``nodes`` maps id -> sector ("none" for a person)."""
    G = nx.MultiDiGraph()
    G.graph["sectors"] = dict(SECTORS)
    for v, sector in nodes.items():
        person = sector == "none"
        G.add_node(v, label=v.upper(), kind="Person" if person else "NGO",
                   actor_type="Person" if person else "Organization",
                   sectors=[] if person else [sector], sector=sector, founded=None)
    for i, (u, v, attrs) in enumerate(edges or []):
        data = {"type": "Funding", "directed": True, "year": None, "end_year": None,
                "weight": 1.0, "fact": f"f{i}", **attrs}
        G.add_edge(u, v, key=data["fact"], **data)
    return G


def three_sectors() -> nx.MultiDiGraph:
    """Sectors A = {a1, a2, a3}, B = {b1, b2}, C = {c1}; seven ties (a1-a2 carried by two
    relationships):

        a1-a2, a2-a3, a1-a3   (within A)      b1-b2 (within B)
        a1-b1, a3-b2          (A-B)           b2-c1 (B-C)
    """
    nodes = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "c1": "C"}
    edges = [("a1", "a2", {}), ("a2", "a1", {"type": "Partnership", "directed": False}),
             ("a2", "a3", {}), ("a1", "a3", {}), ("b1", "b2", {}), ("a1", "b1", {}),
             ("a3", "b2", {}), ("b2", "c1", {})]
    return ecosystem(nodes, edges)


def random_ecosystem(n: int, m: int, *, seed: int, sectors: str = "ABC", people: float = 0.1,
                     directed_share: float = 0.8) -> nx.MultiDiGraph:
    """A random contract-shaped graph with parallel relationships, people and years."""
    rng = random.Random(seed)
    nodes = {f"n{i:03d}": ("none" if rng.random() < people else rng.choice(sectors))
             for i in range(n)}
    names = list(nodes)
    edges = []
    for _ in range(m):
        u, v = rng.sample(names, 2)
        edges.append((u, v, {"directed": rng.random() < directed_share,
                             "type": rng.choice(["Funding", "Partnership", "Support"]),
                             "year": rng.choice([None, 2000, 2005, 2010, 2015])}))
    return ecosystem(nodes, edges)
