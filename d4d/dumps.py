"""The RDF files of a build, written by the store's own serialiser, straight to disk.

rdflib writes pretty Turtle but needs the whole graph as Python objects (about a minute and gigabytes
per million triples; on the seed graph of 3,500 triples it took 6 of a build's 8.6 seconds of CPU).
The build writes ``ecosystem.ttl`` and ``ecosystem.jsonld`` with pyoxigraph's serialisers instead,
streaming: memory stays flat and the files come out at the store's dump speed. The output is
deterministic: the on-disk store lists triples in the order of its index, which depends on the
triples only.

* Turtle: one ``@prefix`` block, then each graph's triples grouped by subject.
* JSON-LD: ``{"@context": {prefixes}, "@graph": [node objects]}`` in expanded form (full IRIs), one
  node object per subject and graph; JSON-LD merges node objects with the same ``@id``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox


def _append(out: BinaryIO, path: Path, start: int, end: int) -> int:
    """Append bytes [start, end) of a file to ``out`` (in the kernel where it can); return the count."""
    out.flush()
    with open(path, "rb") as source:
        source.seek(start)
        left = end - start
        while left > 0:
            try:
                sent = os.copy_file_range(source.fileno(), out.fileno(), left)
            except (AttributeError, OSError):
                sent = 0
            if sent <= 0:
                chunk = source.read(min(left, 1 << 24))
                if not chunk:
                    break
                out.write(chunk)
                out.flush()
                sent = len(chunk)
            left -= sent
    return end - start


def _turtle_header(prefixes: Mapping[str, str]) -> bytes:
    """The ``@prefix`` lines pyoxigraph writes for these prefixes (to drop them after the first graph)."""
    sample = ox.serialize([ox.Triple(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.NamedNode("urn:x:o"))],
                          format=ox.RdfFormat.TURTLE, prefixes=dict(prefixes))
    assert sample is not None
    lines = sample.splitlines(keepends=True)
    return b"".join(line for line in lines if line.startswith(b"@prefix"))


def _graph(name: str) -> ox.NamedNode | ox.DefaultGraph:
    return ox.NamedNode(name) if name else ox.DefaultGraph()


def write_turtle(store: ox.Store, path: str | Path, graphs: Sequence[str], *,
                 prefixes: Mapping[str, str]) -> int:
    """Write the triples of ``graphs`` (in this order; "" is the default graph) as one Turtle file;
    return its size in bytes.

    Each graph is dumped by the store into a file beside ``path`` (the store writes files at its full
    speed) and appended without its ``@prefix`` block.

    Raises
    ------
    OSError
        The file cannot be written, or the store cannot be read.
    """
    path = Path(path)
    header = _turtle_header(prefixes)
    part = path.with_name(f".{path.name}.part")
    try:
        with open(path, "wb") as out:
            out.write(header)
            for graph in graphs:
                store.dump(str(part), format=ox.RdfFormat.TURTLE, from_graph=_graph(graph),
                           prefixes=dict(prefixes))
                size = part.stat().st_size
                with open(part, "rb") as handle:
                    head = handle.read(len(header))
                _append(out, part, len(header) if head == header else 0, size)
            out.flush()
            return out.tell()
    finally:
        part.unlink(missing_ok=True)


def write_jsonld(store: ox.Store, path: str | Path, graphs: Sequence[str], *,
                 prefixes: Mapping[str, str]) -> int:
    """Write the triples of ``graphs`` as one JSON-LD document with a context of ``prefixes``.

    Returns the size in bytes. Raises OSError as :func:`write_turtle` does.
    """
    path = Path(path)
    part = path.with_name(f".{path.name}.part")
    try:
        with open(path, "wb") as out:
            context = json.dumps({"@context": dict(sorted(prefixes.items()))}, ensure_ascii=False, sort_keys=True)
            out.write(context[:-1].encode("utf-8") + b', "@graph": [\n')
            first = True
            for graph in graphs:
                store.dump(str(part), format=ox.RdfFormat.JSON_LD, from_graph=_graph(graph))
                size = part.stat().st_size
                with open(part, "rb") as handle:
                    head = handle.read(64)
                    handle.seek(max(0, size - 64))
                    tail = handle.read()
                start = len(head) - len(head.lstrip()) + 1  # after "["
                end = size - (len(tail) - len(tail.rstrip())) - 1  # before "]"
                if end <= start or not head.lstrip().startswith(b"["):
                    continue
                # skip an empty array's whitespace
                with open(part, "rb") as handle:
                    handle.seek(start)
                    inner = handle.read(min(64, end - start))
                if not inner.strip():
                    continue
                if not first:
                    out.write(b",\n")
                _append(out, part, start, end)
                first = False
            out.write(b"\n]}\n")
            out.flush()
            return out.tell()
    finally:
        part.unlink(missing_ok=True)


__all__ = ["write_jsonld", "write_turtle"]
