"""The store stage: the built graph in a persistent pyoxigraph store on disk.

Each build has its store, ``build/store`` (a RocksDB directory managed by pyoxigraph): a new one,
or a copy of the previous build's (a checkpoint of hard links) updated in place (see
:mod:`d4d.assemble`); every later query opens that directory instead of re-running the build. Queries
go to pyoxigraph directly: on the same graph its SPARQL engine answers one to two orders of
magnitude faster than rdflib's (see ``bench/RESULTS-sparql.md``).

The named graphs say where each asserted triple comes from (``graph/ontology``, ``graph/facts``,
``graph/source/<name>``, ``graph/metrics``); the **default graph** of a built store holds every
triple of them once (their RDF merge) and the inferences of the rules. An inference is kept there
only: it is a triple of the default graph that no named graph holds (a named copy of them would add
a third to the quads a build writes, and named quads are the slowest kind to write). Queries read
the default graph: that is what a SPARQL client expects of an endpoint, a triple asserted by two
sources is one triple, and the engine answers as fast as on a store holding nothing else
(pyoxigraph's union of named graphs neither merges duplicates nor runs at the speed of one graph:
1.3-2x slower on the catalogue's aggregates).
:func:`query_options` tells how to read a store as one graph; :func:`mirror_graph` adds a named
graph to the merge.

A store is made in its build's own folder, which becomes the current build only once it is complete
(see :mod:`d4d.pipeline`), so a failed build never leaves a half-loaded store behind, and a reader
never sees one.

>>> from pathlib import Path
>>> import tempfile
>>> tmp = Path(tempfile.mkdtemp())
>>> _ = (tmp / "g.ttl").write_text('<https://example.org/a> <https://example.org/p> "1" .')
>>> write_store(tmp / "store", [tmp / "g.ttl"])["quads"]
1
>>> store = open_store(tmp / "store")
>>> [str(s["o"]) for s in store.query("SELECT ?o WHERE { ?s ?p ?o }")]
['"1"']
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, Union

import pyoxigraph as ox
import rdflib

from d4d.errors import StoreError
from d4d.limits import PERSIST_THREADS

#: Name of the store directory inside a build directory.
STORE_DIRNAME = "store"

#: What can be loaded into a store: a file path, serialised bytes, or an rdflib graph/dataset.
RdfSource = Union[str, Path, bytes, rdflib.Graph]

#: A source together with the named graph it goes into (``None``: the default graph).
GraphSource = Union[RdfSource, tuple[RdfSource, Union[str, None]]]

_MARKER = "d4d-store.txt"


def store_path(build_dir: str | Path) -> Path:
    """The store directory of a build directory (``<build_dir>/store``)."""
    return Path(build_dir) / STORE_DIRNAME


#: Format names accepted besides file extensions and media types.
FORMAT_NAMES = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
                "nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "rdfxml": ox.RdfFormat.RDF_XML,
                "jsonld": ox.RdfFormat.JSON_LD, "n3": ox.RdfFormat.N3}


def _rdf_format(path: Path | None, format: str | None) -> ox.RdfFormat:
    if format is not None:
        for candidate in (FORMAT_NAMES.get(format.lower()), ox.RdfFormat.from_extension(format),
                          ox.RdfFormat.from_media_type(format)):
            if candidate is not None:
                return candidate
        raise StoreError(f"unknown RDF format {format!r}", path=path)
    if path is None:
        raise StoreError("loading bytes needs format=")
    suffix = path.suffix.lstrip(".").lower()
    guessed = ox.RdfFormat.from_extension(suffix) if suffix else None
    if guessed is None:
        raise StoreError(f"cannot tell the RDF format from the extension {path.suffix!r}; pass format=",
                         path=path)
    return guessed


def load_into(store: ox.Store, source: RdfSource, *, graph: str | None = None,
              format: str | None = None, base_iri: str | None = None) -> None:
    """Bulk-load one RDF source into an open, writable store.

    Parameters
    ----------
    store:
        A read-write :class:`pyoxigraph.Store`.
    source:
        A file path (format guessed from the extension unless ``format`` is given), serialised
        ``bytes`` (``format`` required), or an :class:`rdflib.Graph`; an
        :class:`rdflib.Dataset` / ``ConjunctiveGraph`` keeps its named graphs.
    graph:
        IRI of the named graph to load triples into; ``None`` loads into the default graph.
        Quads formats (N-Quads, TriG, rdflib datasets) keep their own graph names.
    format:
        A name of :data:`FORMAT_NAMES` (``"turtle"``), a file extension (``"ttl"``, ``"nt"``)
        or a media type (``"text/turtle"``).
    base_iri:
        Base IRI to resolve relative IRIs against.

    Raises
    ------
    StoreError
        The file is missing or unreadable, the format is unknown, or the data is malformed
        (the message names the file and, where the parser says, the line).
    """
    to_graph = ox.NamedNode(graph) if graph is not None else None
    where: Path | None = None
    try:
        if isinstance(source, rdflib.Graph):
            # N-Triples / N-Quads are the cheapest text for rdflib to write and pyoxigraph to read.
            if isinstance(source, rdflib.ConjunctiveGraph):
                data = source.serialize(format="nquads", encoding="utf-8")
                store.bulk_load(input=data, format=ox.RdfFormat.N_QUADS, base_iri=base_iri)
            else:
                data = source.serialize(format="nt", encoding="utf-8")
                store.bulk_load(input=data, format=ox.RdfFormat.N_TRIPLES, base_iri=base_iri,
                                to_graph=to_graph)
        elif isinstance(source, bytes):
            store.bulk_load(input=source, format=_rdf_format(None, format), base_iri=base_iri,
                            to_graph=to_graph)
        else:
            where = Path(source)
            if not where.is_file():
                raise StoreError("no such RDF file", path=where)
            store.bulk_load(path=str(where), format=_rdf_format(where, format), base_iri=base_iri,
                            to_graph=to_graph)
    except SyntaxError as error:
        raise StoreError(f"malformed RDF: {error}", path=where) from error
    except (OSError, ValueError) as error:
        raise StoreError(f"cannot load RDF: {error}", path=where) from error


def write_store(path: str | Path, sources: Sequence[GraphSource], *,
                format: str | None = None, merge: bool = False) -> dict[str, int]:
    """Create (or replace) the on-disk store at ``path`` holding exactly ``sources``.

    The store is written into a fresh directory beside ``path`` and moved into place only when
    every source has loaded, so ``path`` never holds a partial store.

    Parameters
    ----------
    path:
        The store directory, usually :func:`store_path` of the build directory.
    sources:
        Each item is an :data:`RdfSource` (loaded into the default graph) or a pair
        ``(source, graph_iri)``.
    format:
        Format of every source given as a path without a telling extension or as bytes.
    merge:
        Also fill the default graph with every triple of the named graphs, as ``d4d build`` leaves
        its store (see :func:`mirror_graph`).

    Returns
    -------
    dict
        ``{"quads": total quads, "graphs": named graphs}``.

    Raises
    ------
    StoreError
        A source cannot be loaded, or the directory cannot be written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        store = ox.Store(str(staging))
        to_mirror: list[str] = []
        for item in sources:
            source, graph = item if isinstance(item, tuple) else (item, None)
            load_into(store, source, graph=graph, format=format)
            if merge and graph is not None:
                if _plain_ntriples(source, format):
                    load_into(store, source, format=format)  # read again: cheaper than a dump of the graph
                else:
                    to_mirror.append(graph)
        for graph in sorted(set(to_mirror)):
            mirror_graph(store, graph)
        store.flush()
        store.optimize()
        stats = {"quads": len(store), "graphs": sum(1 for _ in store.named_graphs())}
        del store  # closes RocksDB before the directory moves
        (staging / _MARKER).write_text("pyoxigraph store written by d4d\n", encoding="utf-8")
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return stats


def _plain_ntriples(source: RdfSource, format: str | None) -> bool:
    """Is ``source`` an N-Triples file without blank nodes (which a second load would label anew)?"""
    if not isinstance(source, (str, Path)):
        return False
    path = Path(source)
    if _rdf_format(path, format) != ox.RdfFormat.N_TRIPLES:
        return False
    with open(path, "rb") as handle:
        tail = b""
        for block in iter(lambda: handle.read(1 << 24), b""):
            if b"_:" in tail + block:
                return False
            tail = block[-1:]
    return True


def _swap_into_place(staging: Path, target: Path) -> None:
    # A directory cannot replace a non-empty directory in one rename: move the old one aside
    # first, so the window without a store is two renames long and never shows a partial one.
    old: Path | None = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def find_store(path: str | Path) -> Path:
    """The store directory at ``path``, or in ``path/store`` when ``path`` is a build directory.

    Raises
    ------
    StoreError
        Neither holds a store ("run d4d build first").
    """
    where = Path(path)
    for candidate in (where, store_path(where)):
        if (candidate / "CURRENT").is_file():
            return candidate
    raise StoreError("no built store here; run `d4d build` first", path=where)


def open_store(path: str | Path, *, read_only: bool = True) -> ox.Store:
    """Open an existing on-disk store.

    Parameters
    ----------
    path:
        The store directory, or a build directory containing ``store/``.
    read_only:
        Open without taking the write lock (several processes may read at once). Writing to a
        read-only store raises.

    Returns
    -------
    pyoxigraph.Store

    Raises
    ------
    StoreError
        No store there ("run d4d build first"), or RocksDB refuses to open it.
    """
    where = find_store(path)
    try:
        return ox.Store.read_only(str(where)) if read_only else ox.Store(str(where))
    except OSError as error:
        raise StoreError(f"cannot open the store: {error}", path=where) from error


def memory_store(sources: Iterable[GraphSource] = (), *, format: str | None = None) -> ox.Store:
    """An in-memory store holding ``sources`` (for tests and one-off files).

    Raises
    ------
    StoreError
        A source cannot be loaded.
    """
    store = ox.Store()
    for item in sources:
        source, graph = item if isinstance(item, tuple) else (item, None)
        load_into(store, source, graph=graph, format=format)
    return store


def query_options(store: ox.Store) -> dict[str, Any]:
    """The options of :meth:`pyoxigraph.Store.query` that read ``store`` as one graph.

    A store ``d4d build`` wrote holds every triple of its named graphs in its default graph too (see
    the module's text): it is read from the default graph (``{}``). Any other store (one being
    built; one whose default graph holds only some triples, the rest in named graphs) is read as the
    union of all its graphs. The test is cheap: the default graph holds the first triple of each
    named graph.
    """
    union = {"use_default_graph_as_union": True}
    if not store.query("ASK { ?s ?p ?o }"):
        return union
    for name in store.named_graphs():
        for quad in store.quads_for_pattern(None, None, None, name):
            if ox.Quad(quad.subject, quad.predicate, quad.object, ox.DefaultGraph()) not in store:
                return union
            break
    return {}


def mirror_graph(store: ox.Store, graph: str | ox.NamedNode, *, text: Path | None = None) -> None:
    """Add every triple of one named graph to the default graph of ``store``: ``text`` if given (the
    N-Triples the graph was loaded from: reading an on-disk graph back costs more than loading it),
    else a dump of the graph, through :func:`load_text`."""
    if text is not None:
        load_text(store, [text], format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
        return
    name = graph if isinstance(graph, ox.NamedNode) else ox.NamedNode(graph)
    with tempfile.TemporaryDirectory(prefix="d4d-merge-") as tmp:
        dump = Path(tmp) / "graph.nt"
        store.dump(str(dump), format=ox.RdfFormat.N_TRIPLES, from_graph=name)
        load_text(store, [dump], format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())


def load_text(store: ox.Store, texts: Iterable[Path], *, format: ox.RdfFormat,
              to_graph: ox.NamedNode | ox.DefaultGraph | None = None, threads: int = 1) -> list[int]:
    """Add the statements of N-Triples or N-Quads files written from pyoxigraph terms (to ``to_graph``
    if given) without a Python object per statement; the number of lines of each file (a statement
    given twice counts twice). The store changes only after the last file is read.

    The lines are dealt into ``threads`` files, bulk loaded at once (see
    :data:`~d4d.limits.PERSIST_THREADS`). The statements with blank nodes are added as they are: a bulk
    load gives blank nodes labels of its own, and these must stay the nodes the store already holds."""
    counts = []
    with tempfile.TemporaryDirectory(prefix="d4d-load-") as tmp, ExitStack() as files:
        plain = [Path(tmp) / f"plain-{i}" for i in range(threads)]
        blank = Path(tmp) / "blank"
        outs = itertools.cycle([files.enter_context(open(path, "wb")) for path in plain])
        with open(blank, "wb") as other:
            for text in texts:
                counts.append(_split_blank(text, outs, other))
        files.close()
        parts = [path for path in plain if path.stat().st_size]
        with ThreadPoolExecutor(max(1, len(parts))) as pool:
            list(pool.map(lambda path: store.bulk_load(path=str(path), format=format, to_graph=to_graph,
                                                       lenient=True), parts))
        if blank.stat().st_size:
            statements = ox.parse(path=str(blank), format=format)
            store.extend(statements if to_graph is None else
                         (ox.Quad(q.subject, q.predicate, q.object, to_graph) for q in statements))
    return counts


def hashed_join(*patterns: str) -> str:
    """SPARQL that joins ``patterns`` with each one a sub-select (``{ SELECT * WHERE { p } }``).

    pyoxigraph joins the patterns of a plain group in the order written, with an index lookup for
    each row of the first; sub-selects it joins by hashing one side. Over a whole store that is the
    faster join (100k transactions: the ``hasParticipant`` rule 2.1 s against 8.2 s), but the side
    hashed is held in memory, about 320 bytes a row (1M transactions: the build's peak 6.86 GB
    against 4.21 GB; see ``bench/RESULTS-build.md``). A join driven by a few rows is better written
    with ``LATERAL``."""
    return " ".join(f"{{ SELECT * WHERE {{ {pattern} }} }}" for pattern in patterns)


def count_matches(store: ox.Store, pattern: str, *, limit: int | None = None,
                  default_graph: Sequence[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] | None = None) -> int:
    """The number of solutions of a SPARQL graph pattern (``?s ?p ?o``: the default graph's triples),
    counted up to ``limit`` (the count stops reading there), over ``default_graph`` if given."""
    inner = pattern if limit is None else f"{{ SELECT * WHERE {{ {pattern} }} LIMIT {limit} }}"
    answer = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {inner} }}",
                         default_graph=None if default_graph is None else list(default_graph))
    assert isinstance(answer, ox.QuerySolutions)
    for row in answer:
        return int(row["n"].value)
    return 0


def store_summary(store: ox.Store) -> dict[str, int]:
    """Quads in the default graph and in each named graph: ``{"": n, "<iri>": m, ...}``.

    Counts run as SPARQL so that they work on read-only stores too.
    """
    counts = {"": count_matches(store, "?s ?p ?o")}
    named = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g")
    for row in named:  # type: ignore[union-attr]
        counts[row["g"].value] = int(row["n"].value)
    return counts


def _split_blank(source: Path, plain: Iterator[IO[bytes]], blank: IO[bytes]) -> int:
    """Copy the lines of an N-Triples or N-Quads file a block at a time to the next file of ``plain``,
    or to ``blank`` those with a blank node (a literal holding "_:" goes there too: the same result,
    the slow way); the number of lines."""
    count = 0
    with open(source, "rb") as lines:
        for block in iter(lambda: lines.read(1 << 20) + lines.readline(), b""):  # whole lines
            count += block.count(b"\n")
            if b"_:" not in block:
                next(plain).write(block)
                continue
            out = next(plain)
            for line in block.splitlines(keepends=True):
                (blank if b"_:" in line else out).write(line)
    return count


def persist(memory: ox.Store, path: str | Path) -> ox.Store:
    """Write every graph of an in-memory store into a new on-disk store at ``path``; the new store.

    The store's N-Quads in :data:`~d4d.limits.PERSIST_THREADS` bulk loads at once, except the
    statements with blank nodes, added as they are (a bulk load gives blank nodes labels of its own;
    these keep theirs, so the two stores are equal and their dumps the same).
    """
    disk = ox.Store(str(path))
    with tempfile.TemporaryDirectory(prefix="d4d-persist-") as tmp:
        dump = Path(tmp) / "all.nq"
        memory.dump(str(dump), format=ox.RdfFormat.N_QUADS)
        load_text(disk, [dump], format=ox.RdfFormat.N_QUADS, threads=PERSIST_THREADS)
    disk.flush()
    return disk
