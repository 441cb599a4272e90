"""``d4d diff OLD NEW``: what a change to the facts did to the graph, like a code diff.

OLD and NEW are two build folders, or two git revisions of the project (each built into a scratch
folder first). The records of the two stores are compared field by field: actors (``d4d:Agent``),
ties (``d4d:Relationship``) and other facts (activities, places, roles, sources), each added, removed
or changed, with its basis (stated or read); then the headline measures (the ``summary`` of each
build's ``metrics.json``, and the total funding amount in each currency, which no network measure
weighs) that moved.

Only asserted statements are compared (the named graphs of the facts and of imported sources), not
what the rules infer from them; a citation is shown as a field ``sources`` of the record it supports
(``source-id: quote``).
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from d4d.errors import D4DError, StoreError
from d4d.vocab import GRAPH, ID, SECTOR

D4D_NS = "https://w3id.org/d4d/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_SKIPPED_GRAPHS = (str(GRAPH["ontology"]), str(GRAPH["metrics"]))
_PROJECT_FILES = ("ontology", "graph", "queries", "imports.yaml")
"""What a git revision contributes to its build (those that exist at that revision)."""


class DiffError(D4DError):
    """OLD or NEW is neither a build folder nor a git revision, or the revision cannot be built."""


@dataclass(frozen=True)
class Record:
    """One record of a build: its id (slug, or IRI outside the d4d ids), kind, type, label and fields."""

    id: str
    kind: str
    type: str
    label: str
    fields: dict[str, tuple[str, ...]]

    @property
    def basis(self) -> str | None:
        values = self.fields.get("basis")
        return values[0] if values else None


@dataclass(frozen=True)
class Build:
    """What a diff reads of a build: its records and its headline measures."""

    records: dict[str, Record]
    measures: dict[str, float | int | None]


@dataclass(frozen=True)
class Change:
    """A record added, removed or changed; ``fields`` lists (field, old values, new values)."""

    status: str
    record: Record
    fields: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)


@dataclass(frozen=True)
class Diff:
    """The changes by kind (actor, tie, fact) and the measures that moved (name, old, new)."""

    changes: list[Change]
    measures: list[tuple[str, float | int | None, float | int | None]]

    def count(self, kind: str, status: str) -> int:
        return sum(1 for c in self.changes if c.record.kind == kind and c.status == status)


def _short(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        value = term.value
        for base in (str(ID), str(SECTOR)):
            if value.startswith(base):
                return value[len(base):]
        if value.startswith(D4D_NS):
            return value[len(D4D_NS):]
        return value
    return str(term.value)


def read_build(folder: str | Path) -> Build:
    """The records and headline measures of a build folder (its ``store/`` and ``metrics.json``).

    Raises
    ------
    StoreError
        The folder holds no built store.
    """
    from d4d.store import find_store, open_store

    store = open_store(folder)
    fields: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    citations: dict[str, dict[str, str]] = defaultdict(dict)
    for quad in store.quads_for_pattern(None, None, None, None):
        graph = quad.graph_name
        if isinstance(graph, ox.DefaultGraph) or graph.value in _SKIPPED_GRAPHS:
            continue
        if not isinstance(quad.subject, ox.NamedNode):
            continue
        subject, predicate = quad.subject.value, quad.predicate.value
        if "/citation/" in subject:
            citations[subject][predicate] = _short(quad.object)
            continue
        if predicate == RDFS_LABEL:
            continue
        name = "type" if predicate == RDF_TYPE else _short(quad.predicate)
        fields[subject][name].add(_short(quad.object))
    for iri, parts in citations.items():
        parent = iri.split("/citation/", 1)[0]
        if parent in fields:
            fields[parent]["sources"].add(f"{parts.get(D4D_NS + 'citedSource', '?')}: {parts.get(D4D_NS + 'quote', '')}")

    def members(cls: str) -> set[str]:
        return {s.subject.value for s in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(D4D_NS + cls),
                                                                  ox.DefaultGraph()) if isinstance(s.subject, ox.NamedNode)}

    agents, ties = members("Agent"), members("Relationship")
    labels = {q.subject.value: q.object.value for q in store.quads_for_pattern(None, ox.NamedNode(RDFS_LABEL), None,
                                                                                  ox.DefaultGraph())
              if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.Literal)}
    records = {}
    for iri, values in fields.items():
        ident = _short(ox.NamedNode(iri))
        kind = "actor" if iri in agents else "tie" if iri in ties else "fact"
        records[ident] = Record(id=ident, kind=kind, type=", ".join(sorted(values.get("type", ()))),
                                label=labels.get(iri, ident),
                                fields={k: tuple(sorted(v)) for k, v in sorted(values.items())})
    measures: dict[str, float | int | None] = {}
    metrics_file = find_store(folder).parent / "metrics.json"
    if metrics_file.is_file():
        summary = json.loads(metrics_file.read_text(encoding="utf-8")).get("summary", {})
        measures.update({k: v for k, v in summary.items() if v is None or isinstance(v, (int, float))})
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for record in records.values():
        if "Funding" in record.type.split(", ") and record.fields.get("amount"):
            currency = (record.fields.get("currency") or ("no currency",))[0]
            totals[currency] += Decimal(record.fields["amount"][0])
    for currency, total in sorted(totals.items()):
        measures[f"funding total ({currency})"] = float(total)
    return Build(records=records, measures=measures)


def compare(old: Build, new: Build) -> Diff:
    """The changes from ``old`` to ``new``: records added, removed, changed field by field, and the
    measures whose values differ."""
    changes = []
    for ident in sorted(set(old.records) | set(new.records)):
        before, after = old.records.get(ident), new.records.get(ident)
        if before is None and after is not None:
            changes.append(Change("added", after))
        elif after is None and before is not None:
            changes.append(Change("removed", before))
        elif before is not None and after is not None and before.fields != after.fields:
            moved = [(name, before.fields.get(name, ()), after.fields.get(name, ()))
                     for name in sorted(set(before.fields) | set(after.fields))
                     if before.fields.get(name, ()) != after.fields.get(name, ())]
            changes.append(Change("changed", after, moved))
    order = {"actor": 0, "tie": 1, "fact": 2}
    changes.sort(key=lambda c: (order.get(c.record.kind, 3), c.record.id))
    measures = [(name, old.measures.get(name), new.measures.get(name))
                for name in sorted(set(old.measures) | set(new.measures))
                if old.measures.get(name) != new.measures.get(name)]
    return Diff(changes=changes, measures=measures)


def resolve(spec: str, *, project: str | Path = ".", workdir: Path) -> Path:
    """The build folder that ``spec`` names: a folder holding a built store, or a git revision of
    ``project`` built into a folder below ``workdir``.

    Raises
    ------
    DiffError
        ``spec`` is neither, or its revision fails to build (the build's error is given).
    """
    from d4d.store import find_store

    path = Path(spec)
    if path.is_dir():
        try:
            return find_store(path).parent
        except StoreError as error:
            raise DiffError(f"'{spec}' holds no built store (run `d4d build --out {spec}`)", path=spec) from error
    project = Path(project).resolve()
    rev = subprocess.run(["git", "-C", str(project), "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"],
                         capture_output=True, text=True)
    if rev.returncode != 0:
        raise DiffError(f"'{spec}' is neither a build folder nor a git revision of {project}")
    commit = rev.stdout.strip()
    # The revision's project goes where the real one is relative to the shared folder it may name
    # (../shared), so a link to that folder sits beside it.
    root = workdir / commit[:12]
    checkout = root / project.name
    checkout.mkdir(parents=True)
    if (project.parent / "shared").is_dir():
        (root / "shared").symlink_to(project.parent / "shared")
    listed = subprocess.run(["git", "-C", str(project), "ls-tree", "--name-only", commit],
                            capture_output=True, text=True, check=True).stdout.split()
    present = [name for name in _PROJECT_FILES if name in listed]
    archive = subprocess.run(["git", "-C", str(project), "archive", "--format=tar", commit, *present],
                             capture_output=True, check=True).stdout
    with tempfile.TemporaryFile() as tmp:
        tmp.write(archive)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp) as tar:
            tar.extractall(checkout, filter="data")
    from d4d.pipeline import build

    try:
        build(checkout, out=checkout / "build", reasoner=False)
    except D4DError as error:
        raise DiffError(f"revision {spec} ({commit[:12]}) does not build: {error.message}") from error
    return checkout / "build"


def diff(old: str, new: str, *, project: str | Path = ".") -> Diff:
    """Compare two builds named as :func:`resolve` accepts them.

    Raises
    ------
    DiffError, StoreError
    """
    with tempfile.TemporaryDirectory(prefix="d4d-diff-") as work:
        old_build = read_build(resolve(old, project=project, workdir=Path(work)))
        new_build = read_build(resolve(new, project=project, workdir=Path(work)))
    return compare(old_build, new_build)


def _value(values: tuple[str, ...]) -> str:
    return ", ".join(values) if values else "(none)"


def _number(value: float | int | None) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4f}".rstrip("0")
    return f"{value:,.0f}"


def _delta(old: float | int | None, new: float | int | None) -> str:
    if old is None or new is None:
        return ""
    change = new - old
    return f"{change:+,.0f}" if float(change).is_integer() else f"{change:+.4f}".rstrip("0")


def _headline(d: Diff) -> str:
    parts = []
    for kind, plural in (("actor", "actors"), ("tie", "ties"), ("fact", "facts")):
        counts = [f"{d.count(kind, s)} {s}" for s in ("added", "removed", "changed") if d.count(kind, s)]
        parts.append(f"{plural}: {', '.join(counts) if counts else 'no change'}")
    return "; ".join(parts)


def _describe(record: Record) -> str:
    basis = f", {record.basis}" if record.basis else ""
    return f"{record.kind} {record.id} ({record.type}{basis}): {record.label}"


def to_text(d: Diff) -> str:
    """The diff as plain text: ``+`` added, ``-`` removed, ``~`` changed with one line per field."""
    lines = [_headline(d)]
    marks = {"added": "+", "removed": "-", "changed": "~"}
    for change in d.changes:
        lines.append(f"{marks[change.status]} {_describe(change.record)}")
        for name, before, after in change.fields:
            lines.append(f"    {name}: {_value(before)} -> {_value(after)}")
    if d.measures:
        lines.append("measures:")
        for measure, old, new in d.measures:
            delta = _delta(old, new)
            lines.append(f"    {measure}: {_number(old)} -> {_number(new)}" + (f" ({delta})" if delta else ""))
    else:
        lines.append("measures: no change")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(d: Diff) -> str:
    """The diff as Markdown for a pull-request comment: a summary, a table of records, a table of measures."""
    lines = ["### d4d diff", "", _headline(d), ""]
    if d.changes:
        lines += ["| | kind | id | type | basis | field | old | new |", "|---|---|---|---|---|---|---|---|"]
        marks = {"added": "➕", "removed": "➖", "changed": "✏️"}
        for change in d.changes:
            r = change.record
            head = f"| {marks[change.status]} | {r.kind} | `{r.id}` | {r.type} | {r.basis or ''} |"
            if not change.fields:
                lines.append(f"{head} | | | |")
            for number, (name, before, after) in enumerate(change.fields):
                lead = head if number == 0 else "| | | | | |"
                lines.append(f"{lead} {name} | {_md(_value(before))} | {_md(_value(after))} |")
        lines.append("")
    if d.measures:
        lines += ["| measure | old | new | change |", "|---|---:|---:|---:|"]
        for measure, old, new in d.measures:
            lines.append(f"| {measure} | {_number(old)} | {_number(new)} | {_delta(old, new)} |")
    else:
        lines.append("No headline measure moved.")
    return "\n".join(lines) + "\n"
