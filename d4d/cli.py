"""The ``d4d`` command line: parses options, calls the library, formats its answers.

Every library error (:class:`d4d.errors.D4DError`) becomes one line on stderr and exit status 1.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from d4d import limits
from d4d.errors import D4DError

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn a D4DError into a one-line message and exit status 1 (validation: every violation)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except D4DError as error:
            click.secho(f"error: {error.message}", fg="red", err=True)
            for violation in getattr(error, "violations", [])[1:20]:
                where = ", ".join(p for p in (violation.get("path"), violation.get("record")) if p)
                field = f"{violation['field']}: " if violation.get("field") else ""
                click.echo(f"  also {where}: {field}{violation['message']} [{violation['rule']}]", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def project_options(func: F) -> F:
    """The options that say where the project's ontology and facts are."""
    func = click.option("--graph", "graph_dir", type=click.Path(file_okay=False, path_type=Path),
                        help="Folder of fact files (default: PROJECT/graph).")(func)
    func = click.option("--ontology", "ontology_dir", type=click.Path(file_okay=False, path_type=Path),
                        help="Folder of the ontology (default: PROJECT/ontology).")(func)
    func = click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                        show_default=True, help="Project folder.")(func)
    func = click.option("--no-reasoner", is_flag=True,
                        help="Skip HermiT's consistency check (the materialisation rules still run).")(func)
    return func


class _Stages:
    """Shows each stage with its elapsed time on stderr, and the progress of long steps (records
    imported, shapes checked) with a rate and an ETA: a rich progress bar when stderr is a terminal,
    a line every few seconds otherwise."""

    def __init__(self, quiet: bool) -> None:
        import time
        self.quiet = quiet
        self.clock = time.perf_counter
        self.start = self.clock()
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}
        self.seen: dict[str, tuple[float, float]] = {}

    def __call__(self, stage: str) -> None:
        if not self.quiet:
            self._close()
            click.secho(f"[{self.clock() - self.start:6.1f}s] {stage}", err=True, fg="cyan")

    def count(self, step: str, done: int, total: int | None) -> None:
        """Progress of a long step: ``done`` of ``total`` (None: not known) items."""
        if self.quiet:
            return
        if sys.stderr.isatty():
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)
            if self.bar is None:
                self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                                    TimeRemainingColumn(), transient=False)
                self.bar.start()
            if step not in self.tasks:
                self.tasks[step] = self.bar.add_task(step, total=total, rate="")
            task = self.tasks[step]
            speed = self.bar.tasks[task].speed if task < len(self.bar.tasks) else None
            self.bar.update(task, completed=done, total=total, rate=f"{speed:,.0f}/s" if speed else "")
            return
        now = self.clock()
        first, last = self.seen.setdefault(step, (now, 0.0))
        if now - last < 5.0 and done != total:
            return
        self.seen[step] = (first, now)
        rate = done / (now - first) if now > first else 0.0
        eta = f", ETA {(total - done) / rate:.0f}s" if total and rate and done < total else ""
        of = f"/{total}" if total else ""
        click.echo(f"[{now - self.start:6.1f}s]   {step}: {done}{of} ({rate:,.0f}/s{eta})", err=True)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
            self.tasks.clear()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="d4d")
def main() -> None:
    """d4d: the knowledge graph of the Big Data for development ecosystem.

    Build the graph from the ontology and the fact files, query it in SPARQL, measure its
    fragmentation, draw it as an interactive map, import open data, export for other tools.
    """


@main.command()
@project_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Build folder (default: PROJECT/build).")
@click.option("--rdf-only", is_flag=True, help="Write only the RDF outputs and the store (no analysis, map, report).")
@click.option("--dumps/--no-dumps", default=None,
              help="Write ecosystem.ttl and ecosystem.jsonld whatever the size of the graph (default: up to "
                   "200,000 triples).")
@click.option("--strict", is_flag=True,
              help="Stop at an imported record that cannot be read or breaks a shape (default: report it).")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@reports_errors
def build(project: Path, ontology_dir: Path | None, graph_dir: Path | None, no_reasoner: bool,
          out: Path | None, rdf_only: bool, dumps: bool | None, strict: bool, quiet: bool) -> None:
    """Load, validate, reason, store, analyse and render into build/.

    A rebuild reuses the previous build's store for what did not change."""
    from d4d.pipeline import build as run_build

    stages = _Stages(quiet)
    try:
        result = run_build(project, out=out, ontology_dir=ontology_dir, graph_dir=graph_dir,
                           reasoner=not no_reasoner, extras=not rdf_only, progress=stages, dumps=dumps,
                           strict=strict)
    finally:
        stages._close()
    _print_build(result)


def _print_build(result: Any, *, verb: str = "built") -> None:
    """The closing summary of a build: distinct nodes by kind and by source, the store, the files."""
    counts = result.counts
    click.echo(f"{verb} {counts['triples']} triples ({counts['inferred']} inferred): "
               f"{counts['organisations']} organisations, {counts['people']} people, "
               f"{counts['relationships']} relationships, {counts['activities']} activities, "
               f"{counts['citations']} citations from {counts['sources']} sources")
    for source, kinds in result.by_source.items():
        click.echo(f"  from {source}: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items()))
    click.echo("relationships: " + ", ".join(f"{name} {n}" for name, n in result.relationships.items()))
    store = result.store
    done = [f"imported {', '.join(store['imported'])}" if store.get("imported") else "",
            f"copied {', '.join(store['copied'])}" if store.get("copied") else ""]
    click.echo(f"store: {store['mode']} ({store['reason']})" + "".join(f"; {d}" for d in done if d))
    for source, report in store.get("validation", {}).items():
        sampled = f" in a sample of {report['sample']} records per rule" if report.get("sample") else ""
        click.secho(f"  {source}: {report['violations']} shape violations{sampled} "
                    "(not fatal: --strict stops the build)", err=True, fg="yellow")
        for rule, n in list(report["rules"].items())[:5]:
            click.echo(f"    {n} x {rule}", err=True)
    if "metrics.json" in result.outputs:
        _print_field_summary(Path(result.outputs["metrics.json"]).parent)
    for path in result.outputs.values():
        click.echo(f"  wrote {path}")
    for note in result.skipped:
        click.echo(f"  not written: {note}")
    if result.seconds:
        click.echo("time: " + ", ".join(f"{stage} {sec:.1f}s" for stage, sec in result.seconds.items()))


def _print_field_summary(folder: Path) -> None:
    from d4d.summary import summarise_build

    s = summarise_build(folder)

    def listing(counts: dict[str, int]) -> str:
        return ", ".join(f"{name} {n}" for name, n in counts.items()) or "none"

    click.echo(f"actors: {s.actors}; by sector: {listing(s.by_sector)}")
    click.echo(f"actors by source: {listing(s.by_source)}")
    click.echo(f"ties by type: {listing(s.ties)}")
    ei = f"{s.ei_index:.3f} (expected {s.ei_expected:.3f} if ties ignored sectors)" \
        if s.ei_index is not None and s.ei_expected is not None else "none"
    click.echo(f"components: {s.components} (the largest holds {s.largest_component_share:.0%} of the actors); "
               f"E-I index: {ei}")


@main.command()
@project_options
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@reports_errors
def validate(project: Path, ontology_dir: Path | None, graph_dir: Path | None, no_reasoner: bool,
             quiet: bool) -> None:
    """The build of the project (and the sources its build/ folder added) in a scratch folder:
    load, validate (SHACL), import, reason (HermiT and the rules), without writing anything."""
    from d4d.pipeline import validate_project

    stages = _Stages(quiet)
    try:
        result = validate_project(project, ontology_dir=ontology_dir, graph_dir=graph_dir, reasoner=not no_reasoner,
                       progress=stages)
    finally:
        stages._close()
    counts = result.counts
    click.echo(f"valid: {counts['organisations']} organisations, {counts['people']} people, "
               f"{counts['relationships']} relationships, {counts['citations']} citations; "
               f"consistent, {counts['inferred']} triples inferred")


@main.command()
@click.argument("query", required=False)
@click.option("-e", "--expression", help="The query text itself instead of a name or file.")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A value for a query parameter (repeatable); bound as an RDF term, never pasted.")
@click.option("-f", "--format", "fmt", default="table", show_default=True,
              type=click.Choice(["table", "csv", "tsv", "json", "xml", "turtle", "ntriples", "nquads", "trig",
                                 "rdfxml", "jsonld"]),
              help="table, or a W3C results format (SELECT/ASK), or an RDF format (CONSTRUCT/DESCRIBE).")
@click.option("--endpoint", help="Run on this SPARQL 1.1 endpoint instead of the local store.")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=Path("build"),
              show_default=True, help="The built store (or its build folder).")
@reports_errors
def query(query: str | None, expression: str | None, params: tuple[str, ...], fmt: str,
          endpoint: str | None, store_dir: Path) -> None:
    """Run a catalogue query (by NAME), a .rq FILE, stdin (-) or -e TEXT over the built graph."""
    from d4d import sparql
    from d4d.errors import QueryError

    if (query is None) == (expression is None):
        raise QueryError("give one query: a catalogue NAME, a FILE, - for stdin, or -e TEXT")
    parsed = sparql.resolve_query(expression, text=True) if expression else sparql.resolve_query(query or "")
    given = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep:
            raise QueryError(f"--param {item!r}: write NAME=VALUE")
        given[name] = value
    store = None
    if endpoint is None:
        from d4d.store import open_store
        store = open_store(store_dir)
    result = sparql.run_query(parsed, store=store, endpoint=endpoint, params=given)
    if fmt == "table":
        header, rows = sparql.to_table(result)
        _print_table(header, rows)
    else:
        sparql.serialize(result, fmt, sys.stdout.buffer)


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*header, show_lines=False)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        click.echo(f"{len(rows)} rows", err=True)
        return
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    click.echo(f"({len(rows)} rows)")


@main.command()
@click.option("--catalogue", "catalogue_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of .rq files (default: the project's queries/).")
@click.option("-v", "--verbose", is_flag=True, help="Also print each query's description.")
@reports_errors
def queries(catalogue_dir: Path | None, verbose: bool) -> None:
    """List the query catalogue: name, title and parameters (run one with `d4d query NAME`)."""
    from d4d import sparql

    for entry in sparql.load_catalogue(catalogue_dir).values():
        click.echo(f"{click.style(entry.name, bold=True)}  {entry.title}")
        if verbose:
            click.echo(f"    {entry.description}")
        for param in entry.params:
            default = param.default if param.default is not None else "unbound"
            click.echo(f"    -p {param.name}=<{param.type}>  default {default}: {param.description}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 127.0.0.1 serves this machine only.")
@click.option("--port", type=int, default=7878, show_default=True, help="Port (0: any free port).")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=Path("build"),
              show_default=True, help="The built store (or its build folder).")
@click.option("--time-limit", type=float, default=limits.QUERY_SECONDS, show_default=True,
              help="Seconds a query may run before it is stopped (HTTP 503).")
@click.option("--max-rows", type=int, default=limits.MAX_ROWS, show_default=True,
              help="Most rows (or triples) a query may return (more: HTTP 422).")
@click.option("--workers", type=click.IntRange(min=1), default=limits.FAST_WORKERS, show_default=True,
              help="Worker processes of the fast lane, where every query starts.")
@click.option("--slow-workers", type=click.IntRange(min=1), default=limits.SLOW_WORKERS, show_default=True,
              help="Worker processes of the slow lane, for queries that overrun --fast-budget.")
@click.option("--fast-budget", type=float, default=limits.FAST_BUDGET_SECONDS, show_default=True,
              help="Seconds a query may run in the fast lane before it moves to the slow lane.")
@click.option("--memory-limit", type=click.IntRange(min=0), default=limits.WORKER_MEMORY_MB, show_default=True,
              help="Address space of one query worker in MB (more: HTTP 503); 0: no limit.")
@click.option("--per-client", type=click.IntRange(min=1), default=limits.PER_CLIENT, show_default=True,
              help="Queries one client address may have running or waiting at once (more: HTTP 429).")
@click.option("-q", "--quiet", is_flag=True, help="Do not log each request.")
@reports_errors
def serve(host: str, port: int, store_dir: Path, time_limit: float, max_rows: int, workers: int,
          slow_workers: int, fast_budget: float, memory_limit: int, per_client: int, quiet: bool) -> None:
    """Serve the built graph read-only over SPARQL 1.1 at /sparql, with a query editor at /."""
    from d4d import sparql
    from d4d.serve import ServeOptions, serve as run_server

    catalogue = sparql.load_catalogue() if sparql.DEFAULT_CATALOGUE.is_dir() else {}
    run_server(store_dir, host=host, port=port, catalogue=catalogue, quiet=quiet,
               options=ServeOptions(time_limit=time_limit, max_rows=max_rows, workers=workers,
                                    slow_workers=slow_workers, fast_budget=fast_budget,
                                    memory_limit=memory_limit, per_client=per_client))


@main.command()
@click.option("--endpoint", required=True,
              help="Graph Store Protocol URL of the server, e.g. http://127.0.0.1:7878/store (Oxigraph).")
@click.option("--graph", "graph_iri", help="IRI of the named graph to fill (default: the default graph).")
@click.option("--source", type=click.Path(path_type=Path), default=Path("build/ecosystem.ttl"),
              show_default=True, help="The built graph: an RDF file or a store folder.")
@click.option("--chunk-size", type=int, default=limits.PUSH_CHUNK_TRIPLES, show_default=True, help="Triples per request.")
@click.option("--restart", is_flag=True, help="Ignore the checkpoint of an interrupted push; start over.")
@click.option("--user", help="User for HTTP basic or digest authentication; the password is read from "
                             "D4D_PUSH_PASSWORD (or the netrc entry of the endpoint's host).")
@click.option("--netrc", "netrc_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The netrc file holding the credentials (default: $NETRC or ~/.netrc).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=limits.PUSH_TIMEOUT, show_default=True,
              help="Seconds without an answer before a request is tried again (twice).")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@reports_errors
def push(endpoint: str, graph_iri: str | None, source: Path, chunk_size: int, restart: bool,
         user: str | None, netrc_file: Path | None, timeout: float, quiet: bool) -> None:
    """Upload the built graph to a SPARQL server, in chunks; pushing again replaces, never duplicates."""
    from d4d.push import credentials, push as run_push

    def progress(done: int, total: int, sent: int, triples: int) -> None:
        if not quiet:
            click.echo(f"chunk {done}/{total}: {sent}/{triples} triples", err=True)

    auth = credentials(endpoint, user=user, netrc_file=netrc_file)
    report = run_push(source, endpoint, graph=graph_iri, chunk_size=chunk_size, restart=restart,
                      progress=progress, auth=auth, timeout=timeout)
    resumed = f", resumed at chunk {report.resumed_from + 1}" if report.resumed_from else ""
    click.echo(f"pushed {report.triples} triples in {report.chunks} chunks to {report.url}{resumed}; "
               f"the server holds {report.server_triples}")
    if report.note:
        click.echo(f"note: {report.note}", err=True)


@main.command("map")
@click.option("--actor", help="Centre an ego map on this actor (IRI, d4did:SLUG or SLUG).")
@click.option("--depth", type=click.IntRange(min=0), default=1, show_default=True,
              help="How many ties from the actor an ego map reaches.")
@click.option("--query", "query_spec", help="Draw the result of this CONSTRUCT/DESCRIBE query (catalogue NAME or .rq FILE).")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A value for a query parameter (repeatable); bound as an RDF term, never pasted.")
@click.option("--size-by", help="Node size: degree (default), in_degree, out_degree, amount, or a measure of the "
                                "metrics such as betweenness.")
@click.option("--group-by", type=click.Choice(["sector", "community"]),
              help="How a map too large to draw at once is grouped (default: community when known).")
@click.option("--max-nodes", type=click.IntRange(min=1), help="Above this many actors the map opens grouped (default 2000).")
@click.option("--physics", is_flag=True, help="Let vis-network's physics move the nodes after opening.")
@click.option("--title", help="Heading of the page.")
@click.option("--metrics", "metrics_file", type=click.Path(dir_okay=False, path_type=Path),
              help="metrics.json for the overlays (default: metrics.json beside the store, if there is one).")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=Path("build"),
              show_default=True, help="The built store (or its build folder).")
@click.option("--ontology", "ontology_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("ontology"), show_default=True, help="Folder of the ontology.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("build/map.html"),
              show_default=True, help="The HTML file to write (- for stdout).")
@reports_errors
def map_command(actor: str | None, depth: int, query_spec: str | None, params: tuple[str, ...],
                size_by: str | None, group_by: str | None, max_nodes: int | None, physics: bool,
                title: str | None, metrics_file: Path | None, store_dir: Path, ontology_dir: Path,
                out: Path) -> None:
    """Draw the ecosystem, an ego map (--actor) or a query's result (--query) as one offline HTML page."""
    import json

    from d4d import sparql
    from d4d.errors import QueryError
    from d4d.maps import ego_graph, graph_from_triples, resolve_actor, write_map
    from d4d.network import project
    from d4d.ontology import load_ontology
    from d4d.store import find_store, open_store

    ontology = load_ontology(ontology_dir)
    store = open_store(store_dir)
    G = project(store, ontology)
    heading = "Data for development: the ecosystem"
    query_text = None
    if query_spec is not None:
        parsed = sparql.resolve_query(query_spec)
        given = {}
        for item in params:
            name, sep, value = item.partition("=")
            if not sep:
                raise QueryError(f"--param {item!r}: write NAME=VALUE")
            given[name] = value
        result = sparql.run_query(parsed, store=store, params=given)
        if result.triples is None:
            raise QueryError(f"a {result.form} query has no graph to draw: use CONSTRUCT or DESCRIBE",
                             record=parsed.name)
        shortcuts = {str(e.shortcut): name for name, e in ontology.edge_types.items() if e.shortcut is not None}
        G = graph_from_triples(result.triples, network=G, shortcuts=shortcuts)
        query_text = sparql.bind(parsed.text, sparql.resolve_params(parsed, given))
        heading = f"Query: {parsed.title or parsed.name}"
    focus = None
    if actor is not None:
        focus = resolve_actor(G, actor)
        G = ego_graph(G, focus, depth=depth)
        heading = f"{G.nodes[focus].get('label') or focus}: ties within {depth}"
    if metrics_file is None and (find_store(store_dir).parent / "metrics.json").is_file():
        metrics_file = find_store(store_dir).parent / "metrics.json"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file is not None else None
    options: dict[str, Any] = {"title": title or heading, "metrics": metrics, "query": query_text,
                               "size_by": size_by, "group_by": group_by, "focus": focus, "physics": physics}
    if max_nodes is not None:
        options["max_nodes"] = max_nodes
    if str(out) == "-":
        from d4d.maps import render_map

        sys.stdout.write(render_map(G, **options))
        return
    path = write_map(G, out, **options)
    click.echo(f"wrote {path}: {G.number_of_nodes()} actors, {G.number_of_edges()} ties")


def _read_metrics(metrics_file: Path | None, store_dir: Path) -> dict[str, Any] | None:
    """The analysis output named, else ``metrics.json`` beside the store when there is one."""
    import json

    from d4d.errors import D4DError
    from d4d.store import find_store

    if metrics_file is None:
        beside = find_store(store_dir).parent / "metrics.json"
        if not beside.is_file():
            return None
        metrics_file = beside
    try:
        data = json.loads(metrics_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise D4DError(f"cannot read the metrics: {error}", path=metrics_file) from error
    if not isinstance(data, dict):
        raise D4DError("not a `d4d analyse` output (a JSON object)", path=metrics_file)
    return data


def _key_values(items: tuple[str, ...], option: str) -> dict[str, str]:
    from d4d.errors import SourceError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SourceError(f"{option} {item!r}: write NAME=VALUE")
        out[key] = value
    return out


def _print_import_report(report: Any, *, problems: int = 10) -> None:
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts.items()))
    click.echo(f"imported {report.source} ({report.kind}) into <{report.graph}>: {counts}; "
               f"{report.quads} statements in {report.seconds:.1f}s; "
               f"{report.problem_count} records skipped, {report.warning_count} read leniently")
    for problem in report.problems[:problems]:
        click.echo(f"  skipped {problem}", err=True)
    if report.problem_count > problems:
        click.echo(f"  ... {report.problem_count - problems} more skipped (--json lists them)", err=True)
    for reason, n in report.warning_counts.most_common(8):
        click.echo(f"  {n} × {reason}", err=True)


@main.command()
@click.argument("sources", nargs=-1)
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Project folder (its imports.yaml declares the files).")
@click.option("--mirror", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Copy the files from this local folder (same layout, such as ../shared/data) instead of "
                   "downloading them.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@reports_errors
def fetch(sources: tuple[str, ...], project: Path, mirror: Path | None, quiet: bool) -> None:
    """Get the data files the declared SOURCES read (default: all) into the data folder, each checked
    against its SHA-256; a file already there is checked, not fetched again."""
    from d4d.fetch import declared_files, fetch as run_fetch

    def progress(file: Any, done: int, total: int | None) -> None:
        if not quiet:
            share = f"{100 * done // total}%" if total else f"{done:,} bytes"
            click.echo(f"\r  {file.path}: {share}", nl=done == total, err=True)

    results = run_fetch(project, mirror=mirror, sources=sources, progress=progress)
    counts: dict[str, int] = {}
    for item in results:
        counts[item.action] = counts.get(item.action, 0) + 1
        if item.action != "present":
            click.echo(f"{item.action} {item.file.path} ({item.size:,} bytes, SHA-256 checked)")
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "none declared"
    click.echo(f"data files in {declared_files(project)[0]}: {summary}")


@main.command("import")
@click.argument("kind", required=False)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--name", help="Source name, a slug: its graph is graph/source/NAME (default: KIND).")
@click.option("--declared", multiple=True, metavar="NAME", help="Add this source of imports.yaml (repeatable).")
@click.option("--all-declared", is_flag=True, help="Add every source of imports.yaml.")
@click.option("--remove", "removed", multiple=True, metavar="NAME",
              help="Take a source added before out of this build (repeatable).")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Importer option (repeatable): schema=FILE (360giving), mapping=FILE (spreadsheet), title=...")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Project folder (imports.yaml, graph/crosswalk.csv, the curated facts).")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="The build folder to add the sources to (or its store).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Only write the imported graphs to this file, leaving the build alone (.nq .trig .ttl .nt "
                   ".jsonld .rdf; - for N-Quads on stdout).")
@click.option("--strict", is_flag=True, help="Stop at the first record that cannot be read or breaks a shape.")
@click.option("--rdf-only", is_flag=True, help="Rebuild only the store and the RDF files (no analysis, map, report).")
@click.option("--no-reasoner", is_flag=True, help="Skip HermiT's consistency check (the rules still run).")
@click.option("--json", "as_json", is_flag=True, help="Print the import reports as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@reports_errors
def import_(kind: str | None, paths: tuple[Path, ...], name: str | None, declared: tuple[str, ...],
            all_declared: bool, removed: tuple[str, ...], options: tuple[str, ...], project: Path, store_dir: Path,
            output: Path | None, strict: bool, rdf_only: bool, no_reasoner: bool, as_json: bool,
            quiet: bool) -> None:
    """Import open data into the build: KIND (iati, 360giving, compass, dpg, civic, spreadsheet) and FILES, or
    sources of imports.yaml (--declared), then rebuild.

    The sources are added to this build folder's own list (kept by later `d4d build`s until
    `d4d import --remove NAME`), and the build runs as `d4d build` does: each source in its named
    graph, the rules over all, the outputs made again. With -o the sources are only written to a file.
    """

    from d4d import imports

    if removed and not (kind or paths or declared or all_declared):
        specs = []
    else:
        specs = imports.source_specs(project, kind=kind, paths=paths, name=name, declared=declared,
                                     all_declared=all_declared, options=_key_values(options, "--option"))
    if output is not None:
        import pyoxigraph as ox

        suffix = {".nq": ox.RdfFormat.N_QUADS, ".trig": ox.RdfFormat.TRIG, ".ttl": ox.RdfFormat.TURTLE,
                  ".nt": ox.RdfFormat.N_TRIPLES, ".jsonld": ox.RdfFormat.JSON_LD, ".rdf": ox.RdfFormat.RDF_XML,
                  ".xml": ox.RdfFormat.RDF_XML}
        reports = imports.import_to_file(specs, None if str(output) == "-" else output, project=project,
                                         strict=strict, format=suffix.get(output.suffix.lower(), ox.RdfFormat.N_QUADS))
        for report in reports:
            _print_import(report, as_json=as_json, err=str(output) == "-")
        return
    from d4d.pipeline import build as run_build, local_entry

    out = store_dir.parent if store_dir.name == "store" else store_dir
    add = [local_entry(project, name=s.name, kind=None if s.kind and (declared or all_declared) else s.kind,
                       paths=s.paths, options=s.options) for s in specs]
    stages = _Stages(quiet)
    try:
        result = run_build(project, out=out, reasoner=not no_reasoner, extras=not rdf_only, progress=stages,
                           strict=strict, add=add, remove=list(removed))
    finally:
        stages._close()
    for report in result.imports:
        _print_import(report, as_json=as_json, err=False)
    _print_build(result)


def _print_import(report: Any, *, as_json: bool, err: bool) -> None:
    import json

    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1), err=err)
    else:
        _print_import_report(report)


@main.command()
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="The built store (or its build folder).")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Project folder (its crosswalk holds the decisions).")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None,
              help="Leave out pairs with a lower score (default: the reconciler's threshold, 0.5).")
@click.option("--limit", type=int, default=50, show_default=True, help="Show at most this many pairs (0: all).")
@click.option("--accept", nargs=2, metavar="A B", help="Record that A and B are one organisation (A is kept).")
@click.option("--reject", nargs=2, metavar="A B", help="Record that A and B are two organisations.")
@click.option("--note", default="", help="Why, written beside the decision.")
@click.option("--json", "as_json", is_flag=True, help="Print candidates and conflicts as JSON.")
@reports_errors
def reconcile(store_dir: Path, project: Path, min_score: float | None, limit: int, accept: tuple[str, str] | None,
              reject: tuple[str, str] | None, note: str, as_json: bool) -> None:
    """List organisations that are likely one (with the evidence), and nodes whose names disagree; or
    record a reviewed decision on a pair (--accept, --reject) that the next build applies.

    Nodes are full IRIs, paths below https://w3id.org/d4d/id/ (crafd/org/hhi) or curated ids.
    """
    import json

    from d4d.imports import read_project
    from d4d.imports.identity import DEFAULT_MIN_SCORE, Crosswalk, identity_conflicts, record_decision
    from d4d.imports.identity import reconcile as find_candidates
    from d4d.store import open_store

    config = read_project(project)
    walk_path = config.crosswalk or project / "graph/crosswalk.csv"
    if accept or reject:
        if accept and reject:
            raise click.UsageError("give --accept or --reject, not both")
        from d4d.imports import resolver_for

        pair = accept or reject
        assert pair is not None
        curated = resolver_for(project).curated
        done = record_decision(walk_path, pair[0], pair[1], same=bool(accept), curated=curated, note=note)
        what = "one organisation" if accept else "two organisations"
        if done.line is None:
            click.echo(f"already recorded: <{done.kept}> and <{done.other}> are {what}")
        else:
            click.echo(f"recorded in {walk_path} line {done.line}: <{done.kept}> and <{done.other}> are {what}"
                       + (f" (<{done.other}> becomes <{done.kept}>)" if accept else "")
                       + "; the next build applies it")
        return
    decisions = Crosswalk.load(walk_path) if walk_path.is_file() else None
    store = open_store(store_dir)
    candidates = find_candidates(store, min_score=DEFAULT_MIN_SCORE if min_score is None else min_score,
                                 decisions=decisions)
    conflicts = identity_conflicts(store)
    shown = candidates[:limit] if limit else candidates
    if as_json:
        click.echo(json.dumps({"candidates": [c.as_dict() for c in shown],
                               "conflicts": [c.as_dict() for c in conflicts]}, ensure_ascii=False, indent=1))
        return
    for c in shown:
        click.echo(f"{c.score:.2f}  {c.a_label}  <{c.a}>\n      {c.b_label}  <{c.b}>\n      "
                   + "; ".join(c.evidence))
    click.echo(f"{len(candidates)} likely duplicates" + (f" ({len(shown)} shown)" if len(shown) < len(candidates) else "")
               + ("; record a decision with --accept A B or --reject A B" if candidates else ""))
    for conflict in conflicts:
        click.echo(f"names disagree on <{conflict.node}>: {' | '.join(conflict.names)}")


@main.command()
@click.option("-f", "--format", "fmt", required=True,
              type=click.Choice(["turtle", "ntriples", "nquads", "trig", "jsonld", "rdfxml", "graphml", "gexf", "csv",
                                 "cytoscape", "nodelink"]),
              help="An RDF format (nquads and trig keep the named graphs) or a network format.")
@click.option("--query", "query_spec", help="Export what this CONSTRUCT query selects (catalogue NAME, .rq FILE).")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="A query parameter (repeatable).")
@click.option("--what", type=click.Choice(["nodes", "edges"]),
              help="csv: write this table alone (default: a zip of nodes.csv, edges.csv and graph.json, "
                   "which needs an -o name ending .zip).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("-"), show_default=True,
              help="Output file (- for stdout).")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="The built store (or its build folder).")
@click.option("--metrics", "metrics_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Network formats: the actors' measures and communities from this `d4d analyse` output "
                   "(default: metrics.json beside the store, when there is one).")
@click.option("--base", help="RDF formats: serve-ready IRIs, moved from https://w3id.org/d4d/ to this base "
                             "(e.g. https://example.org/d4d/).")
@click.option("--redact", type=click.Choice(["people"]),
              help="people: replace each person by their role (names in every text too), in any format.")
@reports_errors
def export(fmt: str, query_spec: str | None, params: tuple[str, ...], what: str | None, output: Path,
           store_dir: Path, metrics_file: Path | None, base: str | None,
           redact: str | None) -> None:
    """Export the built graph, or what a CONSTRUCT query selects, for other tools."""
    from d4d.errors import QueryError
    from d4d.export import RDF_FORMATS, export as run_export
    from d4d.io import write_bytes_atomic
    from d4d.store import open_store

    if fmt == "csv":
        zipped = output.suffix.lower() == ".zip"
        if what is None and not zipped:
            raise QueryError(f"the csv export is several tables (nodes, edges): name the output .zip, "
                             f"or write one table with --what nodes|edges (not {str(output)!r})")
        if what is not None and zipped:
            raise QueryError(f"--what {what} writes one CSV table: name the output .csv, not {str(output)!r}")
    metrics = None
    if fmt not in RDF_FORMATS:
        metrics = _read_metrics(metrics_file, store_dir)
    data = run_export(open_store(store_dir), fmt, query=query_spec, params=_key_values(params, "--param"), what=what,
                      metrics=metrics, base=base, redact=redact)
    if str(output) == "-":
        sys.stdout.buffer.write(data)
    else:
        write_bytes_atomic(output, data)
        click.echo(f"wrote {output} ({len(data)} bytes)", err=True)


@main.command("analyse")
@click.option("--year", type=int, help="Measure the network as it stood in this year.")
@click.option("--by-year/--no-by-year", default=True, show_default=True,
              help="Include the headline measures year by year (the report's series).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the samples and of community detection.")
@click.option("--samples", type=click.IntRange(min=1), default=256, show_default=True,
              help="Actors sampled for betweenness and efficiency on networks above 1,000 actors.")
@click.option("--people", type=click.Choice(["inherit", "exclude"]), default="inherit", show_default=True,
              help="People (no sector) count in the sector most of their relationships lead to, or are left out.")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=Path("build"),
              show_default=True, help="The built store (or its build folder).")
@click.option("--ontology", "ontology_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("ontology"), show_default=True, help="Folder of the ontology.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("build/metrics.json"),
              show_default=True, help="The metrics JSON to write (- for stdout).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the HTML report here (e.g. build/report.html).")
@click.option("--rdf", "rdf_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the measures as RDF observations (Turtle) here.")
@reports_errors
def analyse_command(year: int | None, by_year: bool, seed: int, samples: int, people: str, store_dir: Path,
                    ontology_dir: Path, out: Path, report_path: Path | None, rdf_path: Path | None) -> None:
    """Measure the ecosystem's fragmentation: sectors, brokers, critical actors, recommended ties."""
    import json

    from d4d.analyse import analyse
    from d4d.analyse.rdf import metrics_graph
    from d4d.io import write_bytes_atomic, write_text_atomic
    from d4d.network import project
    from d4d.ontology import load_ontology
    from d4d.report import write_report
    from d4d.store import open_store

    G = project(open_store(store_dir), load_ontology(ontology_dir), facts=False)
    metrics = analyse(G, year=year, seed=seed, samples=samples, unassigned=people,  # type: ignore[arg-type]
                      by_year=by_year)
    text = json.dumps(metrics, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    if str(out) == "-":
        sys.stdout.write(text)
    else:
        write_text_atomic(out, text)
    if report_path is not None:
        write_report(metrics, report_path)
    if rdf_path is not None:
        write_bytes_atomic(rdf_path, metrics_graph(metrics).serialize(format="turtle", encoding="utf-8"))
    s = metrics["summary"]
    ei = "n/a" if s["ei_index"] is None else f"{s['ei_index']:+.2f}"
    undated = metrics["meta"]["undated"]
    click.echo(f"{s['actors']} actors, {s['ties']} ties, {s['weak_components']} components; E-I {ei}, "
               f"efficiency {s['efficiency']:.3f}, {len(metrics['recommendations'])} recommended ties; "
               f"{undated['relationships']} of {s['relationships']} relationships undated (they stand "
               f"from when both their ends exist)", err=True)


@main.command()
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Project folder.")
@click.option("--graph", "graph_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of fact files (default: PROJECT/graph).")
@click.option("--ontology", "ontology_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the ontology (default: PROJECT/ontology).")
@click.option("--shared", type=click.Path(file_okay=False, path_type=Path),
              help="Folder the sources' localFile paths are relative to (default: the shared folder beside PROJECT).")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of fetched source documents, by SHA-256 (default: PROJECT/.d4d/sources).")
@reports_errors
def lint(project: Path, graph_dir: Path | None, ontology_dir: Path | None, shared: Path | None,
         cache: Path | None) -> None:
    """Check the fact files like a linter: one `path:line:col: code message` a problem, exit 1 if any.

    Quotes word for word in their sources, people only with a public role and no contact details,
    organisations with a sector, ISO 4217 currencies, possible dates, well-formed identifiers, the
    basis (stated or read) of every cited record, no fact resting on a heading alone."""
    from d4d.curate.lint import lint as run_lint, summary

    problems = run_lint(project, graph_dir=graph_dir, ontology_dir=ontology_dir, shared=shared, cache=cache)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        counts = ", ".join(f"{n} {code}" for code, n in summary(problems).items())
        click.echo(f"{len(problems)} problems ({counts})", err=True)
        sys.exit(1)


@main.command()
@click.argument("document")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("-"), show_default=True,
              help="The draft YAML to write (- for stdout).")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Project folder: the curated facts give the names the gazetteer knows.")
@click.option("--store", "store_dir", type=click.Path(path_type=Path),
              help="A built store whose imported sources add names (default: PROJECT/build if it is built).")
@click.option("--source", "source_id", help="The id of the document's SourceDocument record (default: the record "
              "with the same SHA-256, else a new one).")
@click.option("--sha256", help="Refuse the document unless its bytes have this SHA-256.")
@reports_errors
def extract(document: str, output: Path, project: Path, store_dir: Path | None, source_id: str | None,
            sha256: str | None) -> None:
    """Propose candidate facts from DOCUMENT (a text, HTML or PDF file, or an http(s) URL), each citing
    its sentence and marked for review, as fact-file YAML."""
    from d4d.curate import snapshot
    from d4d.curate.extract import extract as run_extract, gazetteer_from_graph, graph_facts
    from d4d.io import write_text_atomic
    from d4d.store import find_store, open_store

    snap = snapshot.read(document, sha256=sha256)
    store = None
    if store_dir is not None:
        store = open_store(store_dir)
    elif (project / "build").is_dir():
        try:
            store = open_store(find_store(project / "build"))
        except D4DError:
            store = None
    gazetteer = gazetteer_from_graph(project, store=store)
    keys, sources, ids, _ = graph_facts(project)
    draft = run_extract(snap, gazetteer, source_id=source_id, known_sources=sources, existing=keys, taken=ids)
    text = draft.to_yaml()
    if str(output) == "-":
        sys.stdout.write(text)
    else:
        write_text_atomic(output, text)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(
        {k: sum(1 for f in draft.facts if f["type"] == k) for k in {f["type"] for f in draft.facts}}.items()))
    known = sum(1 for f in draft.facts if "the graph has this fact" in f["review"])
    click.echo(f"{len(draft.facts)} candidate facts ({kinds or 'none'}; {known} already in the graph), "
               f"{len(draft.actors)} new records" + ("" if str(output) == "-" else f": wrote {output}"), err=True)


@main.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="The project whose git revisions OLD and NEW may name.")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="Plain text, or Markdown for a pull-request comment.")
@reports_errors
def diff_command(old: str, new: str, project: Path, fmt: str) -> None:
    """Compare two builds (OLD and NEW: build folders or git revisions): actors, ties and facts added,
    removed and changed field by field, and the headline measures that moved."""
    from d4d.curate.diff import diff, to_markdown, to_text

    result = diff(old, new, project=project)
    click.echo((to_markdown if fmt == "markdown" else to_text)(result), nl=False)


if __name__ == "__main__":
    main()
