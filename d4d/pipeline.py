"""The build: load -> validate -> reason -> store -> analyse -> render, into ``build/``.

(The module is ``pipeline``, not ``build``: ``d4d.build`` is the public verb of :mod:`d4d.api`, which a
submodule of that name would hide once imported.)

One pipeline for ``d4d build``, ``d4d import`` (a source added to this build, then the same build)
and ``d4d validate`` (the same build into a scratch folder). The graph is assembled by
:func:`d4d.assemble.assemble`, always as a fresh build of the inputs would make it.

The build folder switches from one build to the next in one step: each build writes a new folder
``build/.v-*`` (store, RDF files, metrics, report, map, ``manifest.json``), and ``build/current`` is a
symbolic link to the finished one, replaced by one rename. ``build/store``, ``build/ecosystem.ttl``
and the other outputs are links into ``current/``, so a reader sees all of the old build or all of
the new one, whenever a build is stopped. A build that did not finish leaves a folder the next build
removes. An output a build did not write (``--rdf-only``, a graph above the dump limit) is absent
from its folder, never left over from another build.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph

from d4d import reason
from d4d.assemble import (FACTS_GRAPH, KINDS, METRICS_GRAPH, Assembled, Inputs, assemble, can_update, read_inputs,
                          update, violation_error)
from d4d.dumps import write_rdf
from d4d.errors import SourceError, StoreError
from d4d.imports import ImportReport, SourceSpec, read_project, source_graph
from d4d.limits import ASSEMBLE_IN_MEMORY, DUMP_LIMIT
from d4d.load import Loaded, load
from d4d.manifest import MANIFEST_NAME, Manifest
from d4d.store import persist
from d4d.validate import validate
from d4d.vocab import GRAPH, PREFIXES

OUTPUTS = ("store", "ecosystem.ttl", "ecosystem.jsonld", "metrics.json", "report.html", "map.html", MANIFEST_NAME)
"""The names a build folder offers (links into ``current/``)."""

CURRENT = "current"

Progress = Callable[[str], None]


@dataclass
class BuildResult:
    """What a build did: counts, timings and the files it wrote."""

    counts: dict[str, int] = field(default_factory=dict)
    """Distinct nodes by kind, ``triples`` and ``inferred``."""
    relationships: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    """Source name (``facts`` for the curated records) -> distinct nodes by kind it states a type of."""
    seconds: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)
    store: dict[str, Any] = field(default_factory=dict)
    """``mode`` (reuse or new) and why, the sources ``imported`` and ``copied``, their ``validation``."""
    imports: list[ImportReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Outputs not written, with the reason."""


class Reasoned:
    """A graph assembled in memory (for tests and notebooks): ``store`` and what made it."""

    def __init__(self, loaded: Loaded, store: ox.Store, assembled: Assembled) -> None:
        self.loaded, self.store, self.assembled = loaded, store, assembled

    @property
    def inferred(self) -> Graph:
        """The inferences (the default graph's triples no named graph holds) as an rdflib graph."""
        return reason.inferred_graph(self.store)


def run_reasoning(loaded: Loaded, *, reasoner: bool = True, progress: Progress | None = None,
                  project: str | Path | None = None) -> Reasoned:
    """Assemble the graph of ``loaded`` (and the ``build: true`` sources of ``project``) in memory,
    as a build does, after HermiT's check unless ``reasoner`` is False.

    Raises
    ------
    ReasoningError, SourceError, ValidationError
        As :func:`build`.
    """
    config = read_project(project) if project is not None else None
    specs = [s for s in config.sources if s.build] if config is not None else []
    inputs = read_inputs(loaded, specs, crosswalk=config.crosswalk if config is not None else None)
    hermit = reason.HermitRun(loaded.ontology, loaded.facts.graph) if reasoner else None
    try:
        store = ox.Store()
        assembled = assemble(store, inputs, progress=progress)
        if hermit is not None:
            hermit.verdict()
    finally:
        if hermit is not None:
            hermit.stop()
    return Reasoned(loaded, store, assembled)


def build(project: str | Path = ".", *, out: str | Path | None = None, ontology_dir: str | Path | None = None,
          graph_dir: str | Path | None = None, reasoner: bool = True, extras: bool = True,
          progress: Progress | None = None, dumps: bool | None = None, strict: bool = False,
          add: list[dict[str, Any]] | None = None, remove: list[str] | None = None,
          local_from: str | Path | None = None) -> BuildResult:
    """Build the knowledge graph and its outputs into ``out`` (default ``<project>/build``).

    Parameters
    ----------
    project:
        The project folder: ``ontology/``, ``graph/``, ``imports.yaml`` (its ``build: true`` sources).
    ontology_dir, graph_dir:
        Other folders for the ontology or the facts.
    reasoner:
        Run HermiT's consistency check (the rules always run).
    extras:
        Also analyse and write ``metrics.json``, ``report.html`` and ``map.html``.
    progress:
        Called with the name of each stage; if it has a ``count`` method, that is called with (step,
        done, total or None) during long steps.
    dumps:
        Write ``ecosystem.ttl`` and ``ecosystem.jsonld``: None up to :data:`~d4d.limits.DUMP_LIMIT`
        triples, True always, False never.
    strict:
        Stop at a source record that cannot be read or breaks a shape.
    add, remove:
        Sources this build folder imports beyond ``imports.yaml`` (kept in its manifest, so later builds
        keep them): entries to add (``{"name", "declared": true}`` for a source of ``imports.yaml``, or
        ``{"name", "kind", "paths", "options"}``), names to remove (see :func:`local_entry`).
    local_from:
        Take those sources from this build folder's manifest instead (``d4d validate``).

    Returns
    -------
    BuildResult

    Raises
    ------
    FactError, OntologyError, SourceError, ValidationError, ReasoningError, StoreError
        The build stops at the first failing stage; the build folder is left as it was.
    """
    project = Path(project)
    out = Path(out) if out is not None else project / "build"
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        current = (out / CURRENT).resolve() if (out / CURRENT).is_symlink() else None
        before = Manifest.read(current) if current is not None else None
        if before is not None and not (current / "store" / "CURRENT").is_file():  # type: ignore[operator]
            before = None
        source_of_local = Manifest.read(Path(local_from) / CURRENT) if local_from is not None else before
        local = _local_sources(source_of_local.local if source_of_local else [], add or [], remove or [], project)
        result = BuildResult()
        clock = time.perf_counter()
        _stage(progress, "load: ontology and facts")
        loaded = load(ontology_dir or project / "ontology", graph_dir or project / "graph")
        config = read_project(project)
        inputs = read_inputs(loaded, build_specs(config.sources, local), crosswalk=config.crosswalk, before=before)
        result.seconds["load"] = round(time.perf_counter() - clock, 3)
        wanted = _wanted_outputs(before.triples if before else 0, dumps=dumps, extras=extras)
        if before is not None and _unchanged(before, inputs, reasoner) and before.outputs == wanted \
                and before.local == local:
            _stop_if_strict(before, strict)
            _summarise(result, before, out, mode="reuse", why="nothing changed")
            return result
        version = Path(tempfile.mkdtemp(prefix=".v-", dir=out))
        try:
            version.chmod(0o777 & ~_umask())  # mkdtemp makes it private to its owner
            manifest = _make_version(version, inputs, before, current, result, reasoner=reasoner, extras=extras,
                                     dumps=dumps, strict=strict, progress=progress)
            manifest.local = local
            manifest.write(version)
            switch(out, version, manifest.outputs)
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise
        remove_leftovers(out)  # the previous build, and what stopped builds left
        _summarise(result, manifest, out, mode=result.store["mode"], why=_why(before, inputs))
        return result


def _make_version(version: Path, inputs: Inputs, before: Manifest | None, current: Path | None, result: BuildResult,
                  *, reasoner: bool, extras: bool, dumps: bool | None, strict: bool,
                  progress: Progress | None) -> Manifest:
    """Check, assemble and write one build into ``version``; its manifest (not yet written)."""
    clock = time.perf_counter()
    checked = before is not None and before.checked == inputs.checked
    if not checked:
        _stage(progress, "validate: SHACL shapes")
        validate(inputs.loaded)
    # HermiT's JVM checks the ontology and the curated facts while the store is assembled
    hermit = reason.HermitRun(inputs.loaded.ontology, inputs.loaded.facts.graph) if reasoner and not checked else None
    if hermit is not None:
        _stage(progress, "reason: HermiT consistency check (beside the store)")
    try:
        # The store is made in the new build's folder: a copy of the previous build's store (a RocksDB
        # checkpoint, hard links to its files) updated in place when only the curated facts changed,
        # otherwise a new one, assembled in memory and written to disk once when its sources are small
        # (d4d.limits.ASSEMBLE_IN_MEMORY), on disk when they are large.
        path = version / "store"
        in_memory = False
        if current is not None and before is not None and can_update(before, inputs):
            result.store["mode"] = "update"
            ox.Store.read_only(str(current / "store")).backup(str(path))
            store = ox.Store(str(path))
            built = update(store, inputs, before, progress=progress)
        else:
            result.store["mode"] = "new"
            in_memory = inputs.source_bytes <= ASSEMBLE_IN_MEMORY
            store = ox.Store() if in_memory else ox.Store(str(path))
            previous = ox.Store.read_only(str(current / "store")) if before is not None and current is not None else None
            built = assemble(store, inputs, previous=previous, before=before, strict=strict, progress=progress,
                             counter=getattr(progress, "count", None))
            del previous
        result.seconds.update({f"store: {k}": v for k, v in built.seconds.items()})
        result.imports, result.store["copied"] = built.imports, built.copied
        if hermit is not None:
            result.seconds["consistency (beside the store)"] = round(hermit.verdict(), 3)
    finally:
        if hermit is not None:
            hermit.stop()
    manifest = built.manifest
    _stop_if_strict(manifest, strict)  # a source copied from the last build is not checked again
    manifest.checked = inputs.checked if reasoner or checked else ""
    manifest.outputs = _wanted_outputs(manifest.triples, dumps=dumps, extras=extras)
    # The outputs are written from the store as assembled (read in memory, several times faster), an
    # in-memory store being written to disk beside them; the measures go into the store on disk.
    measures: Graph | None = None
    with ThreadPoolExecutor(1) as pool:
        disk = pool.submit(_timed, persist, store, path) if in_memory else None
        lap = time.perf_counter()
        if "ecosystem.ttl" in manifest.outputs:
            _stage(progress, "write: Turtle and JSON-LD")
            write_rdf(store, version, prefixes=PREFIXES)
        result.seconds["write"] = round(time.perf_counter() - lap, 3)
        if extras:
            lap = time.perf_counter()
            measures = write_extras(store, inputs.loaded, version, progress=progress)
            result.seconds["analyse and render"] = round(time.perf_counter() - lap, 3)
        if disk is not None:
            _stage(progress, "store: writing to disk")
            store, result.seconds["write the store (beside the outputs)"] = disk.result()
            del disk  # it holds the store too, which must be closed before the build folder is switched
    if measures is not None:
        add_measures(store, measures)
    store.flush()
    del store
    result.seconds["total"] = round(time.perf_counter() - clock, 3)
    return manifest


def _stop_if_strict(manifest: Manifest, strict: bool) -> None:
    for state in manifest.graphs.values():
        if strict and state.validation.get("violations"):
            raise violation_error(state.validation)


def _wanted_outputs(triples: int, *, dumps: bool | None, extras: bool) -> list[str]:
    names = ["store", MANIFEST_NAME]
    if dumps or (dumps is None and triples <= DUMP_LIMIT):
        names += ["ecosystem.ttl", "ecosystem.jsonld"]
    if extras:
        names += ["metrics.json", "report.html", "map.html"]
    return sorted(names)


def _unchanged(before: Manifest, inputs: Inputs, reasoner: bool) -> bool:
    same = before.engine == inputs.engine and {g: s.digest for g, s in before.graphs.items()} == \
        {g: s.digest for g, s in inputs.graphs.items()}
    return same and (not reasoner or before.checked == inputs.checked)


def _why(before: Manifest | None, inputs: Inputs) -> str:
    if before is None:
        return "no previous build"
    if before.engine != inputs.engine:
        return "the ontology, rules, shapes or code changed"
    changed = sorted(g.rsplit("/", 1)[-1] for g in set(before.graphs) | set(inputs.graphs)
                     if g not in before.graphs or g not in inputs.graphs
                     or before.graphs[g].digest != inputs.graphs[g].digest)
    return f"changed: {', '.join(changed)}" if changed else "outputs or checks asked for differ"


def _summarise(result: BuildResult, manifest: Manifest, out: Path, *, mode: str, why: str) -> None:
    counts = manifest.counts
    result.counts = dict(counts.get("kinds", {})) | {"triples": manifest.triples, "inferred": manifest.inferred}
    result.relationships = dict(counts.get("relationships", {}))
    result.by_source = {g.rsplit("/", 1)[-1]: {k: n[k] for k in KINDS if k in n}
                        for g, n in counts.get("by_graph", {}).items()}
    result.store.update({"mode": mode, "reason": why, "imported": [r.source for r in result.imports],
                         "copied": [g.rsplit("/", 1)[-1] for g in result.store.get("copied", [])],
                         "validation": {g.rsplit("/", 1)[-1]: s.validation for g, s in manifest.graphs.items()
                                        if s.kind == "source" and s.validation.get("violations")}})
    result.outputs = {name: out / name for name in manifest.outputs if name != MANIFEST_NAME}
    result.skipped = [f"{name}: the graph has {manifest.triples} triples, more than {DUMP_LIMIT}; the store holds "
                      "it (d4d export writes any format, d4d build --dumps writes it)"
                      for name in ("ecosystem.ttl", "ecosystem.jsonld")
                      if name not in manifest.outputs and manifest.triples > DUMP_LIMIT]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _stage(progress: Progress | None, name: str) -> None:
    if progress is not None:
        progress(name)


# ---------------------------------------------------------------------------------------------
# The build folder


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """One build at a time in a build folder (a lock on the folder itself: no file is made)."""
    handle = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError("another build is running in this folder", path=out) from None
        yield
    finally:
        os.close(handle)


def remove_leftovers(out: Path) -> list[str]:
    """Remove what stopped builds left in ``out`` (folders of unfinished builds, scratch links, the
    staging folders of older d4d versions); the names removed."""
    current = os.readlink(out / CURRENT) if (out / CURRENT).is_symlink() else None
    removed = []
    for path in sorted(out.iterdir()):
        name = path.name
        if name.startswith((".v-", ".staging-", ".store-", ".link-")) and name != current:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(name)
    return removed


def switch(out: Path, version: Path, outputs: list[str]) -> None:
    """Make ``version`` the build folder's current build: one rename of the ``current`` link.

    Each of ``outputs`` (the names the build wrote) is a link through ``current/``, made before the
    switch; a name the build did not write loses its link after it, so no link points at nothing. A
    file or folder where a link belongs (an older d4d's build folder, a copy made without its links)
    is replaced."""
    for name in outputs:
        path = out / name
        if path.is_symlink() and os.readlink(path) == f"{CURRENT}/{name}":
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        _relink(out, f"{CURRENT}/{name}", path)
    current = out / CURRENT
    if current.is_dir() and not current.is_symlink():
        shutil.rmtree(current)
    _relink(out, version.name, current)
    for name in sorted(set(OUTPUTS) - set(outputs)):
        path = out / name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


def _relink(out: Path, target: str, path: Path) -> None:
    link = out / f".link-{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(target, link)
    os.replace(link, path)


# ---------------------------------------------------------------------------------------------
# Sources of this build folder


def local_entry(project: Path, *, name: str, kind: str | None = None, paths: tuple[Path, ...] = (),
                options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A source for this build folder: declared in ``imports.yaml`` (no kind) or given here (kind and
    paths, made absolute so that later builds find them from anywhere)."""
    if kind is None:
        read_project(project).source(name)  # raises SourceError for an undeclared name
        return {"name": name, "declared": True}
    absolute = {k: str(Path(v).resolve()) if k in ("mapping", "schema") else v for k, v in (options or {}).items()}
    return {"name": name, "kind": kind, "paths": [str(Path(p).resolve()) for p in paths], "options": absolute}


def _local_sources(kept: list[dict[str, Any]], add: list[dict[str, Any]], remove: list[str],
                   project: Path) -> list[dict[str, Any]]:
    names = {e["name"] for e in kept}
    for name in remove:
        if name not in names and name not in {e["name"] for e in add}:
            declared = [s.name for s in read_project(project).sources if s.build]
            why = " (it is declared with build: true in imports.yaml)" if name in declared else ""
            raise SourceError(f"no source named '{name}' was added to this build{why}")
    entries = {e["name"]: e for e in kept if e["name"] not in remove}
    entries.update({e["name"]: e for e in add})
    return [entries[n] for n in sorted(entries)]


def build_specs(declared: list[SourceSpec], local: list[dict[str, Any]]) -> list[SourceSpec]:
    """The sources a build imports: the declared ones marked ``build: true`` and this folder's own.

    Raises
    ------
    SourceError
        A name of this folder's sources is not declared any more, or is a declared one given again.
    """
    by_name = {s.name: s for s in declared}
    specs = [s for s in declared if s.build]
    for entry in local:
        name = entry["name"]
        if entry.get("declared"):
            if name not in by_name:
                raise SourceError(f"the source '{name}' added to this build is no longer declared in imports.yaml "
                                  f"(d4d import --remove {name})")
            if not by_name[name].build:
                specs.append(by_name[name])
        elif name in by_name:
            raise SourceError(f"the source name '{name}' is declared in imports.yaml: import it with --declared "
                              "or give this file another --name")
        else:
            specs.append(SourceSpec(name=name, kind=entry["kind"], paths=tuple(Path(p) for p in entry["paths"]),
                                    options=dict(entry.get("options") or {})))
    return sorted(specs, key=lambda s: s.name)


# ---------------------------------------------------------------------------------------------
# Outputs


def write_extras(store: ox.Store, loaded: Loaded, folder: Path, *, progress: Progress | None = None) -> Graph:
    """Analyse the network and write ``metrics.json``, ``report.html`` and ``map.html`` into ``folder``;
    the measures as RDF, for :func:`add_measures`. They stay out of ``ecosystem.ttl``: an observation
    carries the date it was made, which would make the file differ from day to day for the same input."""
    from d4d.analyse import analyse
    from d4d.analyse.rdf import metrics_graph
    from d4d.maps import write_map
    from d4d.network import project
    from d4d.report import write_report

    _stage(progress, "analyse: network measures")
    network = project(store, loaded.ontology)
    metrics = analyse(network, seed=0)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    _stage(progress, "render: report and map")
    write_report(metrics, folder / "report.html")
    write_map(network, folder / "map.html", metrics=metrics)
    return metrics_graph(metrics)


def add_measures(store: ox.Store, measures: Graph) -> None:
    """Add the network measures to ``store``: the named graph ``graph/metrics`` and its default graph,
    to be queried in SPARQL."""
    from d4d.store import load_into, mirror_graph

    load_into(store, measures, graph=METRICS_GRAPH)
    mirror_graph(store, METRICS_GRAPH)


def _timed(function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """What ``function(*args)`` returns, and the seconds it took."""
    clock = time.perf_counter()
    return function(*args), round(time.perf_counter() - clock, 3)


def validate_project(project: str | Path = ".", *, ontology_dir: str | Path | None = None,
                     graph_dir: str | Path | None = None, reasoner: bool = True, progress: Progress | None = None,
                     strict: bool = False) -> BuildResult:
    """``d4d validate``: the build of ``project`` (with the sources its ``build/`` folder added) into a
    scratch folder that is removed after; nothing of the project is written. Raises as :func:`build`."""
    project = Path(project)
    with tempfile.TemporaryDirectory(prefix="d4d-validate-") as scratch:
        return build(project, out=scratch, ontology_dir=ontology_dir, graph_dir=graph_dir, reasoner=reasoner,
                     extras=False, dumps=False, progress=progress, strict=strict, local_from=project / "build")


__all__ = ["BuildResult", "OUTPUTS", "Reasoned", "add_measures", "build", "build_specs", "local_entry",
           "remove_leftovers", "run_reasoning", "switch", "validate_project", "write_extras"]
