"""The endpoint's limits, over real sockets on 127.0.0.1: memory, time, lanes, queues, threads,
slow and malformed requests. Every request gets an answer; none is a dropped connection."""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from d4d.serve import SPARE_WORKERS, ServeOptions, SparqlServer, make_server
from d4d.store import write_store

pytestmark = pytest.mark.server

EX = "http://example.org/"
TRIPLES = 1000  # a three-way product of them, sorted, needs far more than the memory limit
DATA = "".join(f"<{EX}s{i}> <{EX}p> \"{i}\" .\n" for i in range(TRIPLES))
# 1000^16 rows to count: never ends, and needs no memory
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(16)) + " }"
HUNGRY = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i LIMIT 1"
CHEAP = f"ASK {{ <{EX}s1> ?p ?o }}"
OPTIONS = ServeOptions(time_limit=3.0, workers=1, slow_workers=1, fast_budget=0.5, memory_limit=1024,
                       queue_limit=1, slow_queue_limit=1, max_connections=6, read_timeout=2.5)


# the memory test's query needs a few seconds of CPU to reach the limit on a busy machine
MEMORY_OPTIONS = ServeOptions(time_limit=120.0, fast_budget=120.0, workers=1, slow_workers=1, memory_limit=1024)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("limits") / "store"
    write_store(path, [(DATA.encode(), None)], format="ntriples")
    return path


def running(store: Path, options: ServeOptions) -> Iterator[SparqlServer]:
    srv = make_server(store, port=0, quiet=True, options=options)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[SparqlServer]:
    yield from running(store, OPTIONS)


@pytest.fixture(scope="module")
def memory_server(store: Path) -> Iterator[SparqlServer]:
    yield from running(store, MEMORY_OPTIONS)


def ask(server: SparqlServer, query: str) -> tuple[int, str, float]:
    """GET the query; (status, body, seconds)."""
    url = f"{server.url}sparql?{urllib.parse.urlencode({'query': query})}"
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), time.monotonic() - started


def raw(server: SparqlServer, data: bytes, *, pause: float = 0.0, chunks: int = 1) -> tuple[int, str, float]:
    """Send ``data`` over a bare socket (in ``chunks`` pieces, ``pause`` s apart); read the answer:
    (status, body, seconds until it came). Status 0: the server closed without an answer."""
    host, port = server.server_address[:2]
    started = time.monotonic()
    with socket.create_connection((str(host), port), timeout=30) as connection:
        size = max(1, len(data) // chunks)
        try:
            for start in range(0, len(data), size):
                connection.sendall(data[start:start + size])
                if pause:
                    time.sleep(pause)
        except OSError:
            pass  # the server answered and closed before all was sent
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    elapsed = time.monotonic() - started
    if not answer:
        return 0, "", elapsed
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace"), elapsed


def settled(server: SparqlServer) -> None:
    """Wait until every worker is back (a killed one is replaced in the background)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if len(server.pool.fast.pids()) == OPTIONS.workers + SPARE_WORKERS \
                and len(server.pool.slow.pids()) == OPTIONS.slow_workers + SPARE_WORKERS \
                and ask(server, CHEAP)[0] == 200:
            return
        time.sleep(0.1)
    raise AssertionError("the workers did not come back")


# -- memory and time ---------------------------------------------------------------------------

def test_a_query_over_the_memory_limit_gets_503_naming_it(memory_server: SparqlServer) -> None:
    status, body, _ = ask(memory_server, HUNGRY)
    assert status == 503, body
    assert body.strip() == "the query needed more memory than the limit of 1024 MB of a query worker and was stopped"
    deadline = time.monotonic() + 30  # replaced, and answering
    while len(memory_server.pool.fast.pids()) != 1 + SPARE_WORKERS and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ask(memory_server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[1].count(f'"{TRIPLES}"') == 1
    # remembered: the second time it runs in the slow lane, and the fast lane keeps its workers
    fast_workers = sorted(memory_server.pool.fast.pids())
    status, body, _ = ask(memory_server, HUNGRY)
    assert status == 503 and "limit of 1024 MB" in body
    assert sorted(memory_server.pool.fast.pids()) == fast_workers
    for pid in memory_server.pool.pids():  # and the workers are under the limit
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            fields = dict(line.split(":", 1) for line in status)
        assert int(fields["VmSize"].split()[0]) <= 1024 * 1024  # address space, in kB


def test_a_slow_query_moves_to_the_slow_lane_and_cheap_ones_keep_answering(server: SparqlServer) -> None:
    settled(server)
    outcome: list[tuple[int, str, float]] = []
    slow = threading.Thread(target=lambda: outcome.append(ask(server, SLOW)))
    slow.start()
    deadline = time.monotonic() + 20  # past the budget: the slow lane runs it, the fast lane is back
    while not (server.pool.slow.idle() == 0 and server.pool.fast.idle() == 1) and time.monotonic() < deadline:
        time.sleep(0.02)
    cheap = [ask(server, CHEAP) for _ in range(10)]
    assert slow.is_alive()  # every cheap query answered while the slow one ran
    slow.join()
    assert all(status == 200 for status, _, _ in cheap)
    status, body, seconds = outcome[0]
    assert status == 503 and "time limit of 3 s" in body
    assert seconds >= OPTIONS.fast_budget + OPTIONS.time_limit  # the budget, then the whole limit
    settled(server)
    # remembered: the second time it goes to the slow lane at once; the fast lane's worker, which
    # would have been killed at the budget, is the same process afterwards
    fast_workers = sorted(server.pool.fast.pids())
    status, body, seconds = ask(server, SLOW)
    assert status == 503 and seconds >= OPTIONS.time_limit
    assert sorted(server.pool.fast.pids()) == fast_workers


# -- admission -------------------------------------------------------------------------------

def test_a_full_queue_answers_429(server: SparqlServer) -> None:
    settled(server)
    query = SLOW + " # not remembered yet"
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(ask(server, query)[0])) for _ in range(2)]
    for thread in threads:  # one runs in the fast lane, one waits (queue_limit 1)
        thread.start()
    deadline = time.monotonic() + 10
    while server.pool.fast.waiting() < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    status, body, seconds = ask(server, CHEAP)
    assert status == 429 and "too many queries are waiting for the fast lane (1)" in body
    assert seconds < 1.0
    for thread in threads:
        thread.join()
    assert sorted(answers) in ([429, 503], [503, 503])  # the slow lane holds one and queues one
    settled(server)


def test_connections_past_the_bound_get_503_and_idle_ones_408(server: SparqlServer) -> None:
    settled(server)
    host, port = server.server_address[:2]
    idle = [socket.create_connection((str(host), port)) for _ in range(OPTIONS.max_connections)]
    try:
        deadline = time.monotonic() + OPTIONS.read_timeout / 2
        while time.monotonic() < deadline:  # until the server has accepted them all, a thread each
            status, body, seconds = raw(server, b"GET /sparql?query=ASK%7B%7D HTTP/1.0\r\n\r\n")
            if status == 503:
                break
        assert status == 503 and "limit of 6 connections" in body and seconds < 1.0
        answers = []
        for connection in idle:  # none of them sent a request: 408 at the read timeout
            connection.settimeout(10)
            answers.append(connection.recv(65536)[:12])
        # (one may have come past the bound itself, while a thread of an earlier test ended)
        assert set(answers) <= {b"HTTP/1.0 408", b"HTTP/1.0 503"} and b"HTTP/1.0 408" in answers
    finally:
        for connection in idle:
            connection.close()
    settled(server)


# -- slow and malformed requests -------------------------------------------------------------

def test_malformed_requests_get_4xx(server: SparqlServer) -> None:
    assert raw(server, b"GET /static/yasgui/%00 HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 400
    status, body, _ = raw(server, b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                                  b"Content-Length: abc\r\n\r\nASK {}")
    assert status == 400 and "Content-Length 'abc' is not a number" in body
    assert raw(server, b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")[0] == 400
    assert raw(server, b"GARBAGE\r\n\r\n")[0] == 400
    assert raw(server, b"GET /sparql HTTP/9.9\r\n\r\n")[0] == 505


def test_a_stalled_post_body_gets_408(server: SparqlServer) -> None:
    status, body, seconds = raw(server, b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                                        b"Content-Length: 100\r\n\r\nASK {")
    assert status == 408 and "read timeout of 2.5 s" in body
    assert OPTIONS.read_timeout <= seconds < OPTIONS.read_timeout + 2


def test_a_trickled_request_gets_408_at_the_deadline(server: SparqlServer) -> None:
    request = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 30 + b"\r\n\r\n"
    status, _, seconds = raw(server, request, pause=0.2, chunks=len(request))  # a byte every 0.2 s
    assert status == 408
    assert seconds < OPTIONS.read_timeout + 2  # the whole request had one deadline


def test_a_short_body_gets_400(server: SparqlServer) -> None:
    host, port = server.server_address[:2]
    with socket.create_connection((str(host), port), timeout=10) as connection:
        connection.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                           b"Content-Length: 100\r\n\r\nASK {}")
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 400") and b"after 6 of the 100 bytes" in answer


def test_the_cli_defaults_are_the_options_defaults() -> None:
    from d4d.cli import serve as serve_command

    defaults = {param.name: param.default for param in serve_command.params}
    options = ServeOptions()
    assert (defaults["time_limit"], defaults["max_rows"], defaults["workers"], defaults["slow_workers"],
            defaults["fast_budget"], defaults["memory_limit"], defaults["per_client"]) == (
        options.time_limit, options.max_rows, options.workers, options.slow_workers, options.fast_budget,
        options.memory_limit, options.per_client)


def ask_from(server: SparqlServer, source: str, query: str) -> tuple[int, str]:
    """GET the query from the local address ``source`` (another client of 127.0.0.0/8)."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=60, source_address=(source, 0))
    try:
        connection.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}))
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_one_client_past_its_limit_gets_429_while_others_are_served(store: Path) -> None:
    options = ServeOptions(time_limit=4.0, fast_budget=4.0, workers=2, slow_workers=1, per_client=1)
    for srv in running(store, options):
        answers: list[tuple[int, str]] = []
        slow = threading.Thread(target=lambda: answers.append(ask_from(srv, "127.0.0.1", SLOW)))
        slow.start()
        deadline = time.monotonic() + 10
        while srv.pool.clients().get("127.0.0.1") != 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        status, body = ask_from(srv, "127.0.0.1", CHEAP)
        assert status == 429 and "this client (127.0.0.1) has 1 queries running or waiting" in body
        assert ask_from(srv, "127.0.0.2", CHEAP)[0] == 200  # another client, the other worker
        slow.join()
        assert answers[0][0] == 503
        assert ask_from(srv, "127.0.0.1", CHEAP)[0] == 200  # its query over, the client is served again
