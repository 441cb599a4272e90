"""The import stage: open data sources into the graph, beside the curated facts of ``graph/``.

Each source is imported into its own named graph, ``https://w3id.org/d4d/graph/source/<name>``, so it
can be replaced (re-imported) without touching the others or the curated facts. An import streams:
records are read one at a time and written into the store in batches.

Sources (the registry :data:`IMPORTERS`):

=========== ================================================================== ==============================
kind        reads                                                              module
=========== ================================================================== ==============================
iati        IATI activity XML 2.01-2.03 (files or folders)                     :mod:`~d4d.imports.iati`
360giving   360Giving JSON packages, and the flat CSV / XLSX form              :mod:`~d4d.imports.giving360`
compass     the CRAF'd Crisis Data Funding Compass tables (a folder)           :mod:`~d4d.imports.compass`
spreadsheet CSV / XLSX of actors and relationships with a YAML column mapping  :mod:`~d4d.imports.spreadsheet`
dpg         the Digital Public Goods registry: DPGs and nominees               :mod:`~d4d.imports.dpg`
civic       the Civic Graph (civic.json): organisations and their connections  :mod:`~d4d.imports.civic`
=========== ================================================================== ==============================

IRIs (all below ``https://w3id.org/d4d/id/``, stable across imports of the same data):

- ``org/<org-id>``: an organisation with an org-id, lower-case (``org/gb-gov-1``); see
  :mod:`~d4d.imports.identity` for how organisations are identified across sources;
- ``iati/org/<publisher>/<name>``, ``crafd/org/<org_key>``, ``crafd/agency/<record id>``,
  ``sheet/<source>/<key>``: organisations a source names without an org-id, local to it;
- ``iati/activity/<iati-identifier>`` (a project), ``.../participation/<n>``, ``.../transaction/<n>``;
  ``360giving/grant/<grant id>``; ``crafd/project/<product_key>``, ``crafd/funding/<org>/<agency>``;
- ``source/<source>/<file name>``: the SourceDocument of each imported file; each imported fact and
  actor has a citation ``<node>/citation/<source>/<file name>`` whose quote locates the record.

Sources a project imports are declared in ``imports.yaml`` at its root (see :func:`read_project`);
the build imports those marked ``build: true`` (:func:`import_declared`).
"""

from __future__ import annotations

import gc
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import pyoxigraph as ox
import yaml

from d4d.errors import D4DError, SourceError
from d4d.imports import civic, compass, dpg, giving360, iati, spreadsheet
from d4d.imports.context import ImportContext, ImportReport, Problem, source_graph
from d4d.imports.identity import FACTS_GRAPH, Crosswalk, Resolver
from d4d.load import check_yaml
from d4d.vocab import PREFIXES

__all__ = [
    "IMPORTERS", "DataFile", "ImportReport", "ImportsConfig", "Problem", "SourceSpec", "dump_sources",
    "import_declared", "import_source", "import_to_file",
    "import_sources", "imported_sources", "read_project", "remove_source", "resolver_for", "source_graph",
    "source_specs",
]

IMPORTS_FILE = "imports.yaml"
"""The project file that declares the sources."""
DEFAULT_CROSSWALK = "graph/crosswalk.csv"


class Importer(Protocol):
    def __call__(self, ctx: ImportContext, paths: Sequence[str | Path]) -> None: ...


IMPORTERS: dict[str, Importer] = {
    "iati": iati.read,
    "360giving": giving360.read,
    "compass": compass.read,
    "spreadsheet": spreadsheet.read,
    "dpg": dpg.read,
    "civic": civic.read,
}
"""Importer of each kind of source."""


@dataclass(frozen=True)
class DataFile:
    """A data file a declared source reads: where it lives below the data folder, the public address it
    is fetched from and its SHA-256 (see :mod:`d4d.fetch`)."""

    path: str
    url: str
    sha256: str


@dataclass(frozen=True)
class SourceSpec:
    """One declared source: its name (a slug, the name of its graph), kind, files and options."""

    name: str
    kind: str
    paths: tuple[Path, ...]
    options: dict[str, Any] = field(default_factory=dict)
    build: bool = False
    """Whether ``d4d build`` imports it."""
    files: tuple[DataFile, ...] = ()
    """The data files it reads, with their public address and hash (``d4d fetch`` gets them)."""


@dataclass
class ImportsConfig:
    """A project's ``imports.yaml``: the crosswalk and the declared sources."""

    crosswalk: Path | None
    sources: list[SourceSpec]
    path: Path | None = None
    data: Path | None = None
    """The data folder ``d4d fetch`` fills (``data:``; ``<project>/data`` by default)."""

    def source(self, name: str) -> SourceSpec:
        for spec in self.sources:
            if spec.name == name:
                return spec
        known = ", ".join(s.name for s in self.sources) or "none"
        raise SourceError(f"no source named '{name}' is declared (declared: {known})", path=self.path)


def read_project(project: str | Path) -> ImportsConfig:
    """Read ``<project>/imports.yaml``. Paths in it are relative to the project folder.

    The file::

        crosswalk: graph/crosswalk.csv        # declared cross-references (optional)
        sources:
          - name: crafd-compass               # a slug: the source's graph is graph/source/<name>
            kind: compass                     # iati, 360giving, compass or spreadsheet
            paths: [../shared/data/crafd-crisis-data-funding-compass]
            build: false                      # true: `d4d build` imports it
            options: {}                       # importer options (title, url, schema, mapping, ...)

    Without the file, there are no sources and the crosswalk is ``graph/crosswalk.csv`` if it exists.

    Raises
    ------
    SourceError
        The file is not valid YAML, a source lacks a name, kind or paths, a kind is unknown or a name
        is used twice.
    """
    project = Path(project)
    path = project / IMPORTS_FILE
    default_walk = project / DEFAULT_CROSSWALK
    if not path.is_file():
        return ImportsConfig(crosswalk=default_walk if default_walk.is_file() else None, sources=[],
                             data=project / "data")
    try:
        text = path.read_text(encoding="utf-8")
        check_yaml(text, path, error=SourceError)
        data = yaml.safe_load(text) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SourceError(f"not valid YAML: {exc}", path=path) from exc
    if not isinstance(data, dict):
        raise SourceError("imports.yaml must be a mapping with 'sources'", path=path)
    walk = data.get("crosswalk")
    crosswalk = project / walk if walk else (default_walk if default_walk.is_file() else None)
    sources: list[SourceSpec] = []
    for number, item in enumerate(data.get("sources") or [], start=1):
        where = f"source {number}"
        if not isinstance(item, dict):
            raise SourceError("a source must be a mapping", path=path, record=where)
        name, kind, paths = item.get("name"), item.get("kind"), item.get("paths")
        if not isinstance(name, str) or not name:
            raise SourceError("a source needs a name", path=path, record=where)
        if kind not in IMPORTERS:
            raise SourceError(f"unknown kind {kind!r} (known: {', '.join(IMPORTERS)})", path=path, record=name)
        if isinstance(paths, str):
            paths = [paths]
        if not paths or not all(isinstance(p, str) for p in paths):
            raise SourceError("a source needs paths (a list of files or folders)", path=path, record=name)
        if any(s.name == name for s in sources):
            raise SourceError(f"the source name '{name}' is used twice", path=path, record=name)
        options = item.get("options") or {}
        if not isinstance(options, dict):
            raise SourceError("options must be a mapping", path=path, record=name)
        for key in ("mapping", "schema"):
            if isinstance(options.get(key), str):
                options = {**options, key: str(project / options[key])}
        sources.append(SourceSpec(name=name, kind=kind, paths=tuple(project / p for p in paths),
                                  options=options, build=bool(item.get("build", False)),
                                  files=_data_files(item.get("files"), path, name)))
    data_dir = data.get("data") or "data"
    if not isinstance(data_dir, str):
        raise SourceError("data must be a folder (a path relative to the project)", path=path)
    return ImportsConfig(crosswalk=crosswalk, sources=sources, path=path, data=project / data_dir)


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _data_files(items: Any, path: Path, name: str) -> tuple[DataFile, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise SourceError("files must be a list of {path, url, sha256}", path=path, record=name)
    out = []
    for number, item in enumerate(items, start=1):
        where = f"{name}, file {number}"
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("path", "url", "sha256")):
            raise SourceError("a file needs path, url and sha256", path=path, record=where)
        rel, url, digest = item["path"].strip(), item["url"].strip(), item["sha256"].strip().lower()
        if rel.startswith("/") or ".." in Path(rel).parts:
            raise SourceError(f"a file's path is relative to the data folder and stays in it: {rel!r}", path=path,
                              record=where)
        if not re.match(r"^https?://", url):
            raise SourceError(f"a file's url must be http(s): {url!r}", path=path, record=where)
        if not _SHA256.match(digest):
            raise SourceError(f"sha256 must be 64 hexadecimal digits: {digest!r}", path=path, record=where)
        out.append(DataFile(rel, url, digest))
    return tuple(out)


def remove_source(store: ox.Store, name: str) -> None:
    """Remove an imported source's graph from the store (nothing happens if it is not there)."""
    graph = ox.NamedNode(source_graph(name))
    if store.contains_named_graph(graph):
        store.remove_graph(graph)


def import_source(store: ox.Store, spec: SourceSpec, *, resolver: Resolver | None = None, strict: bool = False,
                  ontology: Any = None, batch_size: int = 50_000, progress: Callable[[int], None] | None = None,
                  shared: Path | None = None, spool: BinaryIO | None = None) -> ImportReport:
    """Import one source into ``store``, replacing its graph.

    Parameters
    ----------
    store:
        A writable pyoxigraph store (in memory or on disk).
    spec:
        What to import.
    resolver:
        Resolves organisations to nodes (:meth:`Resolver.from_store` knows the curated records of the
        store and the crosswalk); by default org-ids and local nodes only.
    strict:
        Stop at the first record that cannot be read instead of reporting and skipping it.
    ontology:
        The ontology (:class:`d4d.ontology.Ontology`); the spreadsheet importer needs it.
    batch_size:
        Quads written at a time.
    progress:
        Called with the number of records read so far, every thousand records.
    spool:
        A file that also gets every triple written into the graph, as N-Triples (see
        :class:`ImportContext`); incomplete when the import fails.

    Returns
    -------
    ImportReport
        Counts per kind of record, skipped records with (file, record, reason), warnings, quads, time.

    Raises
    ------
    SourceError
        A file is missing; the source cannot be read at all; or, when ``strict``, a record cannot be
        read; or the import kept nothing (every record skipped, or none in the files). On an error the
        source's graph is removed, so the store never holds half a source.
    """
    if spec.kind not in IMPORTERS:
        raise SourceError(f"unknown kind of source {spec.kind!r} (known: {', '.join(IMPORTERS)})")
    if spec.files:
        for path in spec.paths:
            if not path.exists():
                raise SourceError("missing: run `d4d fetch` to download the declared data files (or "
                                  "`d4d fetch --mirror DIR` to copy them from a local copy)", path=path, record=spec.name)
    ctx = ImportContext(store, spec.name, spec.kind, resolver=resolver, strict=strict, options=spec.options,
                        batch_size=batch_size, ontology=ontology, progress=progress, shared=shared, spool=spool)
    remove_source(store, spec.name)
    try:
        IMPORTERS[spec.kind](ctx, list(spec.paths))
        report = ctx.finish()
        if report.kept_nothing:
            raise SourceError(_nothing_kept(report), path=report.files[0] if len(report.files) == 1 else None)
    except BaseException:
        ctx.discard()
        remove_source(store, spec.name)
        raise
    return report


def _nothing_kept(report: ImportReport) -> str:
    """The one line of an import that kept nothing: how many records were skipped, and the first reason."""
    text = f"nothing imported into source '{report.source}'"
    if report.problems:
        first = report.problems[0]
        where = first.record if len(report.files) == 1 else f"{first.path}, {first.record}"
        text += f": {report.problem_count} record(s) skipped; the first, {where}: {first.reason}"
    else:
        text += ": no records in the files"
    return text


def import_declared(project: str | Path, store: ox.Store, *, ontology: Any = None, only: Sequence[str] | None = None,
                    build_only: bool = True, strict: bool = False,
                    progress: Callable[[str], None] | None = None) -> list[ImportReport]:
    """Import the sources a project declares in ``imports.yaml`` into ``store`` (the build's hook).

    The store should already hold the curated facts (graph ``graph/facts``), so that organisations the
    crosswalk or a curated identifier declares become the curated nodes: the seed ecosystem and the
    imported sources then share identities in one graph.

    Parameters
    ----------
    project:
        The project folder with ``imports.yaml``.
    store:
        The store to import into.
    ontology:
        The ontology (for the spreadsheet importer).
    only:
        Import these sources (by name) whatever their ``build`` flag.
    build_only:
        Without ``only``: import only the sources marked ``build: true`` (False: all of them).
    strict:
        See :func:`import_source`.
    progress:
        Called with a line for each source as it starts.

    Returns
    -------
    list of ImportReport
        One per imported source, in the order declared.

    Raises
    ------
    SourceError
        As :func:`read_project`, :meth:`Crosswalk.load`, :meth:`Resolver.from_store` and
        :func:`import_source` raise.
    """
    config = read_project(project)
    if only is not None:
        specs = [config.source(name) for name in only]
    else:
        specs = [s for s in config.sources if s.build or not build_only]
    if not specs:
        return []
    crosswalk = Crosswalk.load(config.crosswalk) if config.crosswalk else None
    resolver = Resolver.from_store(store, crosswalk)
    reports = []
    for spec in specs:
        if progress is not None:
            progress(f"import: {spec.name} ({spec.kind})")
        reports.append(import_source(store, spec, resolver=resolver, strict=strict, ontology=ontology))
    return reports


def imported_sources(store: ox.Store, reports: Sequence[ImportReport]) -> list[tuple[bytes, str]]:
    """The imported graphs of ``store`` as (N-Triples, graph IRI) pairs, for writing them into another
    store (:func:`d4d.store.write_store` takes such pairs) or into an rdflib graph."""
    out = []
    for report in reports:
        data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(report.graph))
        out.append((data if isinstance(data, bytes) else b"", report.graph))
    return out


_TRIPLE_FORMATS_THAT_CONCATENATE = (ox.RdfFormat.N_TRIPLES,)


def dump_sources(store: ox.Store, reports: Sequence[ImportReport], output: BinaryIO, *,
                 format: ox.RdfFormat) -> None:
    """Write the imported graphs of ``store`` to ``output`` as the store streams them, never all at once
    (an import of millions of statements writes in the memory of a few).

    A format with named graphs (N-Quads, TriG) gets every source in its graph; a format of triples gets
    the source's statements, and N-Triples those of several sources one after the other. The order is
    the store's (by its encoded terms): the same input gives the same bytes.

    Raises
    ------
    SourceError
        Several sources in a format of triples other than N-Triples (Turtle, RDF/XML, JSON-LD hold one).
    """
    graphs = [ox.NamedNode(r.graph) for r in reports]
    if format.supports_datasets:
        store.dump(output, format=format, prefixes=dict(PREFIXES) if format == ox.RdfFormat.TRIG else None)
        return
    if len(graphs) > 1 and format not in _TRIPLE_FORMATS_THAT_CONCATENATE:
        raise SourceError(f"{format.name} holds the statements of one source; write {len(graphs)} sources "
                          "as N-Quads (.nq), TriG (.trig) or N-Triples (.nt)")
    for graph in graphs:
        store.dump(output, format=format, from_graph=graph,
                   prefixes=dict(PREFIXES) if format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None)


def import_to_file(specs: Sequence[SourceSpec], output: Path | None, *, format: ox.RdfFormat,
                   project: str | Path = ".", strict: bool = False,
                   progress: Callable[[str], None] | None = None) -> list[ImportReport]:
    """Import sources into a file (``None``: standard output) instead of a store.

    The sources go through a scratch store on disk, and are streamed from it (:func:`dump_sources`)
    into a file beside ``output`` that replaces it once complete: memory stays flat whatever the size
    of the sources, and an import that fails leaves ``output`` as it was.

    Raises
    ------
    SourceError
        As :func:`import_sources` and :func:`dump_sources`.
    """
    with tempfile.TemporaryDirectory(prefix="d4d-import-", ignore_cleanup_errors=True) as scratch:
        try:
            return _import_to_file(Path(scratch), specs, output, format=format, project=project, strict=strict,
                                   progress=progress)
        except D4DError as exc:
            # raised again without its traceback, whose frames hold the scratch store open (RocksDB
            # writes into its folder until it is closed, and the folder is removed next)
            failure = type(exc)(exc.reason, path=exc.path, record=exc.record)
        finally:
            # and a store held by a reference cycle (an exception kept in a frame that holds the
            # import's context) is closed before its folder is removed
            gc.collect()
    raise failure


def _import_to_file(scratch: Path, specs: Sequence[SourceSpec], output: Path | None, *, format: ox.RdfFormat,
                    project: str | Path, strict: bool, progress: Callable[[str], None] | None) -> list[ImportReport]:
    from d4d.io import open_atomic

    store = ox.Store(str(scratch))
    reports = import_sources(store, specs, project=project, strict=strict, progress=progress)
    if output is None:
        dump_sources(store, reports, sys.stdout.buffer, format=format)
    else:
        with open_atomic(output) as handle:
            dump_sources(store, reports, handle, format=format)
    return reports


def source_specs(project: str | Path = ".", *, kind: str | None = None, paths: Sequence[str | Path] = (),
                 name: str | None = None, declared: Sequence[str] = (), all_declared: bool = False,
                 options: dict[str, Any] | None = None) -> list[SourceSpec]:
    """The sources a command names: declared ones (by name, or all) or one given by kind and paths.

    Raises
    ------
    SourceError
        Neither declared names nor a kind with paths are given, an unknown kind or undeclared name.
    """
    if declared or all_declared:
        if kind or paths:
            raise SourceError("give either declared source names or a KIND and its files, not both")
        config = read_project(project)
        return [config.source(n) for n in declared] if declared else list(config.sources)
    if not kind or not paths:
        raise SourceError("give a KIND and its FILES (or --declared NAME for a source of imports.yaml)")
    if kind not in IMPORTERS:
        raise SourceError(f"unknown kind of source {kind!r} (known: {', '.join(IMPORTERS)})")
    return [SourceSpec(name=name or kind, kind=kind, paths=tuple(Path(p) for p in paths), options=dict(options or {}))]


def resolver_for(project: str | Path = ".", store: ox.Store | None = None, *, decisions: bool = True) -> Resolver:
    """A resolver with the project's crosswalk and its curated records: those of ``store`` (graph
    ``graph/facts``) when it holds them, else those of the project's fact files. Without ``decisions``,
    the crosswalk's ``same`` and ``apart`` rows (a curator's reviewed decisions) are left out: each
    source's own nodes, as an importer's counts are checked against.

    Raises
    ------
    SourceError, FactError, OntologyError
        The crosswalk or the fact files cannot be read.
    """
    project = Path(project)
    config = read_project(project)
    crosswalk = Crosswalk.load(config.crosswalk) if config.crosswalk else None
    if crosswalk is not None and not decisions:
        crosswalk = crosswalk.without_decisions()
    facts = ox.NamedNode(str(FACTS_GRAPH))
    if store is None or not store.contains_named_graph(facts):
        from d4d.load import load

        loaded = load(project / "ontology", project / "graph")
        store = ox.Store()
        store.load(loaded.facts.graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES,
                   to_graph=facts)
    return Resolver.from_store(store, crosswalk)


def import_sources(store: ox.Store, specs: Sequence[SourceSpec], *, project: str | Path = ".", strict: bool = False,
                   progress: Callable[[str], None] | None = None) -> list[ImportReport]:
    """Import several sources into ``store``, sharing identities with the project's curated records
    (see :func:`resolver_for`); the ontology is read from the project when a source needs it.

    Raises
    ------
    SourceError
        See :func:`import_source`.
    """
    resolver = resolver_for(project, store)
    ontology = None
    if any(spec.kind == "spreadsheet" for spec in specs):
        from d4d.ontology import load_ontology

        ontology = load_ontology(Path(project) / "ontology")
    reports = []
    for spec in specs:
        if progress is not None:
            progress(f"import: {spec.name} ({spec.kind})")
        reports.append(import_source(store, spec, resolver=resolver, strict=strict, ontology=ontology))
    return reports
