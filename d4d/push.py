"""Upload the built graph to a SPARQL server through the SPARQL 1.1 Graph Store HTTP Protocol.

``d4d push --endpoint URL [--graph IRI]`` sends the graph in chunks of N-Triples to a Graph
Store endpoint (Oxigraph ``/store``, Fuseki ``/<dataset>/data``, GraphDB
``/repositories/<id>/rdf-graphs/service``, Virtuoso ``/sparql-graph-crud``), into the named graph
``IRI`` (``?graph=IRI``) or the default graph (``?default``).

Why pushing twice never duplicates
----------------------------------
- Blank nodes are skolemised (RDF 1.1, section 3.5): each becomes an IRI under
  ``https://w3id.org/d4d/.well-known/genid/``, named by the canonical label rdflib gives it
  (``rdflib.compare``, a hash of the triples around it), so the same data always gives the same
  IRIs. Every chunk is then ground, and an RDF graph is a set: sending a chunk twice, or two
  runs sending it at once, adds nothing.
- The first chunk goes with ``PUT``, which *replaces* the target graph; every later chunk goes
  with ``POST``, which adds to it. A complete push therefore leaves exactly the source's triples,
  whatever the graph held before.
- A checkpoint file records how many chunks the server confirmed, together with what was being
  pushed (endpoint, graph, a SHA-256 of the data, chunk size). An interrupted push resumes after
  the last confirmed chunk; if anything differs (new data, other target) it starts again from the
  ``PUT``. The checkpoint is removed once the push completes.
- Afterwards the graph is read back (``GET``) and its triples counted. A request of a killed run
  can still be running on the server (it had the whole body when the client died): if it lands
  after this run's requests, the count is off, and the chunks are sent once more (the ``PUT``
  first if the graph holds too much). A store that merges literals equal in value
  (``"0"^^xsd:integer`` and ``"0"^^xsd:double`` in Virtuoso) holds fewer triples than were sent:
  that is reported with its reason, not as a failure.

Chunks are cut from the triples sorted by their N-Triples text, so the same data always gives the
same chunks. A request that gets no answer within ``timeout`` seconds (30) is tried again, twice
by default: a server that never answers is reported after about ``3 * timeout + 3`` seconds.

Authentication: HTTP basic or digest, whichever the server asks for, with the user and password
given to :func:`push` (the CLI reads the password from ``D4D_PUSH_PASSWORD`` or a netrc file).
Credentials in the endpoint URL are refused, since URLs are printed in messages.
"""

from __future__ import annotations

import hashlib
import html
import json
import netrc
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from d4d.errors import QueryError, StoreError
from d4d.limits import PUSH_CHUNK_TRIPLES, PUSH_RETRIES, PUSH_TIMEOUT
from d4d.store import find_store, open_store

#: Where skolemised blank nodes live (RDF 1.1 recommends a ``/.well-known/genid/`` path).
SKOLEM_BASE = "https://w3id.org/d4d/.well-known/genid/"

#: The environment variable the CLI reads the password from.
PASSWORD_VARIABLE = "D4D_PUSH_PASSWORD"

XSD = "http://www.w3.org/2001/XMLSchema#"
#: Numeric datatypes whose equal values a store may merge into one literal.
NUMERIC_TYPES = frozenset(XSD + name for name in (
    "integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
    "unsignedShort", "unsignedByte"))

#: ``progress(chunks_done, chunks_total, triples_done, triples_total)``.
Progress = Callable[[int, int, int, int], None]


@dataclass(frozen=True)
class PushReport:
    """What a push did."""

    url: str
    triples: int
    chunks: int
    resumed_from: int  # index of the first chunk sent in this run (0: a full push)
    server_triples: int = -1  # what the server holds afterwards (-1: not checked)
    note: str = ""  # why the server holds fewer triples than were sent, when it merged values


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


def skolemise(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """The triples with every blank node replaced by a stable IRI under :data:`SKOLEM_BASE`.

    The triples that touch blank nodes fall into components (triples sharing a blank node); each
    component is canonicalised on its own (``rdflib.compare.to_canonical_graph``, whose cost grows
    faster than linearly with the nodes it compares, so components keep it small), and a node's
    IRI is a SHA-256 of its component's canonical text and its canonical label. The same data
    therefore always gives the same IRIs, whatever labels a parser chose. Two components equal in
    every term become one, which leaves the graph's meaning unchanged.

    >>> data = '_:x <http://example.org/p> "1" .'
    >>> first = skolemise(t.triple for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
    >>> again = skolemise(t.triple for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
    >>> first == again and str(first[0].subject).startswith("<https://w3id.org/d4d/.well-known/genid/")
    True
    """
    ground: list[ox.Triple] = []
    parent: dict[str, str] = {}

    def root(label: str) -> str:
        while parent[label] != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    blank: list[ox.Triple] = []
    for triple in triples:
        labels = [term.value for term in (triple.subject, triple.object) if isinstance(term, ox.BlankNode)]
        if not labels:
            ground.append(triple)
            continue
        blank.append(triple)
        for label in labels:
            parent.setdefault(label, label)
        if len(labels) == 2:
            parent[root(labels[0])] = root(labels[1])
    components: dict[str, list[ox.Triple]] = {}
    for triple in blank:
        term = triple.subject if isinstance(triple.subject, ox.BlankNode) else triple.object
        assert isinstance(term, ox.BlankNode)
        components.setdefault(root(term.value), []).append(triple)
    for component in components.values():
        ground.extend(_skolemise_component(component))
    return ground


def _skolemise_component(triples: list[ox.Triple]) -> list[ox.Triple]:
    labels = {term.value for triple in triples for term in (triple.subject, triple.object)
              if isinstance(term, ox.BlankNode)}
    if len(labels) == 1:
        # one blank node: its canonical form is its triples with any fixed label (rdflib would
        # take about 100 times longer to say so: bench/RESULTS-endpoint.md)
        only = ox.BlankNode("b0")
        lines = sorted(str(ox.Triple(only if isinstance(t.subject, ox.BlankNode) else t.subject, t.predicate,
                                     only if isinstance(t.object, ox.BlankNode) else t.object)) + " ."
                       for t in triples)
    else:
        import rdflib
        from rdflib.compare import to_canonical_graph

        text = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")
        canonical = to_canonical_graph(rdflib.Graph().parse(data=text, format="nt"))
        lines = sorted(canonical.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines())
    component = "\n".join(line.strip() for line in lines if line.strip())
    names: dict[str, ox.NamedNode] = {}

    def skolem(term: Any) -> Any:
        if not isinstance(term, ox.BlankNode):
            return term
        if term.value not in names:
            digest = hashlib.sha256(f"{component}\n{term.value}".encode("utf-8")).hexdigest()[:32]
            names[term.value] = ox.NamedNode(SKOLEM_BASE + digest)
        return names[term.value]

    result = []
    for quad in ox.parse(component.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES):
        result.append(ox.Triple(skolem(quad.subject), quad.predicate, skolem(quad.object)))
    return result


def plan_chunks(triples: Iterable[ox.Triple], *, chunk_size: int = PUSH_CHUNK_TRIPLES) -> list[list[ox.Triple]]:
    """Cut triples into upload chunks: blank nodes skolemised (:func:`skolemise`), the triples
    sorted by N-Triples text, ``chunk_size`` per chunk.

    Raises
    ------
    ValueError
        ``chunk_size`` is not positive.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    ordered = sorted(set(skolemise(triples)), key=str)
    return [ordered[start:start + chunk_size] for start in range(0, len(ordered), chunk_size)] or [[]]


def fingerprint(chunks: list[list[ox.Triple]]) -> str:
    """SHA-256 of the (ground) triples in chunk order."""
    digest = hashlib.sha256()
    for chunk in chunks:
        for triple in chunk:
            digest.update(str(triple).encode("utf-8"))
            digest.update(b"\n")
        digest.update(b"--\n")
    return digest.hexdigest()


def merged_size(triples: Iterable[ox.Triple]) -> int:
    """How many triples remain when numeric literals equal in value count as one
    (``"0"^^xsd:integer`` and ``"0.0"^^xsd:double``), as some stores keep them."""
    keys: set[tuple[str, str, object]] = set()
    for triple in triples:
        value: object = str(triple.object)
        literal = triple.object
        if isinstance(literal, ox.Literal) and literal.datatype.value in NUMERIC_TYPES:
            try:
                number = Decimal(literal.value.strip())
                value = ("number", number.normalize()) if number.is_finite() else value
            except InvalidOperation:
                pass
        keys.add((str(triple.subject), str(triple.predicate), value))
    return len(keys)


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


Credentials = tuple[str, str]  # user, password


def credentials(endpoint: str, *, user: str | None = None, environ: Mapping[str, str] | None = None,
                netrc_file: str | Path | None = None) -> Credentials | None:
    """The user and password for ``endpoint``: ``user`` with the password in the environment
    variable :data:`PASSWORD_VARIABLE`, else the netrc entry of the endpoint's host (``netrc_file``,
    default ``$NETRC`` or ``~/.netrc``); ``None`` when there is neither.

    Raises
    ------
    QueryError
        The URL holds credentials, or ``user`` is given without a password anywhere.
    """
    parts = urllib.parse.urlsplit(endpoint)
    if parts.username is not None or parts.password is not None:
        raise QueryError("the endpoint URL holds credentials; give the user with --user and the password in "
                         f"{PASSWORD_VARIABLE} or a netrc file (a URL is printed in messages)",
                         path=_safe(endpoint))
    environ = os.environ if environ is None else environ
    password = environ.get(PASSWORD_VARIABLE)
    if user is not None and password:
        return user, password
    path = Path(netrc_file) if netrc_file is not None else Path(environ.get("NETRC") or Path.home() / ".netrc")
    entry = None
    if path.is_file():
        try:
            entry = netrc.netrc(str(path)).authenticators(parts.hostname or "")
        except (netrc.NetrcParseError, OSError) as error:
            raise QueryError(f"cannot read the netrc file: {getattr(error, 'msg', error)}", path=path) from None
    if entry is not None and (user is None or entry[0] == user):
        return entry[0] or "", entry[2] or ""
    if user is not None:
        raise QueryError(f"no password for user {user!r}: set {PASSWORD_VARIABLE} or add the host "
                         f"{parts.hostname} to {path}")
    return None


def _safe(url: str) -> str:
    """``url`` without any user or password in it."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class _DigestUpFront(urllib.request.HTTPDigestAuthHandler):
    """Digest authentication that answers the server's last challenge with every later request.

    urllib sends each request bare and answers a 401 after it; a server may send that 401 and close
    the connection before it has read a large body, which the client sees as a broken pipe.
    """

    challenge: dict[str, str] | None = None

    def http_error_auth_reqed(self, auth_header: str, host: str, req: urllib.request.Request,
                              headers: Any) -> Any:
        for value in headers.get_all(auth_header) or []:
            scheme, _, rest = value.partition(" ")
            if scheme.lower() == "digest":
                self.challenge = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))
        return super().http_error_auth_reqed(auth_header, host, req, headers)

    def http_request(self, req: urllib.request.Request) -> urllib.request.Request:
        if self.challenge is not None and not req.has_header("Authorization"):
            answer = self.get_authorization(req, self.challenge)
            if answer:
                req.add_unredirected_header("Authorization", f"Digest {answer}")
        return req

    https_request = http_request


def _opener(url: str, auth: Credentials | None) -> urllib.request.OpenerDirector:
    if auth is None:
        return urllib.request.build_opener()
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, url, auth[0], auth[1])
    return urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(passwords), _DigestUpFront(passwords))


def reason_of(body: bytes, content_type: str | None) -> str:
    """The server's reason for an error, in one line: the text of an HTML page without its markup,
    or the first lines of a text body, 300 characters at most."""
    text = body.decode("utf-8", "replace")
    if "html" in (content_type or "").lower() or text.lstrip().lower().startswith(("<!doctype html", "<html")):
        text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", text)
        text = html.unescape(re.sub(r"(?s)<[^>]+>", " ", text))
    line = " ".join(text.split())
    return line[:300] + ("..." if len(line) > 300 else "")


def _send(opener: urllib.request.OpenerDirector, url: str, method: str, body: bytes | None, *,
          timeout: float, retries: int, accept: str | None = None) -> tuple[bytes, str]:
    """Send one request, retrying server errors and silence; (body, content type) of the answer."""
    headers = {"User-Agent": "d4d (push)"}
    if body is not None:
        headers["Content-Type"] = "application/n-triples"
    if accept:
        headers["Accept"] = accept
    for attempt in range(retries + 1):
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with opener.open(request, timeout=timeout) as response:
                data: bytes = response.read()
                return data, response.headers.get("Content-Type") or ""
        except urllib.error.HTTPError as error:
            reason = reason_of(error.read(4000), error.headers.get("Content-Type")) or str(error.reason)
            if error.code < 500 or attempt == retries:
                raise QueryError(f"{method} refused with {error.code}: {reason}", path=_safe(url)) from None
        except TimeoutError:
            if attempt == retries:
                raise QueryError(f"{method}: no answer within {timeout:g} s, {retries + 1} times",
                                 path=_safe(url)) from None
        except (urllib.error.URLError, OSError) as error:
            if attempt == retries:
                cause = getattr(error, "reason", error)
                raise QueryError(f"{method} failed: {cause}", path=_safe(url)) from None
        time.sleep(min(2 ** attempt, 10))
    raise AssertionError("unreachable")


def count_on_server(url: str, *, auth: Credentials | None = None, timeout: float = PUSH_TIMEOUT,
                    retries: int = PUSH_RETRIES) -> int:
    """Triples the server holds in the graph at the Graph Store ``url`` (read back with ``GET``)."""
    opener = _opener(url, auth)
    data, media = _send(opener, url, "GET", None, timeout=timeout, retries=retries,
                        accept="application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5")
    media_type = media.split(";")[0].strip() or "application/n-triples"
    rdf_format = ox.RdfFormat.from_media_type(media_type)
    if rdf_format is None:
        raise QueryError(f"GET answered {media_type}, not an RDF format", path=_safe(url))
    try:
        return sum(1 for _ in ox.parse(data, format=rdf_format))
    except SyntaxError as error:
        raise QueryError(f"GET answered malformed {media_type}: {error}", path=_safe(url)) from None


def push(source: str | Path, endpoint: str, *, graph: str | None = None,
         chunk_size: int = PUSH_CHUNK_TRIPLES, checkpoint_dir: str | Path | None = None,
         restart: bool = False, progress: Progress | None = None, timeout: float = PUSH_TIMEOUT,
         retries: int = PUSH_RETRIES, auth: Credentials | None = None, verify: bool = True) -> PushReport:
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
        Seconds without an answer before a request is tried again, and how many times; server
        errors (5xx) and network failures are retried with backoff too.
    auth:
        (user, password) for HTTP basic or digest authentication (see :func:`credentials`).
    verify:
        Read the graph back and check its size (see the module's text).

    Returns
    -------
    PushReport

    Raises
    ------
    StoreError
        Nothing to push (no build).
    QueryError
        The server refused a request, could not be reached, or holds other than the source's
        triples afterwards (the checkpoint keeps the progress made: run the push again to resume).
    """
    if graph is not None:
        try:
            ox.NamedNode(graph)
        except ValueError as error:
            raise QueryError(f"--graph {graph!r} is not an IRI: {error}") from error
    credentials(endpoint, environ={})  # refuses credentials in the URL
    url = graph_store_url(endpoint, graph)
    opener = _opener(url, auth)
    chunks = plan_chunks(read_triples(source), chunk_size=chunk_size)
    total = sum(len(chunk) for chunk in chunks)
    where = Path(checkpoint_dir) if checkpoint_dir is not None else Path(source).resolve().parent
    state_file = checkpoint_path(where, endpoint, graph)
    state = {"endpoint": _safe(endpoint), "graph": graph, "fingerprint": fingerprint(chunks),
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

    def request(method: str, body: bytes) -> None:
        try:
            _send(opener, url, method, body, timeout=timeout, retries=retries)
        except QueryError as error:
            if graph is not None or "refused" not in error.reason:
                raise
            raise QueryError(f"{error.reason} (this was the default graph: a store without one in "
                             f"the Graph Store protocol, such as Virtuoso, needs --graph IRI)",
                             path=error.path) from None

    def send(index: int, method: str) -> None:
        request(method, ox.serialize(chunks[index], format=ox.RdfFormat.N_TRIPLES) or b"")

    if auth is not None:
        # An empty POST (it adds nothing) meets the server's challenge first: a server refusing
        # the credentials may close the connection before reading a large body, which the
        # client would see as a broken pipe instead of the 401
        request("POST", b"")
    for index in range(start, len(chunks)):
        send(index, "PUT" if index == 0 else "POST")
        state["done"] = index + 1
        _write_json(state_file, state)
        sent_triples += len(chunks[index])
        if progress is not None:
            progress(index + 1, len(chunks), sent_triples, total)
    report = PushReport(url=_safe(url), triples=total, chunks=len(chunks), resumed_from=start)
    if verify:
        report = _verify(report, chunks, send, lambda: count_on_server(url, auth=auth, timeout=timeout,
                                                                       retries=retries))
    state_file.unlink(missing_ok=True)
    return report


def _verify(report: PushReport, chunks: list[list[ox.Triple]], send: Callable[[int, str], None],
            count: Callable[[], int]) -> PushReport:
    """Check the server's count; send the chunks once more when a request of an earlier run landed
    after this run's (too few: it replaced the graph; too many: it added other data)."""
    total = report.triples
    merged = merged_size(triple for chunk in chunks for triple in chunk)
    held = count()
    if held not in (total, merged):
        for index in range(len(chunks)):
            send(index, "PUT" if index == 0 and held > total else "POST")
        held = count()
    note = ""
    if held == merged != total:
        note = (f"the server holds {held} of the {total} triples sent: it keeps one literal for numeric "
                f"values that are equal ({total - merged} triples differ only in such a literal, "
                f'e.g. "0"^^xsd:integer and "0"^^xsd:double)')
    elif held != total:
        raise QueryError(f"after the push the server holds {held} triples in the graph, not the {total} sent",
                         path=report.url)
    return PushReport(url=report.url, triples=total, chunks=report.chunks, resumed_from=report.resumed_from,
                      server_triples=held, note=note)
