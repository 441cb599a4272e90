"""The bad-input corpus: every file of tests/bad_inputs/ run through the command a user would type,
with the outcome written beside it in tests/bad_inputs/cases.yaml.

Each case asserts the exit status; for a refused input, that the error is one line naming the file and
the reason; for a record skipped or read leniently, the line reporting it; and that nothing already
written changed: the build folder a bad fact file would have rebuilt, the output file a failed import
would have replaced, the store a query ran on.

An HTTP case is a raw request sent to a real ``d4d serve`` of the seed build on 127.0.0.1: it asserts
the status, words of the body, and that the served data still count the same.

A case file may hold markers that the runner expands, so that a 10 MB description or a million-deep
array is not committed: ``@@BIG@@`` (10,000,000 letters), ``@@CELL@@`` (200,000 letters), ``@@PAD@@``
(4 MiB of comment), ``@@DIGITS@@`` (a million digits), ``@@WIDE@@`` (50,000 participating
organisations, 5.3 MB: an IATI activity past its bound), ``@@OPEN@@``/``@@CLOSE@@`` (a million nested
brackets, or tags in XML), ``@@MANY@@`` (the next item written 10,001 times: see each case);
``@@QUERY@@`` (a query string of a megabyte) and ``@@LENGTH@@`` (the body's length) in a request.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from d4d.cli import main
from sparql_servers import free_port

HERE = Path(__file__).parent / "bad_inputs"
ROOT = Path(__file__).resolve().parents[1]
CASES: list[dict[str, Any]] = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))
BEFORE = b"an earlier output that a failed command must leave as it is\n"

_MARKERS = {
    "@@BIG@@": "a" * 10_000_000,
    "@@CELL@@": "c" * 200_000,
    "@@PAD@@": "x" * (4 * 1024 * 1024 + 1),
    "@@DIGITS@@": "1" * 1_000_000,
    "@@WIDE@@": "".join(f'<participating-org ref="XM-CASE-O{i}" role="4" type="22"><narrative>Wide partner {i}'
                        "</narrative></participating-org>\n" for i in range(50_000)),
}


def _expand(case: dict[str, Any], text: bytes) -> bytes:
    """The case file with its markers written out."""
    if b"@@" not in text:
        return text
    xml = case["case"].endswith(".xml")
    depth = 1_000 if xml else 100 if case["case"].endswith(".yaml") else 1_000_000
    markers = dict(_MARKERS)
    markers["@@OPEN@@"] = "<x>" * depth if xml else "[" * depth
    markers["@@CLOSE@@"] = "</x>" * depth if xml else "]" * depth
    for marker, value in markers.items():
        text = text.replace(marker.encode(), value.encode())
    if b"@@MANY@@" in text:   # the item after the marker (up to the closing bracket), 10,001 times in all
        head, tail = text.split(b"@@MANY@@", 1)
        end = tail.index(b"]")
        item = tail[:end]
        text = head + (item + b", ") * 10_000 + tail
    return text


def _tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def facts_build(seed_build: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the seed build that every fact case tries to rebuild, and its hash."""
    out = tmp_path_factory.mktemp("bad-inputs") / "build"
    shutil.copytree(seed_build, out)
    return out, _tree_hash(out)


def _run(args: list[str]) -> Any:
    result = CliRunner().invoke(main, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}") from result.exception
    return result


def _error_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line of error, got: {result.stderr[:2000]}"
    assert lines[0].startswith("error: ")
    return lines[0]


FILES = [c for c in CASES if not c["case"].startswith("http/")]
REQUESTS = [c for c in CASES if c["case"].startswith("http/")]


@pytest.mark.parametrize("case", FILES, ids=[c["case"] for c in FILES])
def test_bad_input(case: dict[str, Any], tmp_path: Path, seed_build: Path, facts_build: tuple[Path, str],
                   monkeypatch: pytest.MonkeyPatch) -> None:
    source = HERE / case["case"]
    area = case["case"].split("/", 1)[0]
    data = _expand(case, source.read_bytes())
    started = time.perf_counter()
    if area == "facts":
        project = tmp_path / "project"
        for name in ("ontology", "graph"):
            shutil.copytree(ROOT / name, project / name)
        target = project / "graph" / source.name
        target.write_bytes(data)
        build, before = facts_build
        result = _run(["build", "--project", str(project), "--out", str(build), "--no-reasoner", "--rdf-only", "-q"])
        assert _tree_hash(build) == before                       # the earlier build is untouched
        written = None
    elif area == "queries":
        target = tmp_path / source.name
        target.write_bytes(data)
        store = seed_build / "store"
        before = _tree_hash(store)
        result = _run(["query", str(target), "--store", str(store), *case.get("args", [])])
        assert _tree_hash(store) == before
        written = None
    else:
        name = "ties.csv" if area == "spreadsheet" else source.name
        target = tmp_path / name
        target.write_bytes(data)
        output = tmp_path / "out.nq"
        output.write_bytes(BEFORE)
        options: list[str] = []
        for option in case.get("options", []):
            options += ["--option", option.format(here=HERE, shared=ROOT.parent / "shared")]
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(scratch))
        result = _run(["import", area, str(target), "--project", str(ROOT), "-o", str(output), *options])
        assert not list(scratch.iterdir())                       # the scratch store is removed
        written = output.read_bytes()
        if case["exit"] != 0:
            assert written == BEFORE                             # a failed import replaces nothing
        else:
            assert written != BEFORE and written.strip()
    assert time.perf_counter() - started < case.get("seconds", 30)
    assert result.exit_code == case["exit"], result.stderr[:2000]
    if case["exit"] != 0:
        line = _error_line(result)
        assert case["error"] in line, line
        if area != "queries":
            assert case.get("names", target.name) in line, line  # the line names the file
    else:
        assert case["stderr"] in result.stderr, result.stderr[:2000]
    for text in case.get("absent", []):
        assert written is not None and text.encode() not in written
    for text in case.get("present", []):
        assert written is not None and text.encode() in written


@pytest.fixture(scope="module")
def served(seed_build: Path) -> Iterator[int]:
    """A real `d4d serve` of the seed build on 127.0.0.1 (a free port); yields the port."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "d4d.cli", "serve", "--store", str(seed_build), "--port", str(port),
                             "-q"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _count(port: int) -> int:
    query = urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/sparql?query={query}",
                                     headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.load(response)["results"]["bindings"][0]["n"]["value"])


def _request(port: int, data: bytes) -> tuple[int, bytes]:
    data = data.replace(b"@@QUERY@@", b"SELECT%20" + b"%3Fs%20" * 150_000)
    if b"@@LENGTH@@" in data:
        head, body = data.split(b"\r\n\r\n", 1)
        data = head.replace(b"@@LENGTH@@", str(len(body)).encode()) + b"\r\n\r\n" + body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(data)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    assert head, "the server closed the connection without an answer"
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize("case", REQUESTS, ids=[c["case"] for c in REQUESTS])
def test_bad_request(case: dict[str, Any], served: int) -> None:
    before = _count(served)
    status, body = _request(served, (HERE / case["case"]).read_bytes())
    assert status == case["status"], body[:500]
    assert case["error"].encode() in body, body[:500]
    assert _count(served) == before


def test_the_corpus_is_complete() -> None:
    """Every file of the corpus has its expectation, and every expectation its file."""
    files = {str(p.relative_to(HERE)) for p in HERE.rglob("*") if p.is_file() and p.name != "cases.yaml"}
    files -= {"spreadsheet/mapping.yaml", "spreadsheet/mapping-with-anchors.yaml"}
    assert files == {c["case"] for c in CASES}
    assert len(CASES) >= 60
