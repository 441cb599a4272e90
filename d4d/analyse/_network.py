"""The prepared form of an ecosystem network that every measure works on.

The network contract (``d4d.network.project``) gives a ``networkx.MultiDiGraph``: one edge per
relationship fact, some directed, some not.  Most measures need something simpler, so the graph is
collapsed once, explicitly, into integer arrays:

* **ties** -- the undirected simple graph: two actors are tied when at least one relationship of
  any type joins them, in either direction.  ``tie_count`` keeps how many relationships each tie
  collapses (used as tie strength by Burt's constraint only).  Self-loops are dropped.
* **arcs** -- the directed simple graph used by Gould--Fernandez brokerage: ``a -> b`` when some
  directed relationship runs from ``a`` to ``b``; an undirected relationship (Partnership) gives
  both arcs.
* **sector shares** -- ``member[i, g]``, actor i's share of sector ``groups[g]``, by the one rule
  of :func:`d4d.field.sector_weights`: an equal share of each of the actor's own sectors; an actor
  without one (a person) either *inherits* the mean share of the actors its relationships lead to
  (computed once, on the whole network, so a person keeps its shares in every year) or is
  *excluded* (all shares 0).  Sector measures count a tie between u and v as the product of their
  shares: ``member[u, g] * member[v, h]`` of it joins sector g to sector h.
* **years** -- when each actor and relationship stands, by :func:`d4d.field.lifespans`.

Nodes are indexed in sorted IRI order, so results never depend on the order the graph was built in.
This module is internal: the public functions accept either a networkx graph or a
:class:`Network` (to reuse one collapse across many measures).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import networkx as nx
import numpy as np

from d4d.field import as_year, lifespans, own_sectors, sector_weights

if TYPE_CHECKING:  # pragma: no cover
    import igraph as ig

Backend: TypeAlias = Literal["auto", "networkx", "igraph"]
Unassigned: TypeAlias = Literal["inherit", "exclude"]

#: With ``backend="auto"``, communities are found by networkx's Louvain up to this many actors
#: and by igraph's Leiden above it.
LOUVAIN_MAX_NODES = 2000

NO_SECTOR = "none"


class Network:
    """An ecosystem graph collapsed into arrays (see the module docstring).

    Parameters
    ----------
    G:
        A networkx graph following the network contract (any of Graph, DiGraph, MultiGraph,
        MultiDiGraph).  Missing attributes take defaults: the sectors from ``sectors``, else
        ``sector``, else none; ``label`` the IRI; ``year``/``end_year``/``founded``/``dissolved``
        unknown; an edge without a ``directed`` attribute is directed when ``G`` is.
    unassigned:
        How actors without a sector count in sector measures: ``"inherit"`` or ``"exclude"``.
    """

    def __init__(self, G: nx.Graph, *, unassigned: Unassigned = "inherit") -> None:
        if unassigned not in ("inherit", "exclude"):
            raise ValueError(f"unassigned must be 'inherit' or 'exclude', not {unassigned!r}")
        # node keys are IRIs (str); other keys are named by their str() form
        entries = sorted(((str(v), attrs) for v, attrs in G.nodes(data=True)), key=lambda e: e[0])
        nodes = [iri for iri, _ in entries]
        if len(set(nodes)) != len(nodes):
            raise ValueError("two nodes of the graph have the same name as text")
        index = {v: i for i, v in enumerate(nodes)}
        label, kind, actor_type, sectors, founded, dissolved = [], [], [], [], [], []
        for iri, attrs in entries:
            label.append(str(attrs.get("label") or iri))
            kind.append(str(attrs.get("kind") or ""))
            actor_type.append(str(attrs.get("actor_type") or ""))
            sectors.append(own_sectors(attrs))
            founded.append(as_year(attrs.get("founded")))
            dissolved.append(as_year(attrs.get("dissolved")))
        default_directed = G.is_directed()
        src: list[int] = []
        dst: list[int] = []
        directed: list[bool] = []
        year_list: list[float] = []
        end_list: list[float] = []
        types: list[str] = []
        for u, v, attrs in G.edges(data=True):
            src.append(index[str(u)])
            dst.append(index[str(v)])
            directed.append(bool(attrs.get("directed", default_directed)))
            year_list.append(as_year(attrs.get("year")))
            end_list.append(as_year(attrs.get("end_year")))
            types.append(str(attrs.get("type") or ""))
        type_names = sorted(set(types))
        type_code = {t: i for i, t in enumerate(type_names)}
        self._init(
            nodes=nodes,
            label=label,
            kind=kind,
            actor_type=actor_type,
            sectors=sectors,
            founded=np.array(founded, dtype=np.float64),
            dissolved=np.array(dissolved, dtype=np.float64),
            rel_src=np.array(src, dtype=np.int64),
            rel_dst=np.array(dst, dtype=np.int64),
            rel_directed=np.array(directed, dtype=bool),
            rel_year=np.array(year_list, dtype=np.float64),
            rel_end=np.array(end_list, dtype=np.float64),
            rel_type=np.array([type_code[t] for t in types], dtype=np.int32),
            type_names=type_names,
            graph_attrs=dict(G.graph),
            unassigned=unassigned,
        )

    # The real constructor: arrays in, derived structures out.  Used by __init__ and subset().
    def _init(self, *, nodes: list[str], label: list[str], kind: list[str], actor_type: list[str],
              sectors: list[tuple[str, ...]], founded: np.ndarray, dissolved: np.ndarray,
              rel_src: np.ndarray, rel_dst: np.ndarray,
              rel_directed: np.ndarray, rel_year: np.ndarray, rel_end: np.ndarray,
              rel_type: np.ndarray, type_names: list[str], graph_attrs: dict[str, Any],
              unassigned: Unassigned,
              ties: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
              shares: tuple[list[str], np.ndarray] | None = None,
              spans: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        self.nodes = nodes
        self.index = {v: i for i, v in enumerate(nodes)}
        self.n = len(nodes)
        self.label = label
        self.kind = kind
        self.actor_type = actor_type
        #: each actor's own sectors (sorted; empty for none)
        self.sectors = sectors
        self.founded = founded
        self.dissolved = dissolved
        self.rel_src = rel_src
        self.rel_dst = rel_dst
        self.rel_directed = rel_directed
        self.rel_year = rel_year
        self.rel_end = rel_end
        self.rel_type = rel_type
        self.type_names = type_names
        self.graph_attrs = graph_attrs
        self.unassigned = unassigned
        self.relationships = int(rel_src.size)
        self.memo: dict[str, Any] = {}  # results derived once per network (e.g. DFS pieces)
        if ties is None:
            n = max(self.n, 1)
            loop = rel_src == rel_dst
            a = np.minimum(rel_src, rel_dst)[~loop]
            b = np.maximum(rel_src, rel_dst)[~loop]
            keys, inverse, counts = np.unique(a * n + b, return_inverse=True, return_counts=True)
            rel_tie = np.full(rel_src.size, -1, dtype=np.int64)
            rel_tie[~loop] = inverse.ravel()
            ties = (keys // n, keys % n, counts, rel_tie)
        #: ends (u < v) and relationship count of each tie, sorted by (u, v)
        self.tie_u: np.ndarray = ties[0].astype(np.int64)
        self.tie_v: np.ndarray = ties[1].astype(np.int64)
        self.tie_count: np.ndarray = ties[2].astype(np.int64)
        #: the tie each relationship belongs to (-1: a self-loop)
        self.rel_tie: np.ndarray = ties[3]
        self.ties = int(self.tie_u.size)
        self.degree: np.ndarray = (np.bincount(self.tie_u, minlength=self.n)
                                   + np.bincount(self.tie_v, minlength=self.n)).astype(np.int64)
        if shares is None:
            shares = sector_weights(sectors, rel_src, rel_dst,
                                    order=list((graph_attrs.get("sectors") or {}).keys()),
                                    inherit=unassigned == "inherit")
        #: the sectors in report order, and each actor's share of each (rows sum to 1, or 0)
        self.groups: list[str] = shares[0]
        self.member: np.ndarray = shares[1]
        #: actors that count in sector measures (a share of some sector)
        self.grouped: np.ndarray = self.member.sum(axis=1) > 0
        if spans is None:
            spans = lifespans(founded, dissolved, rel_src, rel_dst, rel_year, rel_end)
        #: first and last year each actor and relationship stands (NaN: open), see d4d.field
        self.first, self.last, self.rel_first, self.rel_last = spans

    def shares(self, i: int) -> dict[str, float]:
        """Actor i's sector shares, ``{sector: share}`` for its nonzero shares, in sector order."""
        return {g: float(w) for g, w in zip(self.groups, self.member[i].tolist()) if w > 0}

    @classmethod
    def of(cls, G: nx.Graph | Network, *, unassigned: Unassigned = "inherit") -> Network:
        """``G`` itself when already prepared (with the same policy), else ``Network(G)``."""
        if isinstance(G, Network):
            if G.unassigned != unassigned:
                return G.subset(np.ones(G.n, dtype=bool), np.ones(G.relationships, dtype=bool),
                                unassigned=unassigned)
            return G
        return cls(G, unassigned=unassigned)

    def subset(self, keep_nodes: np.ndarray, keep_rels: np.ndarray, *,
               unassigned: Unassigned | None = None) -> Network:
        """A new network of the kept actors and relationships.  An actor in a kept relationship is
        kept too.  Sector shares and years are carried over (shares are worked out again only when
        ``unassigned`` changes)."""
        keep_nodes = keep_nodes.copy()
        keep_nodes[self.rel_src[keep_rels]] = True
        keep_nodes[self.rel_dst[keep_rels]] = True
        new_index = np.full(self.n, -1, dtype=np.int64)
        kept = np.flatnonzero(keep_nodes)
        new_index[kept] = np.arange(kept.size)
        # Ties with at least one kept relationship; renumbering is monotonic, so (u, v) order holds.
        rel_tie = self.rel_tie[keep_rels]
        counts = np.bincount(rel_tie[rel_tie >= 0], minlength=self.ties)
        tie_keep = counts > 0
        tie_new = np.cumsum(tie_keep) - 1
        ties = (new_index[self.tie_u[tie_keep]], new_index[self.tie_v[tie_keep]],
                counts[tie_keep], np.where(rel_tie >= 0, tie_new[np.clip(rel_tie, 0, None)], -1))
        pick = kept.tolist()
        net = Network.__new__(Network)
        net._init(
            nodes=[self.nodes[i] for i in pick], label=[self.label[i] for i in pick],
            kind=[self.kind[i] for i in pick], actor_type=[self.actor_type[i] for i in pick],
            sectors=[self.sectors[i] for i in pick], founded=self.founded[kept],
            dissolved=self.dissolved[kept],
            rel_src=new_index[self.rel_src[keep_rels]], rel_dst=new_index[self.rel_dst[keep_rels]],
            rel_directed=self.rel_directed[keep_rels], rel_year=self.rel_year[keep_rels],
            rel_end=self.rel_end[keep_rels], rel_type=self.rel_type[keep_rels],
            type_names=self.type_names, graph_attrs=self.graph_attrs,
            unassigned=unassigned or self.unassigned, ties=ties,
            shares=None if unassigned not in (None, self.unassigned) else (self.groups, self.member[kept]),
            spans=(self.first[kept], self.last[kept], self.rel_first[keep_rels], self.rel_last[keep_rels]),
        )
        return net

    # -- derived structures, built on first use -------------------------------------------------

    @cached_property
    def arcs(self) -> tuple[np.ndarray, np.ndarray]:
        """(sources, targets) of the arc graph, sorted by source then target."""
        n = max(self.n, 1)
        loop = self.rel_src == self.rel_dst
        d_src, d_dst = self.rel_src[~loop], self.rel_dst[~loop]
        undirected = ~self.rel_directed[~loop]
        keys = np.unique(np.concatenate([d_src * n + d_dst, d_dst[undirected] * n
                                         + d_src[undirected]]))
        return keys // n, keys % n

    @property
    def arc_src(self) -> np.ndarray:
        return self.arcs[0]

    @property
    def arc_dst(self) -> np.ndarray:
        return self.arcs[1]

    @cached_property
    def neighbours(self) -> list[list[int]]:
        """Sorted neighbour lists of the tie graph."""
        u = np.concatenate([self.tie_u, self.tie_v])
        v = np.concatenate([self.tie_v, self.tie_u])
        order = np.lexsort((v, u))
        u, v = u[order], v[order]
        bounds = np.searchsorted(u, np.arange(self.n + 1))
        flat = v.tolist()
        return [flat[bounds[i]:bounds[i + 1]] for i in range(self.n)]

    @cached_property
    def out_sets(self) -> list[set[int]]:
        """Successor sets of the arc graph."""
        out: list[set[int]] = [set() for _ in range(self.n)]
        for a, b in zip(self.arc_src.tolist(), self.arc_dst.tolist()):
            out[a].add(b)
        return out

    @cached_property
    def in_sets(self) -> list[set[int]]:
        """Predecessor sets of the arc graph."""
        into: list[set[int]] = [set() for _ in range(self.n)]
        for a, b in zip(self.arc_src.tolist(), self.arc_dst.tolist()):
            into[b].add(a)
        return into

    @cached_property
    def igraph(self) -> ig.Graph:
        """The tie graph as an undirected igraph ``Graph`` (vertex i = ``nodes[i]``), with edge
        attribute ``count``."""
        import igraph

        g = igraph.Graph(n=self.n, directed=False)
        if self.ties:
            g.add_edges(np.column_stack([self.tie_u, self.tie_v]))
            g.es["count"] = self.tie_count.tolist()
        return g

    @cached_property
    def igraph_arcs(self) -> ig.Graph:
        """The arc graph as a directed igraph ``Graph``."""
        import igraph

        g = igraph.Graph(n=self.n, directed=True)
        if self.arc_src.size:
            g.add_edges(np.column_stack([self.arc_src, self.arc_dst]))
        return g

    @cached_property
    def nx_ties(self) -> nx.Graph:
        """The tie graph as a networkx ``Graph`` on integer nodes, with edge attribute ``count``."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        g.add_weighted_edges_from(
            zip(self.tie_u.tolist(), self.tie_v.tolist(), self.tie_count.tolist()), weight="count")
        return g

    @cached_property
    def nx_arcs(self) -> nx.DiGraph:
        """The arc graph as a networkx ``DiGraph`` on integer nodes."""
        g = nx.DiGraph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(zip(self.arc_src.tolist(), self.arc_dst.tolist()))
        return g

    def resolve(self, backend: Backend) -> Literal["networkx", "igraph"]:
        """The backend ``"auto"`` stands for: igraph (compiled, and measured to agree with
        networkx; see the tests).  Communities make their own choice, see
        :func:`d4d.analyse.communities.communities`."""
        if backend == "auto":
            return "igraph"
        if backend not in ("networkx", "igraph"):
            raise ValueError(f"backend must be 'auto', 'networkx' or 'igraph', not {backend!r}")
        return backend

    def keyed(self, values: Sequence[Any] | np.ndarray) -> dict[str, Any]:
        """Values indexed like the nodes, as a dict keyed by IRI."""
        seq = values.tolist() if isinstance(values, np.ndarray) else values
        return dict(zip(self.nodes, seq))


def as_network(G: nx.Graph | Network, *, unassigned: Unassigned = "inherit") -> Network:
    """Prepare ``G`` (or pass a prepared :class:`Network` through)."""
    return Network.of(G, unassigned=unassigned)


def clean(x: float) -> float | None:
    """A float fit for JSON: NaN and infinities become ``None``."""
    x = float(x)
    return x if math.isfinite(x) else None


def sample_nodes(n: int, k: int, seed: int) -> list[int]:
    """``k`` distinct node indices out of ``n``, chosen reproducibly from ``seed`` (sorted)."""
    return sorted(random.Random(seed).sample(range(n), min(k, n)))


@contextmanager
def igraph_seed(seed: int) -> Iterator[None]:
    """Run igraph's randomised algorithms from a seeded generator, then restore its default."""
    import igraph as ig

    ig.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        ig.set_random_number_generator(random)


def hoeffding_bound(samples: int, *, confidence: float = 0.95, simultaneous: int = 1) -> float:
    """Half-width ``eps`` such that the mean of ``samples`` values in [0, 1], drawn without
    replacement, is within ``eps`` of the population mean with probability ``confidence``
    (for each of ``simultaneous`` quantities at once, by the union bound)."""
    if samples <= 0:
        return math.inf
    delta = (1.0 - confidence) / max(simultaneous, 1)
    return math.sqrt(math.log(2.0 / delta) / (2.0 * samples))


class Background:
    """Run ``fn(*args, **kwargs)`` in a forked child process while the caller goes on.

    The child inherits the parent's memory (the prepared network and its igraph graph), so
    nothing is pickled on the way in; the result comes back through a pipe.  Where ``fork`` is
    not available the call simply runs at once, in this process.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        import multiprocessing

        self._value: Any = None
        self._done = False
        self._process: Any = None
        try:
            ctx = multiprocessing.get_context("fork")
        except ValueError:
            self._value, self._done = fn(*args, **kwargs), True
            return
        receive, send = ctx.Pipe(duplex=False)

        def child() -> None:
            try:
                send.send(("ok", fn(*args, **kwargs)))
            except BaseException as exc:  # report any failure to the parent
                send.send(("error", f"{type(exc).__name__}: {exc}"))
            finally:
                send.close()

        self._receive = receive
        self._process = ctx.Process(target=child, daemon=True)
        self._process.start()
        send.close()

    def result(self) -> Any:
        """The value, waiting for the child if need be.

        Raises
        ------
        RuntimeError
            If the child failed or died.
        """
        if self._done:
            return self._value
        try:
            status, value = self._receive.recv()
        except EOFError:
            status, value = "error", "the worker process died"
        finally:
            self._receive.close()
            self._process.join()
        if status != "ok":
            raise RuntimeError(f"background computation failed: {value}")
        self._value, self._done = value, True
        return value
