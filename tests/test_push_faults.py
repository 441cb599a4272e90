"""Push under faults, against a real Oxigraph server on 127.0.0.1: a push killed at any moment
and run again, pushes running at once, a server that never answers; and the push's helpers."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from sparql_servers import Oxigraph, oxigraph_server

from d4d.errors import QueryError
from d4d.push import credentials, merged_size, plan_chunks, push, read_triples, reason_of

pytestmark = pytest.mark.server

EX = "http://example.org/"
ROOT = Path(__file__).resolve().parents[1]


def data(people: int) -> str:
    """``people`` people, each with a name and an address held in a blank node: 5 triples each."""
    lines = []
    for i in range(people):
        lines.append(f'<{EX}p{i}> <{EX}name> "Person {i}" ; <{EX}address> [ <{EX}street> "Street {i}" ; '
                     f'<{EX}city> "City {i % 7}" ; <{EX}number> {i} ] .')
    return "@prefix ex: <http://example.org/> .\n" + "\n".join(lines) + "\n"


@pytest.fixture()
def oxigraph(tmp_path: Path) -> Iterator[Oxigraph]:
    with oxigraph_server(tmp_path / "oxigraph") as server:
        yield server


def held(server: Oxigraph) -> set[str]:
    """Every triple of the server's default graph, as N-Triples lines."""
    request = urllib.request.Request(server.store + "?default", headers={"Accept": "application/n-triples"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return {str(q.triple) for q in ox.parse(response.read(), format=ox.RdfFormat.N_TRIPLES)}


def expected(source: Path) -> set[str]:
    return {str(t) for chunk in plan_chunks(read_triples(source)) for t in chunk}


@pytest.mark.parametrize("kill_after_lines", [1, 2, 7])
def test_a_killed_push_run_again_leaves_exactly_the_source(oxigraph: Oxigraph, tmp_path: Path,
                                                           kill_after_lines: int) -> None:
    """`d4d push` killed (SIGKILL) after its n-th progress line, at once run again: the server holds
    the source's triples, each once, whether the killed run's request was still being served or not."""
    source = tmp_path / "ecosystem.ttl"
    source.write_text(data(400), encoding="utf-8")  # 2000 triples, 1600 of them on blank nodes
    command = [sys.executable, "-m", "d4d.cli", "push", "--endpoint", oxigraph.store, "--source", str(source),
               "--chunk-size", "100"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert process.stderr is not None
    for _ in range(kill_after_lines):  # line 1 comes before the first PUT: kill in it
        process.stderr.readline()
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "pushed 2000 triples in 20 chunks" in again.stdout and "the server holds 2000" in again.stdout
    assert held(oxigraph) == expected(source)


def test_pushes_at_once_leave_exactly_the_source(oxigraph: Oxigraph, tmp_path: Path) -> None:
    """Three runs at once, each PUT replacing what another had sent: each checks the server's count
    at its end and sends again what a later PUT removed."""
    source = tmp_path / "ecosystem.ttl"
    source.write_text(data(60), encoding="utf-8")
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            push(source, oxigraph.store, chunk_size=10, checkpoint_dir=tmp_path / f"run{index}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert held(oxigraph) == expected(source)
    assert len(held(oxigraph)) == 300


def test_a_server_that_never_answers_is_reported_in_the_stated_time(tmp_path: Path) -> None:
    source = tmp_path / "ecosystem.ttl"
    source.write_text(data(2), encoding="utf-8")
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}/store"
        started = time.monotonic()
        with pytest.raises(QueryError, match=r"PUT: no answer within 1 s, 2 times"):
            push(source, endpoint, timeout=1.0, retries=1)
        elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 2 * 1.0 + 1 + 2  # two timeouts and one back-off of 1 s


def test_credentials(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="holds credentials") as caught:
        credentials("http://dba:s3cret@127.0.0.1:8890/sparql-graph-crud-auth")
    assert "s3cret" not in str(caught.value)
    assert credentials("http://127.0.0.1:8890/x", user="dba", environ={"D4D_PUSH_PASSWORD": "pw"}) == ("dba", "pw")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login dba password fromnetrc\n", encoding="utf-8")
    netrc.chmod(0o600)
    assert credentials("http://127.0.0.1:8890/x", environ={}, netrc_file=netrc) == ("dba", "fromnetrc")
    assert credentials("http://localhost:8890/x", environ={}, netrc_file=netrc) is None
    with pytest.raises(QueryError, match="no password for user 'other'"):
        credentials("http://127.0.0.1:8890/x", user="other", environ={}, netrc_file=netrc)


def test_reason_of_an_html_error_page_is_one_line() -> None:
    page = (b"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">\n<html><head><title>Error</title>"
            b"<style>p {}</style></head><body><h3>Error 500</h3>\n<p>SR133: Can not\n set NULL to not nullable "
            b"column &amp; so on</p></body></html>")
    assert reason_of(page, "text/html") == "Error 500 SR133: Can not set NULL to not nullable column & so on"
    assert reason_of(b"first\nsecond\n", "text/plain") == "first second"


def test_merged_size_counts_equal_numbers_once() -> None:
    text = (f'<{EX}a> <{EX}v> "0"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
            f'<{EX}a> <{EX}v> "0.0E0"^^<http://www.w3.org/2001/XMLSchema#double> .\n'
            f'<{EX}a> <{EX}v> "0.00"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
            f'<{EX}a> <{EX}v> "0" .\n'  # a string: not a number
            f'<{EX}b> <{EX}v> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
    triples = [q.triple for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)]
    assert merged_size(triples) == 3


class BasicAuthProxy(ThreadingHTTPServer):
    """A real HTTP server in front of Oxigraph that asks for HTTP basic authentication (Oxigraph
    has none of its own), and forwards what passes to it."""

    daemon_threads = True

    def __init__(self, target: str, user: str, password: str) -> None:
        self.target = target
        self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.refused = 0
        super().__init__(("127.0.0.1", 0), BasicAuthHandler)


class BasicAuthHandler(BaseHTTPRequestHandler):
    server: BasicAuthProxy

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Authorization") != self.server.expected:
            self.server.refused += 1
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="d4d test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {key: value for key, value in self.headers.items() if key in ("Content-Type", "Accept")}
        request = urllib.request.Request(self.server.target + self.path[len("/store"):], data=body or None,
                                         method=self.command, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = response.read()
            self.send_response(response.status)
            self.send_header("Content-Type", response.headers.get("Content-Type") or "text/plain")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    do_GET = do_PUT = do_POST = _forward


def test_basic_authentication(oxigraph: Oxigraph, tmp_path: Path) -> None:
    source = tmp_path / "ecosystem.ttl"
    source.write_text(data(20), encoding="utf-8")
    proxy = BasicAuthProxy(oxigraph.store, "analyst", "s3cret")
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{proxy.server_address[1]}/store"
    try:
        with pytest.raises(QueryError, match="refused with 401") as caught:
            push(source, endpoint, auth=("analyst", "wrong"), checkpoint_dir=tmp_path)
        assert "wrong" not in str(caught.value)
        refused = proxy.refused
        report = push(source, endpoint, auth=("analyst", "s3cret"), checkpoint_dir=tmp_path)
        assert report.server_triples == 100
        assert proxy.refused > refused  # the requests met the challenge, and passed it
        assert held(oxigraph) == expected(source)
    finally:
        proxy.shutdown()
        proxy.server_close()
