"""A synthetic ecosystem following the network contract, for the benchmarks.

Actors: 90 % organisations in eight sectors (sizes uneven), 10 % people without a sector.
Relationships: ``per_actor`` per actor on average, of the contract's types; the target of a
relationship is in the source's sector with probability ``homophily`` and is chosen in proportion
to a degree-biased pool, so hubs emerge; start years 1990-2024, 10 % undated.
"""

from __future__ import annotations

import random

import networkx as nx

SECTORS = {
    "humanitarian": ("Humanitarian", "#d62728", 3),
    "development": ("Development", "#2ca02c", 3),
    "academia": ("Academia", "#1f77b4", 2),
    "technology": ("Technology", "#9467bd", 2),
    "philanthropy": ("Philanthropy", "#ff7f0e", 1),
    "media": ("Media", "#8c564b", 1),
    "government": ("Government", "#7f7f7f", 1),
    "civil-society": ("Civil society", "#17becf", 1),
}
KINDS = {
    "humanitarian": "NGO", "development": "InternationalOrganization", "academia": "University",
    "technology": "Company", "philanthropy": "Foundation", "media": "MediaOutlet",
    "government": "GovernmentBody", "civil-society": "NGO",
}
ORG_TYPES = [("Funding", True, 4), ("Partnership", False, 3), ("Support", True, 1),
             ("Founding", True, 1), ("SubOrganization", True, 1), ("MediaCoverage", True, 1),
             ("Incubation", True, 1)]
ID = "https://w3id.org/d4d/id/"


def synthetic_ecosystem(n: int, *, per_actor: float = 10.0, homophily: float = 0.7,
                        seed: int = 1) -> nx.MultiDiGraph:
    """A MultiDiGraph of ``n`` actors and about ``per_actor * n`` relationships."""
    rng = random.Random(seed)
    G = nx.MultiDiGraph()
    G.graph["sectors"] = {s: {"label": lab, "color": col} for s, (lab, col, _) in SECTORS.items()}
    G.graph["edge_types"] = {t: {"label": t, "color": "#333333", "dashes": False, "directed": d}
                             for t, d, _ in ORG_TYPES + [("Membership", True, 0)]}
    slugs = list(SECTORS)
    weights = [w for _, _, w in SECTORS.values()]
    orgs_by_sector: dict[str, list[str]] = {s: [] for s in slugs}
    orgs: list[str] = []
    people: list[str] = []
    founded: dict[str, int | None] = {}
    for i in range(n):
        iri = f"{ID}actor-{i}"
        if rng.random() < 0.1:
            G.add_node(iri, label=f"Person {i}", kind="Person", actor_type="Person", sectors=[],
                       sector="none", founded=None, description=None, url=None, facts=[])
            people.append(iri)
            founded[iri] = None
        else:
            s = rng.choices(slugs, weights)[0]
            year = rng.randint(1950, 2020)
            G.add_node(iri, label=f"Organisation {i}", kind=KINDS[s], actor_type="Organization",
                       sectors=[s], sector=s, founded=year, description=None, url=None, facts=[])
            orgs_by_sector[s].append(iri)
            orgs.append(iri)
            founded[iri] = year
    # degree-biased pools: every chosen target is appended again
    pools = {s: list(v) for s, v in orgs_by_sector.items() if v}
    everyone = list(orgs)
    types = [t for t, _, _ in ORG_TYPES]
    tweights = [w for _, _, w in ORG_TYPES]
    directed = {t: d for t, d, _ in ORG_TYPES}
    m = int(per_actor * n)
    actors = orgs + people
    for j in range(m):
        u = rng.choice(actors)
        if u in founded and founded[u] is None:  # a person: membership of an organisation
            kind, is_directed = "Membership", True
            v = rng.choice(everyone)
        else:
            kind = rng.choices(types, tweights)[0]
            is_directed = directed[kind]
            s = G.nodes[u]["sector"]
            pool = pools[s] if rng.random() < homophily and s in pools else everyone
            v = pool[rng.randrange(len(pool))]
            if len(pool) < 4 * n:
                pool.append(v)
        if u == v:
            continue
        start = max(founded.get(u) or 1990, founded.get(v) or 1990, 1990)
        year = None if rng.random() < 0.1 else rng.randint(min(start, 2024), 2024)
        amount = float(rng.randint(1, 500) * 10_000) if kind == "Funding" else None
        fact = f"{ID}fact-{j}"
        G.add_edge(u, v, key=fact, type=kind, label=kind, fact=fact, directed=is_directed,
                   amount=amount, currency="USD" if amount else None, year=year, end_year=None,
                   weight=1.0, sources=[], quote="")
    return G
