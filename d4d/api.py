"""The public Python API: build the graph, open a build, query, analyse, map and export it.

``import d4d`` gives these verbs (see the README's notebook session)::

    >>> import d4d
    >>> result = d4d.build(project)                             # doctest: +SKIP
    >>> graph = d4d.open(project / "build")                     # doctest: +SKIP
    >>> rows = graph.query("funding")                           # doctest: +SKIP

Everything else lives in the module of its stage.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import pyoxigraph as ox

if TYPE_CHECKING:
    import networkx as nx
    import rdflib

    from d4d.pipeline import BuildResult

_XSD = "http://www.w3.org/2001/XMLSchema#"


def build(project: str | Path = ".", *, out: str | Path | None = None, reasoner: bool = True,
          extras: bool = True) -> BuildResult:
    """Build the knowledge graph of ``project`` (its ``ontology/``, ``graph/`` and ``imports.yaml``).

    The same build as ``d4d build``: writes the store, ``ecosystem.ttl``, ``ecosystem.jsonld``,
    ``metrics.json``, ``report.html`` and ``map.html`` into ``out`` (default ``project/build``) and
    returns what it did (counts, timings, files).

    Raises
    ------
    d4d.errors.D4DError
        A fact, a source, a shape, the reasoner or the store fails (the message names the file and
        record); the build folder is left as it was.
    """
    from d4d.pipeline import build as run_build
    return run_build(project, out=out, reasoner=reasoner, extras=extras)


def open(path: str | Path = "build") -> Ecosystem:  # noqa: A001 - the verb a notebook expects
    """Open a built graph (a build folder or its ``store``) for reading.

    Raises
    ------
    d4d.errors.StoreError
        There is no built store at ``path``.
    """
    from d4d.store import find_store
    return Ecosystem(find_store(path))


class Rows(Sequence[dict[str, Any]]):
    """The rows of a SELECT query: a list of dicts, variable -> Python value (None when unbound).

    Read them as often as you like; ``variables`` keeps the query's column order.
    """

    def __init__(self, variables: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        self.variables: tuple[str, ...] = tuple(variables)
        self._rows = tuple(rows)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | Sequence[dict[str, Any]]:
        if isinstance(index, slice):
            return list(self._rows[index])
        return self._rows[index]

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows)

    def __repr__(self) -> str:
        return f"<Rows: {len(self)} rows of {', '.join(self.variables)}>"

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame, one column per variable (pandas must be installed)."""
        try:
            import pandas
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("Rows.to_pandas needs pandas: pip install pandas") from error
        return pandas.DataFrame(list(self._rows), columns=list(self.variables))


def python_value(term: Any) -> Any:
    """The Python value of a pyoxigraph term: an IRI's text, ``_:id`` for a blank node, a literal
    as int, Decimal, float, bool, date or datetime by its datatype (a year as int), else its text.

    >>> python_value(ox.Literal("2013", datatype=ox.NamedNode(_XSD + "gYear")))
    2013
    >>> python_value(ox.Literal("1.5", datatype=ox.NamedNode(_XSD + "decimal")))
    Decimal('1.5')
    >>> python_value(ox.NamedNode("https://w3id.org/d4d/id/datakind"))
    'https://w3id.org/d4d/id/datakind'
    """
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype == _XSD + "gYear":
            try:
                return int(term.value)
            except ValueError:
                return term.value
        import rdflib
        value = rdflib.Literal(term.value, lang=term.language,
                               datatype=None if term.language else datatype).toPython()
        return str(value) if isinstance(value, rdflib.Literal) else value
    return str(term)


class Ecosystem:
    """A built graph, opened read-only: query it, project its network, analyse, map and export it.

    Get one from :func:`d4d.open`. Each call opens the store for the time it needs, so a handle
    stays valid across rebuilds and never holds the store's lock.
    """

    def __init__(self, store_dir: Path) -> None:
        self.path = Path(store_dir)

    def __repr__(self) -> str:
        return f"<d4d.Ecosystem {self.path}>"

    def _store(self) -> ox.Store:
        from d4d.store import open_store
        return open_store(self.path)

    def query(self, name_or_text: str, **params: Any) -> Rows | bool | rdflib.Graph:
        """Run a catalogue query (by name, see ``d4d queries``), a ``.rq`` file or SPARQL text.

        ``params`` are the query's parameters (``actor="d4did:datakind"``); values may be text or
        plain Python values. Returns :class:`Rows` for SELECT, a bool for ASK, an ``rdflib.Graph``
        for CONSTRUCT and DESCRIBE.

        Raises
        ------
        d4d.errors.QueryError
            An unknown query, a syntax error (with its line and column) or a bad parameter.
        """
        from d4d.sparql import resolve_query, run_query
        # a name or a path has no blank and no brace; query text always has
        is_text = any(c.isspace() or c == "{" for c in name_or_text.strip())
        query = resolve_query(name_or_text, text=is_text)
        given = {key: _param_text(value) for key, value in params.items()}
        result = run_query(query, store=self._store(), params=given)
        if result.form == "SELECT":
            rows = [{name: python_value(term) for name, term in row.items()} for row in result.rows()]
            return Rows(result.variables, rows)
        if result.form == "ASK":
            return bool(result.boolean)
        return _rdflib_graph(result.triples or [])

    def network(self, *, facts: bool = True) -> nx.MultiDiGraph:
        """The network of actors (a networkx MultiDiGraph, one edge per relationship fact)."""
        from d4d.export import network
        return network(self._store(), facts=facts)

    def analyse(self, **options: Any) -> dict[str, Any]:
        """Every fragmentation measure of the network (``d4d.analyse.analyse``'s keyword options:
        ``year``, ``seed``, ``by_year``, ...), as one JSON-serialisable dict."""
        from d4d.analyse import analyse
        return analyse(self.network(), **options)

    def map(self, path: str | Path, *, actor: str | None = None, depth: int = 1, **options: Any) -> Path:
        """Write an interactive map of the network (or of ``actor``'s neighbourhood to ``depth``
        steps, ``actor`` as IRI, slug or name) to ``path``; return the path."""
        from d4d.maps import ego_graph, resolve_actor, write_map
        G = self.network()
        if actor is not None:
            G = ego_graph(G, resolve_actor(G, actor), depth=depth)
        return write_map(G, path, **options)

    def export(self, format: str, path: str | Path | None = None, **options: Any) -> bytes | Path:
        """The graph in ``format`` (turtle, ntriples, nquads, trig, jsonld, rdfxml, graphml, gexf,
        csv, cytoscape, nodelink): the bytes, or written to ``path`` (then the path)."""
        from d4d.export import export
        data = export(self._store(), format, **options)
        if path is None:
            return data
        from d4d.io import write_bytes_atomic
        return write_bytes_atomic(path, data)


def _param_text(value: Any) -> str:
    """A parameter value as the text ``d4d query -p`` takes (an IRI, a number, a string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rdflib_graph(triples: Sequence[ox.Triple]) -> rdflib.Graph:
    import rdflib
    graph = rdflib.Graph()
    data = "".join(f"{t} .\n" for t in triples)
    graph.parse(data=data, format="nt")
    return graph


__all__ = ["Ecosystem", "Rows", "build", "open", "python_value"]
