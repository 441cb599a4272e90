"""A read-only SPARQL 1.1 Protocol endpoint over the built store, with a query editor.

``d4d serve`` answers at ``/sparql`` (GET ``?query=``, POST form-encoded ``query=``, POST
``application/sparql-query``) and serves a web page at ``/``: the YASGUI editor (vendored under
``d4d/static/yasgui``, no CDN) with the catalogue as example queries.

What clients get
----------------
The d4d prefixes (:data:`d4d.sparql.PREDECLARED`) need no ``PREFIX`` line; ``$name=value`` fields
bind a query's declared parameters. Results come in the format the ``Accept`` header or a
``format``/``output``/``results`` parameter asks for, read for the query form
(:func:`choose_format`: SPARQLWrapper's ``format=xml`` is RDF/XML for a graph). ``GET /sparql``
without a query is the SPARQL 1.1 Service Description. Every answer allows any origin (CORS), and
preflight ``OPTIONS`` requests are answered. The graph's own IRIs are answered too
(:mod:`d4d.linkeddata`).

Why queries run in worker processes
-----------------------------------
pyoxigraph releases the GIL while it evaluates, but it has no way to interrupt a query from
Python. A thread running a runaway query can only be abandoned, not stopped, and would keep a
core busy. So every query runs in one of a few worker processes, each holding the store open
read-only; a worker that exceeds the time limit is killed and replaced. The result-size limit
is checked while the worker reads the solutions, so an oversized answer is never built in full.

Fair under load
---------------
Two lanes of workers (see "Worker processes and admission" below): every query starts in the fast
lane with a short budget; one that overruns it runs again in the slow lane, so cheap queries keep
answering while expensive ones run. Each worker has a memory limit (503 naming it), each lane a
bounded queue (429 when full), the server a bounded number of connection threads (503 past it)
and one read deadline per request (408), and every malformed request gets a 4xx.

Read-only
---------
SPARQL Update (including ``LOAD``) is refused with 403, whether sent as ``update=`` or as a
query; so is any query with a ``SERVICE`` clause, which would make this server call other hosts
(pyoxigraph would otherwise run it). Refusals and errors are ``text/plain`` one-liners.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import queue
import re
import resource
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

import pyoxigraph as ox

from d4d import linkeddata
from d4d.errors import D4DError, QueryError, StoreError
from d4d.limits import (FAST_BUDGET_SECONDS, FAST_QUEUE, FAST_WORKERS, LISTEN_BACKLOG, MAX_CONNECTIONS,
                        MAX_REQUEST_BYTES, MAX_ROWS, PER_CLIENT, QUERY_SECONDS, READ_SECONDS,
                        REMEMBERED_SLOW_QUERIES, RETRY_AFTER, SLOW_LANE_NICENESS, SLOW_QUEUE, SLOW_WORKERS,
                        SPARE_WORKERS, START_ATTEMPTS, WORKER_MEMORY_MB, WORKER_START_SECONDS)
from d4d.sparql import (GRAPH_FORMATS, PREDECLARED, RESULT_FORMATS, CatalogueQuery, Prepared,
                        is_slug, parse_query_text, prepare, resolve_params, service_calls, unknown_slug)
from d4d.store import find_store, query_options

STATIC_DIR = Path(__file__).resolve().parent / "static"

#: Media types offered for SELECT/ASK results, best first (JSON is the default).
RESULT_MEDIA_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}

#: Media types offered for CONSTRUCT/DESCRIBE results, best first (Turtle is the default).
GRAPH_MEDIA_TYPES: dict[str, str] = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "ntriples",
    "text/plain": "ntriples",
    "application/rdf+xml": "rdfxml",
    "application/ld+json": "jsonld",
    "application/turtle": "turtle",
    "text/n3": "turtle",  # Turtle is N3 without its rules: an N3 reader reads it
    "text/rdf+n3": "turtle",
    "application/n3": "turtle",
    "application/xml": "rdfxml",
    "text/xml": "rdfxml",
    "application/json": "jsonld",
    "application/x-json+ld": "jsonld",
}

#: What a ``format`` (or ``output``, ``results``) parameter value asks for, for each kind of result.
#: Clients send one value whatever the query form (SPARQLWrapper sends ``format=xml`` for every
#: form, ``json`` as well): ``xml`` is RDF/XML for a graph, ``json`` is JSON-LD.
RESULT_FORMAT_WORDS: dict[str, str] = {**{key: key for key in RESULT_FORMATS}, **RESULT_MEDIA_TYPES}
GRAPH_FORMAT_WORDS: dict[str, str] = {
    **{key: key for key in GRAPH_FORMATS}, **GRAPH_MEDIA_TYPES,
    "ttl": "turtle", "n3": "turtle", "nt": "ntriples", "n-triples": "ntriples", "xml": "rdfxml",
    "rdf": "rdfxml", "rdf+xml": "rdfxml", "json": "jsonld", "json-ld": "jsonld",
}


@dataclass(frozen=True)
class ServeOptions:
    """Limits and behaviour of the endpoint (the defaults are named in :mod:`d4d.limits`, the figures
    behind them in ``bench/RESULTS-endpoint.md``).

    Attributes
    ----------
    time_limit:
        Seconds a query may run before its worker is killed (answer: 503).
    max_rows:
        Most solutions (or triples) a query may return (more: 422, add a LIMIT).
    workers:
        Worker processes of the fast lane, where every query starts.
    slow_workers:
        Worker processes of the slow lane, where a query that ran past ``fast_budget`` is run
        again (and where it goes at once the next time).
    fast_budget:
        Seconds a query may run in the fast lane.
    memory_limit:
        Address space of one worker, in MB (RLIMIT_AS; a query needing more: 503). 0: none.
    per_client:
        Queries one client address may have running or waiting at once; one more: 429.
    queue_limit, slow_queue_limit:
        Requests that may wait for a worker of the fast / slow lane; one more: 429.
    max_connections:
        Connections handled at once (one thread each); one more: 503 at once.
    read_timeout:
        Seconds a client has to send its whole request (headers and body); slower: 408.
    union_default_graph:
        Read a store that is not a built one as the union of its graphs, unless the request names
        its ``default-graph-uri``. (A built store's default graph holds every triple of its named
        graphs once, and is read as it is: see :func:`d4d.store.query_options`.)
    """

    time_limit: float = QUERY_SECONDS
    max_rows: int = MAX_ROWS
    workers: int = FAST_WORKERS
    slow_workers: int = SLOW_WORKERS
    fast_budget: float = FAST_BUDGET_SECONDS
    memory_limit: int = WORKER_MEMORY_MB
    per_client: int = PER_CLIENT
    queue_limit: int = FAST_QUEUE
    slow_queue_limit: int = SLOW_QUEUE
    max_connections: int = MAX_CONNECTIONS
    read_timeout: float = READ_SECONDS
    union_default_graph: bool = True


# ---------------------------------------------------------------------------------------------
# Worker processes and admission
#
# Why two lanes: a worker held by a query that never ends is a worker cheap queries cannot use.
# Every query starts in the fast lane with a short budget (``ServeOptions.fast_budget``); one that
# overruns it is stopped there and run again in the slow lane, whose workers run at a lower CPU
# priority, and its text is remembered so that the next time it goes to the slow lane at once.
# Each lane has a bounded number of requests waiting for a worker; past it the answer is 429.
# Every worker runs under an address-space limit (RLIMIT_AS): a query that needs more memory
# fails its allocation, the worker dies, the client gets 503 naming the limit, and the worker is
# replaced.

#: How a worker reports that an allocation failed (Python's MemoryError).
_MEMORY = "memory"

Reply = tuple[str, Any, Any]


def _worker_main(store_path: str, conn: Connection, memory_limit: int,
                 niceness: int) -> None:  # pragma: no cover - child process
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit * 2**20, memory_limit * 2**20))
    if niceness:
        os.nice(niceness)
    try:
        store = ox.Store.read_only(store_path)
    except (OSError, MemoryError) as error:
        conn.send(("failed", str(error)))
        return
    conn.send(("ready", ""))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            reply = _answer(store, job)
        except MemoryError:
            reply = (_MEMORY, None, None)
        except Exception as error:  # the endpoint must answer, whatever went wrong
            reply = ("error", 500, f"{type(error).__name__}: {error}")
        conn.send(reply)
        if reply[0] == _MEMORY:
            return  # a fresh worker replaces this one


def _answer(store: ox.Store, job: Mapping[str, Any]) -> tuple[str, Any, Any]:
    """Run one job in a worker: ``("ok", media_type, body)`` or ``("error", status, message)``."""
    options: dict[str, Any] = {}
    if job["default_graph"]:
        options["default_graph"] = [ox.NamedNode(iri) for iri in job["default_graph"]]
    elif job["union"]:
        options.update(query_options(store))
    if job["named_graphs"]:
        options["named_graphs"] = [ox.NamedNode(iri) for iri in job["named_graphs"]]
    try:
        answer = store.query(job["query"], **options)
    except SyntaxError as error:
        return ("error", 400, _syntax_message(str(error)))
    max_rows = job["max_rows"]
    too_many = (f"the result has more than {max_rows} rows, the limit of this endpoint; "
                f"add a LIMIT or ask for less")
    if isinstance(answer, ox.QueryBoolean):
        fmt = RESULT_FORMATS[job["results_format"]]
        boolean = ox.parse_query_results(json.dumps({"head": {}, "boolean": bool(answer)}),
                                         ox.QueryResultsFormat.JSON)
        return ("ok", fmt.media_type, boolean.serialize(format=fmt))
    if isinstance(answer, ox.QuerySolutions):
        # Read at most max_rows + 1 solutions, as TSV (whose terms are N-Triples syntax, so
        # nothing is lost), then let pyoxigraph's serialisers write the requested format.
        lines = ["\t".join(str(variable) for variable in answer.variables)]
        for count, solution in enumerate(answer):
            if count >= max_rows:
                return ("error", 422, too_many)
            lines.append("\t".join("" if term is None else str(term) for term in solution))
        fmt = RESULT_FORMATS[job["results_format"]]
        solutions = ox.parse_query_results("\n".join(lines) + "\n", ox.QueryResultsFormat.TSV)
        return ("ok", fmt.media_type, solutions.serialize(format=fmt))
    triples = []
    for count, triple in enumerate(answer):
        if count >= max_rows:
            return ("error", 422, too_many)
        triples.append(triple)
    rdf_format = GRAPH_FORMATS[job["graph_format"]]
    return ("ok", rdf_format.media_type, ox.serialize(triples, format=rdf_format))


def _syntax_message(message: str) -> str:
    match = re.search(r"error at (\d+):(\d+):?\s*(.*)", message, re.DOTALL)
    if match:
        return f"syntax error at line {match.group(1)}, column {match.group(2)}: {match.group(3)}"
    return f"syntax error: {message}"


@dataclass(eq=False)  # workers are compared by identity
class _Worker:
    process: Any  # multiprocessing.context.SpawnProcess
    conn: Connection


class _Busy(Exception):
    """A lane cannot take the request: ``status`` (429 or 503) and the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Lane:
    """Worker processes of one lane, and the requests waiting for one of them (a bounded number)."""

    def __init__(self, name: str, store_path: str, *, workers: int, memory_limit: int,
                 niceness: int, queue_limit: int) -> None:
        self.name = name
        self._path = store_path
        self._memory_limit = memory_limit
        self._niceness = niceness
        self._queue_limit = queue_limit
        self._context = multiprocessing.get_context("spawn")  # fork is unsafe in a threaded server
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._spare: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._waiting = 0
        self._closed = False
        started = [self._spawn() for _ in range(max(1, workers) + SPARE_WORKERS)]
        for index, worker in enumerate(started):
            for attempt in range(START_ATTEMPTS):
                try:
                    self._await_ready(worker)
                    break
                except StoreError:
                    if attempt + 1 == START_ATTEMPTS:
                        self.close()
                        raise
                    worker = self._spawn()
            (self._idle if index < max(1, workers) else self._spare).put(worker)

    def idle(self) -> int:
        """Workers waiting for a query."""
        return self._idle.qsize()

    def waiting(self) -> int:
        """Requests waiting for a worker."""
        with self._lock:
            return self._waiting

    def pids(self) -> list[int]:
        """Process ids of the lane's workers, spares included (for the load test's memory watch)."""
        with self._lock:
            return [worker.process.pid for worker in self._all if worker.process.pid]

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main, args=(self._path, child, self._memory_limit, self._niceness),
            daemon=True, name=f"d4d-sparql-{self.name}")
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._all.add(worker)
        return worker

    def _await_ready(self, worker: _Worker) -> None:
        if not worker.conn.poll(WORKER_START_SECONDS):
            self._discard(worker)
            raise StoreError(f"a query worker did not start within {WORKER_START_SECONDS:g} s", path=self._path)
        try:
            status, detail = worker.conn.recv()
        except (EOFError, OSError):
            status, detail = "failed", f"it exited with status {worker.process.exitcode}"
        if status != "ready":
            self._discard(worker)
            raise StoreError(f"a query worker cannot open the store: {detail}", path=self._path)

    def _discard(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(5)
        worker.conn.close()
        with self._lock:
            self._all.discard(worker)

    def _replace(self, into: queue.Queue[_Worker]) -> None:
        delay = 0.1
        while not self._closed:  # a lane never stays a worker short
            worker = self._spawn()
            try:
                self._await_ready(worker)
            except StoreError as error:
                print(f"d4d serve: {error}; starting another in {delay:g} s", file=sys.stderr, flush=True)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            into.put(worker)
            return

    def _retire(self, worker: _Worker) -> None:
        """Kill ``worker``; a spare takes its place at once, and a new one starts in the background."""
        self._discard(worker)
        try:
            self._idle.put(self._spare.get_nowait())
            into = self._spare
        except queue.Empty:
            into = self._idle
        threading.Thread(target=self._replace, args=(into,), daemon=True, name=f"d4d-{self.name}-respawn").start()

    def _take(self, wait: float) -> _Worker:
        with self._lock:
            if self._waiting >= self._queue_limit:
                raise _Busy(429, f"too many queries are waiting for the {self.name} lane "
                                 f"({self._queue_limit}); try again in a moment")
            self._waiting += 1
        try:
            return self._idle.get(timeout=wait)
        except queue.Empty:
            raise _Busy(503, f"every worker of the {self.name} lane stayed busy for {wait:g} s; "
                             f"try again in a moment") from None
        finally:
            with self._lock:
                self._waiting -= 1

    def run(self, job: Mapping[str, Any], *, time_limit: float, wait: float,
            elsewhere: Callable[[], bool] | None = None) -> Reply | None:
        """Run a job on a worker of this lane, waiting at most ``wait`` s for one.

        Returns the worker's reply (``(_MEMORY, 503, message)`` when the job needed more memory
        than the limit), or ``None`` when the job ran past ``time_limit`` (its worker was killed) or when ``elsewhere()`` says, once a worker is free, that the job belongs to
        another lane now. Raises :class:`_Busy` when no worker can be had.
        """
        worker = self._take(wait)
        if elsewhere is not None and elsewhere():
            self._idle.put(worker)
            return None
        try:
            worker.conn.send(dict(job))
        except OSError:
            self._retire(worker)
            return ("error", 500, "the query worker had died; try again")
        if not worker.conn.poll(time_limit):
            self._retire(worker)
            return None
        try:
            reply: Reply = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(5)
            code = worker.process.exitcode
            self._retire(worker)
            if code == -signal.SIGABRT:  # Rust aborts when an allocation fails
                return self._memory_reply()
            return ("error", 500, f"the query worker died while running this query (exit status {code})")
        if reply[0] == _MEMORY:
            self._retire(worker)
            return self._memory_reply()
        self._idle.put(worker)
        return reply

    def _memory_reply(self) -> Reply:
        return (_MEMORY, 503, f"the query needed more memory than the limit of {self._memory_limit} MB "
                              f"of a query worker and was stopped")

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.process.join(2)
            self._discard(worker)


def _public(reply: Reply) -> Reply:
    """A lane's reply as the handler takes it: a memory kill is an error like any other."""
    return ("error", reply[1], reply[2]) if reply[0] == _MEMORY else reply


class QueryPool:
    """The query workers: a fast lane for every query, a slow lane for those that overrun it.

    Parameters
    ----------
    store_path:
        The store directory.
    options:
        The limits (:class:`ServeOptions`): ``workers``, ``slow_workers``, ``memory_limit``,
        ``fast_budget``, ``time_limit``, ``per_client``, ``queue_limit``, ``slow_queue_limit``.

    Raises
    ------
    StoreError
        A worker cannot open the store.
    """

    def __init__(self, store_path: str | Path, options: ServeOptions) -> None:
        self._options = options
        path = str(store_path)
        self.fast = _Lane("fast", path, workers=options.workers, memory_limit=options.memory_limit,
                          niceness=0, queue_limit=options.queue_limit)
        try:
            self.slow = _Lane("slow", path, workers=options.slow_workers,
                              memory_limit=options.memory_limit, niceness=SLOW_LANE_NICENESS,
                              queue_limit=options.slow_queue_limit)
        except BaseException:
            self.fast.close()
            raise
        self._slow_queries: OrderedDict[str, None] = OrderedDict()
        self._clients: dict[str, int] = {}
        self._lock = threading.Lock()

    def pids(self) -> list[int]:
        """Process ids of every worker."""
        return self.fast.pids() + self.slow.pids()

    @staticmethod
    def _key(job: Mapping[str, Any]) -> str:
        text = json.dumps([job["query"], job["default_graph"], job["named_graphs"]])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _remember(self, key: str) -> None:
        with self._lock:
            self._slow_queries[key] = None
            self._slow_queries.move_to_end(key)
            while len(self._slow_queries) > REMEMBERED_SLOW_QUERIES:
                self._slow_queries.popitem(last=False)

    def _known_slow(self, key: str) -> bool:
        with self._lock:
            return key in self._slow_queries

    def run(self, job: Mapping[str, Any], *, client: str = "") -> Reply:
        """Run a job for ``client`` (its address); ``("ok", media_type, body)`` or
        ``("error", http_status, message)``."""
        limit = self._options.per_client
        with self._lock:
            held = self._clients.get(client, 0)
            if held >= limit:
                return ("error", 429, f"this client ({client}) has {held} queries running or waiting, "
                                      f"the limit of one client; wait for an answer first")
            self._clients[client] = held + 1
        try:
            return self._run(job)
        finally:
            with self._lock:
                self._clients[client] -= 1
                if not self._clients[client]:
                    del self._clients[client]

    def clients(self) -> dict[str, int]:
        """Queries running or waiting, by client address."""
        with self._lock:
            return dict(self._clients)

    def _run(self, job: Mapping[str, Any]) -> Reply:
        options = self._options
        key = self._key(job)
        try:
            if not self._known_slow(key):
                # copies of a query that overran while they waited go to the slow lane too
                reply = self.fast.run(job, time_limit=min(options.fast_budget, options.time_limit),
                                      wait=options.time_limit, elsewhere=lambda: self._known_slow(key))
                if reply is not None and reply[0] == _MEMORY:
                    self._remember(key)  # a query over the memory limit kills a fast worker once
                if reply is not None:
                    return _public(reply)
                if options.fast_budget >= options.time_limit:
                    return self._overtime()
                self._remember(key)
            reply = self.slow.run(job, time_limit=options.time_limit, wait=options.time_limit)
        except _Busy as busy:
            return ("error", busy.status, busy.message)
        return self._overtime() if reply is None else _public(reply)

    def _overtime(self) -> Reply:
        return ("error", 503, f"the query ran longer than the time limit of "
                              f"{self._options.time_limit:g} s and was stopped")

    def close(self) -> None:
        """Stop every worker."""
        self.fast.close()
        self.slow.close()


# ---------------------------------------------------------------------------------------------
# Content negotiation


def negotiate(accept: str | None, offers: Mapping[str, str]) -> str | None:
    """Pick the offered format for an ``Accept`` header (``None``: nothing acceptable).

    ``offers`` maps media type to format key, best first; ``*/*`` and missing headers get the
    first offer.

    >>> negotiate("text/csv;q=0.5, application/sparql-results+xml", RESULT_MEDIA_TYPES)
    'xml'
    >>> negotiate("image/png", RESULT_MEDIA_TYPES) is None
    True
    """
    if not accept:
        return next(iter(offers.values()))
    ranked: list[tuple[float, int, str]] = []
    order = list(offers)
    for position, part in enumerate(accept.split(",")):
        pieces = [piece.strip() for piece in part.split(";")]
        media = pieces[0].lower()
        quality = 1.0
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media in offers:
            ranked.append((-quality, order.index(media), offers[media]))
        elif media in ("*/*", "application/*", "text/*"):
            family = media.split("/")[0]
            for index, offered in enumerate(order):
                if family == "*" or offered.startswith(family + "/"):
                    ranked.append((-quality, len(order) + index, offers[offered]))
                    break
    return min(ranked)[2] if ranked else None


def choose_format(form: str, requested: list[str], accept: str | None) -> str:
    """The format key to answer a query of ``form`` in.

    ``requested`` holds the values of the ``format``/``output``/``results`` parameters: the first
    one that names a format of this kind of result wins; a value that names a format of the other
    kind only (``csv`` for a CONSTRUCT) is passed over, as clients send one value for every form;
    then the ``Accept`` header decides.

    Raises
    ------
    ValueError
        A value names no format at all, or nothing fits (the message says what is offered).

    >>> choose_format("CONSTRUCT", ["xml"], None), choose_format("SELECT", ["xml"], None)
    ('rdfxml', 'xml')
    >>> choose_format("CONSTRUCT", ["csv"], "application/n-triples")
    'ntriples'
    """
    graph = form in ("CONSTRUCT", "DESCRIBE")
    words, others = (GRAPH_FORMAT_WORDS, RESULT_FORMAT_WORDS) if graph else (RESULT_FORMAT_WORDS,
                                                                            GRAPH_FORMAT_WORDS)
    offers = GRAPH_MEDIA_TYPES if graph else RESULT_MEDIA_TYPES
    for value in requested:
        key = value.strip().lower()
        if not key:
            continue
        if key in words:
            return words[key]
        if key not in others:
            raise ValueError(f"format {value!r} is not offered for {form}: "
                             f"{', '.join(sorted(set(words.values())))}")
    choice = negotiate(accept, offers)
    if choice is None:
        raise ValueError(f"none of the accepted media types fits a {form} result; "
                         f"offered: {', '.join(offers)}")
    return choice


#: What a Linked Data path is offered as: RDF (Turtle first, for clients that accept anything) or
#: the HTML page (browsers ask for text/html first).
RESOURCE_MEDIA_TYPES: dict[str, str] = {**GRAPH_MEDIA_TYPES, "text/html": "html", "application/xhtml+xml": "html"}
RESOURCE_FORMAT_WORDS: dict[str, str] = {**GRAPH_FORMAT_WORDS, "html": "html", "text/html": "html"}


# ---------------------------------------------------------------------------------------------
# HTTP


class SparqlServer(ThreadingHTTPServer):
    """The HTTP server: holds the worker pool, the options and the catalogue for the page."""

    daemon_threads = True
    #: The build folder (the store's parent): where ``map.html`` is.
    build_dir: Path | None = None
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], pool: QueryPool, options: ServeOptions,
                 catalogue: Mapping[str, CatalogueQuery], *, quiet: bool = False) -> None:
        self.pool = pool
        self.options = options
        self.catalogue = catalogue
        self.quiet = quiet
        self._connections = threading.BoundedSemaphore(options.max_connections)
        super().__init__(address, SparqlHandler)

    # One thread per connection, at most ``max_connections`` of them: one more is answered 503 by
    # the accepting thread at once, so a flood of idle connections cannot grow the threads.

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._connections.acquire(blocking=False):
            self._refuse_connection(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connections.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connections.release()

    def _refuse_connection(self, request: socket.socket) -> None:
        body = (f"the server is handling its limit of {self.options.max_connections} connections; "
                f"try again in a moment\n").encode()
        head = (f"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\nRetry-After: {RETRY_AFTER}\r\nConnection: close\r\n\r\n").encode()
        try:
            request.settimeout(1.0)
            request.sendall(head + body)
            request.shutdown(socket.SHUT_WR)
            request.setblocking(False)
            try:  # what the client already sent, so that closing does not reset the answer
                while request.recv(65536):
                    pass
            except OSError:
                pass
        except OSError:
            pass
        self.shutdown_request(request)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host_text = host if isinstance(host, str) else host.decode()
        if ":" in host_text:
            host_text = f"[{host_text}]"
        return f"http://{host_text}:{port}/"

    def server_close(self) -> None:
        super().server_close()
        self.pool.close()


class _DeadlineReader:
    """The request's input stream with one deadline for all of it: each read waits at most what is
    left of ``read_timeout``, so a client trickling bytes cannot hold a thread for longer."""

    def __init__(self, stream: Any, connection: socket.socket, deadline: float) -> None:
        self._stream = stream
        self._connection = connection
        self._deadline = deadline

    def _arm(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("read deadline passed")
        self._connection.settimeout(left)

    def readline(self, limit: int = -1) -> bytes:
        line = bytearray()
        while limit < 0 or len(line) < limit:
            self._arm()
            chunk = self._stream.peek(1)  # at most one receive
            if not chunk:
                break
            room = len(chunk) if limit < 0 else min(len(chunk), limit - len(line))
            newline = chunk.find(b"\n", 0, room)
            line += self._stream.read(newline + 1 if newline >= 0 else room)
            if newline >= 0:
                break
        return bytes(line)

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            raise ValueError("read the request body by its Content-Length")
        data = bytearray()
        while len(data) < size:
            self._arm()
            chunk = self._stream.read1(min(size - len(data), 65536))  # at most one receive
            if not chunk:
                break
            data += chunk
        return bytes(data)

    def close(self) -> None:
        self._stream.close()


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_STATIC_TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                 ".svg": "image/svg+xml", ".map": "application/json"}


class SparqlHandler(BaseHTTPRequestHandler):
    """Routes: ``/`` (the editor), ``/static/...``, ``/catalogue.json``, ``/sparql``, ``/map.html``, and
    the graph's own paths (``/id/...``, ``/sector/...``, ``/graph/...``, ``/ontology``: see
    :mod:`d4d.linkeddata`)."""

    server: SparqlServer
    server_version = "d4d-sparql"
    # the standard library answers a request line it cannot read in HTTP/0.9, without a status
    # line; a client then sees no 400
    default_request_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)

    # -- reading the request: within the read timeout, and every malformed request answered

    def setup(self) -> None:
        super().setup()
        self.rfile = cast(Any, _DeadlineReader(self.rfile, self.connection,
                                               time.monotonic() + self.server.options.read_timeout))

    def handle_one_request(self) -> None:
        """:meth:`BaseHTTPRequestHandler.handle_one_request`, with a 408 for a client too slow to
        send its request where the base class drops the connection."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            method = getattr(self, "do_" + self.command, None)
            if method is None:
                self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")
                return
            method()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True
            self._answer_late(408, f"the request was not received within the read timeout of "
                                   f"{self.server.options.read_timeout:g} s")

    def _answer_late(self, status: int, message: str) -> None:
        if not getattr(self, "request_version", None):
            self.request_version = "HTTP/1.0"  # the request line never arrived
            self.command = ""
            self.requestline = ""
        try:
            self.connection.settimeout(1.0)
            self._send_text(status, message)
            self.wfile.flush()
        except OSError:
            pass  # the client is gone

    # -- routing

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/":
            self._file(STATIC_DIR / "sparql.html")
        elif url.path.startswith("/static/"):
            self._static(url.path[len("/static/"):])
        elif url.path == "/catalogue.json":
            self._send(200, "application/json", json.dumps(self._catalogue(), indent=1).encode())
        elif url.path == "/prefixes.json":
            self._send(200, "application/json", json.dumps(PREDECLARED, indent=1).encode())
        elif url.path == "/sparql":
            self._guarded(lambda: self._sparql(urllib.parse.parse_qs(url.query, keep_blank_values=True)))
        elif url.path == "/map.html":
            self._map_page()
        elif linkeddata.resource_iri(url.path) is not None:
            self._guarded(lambda: self._resource(url))
        else:
            self._send_text(404, f"nothing at {url.path}; the endpoint is /sparql")

    def do_HEAD(self) -> None:
        """As GET, without the body (crawlers check Linked Data paths this way)."""
        self.do_GET()

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/sparql":
            self._send_text(404, f"nothing at {url.path}; the endpoint is /sparql")
            return
        self._guarded(lambda: self._post(url))

    def _post(self, url: urllib.parse.SplitResult) -> None:
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():
            raise _Refusal(400, f"Content-Length {declared[:40]!r} is not a number of bytes")
        length = int(declared)
        if length > MAX_REQUEST_BYTES:
            raise _Refusal(413, f"the request is larger than {MAX_REQUEST_BYTES} bytes")
        raw = self.rfile.read(length)
        if len(raw) < length:
            raise _Refusal(400, f"the body ended after {len(raw)} of the {length} bytes announced")
        body = raw.decode("utf-8", "replace")
        media_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        fields = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if media_type == "application/x-www-form-urlencoded":
            for key, values in urllib.parse.parse_qs(body, keep_blank_values=True).items():
                fields.setdefault(key, []).extend(values)
        elif media_type == "application/sparql-query":
            fields["query"] = [body]
        elif media_type == "application/sparql-update":
            raise _Refusal(403, "SPARQL Update is not allowed: this endpoint is read-only")
        else:
            raise _Refusal(415, "send the query as application/x-www-form-urlencoded (query=...) "
                                "or application/sparql-query")
        self._sparql(fields)

    def _guarded(self, action: Any) -> None:
        try:
            action()
        except _Refusal as refusal:
            self._send_text(refusal.status, refusal.message)
        except TimeoutError:
            raise  # handle_one_request answers 408
        except Exception as error:  # answer, rather than drop the connection
            self.log_error("%s", traceback.format_exc())
            self._send_text(500, f"internal error: {type(error).__name__}: {error}")

    # -- the protocol

    def _sparql(self, fields: Mapping[str, list[str]]) -> None:
        if "update" in fields:
            raise _Refusal(403, "SPARQL Update is not allowed: this endpoint is read-only")
        queries = fields.get("query", [])
        if not queries and self.command in ("GET", "HEAD"):
            self._service_description()
            return
        if len(queries) != 1 or not queries[0].strip():
            raise _Refusal(400, "pass exactly one SPARQL query as query=...")
        text = queries[0]
        form, prepared, slugs = _prepared(text, {name[1:]: values[-1] for name, values in fields.items()
                                                 if name.startswith("$") and values})
        if form == "UPDATE":
            raise _Refusal(403, "SPARQL Update (INSERT, DELETE, LOAD, CLEAR, ...) is not allowed: "
                                "this endpoint is read-only")
        targets = service_calls(text)
        if targets:
            raise _Refusal(403, f"SERVICE is not allowed: this endpoint does not call other hosts "
                                f"(the query asks for {', '.join(targets)})")
        default_graph = self._graph_list(fields, "default-graph-uri")
        named_graphs = self._graph_list(fields, "named-graph-uri")
        results_format, graph_format = self._formats(form, fields)
        for name, (slug, iri) in slugs.items():
            self._check_slug(name, slug, iri)
        status, first, second = self._run(prepared.text, results_format=results_format, graph_format=graph_format,
                                          default_graph=default_graph, named_graphs=named_graphs)
        if status == "ok":
            self._send(200, first, second, vary=True)
        elif first == 400 and str(second).startswith("syntax error"):
            self._send_text(400, prepared.syntax_message(str(second)))
        else:
            self._send_text(first, second)

    def _run(self, text: str, *, results_format: str = "json", graph_format: str = "ntriples",
             default_graph: list[str] | None = None, named_graphs: list[str] | None = None) -> tuple[str, Any, Any]:
        """Run a query in the pool: ``("ok", media_type, body)`` or ``("error", status, message)``."""
        options = self.server.options
        job = {"query": text, "results_format": results_format, "graph_format": graph_format,
               "max_rows": options.max_rows, "default_graph": default_graph or [],
               "named_graphs": named_graphs or [], "union": options.union_default_graph}
        return self.server.pool.run(job, client=str(self.client_address[0]))

    def _check_slug(self, name: str, slug: str, iri: str) -> None:
        """A slug is a guess at a namespace: refuse one that names nothing, as ``d4d query`` does."""
        ask = prepare(parse_query_text("ASK { ?thing ?p ?o }"), {"thing": ox.NamedNode(iri)}).text
        status, _, body = self._run(ask)
        if status == "ok" and json.loads(body).get("boolean") is False:
            raise _Refusal(400, unknown_slug(name, slug))

    def _graph_list(self, fields: Mapping[str, list[str]], key: str) -> list[str]:
        iris = fields.get(key, [])
        for iri in iris:
            try:
                ox.NamedNode(iri)
            except ValueError as error:
                raise _Refusal(400, f"{key} {iri!r} is not an IRI: {error}") from error
        return iris

    def _formats(self, form: str, fields: Mapping[str, list[str]]) -> tuple[str, str]:
        requested = [value for key in ("format", "output", "results") for value in fields.get(key, [])]
        try:
            choice = choose_format(form, requested, self.headers.get("Accept"))
        except ValueError as error:
            raise _Refusal(406, str(error)) from error
        graph = form in ("CONSTRUCT", "DESCRIBE")
        return (choice, "turtle") if not graph else ("json", choice)

    def _service_description(self) -> None:
        """GET /sparql without a query: the SPARQL 1.1 Service Description, in the RDF format asked for."""
        try:
            key = choose_format("DESCRIBE", [value for name in ("format", "output") for value in
                                             urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                                             .get(name, [])], self.headers.get("Accept"))
        except ValueError as error:
            raise _Refusal(406, str(error)) from error
        fmt = GRAPH_FORMATS[key]
        body = service_description(self._public_url("sparql"), fmt)
        self._send(200, fmt.media_type, body, vary=True)

    def _public_url(self, path: str) -> str:
        host = self.headers.get("Host")
        return f"http://{host}/{path}" if host else self.server.url + path

    # -- Linked Data

    def _resource(self, url: urllib.parse.SplitResult) -> None:
        """The description of the resource a path names: an HTML page or RDF, by negotiation."""
        iri = linkeddata.resource_iri(url.path)
        assert iri is not None
        fields = urllib.parse.parse_qs(url.query)
        requested = fields.get("format", [])
        key = next((RESOURCE_FORMAT_WORDS[value] for value in requested if value in RESOURCE_FORMAT_WORDS), None)
        if requested and key is None:
            raise _Refusal(406, f"format {requested[0]!r} is not offered: html, "
                                f"{', '.join(sorted(set(GRAPH_FORMAT_WORDS.values())))}")
        if key is None:
            key = negotiate(self.headers.get("Accept"), RESOURCE_MEDIA_TYPES)
        if key is None:
            raise _Refusal(406, f"none of the accepted media types is offered: {', '.join(RESOURCE_MEDIA_TYPES)}")
        status, first, second = self._run(linkeddata.describe_query(iri))
        if status != "ok":
            self._send_text(first, second)
            return
        triples = [quad.triple for quad in ox.parse(second, format=ox.RdfFormat.N_TRIPLES)]
        if not triples:
            self._send_text(404, f"nothing is said about <{iri}> in this graph")
            return
        if key == "html":
            self._send(200, "text/html; charset=utf-8", linkeddata.render_page(iri, triples).encode("utf-8"),
                       vary=True)
        else:
            fmt = GRAPH_FORMATS[key]
            self._send(200, fmt.media_type, linkeddata.rdf_bytes(triples, fmt), vary=True)

    def _map_page(self) -> None:
        """The build's map (``map.html`` beside the store), which the actors' pages link to."""
        page = self.server.build_dir / "map.html" if self.server.build_dir is not None else None
        if page is None or not page.is_file():
            self._send_text(404, "no map.html beside the store: `d4d build` writes it (or `d4d map`)")
            return
        self._file(page)

    # -- CORS

    def do_OPTIONS(self) -> None:
        """A CORS preflight (or a plain OPTIONS): what a page on another origin may send."""
        self.send_response(204, HTTPStatus(204).phrase)
        self.send_header("Allow", "GET, HEAD, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
        asked = self.headers.get("Access-Control-Request-Headers")
        self.send_header("Access-Control-Allow-Headers", asked or "Accept, Content-Type")
        self.send_header("Access-Control-Max-Age", "86400")
        self._cors_headers()
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _cors_headers(self) -> None:
        # Read-only and public: any page may query it, none may send credentials.
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "Content-Type, Content-Length, Vary")

    # -- files

    def _catalogue(self) -> list[dict[str, Any]]:
        """The catalogue for the page: each query as written (its header declares its parameters,
        which the page's form sends as ``$name=value``)."""
        return [{"name": query.name, "title": query.title, "description": query.description,
                 "form": query.form, "text": query.text,
                 "params": [{"name": p.name, "type": p.type, "default": p.default, "description": p.description}
                            for p in query.params]}
                for query in self.server.catalogue.values()]

    def _static(self, relative: str) -> None:
        name = urllib.parse.unquote(relative)
        if "\x00" in name:  # Path refuses it with ValueError
            self._send_text(400, "a file name cannot hold a NUL byte")
            return
        path = (STATIC_DIR / name).resolve()
        if not path.is_relative_to(STATIC_DIR) or not path.is_file():
            self._send_text(404, "no such file")
            return
        self._file(path)

    def _file(self, path: Path) -> None:
        kind = _STATIC_TYPES.get(path.suffix, "application/octet-stream")
        self._send(200, kind, path.read_bytes())

    def _send_text(self, status: int, message: str) -> None:
        self._send(status, "text/plain; charset=utf-8", (message.rstrip() + "\n").encode("utf-8"))

    def _send(self, status: int, content_type: str, body: bytes, *, vary: bool = False) -> None:
        # a client that does not read its answer gets as long as one that does not send
        self.connection.settimeout(self.server.options.read_timeout)
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status in (429, 503):
            self.send_header("Retry-After", str(RETRY_AFTER))
        if vary:
            self.send_header("Vary", "Accept")
        self._cors_headers()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _prepared(text: str, given: Mapping[str, str]) -> tuple[str, Prepared, dict[str, tuple[str, str]]]:
    """The form of a query, its text to run (the predeclared prefixes it lacks added, and the values
    of ``$name=value`` request fields bound, read as ``d4d query -p name=value`` reads them: typed by
    the query's ``# param:`` header when it has one), and the values given as slugs (name: slug, IRI)."""
    try:
        parsed = parse_query_text(text)
    except QueryError as error:
        if given or "not a SPARQL query" not in error.reason:
            raise _Refusal(400, error.message) from error
        # no query form found: let the engine report the syntax error with its position
        return "SELECT", prepare(CatalogueQuery(name="query", text=text), {}), {}
    if parsed.form == "UPDATE":
        return "UPDATE", Prepared(text, text, ()), {}
    try:
        values = resolve_params(parsed, given)
        prepared = prepare(parsed, values)
    except QueryError as error:
        raise _Refusal(400, error.message) from error
    slugs = {name: (value, term.value) for name, value in given.items()
             if is_slug(value) and isinstance(term := values.get(name), ox.NamedNode)}
    return parsed.form, prepared, slugs


SERVICE_DESCRIPTION = Path(__file__).resolve().parent / "data" / "service-description.ttl"
SH = "http://www.w3.org/ns/shacl#"


def service_description(endpoint: str, format: ox.RdfFormat = ox.RdfFormat.TURTLE) -> bytes:
    """The SPARQL 1.1 Service Description of the endpoint at ``endpoint`` (its URL), from
    ``d4d/data/service-description.ttl``, with the predeclared prefixes as SHACL prefix
    declarations (``sh:declare``)."""
    base = ox.NamedNode(endpoint)
    triples = [quad.triple for quad in ox.parse(path=SERVICE_DESCRIPTION, format=ox.RdfFormat.TURTLE,
                                                base_iri=endpoint)]
    for name, namespace in sorted(PREDECLARED.items()):
        declaration = ox.BlankNode(f"prefix-{name}")
        triples += [ox.Triple(base, ox.NamedNode(SH + "declare"), declaration),
                    ox.Triple(declaration, ox.NamedNode(SH + "prefix"), ox.Literal(name)),
                    ox.Triple(declaration, ox.NamedNode(SH + "namespace"),
                              ox.Literal(namespace, datatype=ox.NamedNode(XSD_ANY_URI)))]
    prefixes = {"sd": "http://www.w3.org/ns/sparql-service-description#",
                "formats": "http://www.w3.org/ns/formats/", "sh": SH, "dcterms": PREDECLARED["dcterms"],
                "rdfs": PREDECLARED["rdfs"], "xsd": PREDECLARED["xsd"]}
    triples.sort(key=lambda t: (t.subject != base, str(t.subject), str(t.predicate), str(t.object)))
    data = ox.serialize(triples, format=format, prefixes=prefixes if format == ox.RdfFormat.TURTLE else None)
    return data if isinstance(data, bytes) else b""


XSD_ANY_URI = "http://www.w3.org/2001/XMLSchema#anyURI"


def make_server(store_path: str | Path, *, host: str = "127.0.0.1", port: int = 7878,
                options: ServeOptions | None = None,
                catalogue: Mapping[str, CatalogueQuery] | None = None,
                quiet: bool = False) -> SparqlServer:
    """Open the store, start the workers and bind the HTTP server (not yet serving).

    Parameters
    ----------
    store_path:
        The store directory, or a build directory holding ``store/``.
    host, port:
        Where to listen; ``127.0.0.1`` unless told otherwise, ``port=0`` picks a free port.
    options:
        Limits (:class:`ServeOptions`).
    catalogue:
        The example queries for the page (default: none).
    quiet:
        Do not log each request to stderr.

    Returns
    -------
    SparqlServer
        Call ``serve_forever()``; ``server_close()`` stops the workers.

    Raises
    ------
    StoreError
        No store at ``store_path`` (run ``d4d build`` first).
    D4DError
        The address is in use or cannot be bound.
    """
    options = options or ServeOptions()
    path = find_store(store_path)  # a clear StoreError before any worker starts
    pool = QueryPool(path, options)
    try:
        server = SparqlServer((host, port), pool, options, catalogue or {}, quiet=quiet)
        server.build_dir = Path(path).parent
        return server
    except OSError as error:
        pool.close()
        raise D4DError(f"cannot listen on {host}:{port}: {error.strerror or error} "
                       f"(another server there? choose another --port)") from error
    except BaseException:
        pool.close()
        raise


def serve(store_path: str | Path, *, host: str = "127.0.0.1", port: int = 7878,
          options: ServeOptions | None = None, catalogue: Mapping[str, CatalogueQuery] | None = None,
          quiet: bool = False) -> None:
    """Serve until interrupted (Ctrl-C); see :func:`make_server` for the parameters."""
    server = make_server(store_path, host=host, port=port, options=options, catalogue=catalogue,
                         quiet=quiet)
    print(f"SPARQL endpoint at {server.url}sparql, editor at {server.url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
