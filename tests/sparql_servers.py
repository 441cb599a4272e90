"""Real SPARQL servers on 127.0.0.1 for the push, remote-query and CLI tests.

``oxigraph serve`` from the ``oxigraph`` PyPI package (its binary sits next to the Python
executable of the virtualenv, or on PATH).
"""

from __future__ import annotations

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
