"""What a built store was made from, by content hash: the manifest beside the store.

A build compares the hashes of its inputs (the ontology, rules, shapes and code as one ``engine``
hash; each asserted graph's own hash) with the manifest of the current build: when nothing changed
the build is reused as it is; when only the curated facts changed, a copy of the previous store is
updated in place; otherwise a new store is made, and a source whose hash is unchanged is copied from
the previous store instead of being imported again (its hash covers everything its import reads:
kind, options, files, importer code and the curated identities).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef

from d4d import __version__
from d4d.io import write_text_atomic

MANIFEST_NAME = "manifest.json"
FORMAT = 4
"""Version of the build folder's layout (another version is built anew). 4: versioned folders."""

FileStats = dict[str, list[Any]]
"""File path -> [size, mtime_ns, sha256]: a file whose size and time are unchanged is not hashed again."""


@dataclass
class GraphState:
    """What one asserted named graph was built from, and what it holds."""

    digest: str
    kind: str = "source"
    triples: int = 0
    files: FileStats = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    """For a source: what the shapes found (``violations``, counts per ``rules``, ``examples``)."""


@dataclass
class Manifest:
    """The inputs and the counts of one build."""

    engine: str
    graphs: dict[str, GraphState] = field(default_factory=dict)
    triples: int = 0
    inferred: int = 0
    counts: dict[str, Any] = field(default_factory=dict)
    """Distinct nodes by kind (``kinds``), by kind per source graph (``by_graph``), relationships by type."""
    outputs: list[str] = field(default_factory=list)
    """The files this build wrote (a name not listed was not written: it is absent, never stale)."""
    checked: str = ""
    """The hash of the curated input that pyshacl and HermiT found valid and consistent."""
    local: list[dict[str, Any]] = field(default_factory=list)
    """Sources this build folder imports beyond ``imports.yaml`` (``d4d import`` adds them)."""
    format: int = FORMAT
    version: str = __version__

    def write(self, folder: str | Path) -> Path:
        """Write ``manifest.json`` into ``folder`` (sorted keys: deterministic)."""
        return write_text_atomic(Path(folder) / MANIFEST_NAME, json.dumps(asdict(self), indent=1, sort_keys=True) + "\n")

    @classmethod
    def read(cls, folder: str | Path) -> Manifest | None:
        """The manifest in ``folder``, or None if there is none or of another format."""
        try:
            data = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return None
            graphs = {name: GraphState(**state) for name, state in data.pop("graphs").items()}
            return cls(graphs=graphs, **data)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None


def digest_bytes(*parts: bytes | str) -> str:
    """SHA-256 over several parts, each length-prefixed (so ``("ab", "c")`` differs from ``("a", "bc")``)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def ntriples_digest(data: bytes) -> str:
    """The hash of an N-Triples document as a set of lines (order and duplicates do not matter)."""
    return digest_bytes(b"\n".join(sorted(set(line for line in data.splitlines() if line.strip()))))


def file_digest(path: Path, cache: FileStats | None = None) -> tuple[str, list[Any]]:
    """A file's SHA-256 (from ``cache`` when its size and time are unchanged) and its stats entry."""
    stat = path.stat()
    known = (cache or {}).get(str(path.resolve()))
    if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
        return str(known[2]), list(known)
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest(), [stat.st_size, stat.st_mtime_ns, h.hexdigest()]


def files_of(paths: Iterable[Path]) -> list[Path]:
    """The files named by paths (a folder stands for every file below it), sorted."""
    out: set[Path] = set()
    for path in paths:
        if path.is_dir():
            out.update(p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            out.add(path)
    return sorted(out)


def source_digest(kind: str, options: dict[str, Any], paths: Sequence[Path], *, identity: str, importer: str,
                  cache: FileStats | None = None) -> tuple[str, FileStats]:
    """The hash of a source (kind, options, importer code, identity inputs, files) and its file stats.

    A missing path hashes as missing, so that the import itself reports it.
    """
    stats: FileStats = {}
    parts: list[bytes | str] = [kind, json.dumps(options, sort_keys=True, default=str), importer, identity]
    for path in sorted(Path(p) for p in paths):
        parts.append(f"path:{path.name}:{'dir' if path.is_dir() else 'file' if path.exists() else 'missing'}")
    for path in files_of(Path(p) for p in paths):
        value, stat = file_digest(path, cache)
        stats[str(path.resolve())] = stat
        parts.extend([path.name, value])
    return digest_bytes(*parts), stats


def module_digest(*modules: Any) -> str:
    """The hash of some modules' source files: new code makes the build redo its part."""
    return digest_bytes(*(Path(m.__file__).read_bytes() if getattr(m, "__file__", None) else str(m) for m in modules))


def importer_digest(kind: str) -> str:
    """The hash of the code that imports a kind of source."""
    from d4d.imports import IMPORTERS, context, identity

    return module_digest(context, identity, sys.modules[IMPORTERS[kind].__module__])


def identity_digest(facts: Graph, crosswalk: Path | None) -> str:
    """What an import reads of the curated records: the crosswalk, the curated org-ids and Wikidata
    ids, and which crosswalk targets are curated records (see :class:`d4d.imports.identity.Resolver`)."""
    from d4d.imports.identity import Crosswalk, wikidata_qid
    from d4d.vocab import D4D

    subjects = {str(s) for s in facts.subjects() if isinstance(s, URIRef)}
    ids = sorted(f"{str(o).strip().upper()} {s}" for s, o in facts.subject_objects(D4D.identifier)
                 if isinstance(o, Literal))
    qids = sorted(f"{wikidata_qid(str(o))} {s}" for s, o in facts.subject_objects(D4D.sameAs)
                  if isinstance(o, Literal) and wikidata_qid(str(o)))
    parts: list[bytes | str] = ["\n".join(ids), "\n".join(qids)]
    if crosswalk is not None and crosswalk.is_file():
        walk = Crosswalk.load(crosswalk)
        parts.append(crosswalk.read_bytes())
        parts.append("\n".join(sorted(f"{ref.target} {ref.target in subjects}" for ref in walk.entries.values())))
    return digest_bytes(*parts)
