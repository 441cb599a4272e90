"""A read-only SPARQL 1.1 Protocol endpoint over the built store, with a query editor.

``d4d serve`` answers at ``/sparql`` (GET ``?query=``, POST form-encoded ``query=``, POST
``application/sparql-query``) and serves a web page at ``/``: the YASGUI editor (vendored under
``d4d/static/yasgui``, no CDN) with the catalogue as example queries.

Why queries run in worker processes
-----------------------------------
pyoxigraph releases the GIL while it evaluates, but it has no way to interrupt a query from
Python. A thread running a runaway query can only be abandoned, not stopped, and would keep a
core busy. So every query runs in one of a few worker processes, each holding the store open
read-only; a worker that exceeds the time limit is killed and replaced. The result-size limit
is checked while the worker reads the solutions, so an oversized answer is never built in full.

Read-only
---------
SPARQL Update (including ``LOAD``) is refused with 403, whether sent as ``update=`` or as a
query; so is any query with a ``SERVICE`` clause, which would make this server call other hosts
(pyoxigraph would otherwise run it). Refusals and errors are ``text/plain`` one-liners.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import re
import sys
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from d4d.errors import QueryError, StoreError
from d4d.sparql import (GRAPH_FORMATS, RESULT_FORMATS, CatalogueQuery, bind, query_form,
                        resolve_params, service_calls)
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
}

MAX_REQUEST_BYTES = 1_000_000


@dataclass(frozen=True)
class ServeOptions:
    """Limits and behaviour of the endpoint.

    Attributes
    ----------
    time_limit:
        Seconds a query may run before its worker is killed (answer: 503).
    max_rows:
        Most solutions (or triples) a query may return (more: 422, add a LIMIT).
    workers:
        Worker processes, i.e. queries that can run at once.
    union_default_graph:
        Read a store that is not a built one as the union of its graphs, unless the request names
        its ``default-graph-uri``. (A built store's default graph holds every triple of its named
        graphs once, and is read as it is: see :func:`d4d.store.query_options`.)
    """

    time_limit: float = 30.0
    max_rows: int = 100_000
    workers: int = 2
    union_default_graph: bool = True


# ---------------------------------------------------------------------------------------------
# Worker processes


def _worker_main(store_path: str, conn: Connection) -> None:  # pragma: no cover - child process
    try:
        store = ox.Store.read_only(store_path)
    except OSError as error:
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
        except Exception as error:  # the endpoint must answer, whatever went wrong
            reply = ("error", 500, f"{type(error).__name__}: {error}")
        conn.send(reply)


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


class QueryPool:
    """A few worker processes holding the store open read-only; queries that overrun are killed.

    Parameters
    ----------
    store_path:
        The store directory.
    workers:
        Number of worker processes.

    Raises
    ------
    StoreError
        A worker cannot open the store.
    """

    def __init__(self, store_path: str | Path, *, workers: int = 2) -> None:
        self._path = str(store_path)
        self._context = multiprocessing.get_context("spawn")  # fork is unsafe in a threaded server
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        started = [self._spawn() for _ in range(max(1, workers))]
        for worker in started:
            self._await_ready(worker)
            self._idle.put(worker)

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(self._path, child), daemon=True,
                                        name="d4d-sparql-worker")
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._all.add(worker)
        return worker

    def _await_ready(self, worker: _Worker) -> None:
        if not worker.conn.poll(60):
            self._discard(worker)
            raise StoreError("a query worker did not start within 60 s", path=self._path)
        status, detail = worker.conn.recv()
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

    def _replace(self) -> None:
        if self._closed:
            return
        worker = self._spawn()
        try:
            self._await_ready(worker)
        except StoreError:
            return
        self._idle.put(worker)

    def run(self, job: Mapping[str, Any], *, time_limit: float) -> tuple[str, Any, Any]:
        """Run a job; ``("ok", media_type, body)`` or ``("error", http_status, message)``."""
        try:
            worker = self._idle.get(timeout=time_limit)
        except queue.Empty:
            return ("error", 503, "every query worker is busy; try again in a moment")
        worker.conn.send(dict(job))
        if worker.conn.poll(time_limit):
            try:
                reply: tuple[str, Any, Any] = worker.conn.recv()
            except (EOFError, OSError):
                self._discard(worker)
                threading.Thread(target=self._replace, daemon=True).start()
                return ("error", 500, "the query worker died while running this query")
            self._idle.put(worker)
            return reply
        self._discard(worker)
        threading.Thread(target=self._replace, daemon=True).start()
        return ("error", 503, f"the query ran longer than the time limit of {time_limit:g} s "
                              f"and was stopped")

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


# ---------------------------------------------------------------------------------------------
# HTTP


class SparqlServer(ThreadingHTTPServer):
    """The HTTP server: holds the worker pool, the options and the catalogue for the page."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], pool: QueryPool, options: ServeOptions,
                 catalogue: Mapping[str, CatalogueQuery], *, quiet: bool = False) -> None:
        self.pool = pool
        self.options = options
        self.catalogue = catalogue
        self.quiet = quiet
        super().__init__(address, SparqlHandler)

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


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_STATIC_TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                 ".svg": "image/svg+xml", ".map": "application/json"}


class SparqlHandler(BaseHTTPRequestHandler):
    """Routes: ``/`` (the editor), ``/static/...``, ``/catalogue.json``, ``/sparql``."""

    server: SparqlServer
    server_version = "d4d-sparql"

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)

    # -- routing

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/":
            self._file(STATIC_DIR / "sparql.html")
        elif url.path.startswith("/static/"):
            self._static(url.path[len("/static/"):])
        elif url.path == "/catalogue.json":
            self._send(200, "application/json", json.dumps(self._catalogue(), indent=1).encode())
        elif url.path == "/sparql":
            self._guarded(lambda: self._sparql(urllib.parse.parse_qs(url.query, keep_blank_values=True)))
        else:
            self._send_text(404, f"nothing at {url.path}; the endpoint is /sparql")

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/sparql":
            self._send_text(404, f"nothing at {url.path}; the endpoint is /sparql")
            return
        self._guarded(lambda: self._post(url))

    def _post(self, url: urllib.parse.SplitResult) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            raise _Refusal(413, f"the request is larger than {MAX_REQUEST_BYTES} bytes")
        body = self.rfile.read(length).decode("utf-8", "replace")
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

    # -- the protocol

    def _sparql(self, fields: Mapping[str, list[str]]) -> None:
        if "update" in fields:
            raise _Refusal(403, "SPARQL Update is not allowed: this endpoint is read-only")
        queries = fields.get("query", [])
        if len(queries) != 1 or not queries[0].strip():
            raise _Refusal(400, "pass exactly one SPARQL query as query=...")
        text = queries[0]
        try:
            form = query_form(text)
        except QueryError:
            form = "SELECT"  # let the engine report the syntax error with its position
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
        options = self.server.options
        job = {"query": text, "results_format": results_format, "graph_format": graph_format,
               "max_rows": options.max_rows, "default_graph": default_graph,
               "named_graphs": named_graphs, "union": options.union_default_graph}
        status, first, second = self.server.pool.run(job, time_limit=options.time_limit)
        if status == "ok":
            self._send(200, first, second, vary=True)
        else:
            self._send_text(first, second)

    def _graph_list(self, fields: Mapping[str, list[str]], key: str) -> list[str]:
        iris = fields.get(key, [])
        for iri in iris:
            try:
                ox.NamedNode(iri)
            except ValueError as error:
                raise _Refusal(400, f"{key} {iri!r} is not an IRI: {error}") from error
        return iris

    def _formats(self, form: str, fields: Mapping[str, list[str]]) -> tuple[str, str]:
        requested = (fields.get("format") or fields.get("output") or [""])[0]
        graph = form in ("CONSTRUCT", "DESCRIBE")
        offers = GRAPH_MEDIA_TYPES if graph else RESULT_MEDIA_TYPES
        if requested:
            choice = requested if requested in offers.values() else offers.get(requested)
            if choice is None:
                raise _Refusal(406, f"format {requested!r} is not offered for {form}: "
                                    f"{', '.join(sorted(set(offers.values())))}")
        else:
            choice = negotiate(self.headers.get("Accept"), offers)
            if choice is None:
                raise _Refusal(406, f"none of the accepted media types fits a {form} result; "
                                    f"offered: {', '.join(offers)}")
        return (choice, "turtle") if not graph else ("json", choice)

    # -- files

    def _catalogue(self) -> list[dict[str, Any]]:
        entries = []
        for query in self.server.catalogue.values():
            try:
                bound = bind(query.text, resolve_params(query, {}))
            except QueryError:
                bound = query.text
            entries.append({"name": query.name, "title": query.title, "description": query.description,
                            "form": query.form, "text": bound,
                            "params": [{"name": p.name, "type": p.type, "default": p.default,
                                        "description": p.description} for p in query.params]})
        return entries

    def _static(self, relative: str) -> None:
        path = (STATIC_DIR / urllib.parse.unquote(relative)).resolve()
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
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if vary:
            self.send_header("Vary", "Accept")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


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
    OSError
        The address is in use.
    """
    options = options or ServeOptions()
    path = find_store(store_path)  # a clear StoreError before any worker starts
    pool = QueryPool(path, workers=options.workers)
    try:
        return SparqlServer((host, port), pool, options, catalogue or {}, quiet=quiet)
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
