"""Real SPARQL servers on 127.0.0.1 for the push, remote-query and CLI tests.

``oxigraph serve`` from the ``oxigraph`` PyPI package (its binary sits next to the Python
executable of the virtualenv, or on PATH).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from d4d.sparql import run_query


def oxigraph_binary() -> str:
    """Path of the ``oxigraph`` server binary; skips the test when it is not installed."""
    for candidate in (Path(sys.executable).parent / "oxigraph", shutil.which("oxigraph")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.skip("the oxigraph server binary (pip install oxigraph) is not installed")
    raise AssertionError  # unreachable


@contextmanager
def d4d_serve(store: Path) -> Iterator[str]:
    """``d4d serve`` on a free port of 127.0.0.1 over ``store``, in a process of its own; yields the
    endpoint's URL and stops the server after the block."""
    process = subprocess.Popen([sys.executable, "-m", "d4d.cli", "serve", "--store", str(store),
                                "--port", "0", "--quiet"], stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"SPARQL endpoint at (http://127\.0\.0\.1:\d+/sparql)", line)
        assert match, line
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(20)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Oxigraph:
    """A running ``oxigraph serve``: Graph Store at ``store``, queries at ``query``."""

    base: str

    @property
    def store(self) -> str:
        return self.base + "/store"

    @property
    def query(self) -> str:
        return self.base + "/query"

    def count(self, graph: str | None = None) -> int:
        pattern = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
        result = run_query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}", endpoint=self.query)
        return int(result.values()[0]["n"] or 0)


@contextmanager
def oxigraph_server(location: Path) -> Iterator[Oxigraph]:
    """Start ``oxigraph serve --location LOCATION`` on a free port; stop it afterwards."""
    port = free_port()
    process = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(location),
                                "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Oxigraph(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(server.query + "?query=" + urllib.parse.quote("ASK {}"), timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("oxigraph serve did not start")
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(10)


# ---------------------------------------------------------------------------------------------
# OpenLink Virtuoso (Debian: virtuoso-opensource-7; .ci/run installs it)

#: The smallest configuration that runs Virtuoso 7 in a folder of its own, on two ports of
#: 127.0.0.1 ({sql} for isql, {http} for SPARQL), its files under {root}.
VIRTUOSO_INI = """\
[Database]
DatabaseFile = {root}/virtuoso.db
ErrorLogFile = {root}/virtuoso.log
LockFile = {root}/virtuoso.lck
TransactionFile = {root}/virtuoso.trx
xa_persistent_file = {root}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {root}/virtuoso-temp.db
TransactionFile = {root}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {root}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
MaxQueryMem = 500M

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {root}
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
DefaultQuery = SELECT * WHERE {{ ?s ?p ?o }} LIMIT 10
"""

#: The password of Virtuoso's ``dba`` user in a new database (the tests' server only).
VIRTUOSO_DBA_PASSWORD = "dba"


def virtuoso_binary() -> str:
    """Path of ``virtuoso-t``; skips the test when it is not installed."""
    found = shutil.which("virtuoso-t")
    if found is None:
        pytest.skip("OpenLink Virtuoso (virtuoso-t, Debian package virtuoso-opensource-7) is not installed")
    return str(found)


@dataclass
class Virtuoso:
    """A running Virtuoso: SPARQL at ``query``, Graph Store at ``store`` (digest auth, user dba)."""

    base: str

    @property
    def query(self) -> str:
        return self.base + "/sparql"

    @property
    def store(self) -> str:
        return self.base + "/sparql-graph-crud-auth"

    def count(self, graph: str) -> int:
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        result = run_query(query, endpoint=self.query)
        return int(result.values()[0]["n"] or 0)


@contextmanager
def virtuoso_server(location: Path) -> Iterator[Virtuoso]:
    """Start ``virtuoso-t`` with a new database in ``location`` on free ports; stop it afterwards."""
    binary = virtuoso_binary()
    location.mkdir(parents=True, exist_ok=True)
    sql, http = free_port(), free_port()
    (location / "virtuoso.ini").write_text(VIRTUOSO_INI.format(root=location, sql=sql, http=http),
                                           encoding="utf-8")
    process = subprocess.Popen([binary, "+configfile", str(location / "virtuoso.ini"), "+foreground"],
                               cwd=location, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Virtuoso(f"http://127.0.0.1:{http}")
    try:
        deadline = time.monotonic() + 120  # a new database takes 10-30 s on a busy machine
        while True:
            try:
                with urllib.request.urlopen(server.query + "?query=" + urllib.parse.quote("ASK {}"), timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    log = (location / "virtuoso.log").read_text(errors="replace")[-2000:] \
                        if (location / "virtuoso.log").exists() else ""
                    raise RuntimeError(f"virtuoso-t did not start:\n{log}")
                time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
