"""Upload the built graph to a SPARQL server through the SPARQL 1.1 Graph Store HTTP Protocol.

``d4d push --endpoint URL [--graph IRI]`` sends the graph in chunks of N-Triples to a Graph
Store endpoint (Oxigraph ``/store``, Fuseki ``/<dataset>/data``, GraphDB
``/repositories/<id>/rdf-graphs/service``, Virtuoso ``/sparql-graph-crud``), into the named graph
``IRI`` (``?graph=IRI``) or the default graph (``?default``).

Why pushing twice never duplicates
----------------------------------
- The first chunk goes with ``PUT``, which *replaces* the target graph; every later chunk goes
  with ``POST``, which adds to it. A complete push therefore leaves exactly the built graph,
  whatever the graph held before, including an earlier push.
- An RDF graph is a set: ``POST``-ing triples it already holds changes nothing, so re-sending a
  chunk after an interruption (the answer was lost, we cannot know whether the server applied
  it) is harmless. That holds for triples without blank nodes only: a blank node in a second
  upload is a new node, so its triples would be added again. Hence every triple that touches a
  blank node travels in the first chunk (with the triples that share its blank nodes, since a
  blank-node label means the same node only within one document), and that chunk is the
  ``PUT``, which is idempotent anyway.
- A checkpoint file records how many chunks the server confirmed, together with what was being
  pushed (endpoint, graph, a SHA-256 of the data, chunk size). An interrupted push resumes after
  the last confirmed chunk; if anything differs (new data, other target) it starts again from the
  ``PUT``. The checkpoint is removed once the push completes.

Chunks are cut from the triples sorted by their N-Triples text, so the same data always gives the
same chunks.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from d4d.errors import QueryError, StoreError
from d4d.store import find_store, open_store

#: Triples per request, unless told otherwise.
DEFAULT_CHUNK_SIZE = 50_000

#: ``progress(chunks_done, chunks_total, triples_done, triples_total)``.
Progress = Callable[[int, int, int, int], None]


@dataclass(frozen=True)
class PushReport:
    """What a push did."""

    url: str
    triples: int
    chunks: int
    resumed_from: int  # index of the first chunk sent in this run (0: a full push)


def graph_store_url(endpoint: str, graph: str | None) -> str:
    """The Graph Store URL addressing ``graph`` (indirect identification) or the default graph.

    >>> graph_store_url("http://127.0.0.1:7878/store", "https://w3id.org/d4d/graph")
    'http://127.0.0.1:7878/store?graph=https%3A%2F%2Fw3id.org%2Fd4d%2Fgraph'
    >>> graph_store_url("http://127.0.0.1:7878/store", None)
    'http://127.0.0.1:7878/store?default'
    """
    separator = "&" if urllib.parse.urlsplit(endpoint).query else "?"
    if graph is None:
        return f"{endpoint}{separator}default"
    return f"{endpoint}{separator}{urllib.parse.urlencode({'graph': graph})}"


def read_triples(source: str | Path) -> list[ox.Triple]:
    """The triples to push: an RDF file (triples of the default graph) or a store's default graph.

    Raises
    ------
    StoreError
        The file or store is missing or malformed, or a file holds named graphs.
    """
    path = Path(source)
    if path.is_dir():
        store = open_store(find_store(path))
        return [quad.triple for quad in store.quads_for_pattern(None, None, None, ox.DefaultGraph())]
    if not path.is_file():
        raise StoreError("nothing to push: no such file; run `d4d build` first", path=path)
    triples = []
    try:
        for quad in ox.parse(path=str(path)):
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                raise StoreError("the file has named graphs; push a triples file (Turtle, N-Triples)",
                                 path=path)
            triples.append(quad.triple)
    except SyntaxError as error:
        raise StoreError(f"malformed RDF: {error}", path=path) from error
    except ValueError as error:
        raise StoreError(f"cannot read RDF: {error}", path=path) from error
    return triples


def _has_blank(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def plan_chunks(triples: Iterable[ox.Triple], *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[list[ox.Triple]]:
    """Cut triples into upload chunks: every blank-node triple in the first chunk, then the rest
    sorted by N-Triples text, ``chunk_size`` per chunk.

    Raises
    ------
    ValueError
        ``chunk_size`` is not positive.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    with_blanks: list[ox.Triple] = []
    ground: list[ox.Triple] = []
    for triple in triples:
        (with_blanks if _has_blank(triple) else ground).append(triple)
    ground.sort(key=str)
    with_blanks.sort(key=str)
    first_room = max(chunk_size - len(with_blanks), 0)
    chunks = [with_blanks + ground[:first_room]]
    chunks += [ground[start:start + chunk_size] for start in range(first_room, len(ground), chunk_size)]
    return chunks


def fingerprint(chunks: list[list[ox.Triple]]) -> str:
    """SHA-256 of the ground triples in chunk order and of the number of blank-node triples."""
    digest = hashlib.sha256()
    blank = 0
    for chunk in chunks:
        for triple in chunk:
            if _has_blank(triple):
                blank += 1  # labels differ between parses of the same file
            else:
                digest.update(str(triple).encode("utf-8"))
                digest.update(b"\n")
        digest.update(b"--\n")
    digest.update(f"blank:{blank}".encode())
    return digest.hexdigest()


def checkpoint_path(directory: str | Path, endpoint: str, graph: str | None) -> Path:
    """Where the checkpoint of a push to (endpoint, graph) is kept inside ``directory``."""
    key = hashlib.sha256(f"{endpoint}\n{graph or ''}".encode()).hexdigest()[:16]
    return Path(directory) / f".push-{key}.json"


def _write_json(path: Path, data: Mapping[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=1, sort_keys=True)
    os.replace(temporary, path)


def _send(url: str, method: str, body: bytes, *, timeout: float, retries: int) -> None:
    request = urllib.request.Request(url, data=body, method=method, headers={
        "Content-Type": "application/n-triples", "User-Agent": "d4d (push)"})
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            return
        except urllib.error.HTTPError as error:
            detail = error.read(500).decode("utf-8", "replace").strip().splitlines()
            reason = detail[0] if detail else error.reason
            if error.code < 500 or attempt == retries:
                raise QueryError(f"{method} refused with {error.code}: {reason}", path=url) from error
        except (urllib.error.URLError, OSError) as error:
            if attempt == retries:
                raise QueryError(f"{method} failed: {error}", path=url) from error
        time.sleep(min(2 ** attempt, 10))


def push(source: str | Path, endpoint: str, *, graph: str | None = None,
         chunk_size: int = DEFAULT_CHUNK_SIZE, checkpoint_dir: str | Path | None = None,
         restart: bool = False, progress: Progress | None = None, timeout: float = 120.0,
         retries: int = 2) -> PushReport:
    """Upload ``source`` to a Graph Store endpoint, resumably and idempotently.

    Parameters
    ----------
    source:
        The built graph: an RDF file (``build/ecosystem.ttl``) or a store directory.
    endpoint:
        URL of the SPARQL 1.1 Graph Store HTTP Protocol endpoint (e.g.
        ``http://127.0.0.1:7878/store`` for ``oxigraph serve``).
    graph:
        IRI of the named graph to fill; ``None``: the default graph.
    chunk_size:
        Triples per request.
    checkpoint_dir:
        Where the checkpoint file lives (default: the directory of ``source``).
    restart:
        Ignore any checkpoint and push everything.
    progress:
        Called after each confirmed chunk.
    timeout, retries:
        Per request; server errors (5xx) and network failures are retried with backoff.

    Returns
    -------
    PushReport

    Raises
    ------
    StoreError
        Nothing to push (no build).
    QueryError
        The server refused a request or could not be reached (the checkpoint keeps the
        progress made: run the push again to resume).
    """
    if graph is not None:
        try:
            ox.NamedNode(graph)
        except ValueError as error:
            raise QueryError(f"--graph {graph!r} is not an IRI: {error}") from error
    url = graph_store_url(endpoint, graph)
    chunks = plan_chunks(read_triples(source), chunk_size=chunk_size)
    total = sum(len(chunk) for chunk in chunks)
    where = Path(checkpoint_dir) if checkpoint_dir is not None else Path(source).resolve().parent
    state_file = checkpoint_path(where, endpoint, graph)
    state = {"endpoint": endpoint, "graph": graph, "fingerprint": fingerprint(chunks),
             "chunk_size": chunk_size, "chunks": len(chunks), "done": 0}
    start = 0
    if not restart and state_file.is_file():
        try:
            saved = json.loads(state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        same = all(saved.get(key) == state[key] for key in ("endpoint", "graph", "fingerprint",
                                                             "chunk_size", "chunks"))
        if same and 0 < int(saved.get("done", 0)) < len(chunks):
            start = int(saved["done"])
    sent_triples = sum(len(chunk) for chunk in chunks[:start])
    if progress is not None:
        progress(start, len(chunks), sent_triples, total)
    for index in range(start, len(chunks)):
        body = ox.serialize(chunks[index], format=ox.RdfFormat.N_TRIPLES) or b""
        _send(url, "PUT" if index == 0 else "POST", body, timeout=timeout, retries=retries)
        state["done"] = index + 1
        _write_json(state_file, state)
        sent_triples += len(chunks[index])
        if progress is not None:
            progress(index + 1, len(chunks), sent_triples, total)
    state_file.unlink(missing_ok=True)
    return PushReport(url=url, triples=total, chunks=len(chunks), resumed_from=start)
