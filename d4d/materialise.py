"""Materialisation at scale: the reason stage's rules run semi-naively inside an on-disk store, and kept
up to date when a graph changes (delete and re-derive), without reading the graph into Python.

:func:`d4d.reason.materialise` runs every rule over the whole store until a pass adds nothing: simple,
and right, but each pass re-reads everything (three passes of 198 rules on 240k triples take a minute).
Here the same rules (the same :class:`~d4d.reason.Rule` objects, compiled from the ontology) run as a
Datalog engine runs them:

* **Order.** A rule's template says which triples it writes (predicate, and class for ``rdf:type``); its
  WHERE says which it reads. The rules are ordered so that a rule runs after the rules that feed it
  (strongly connected groups, such as a property and its inverse, stay together).
* **Semi-naive sweeps.** The first sweep runs each rule once in full, its atoms joined by hashing, the
  smallest first (the store joins in the written order, by default with a lookup per solution; see
  :meth:`Plan.query` and :meth:`Materialiser.smallest_first`). After that a rule only runs again
  on the triples it has not seen: those written, after its last run, by the rules that feed it. Each of
  its atoms is restricted in turn to those triples (``GRAPH <scratch> { atom }`` in front of the original
  WHERE), so the work is proportional to what is new. Rules whose WHERE cannot be restricted that way
  (a negation other than the "not yet derived" check, an OPTIONAL, a sub-query) run in full each sweep.
* **Inside the store.** Each query's result is serialised by pyoxigraph straight to N-Triples and loaded
  back (bulk-loaded when large), so no triple becomes a Python object.
* **Delete and re-derive** (:meth:`Materialiser.replace_graph`). When one asserted graph changes, the
  triples it lost are followed through the rules (over-deletion, on the old state), those derived triples
  are removed, the ones still derivable are put back (one step, on the new state), and the forward
  sweeps continue from what was re-derived and what was added. The result is exactly what a full
  materialisation gives (tests check it on edits of the seed graph).

The named graph of inferences holds only triples that no asserted graph holds, as
:func:`d4d.reason.materialise` leaves it. With ``merged``, an update also keeps the default graph the
merge of the asserted graphs and the inferences (the graph queries read, see :mod:`d4d.store`): the
triples the update touched are put there or taken out, nothing else is read.
"""

from __future__ import annotations

import io
import itertools
import re
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from d4d.errors import ReasoningError
from d4d.reason import INFERRED, Rule
from d4d.store import append_as_quads, count_matches, has_blank_nodes, mirror_graph
from d4d.threads import Background
from d4d.vocab import GRAPH

SCRATCH = str(GRAPH["scratch/"])
"""Prefix of the named graphs the engine uses while it runs (always removed before it returns)."""

DEFAULT = ""
"""The default graph, where a list of graph names is expected (see ``merged`` in :class:`Materialiser`)."""

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_RDF_TYPE_BYTES = RDF_TYPE.encode()

BULK_THRESHOLD = 8_000_000
"""Results larger than this many bytes of N-Triples are bulk-loaded (new files, no transaction);
smaller ones go through a transaction, which leaves no small files behind to slow the reads down."""

Progress = Callable[[str], None]

INLINE_ROWS = 2_000
"""A restriction of a rule to a delta with at most this many matches is written into the query as
``VALUES`` (see :class:`Rows`): a one-fact update then costs lookups, not scans of the graph."""

HASH_LIMIT = 8_000_000
"""A join rule's first sweep is hashed (see :meth:`Plan.query`) only while its smallest pattern, which
:meth:`Materialiser.smallest_first` writes first, matches fewer triples than this; above, it keeps a
lookup per solution. The store builds its hash table from the first pattern: on the 1M store,
``d4d:fundedByProject`` peaked at 0.47 GB from its 0.3M ``d4d:providerProject`` triples and at 1.16 GB
from its 2.3M ``d4d:project`` triples; ``d4d:source`` at 1.81 GB hashed against 0.88 GB with lookups
from 2.8M citations (bench/RESULTS-build.md), about 330 bytes a triple. The limit keeps a table near
2.6 GB."""


# ---------------------------------------------------------------------------------------------
# Reading a rule: template, positive atoms, the "not yet derived" check


@dataclass(frozen=True)
class Atom:
    """A triple pattern, each term as SPARQL text (``?x``, ``<iri>``, ``"lit"^^<dt>``)."""

    s: str
    p: str
    o: str

    def text(self) -> str:
        return f"{self.s} {self.p} {self.o} ."

    def variables(self) -> set[str]:
        """The terms that are variables (``?x``)."""
        return {t for t in (self.s, self.p, self.o) if t.startswith("?")}

    def matches(self, other: Atom) -> bool:
        """Could a triple written by ``other`` (a template) match this pattern?"""
        return all(a.startswith("?") or b.startswith("?") or a == b
                   for a, b in ((self.s, other.s), (self.p, other.p), (self.o, other.o)))


@dataclass(frozen=True)
class Rows:
    """The solutions of an atom's variables, as SPARQL terms: a small restriction written inline
    (``VALUES``), which the store's planner evaluates first, where a restriction to a named graph may
    be joined after a scan of the whole graph."""

    variables: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]

    def text(self) -> str:
        rows = " ".join("(" + " ".join(row) + ")" for row in self.values)
        return f"VALUES ({' '.join(self.variables)}) {{ {rows} }}"


@dataclass(frozen=True)
class Plan:
    """A rule taken apart for semi-naive evaluation.

    ``body`` is the text inside the rule's WHERE braces without its "not yet derived" filter
    (``FILTER NOT EXISTS { <template> }``); :meth:`query` puts a sharper one back: each template triple
    is written only if it is new, so the inferences never repeat an asserted triple, whatever the order
    the rules run in. ``atoms`` are the positive triple patterns of the WHERE. An ``opaque`` rule (a
    negation other than that filter, an OPTIONAL, a sub-query ...) is always run as written, in full.
    """

    name: str
    sparql: str
    prologue: str
    template: tuple[Atom, ...]
    body: str
    atoms: tuple[Atom, ...]
    opaque: bool
    filters: tuple[tuple[str, ...], ...] | None = None
    """The FILTERs of the WHERE as tokens (None: not known, the rule was read by the full parser)."""
    clauses: tuple[str, ...] | None = None
    """The FILTERs of the WHERE as written, for a WHERE of triple patterns and FILTERs only (the rules
    the quick reader takes): the body can then be written again with its atoms in another order."""

    @property
    def local(self) -> frozenset[str] | None:
        """For a rule that maps one triple to triples (one atom, no filter but ``!isLiteral(?v)``): the
        variables that must not be literals. None for any other rule."""
        if self.opaque or self.filters is None or len(self.atoms) != 1:
            return None
        names = self.atoms[0].variables()
        if any(t.startswith("?") and t not in names for a in self.template for t in (a.s, a.p, a.o)):
            return None
        not_literal = set()
        for tokens in self.filters:
            if len(tokens) == 7 and tokens[:3] == ("(", "!", "ISLITERAL") and tokens[3] == "(" \
                    and tokens[5:] == (")", ")") and tokens[4].startswith("?"):
                not_literal.add("?" + tokens[4][1:])
            else:
                return None
        return frozenset(not_literal)

    def reordered(self, order: Sequence[int]) -> Plan:
        """The plan with its atoms written in ``order`` (positions in ``atoms``).

        The store joins the patterns of a group in the order they are written, so a join that starts
        from the smaller pattern reads less. Only a WHERE of triple patterns and FILTERs (``clauses``
        known) can be written again; any other plan is returned as it is.

        >>> plan = plan_rule(Rule("r", "", "CONSTRUCT { ?a <p> ?c } "
        ...                               "WHERE { ?b <q> ?a . ?b <r> ?c . FILTER(?a != ?c) }"))
        >>> plan.reordered([1, 0]).body
        '?b <r> ?c . ?b <q> ?a . FILTER(?a != ?c)'
        """
        if sorted(order) != list(range(len(self.atoms))):
            raise ValueError(f"{list(order)} is not an order of {len(self.atoms)} atoms")
        if self.opaque or self.clauses is None or list(order) == list(range(len(self.atoms))):
            return self
        atoms = tuple(self.atoms[k] for k in order)
        return replace(self, atoms=atoms, body=self._written(atoms))

    def _written(self, atoms: Sequence[Atom], *, hashed: bool = False) -> str:
        """A body of ``atoms`` and the FILTERs (``clauses``); with ``hashed``, each atom a sub-query."""
        assert self.clauses is not None
        return " ".join([f"{{ SELECT * WHERE {{ {a.text()} }} }}" if hashed else a.text() for a in atoms] +
                        list(self.clauses))

    def query(self, *, restrict: Sequence[tuple[Atom, Sequence[str] | Rows]] = (), check: str = "new",
              guard: Sequence[tuple[int, Sequence[str]]] = (), hashed: bool = False) -> str:
        """The CONSTRUCT, with each (atom, graphs) of ``restrict`` matched in those named graphs only
        (or, given :class:`Rows` instead of graphs, its variables bound to those rows).

        With ``hashed``, each atom is a sub-query of its own, which the store reads in full and joins
        to the others by hashing; without, it looks up the next atom's triples once per solution of
        the atoms before it. For a query over everything (a first sweep) the scans are cheaper: on
        synthetic IATI at 100k, ``d4d:hasParticipant`` took 1.5 s instead of 3.1 s. A delta query
        (``restrict``) keeps the lookups, which read only what the few new triples join. Only a WHERE
        of triple patterns and FILTERs (``clauses`` known) is written so; any other is run as written.

        ``check`` says which derived triples the query returns: ``"new"`` those the dataset does not
        hold yet (each template triple is tested on its own, so a rule never repeats an asserted
        triple); ``"none"`` every derivation (for following deletions); ``"guard"`` every derivation
        except, for each (template index, graphs) of ``guard``, the triples those graphs hold (a cheaper
        test for a first run, where repeating an inference is harmless but repeating an asserted triple
        is not).
        """
        if self.opaque:
            return self.sparql
        extra = []
        for atom, graphs in restrict:
            if isinstance(graphs, Rows):
                extra.append(graphs.text())
            elif len(graphs) == 1:
                extra.append(f"GRAPH <{graphs[0]}> {{ {atom.text()} }}")
            else:
                values = " ".join(f"<{g}>" for g in graphs)
                extra.append(f"GRAPH ?d4d_delta {{ {atom.text()} }} VALUES ?d4d_delta {{ {values} }}")
        head = list(self.template)
        tests: list[str] = []
        if check == "new" and len(head) == 1:
            tests.append(f"FILTER NOT EXISTS {{ {head[0].text()} }}")
        elif check == "new":
            # several triples: write each one only if it is new (an unbound subject drops it)
            tests.append("FILTER(" + " || ".join(f"NOT EXISTS {{ {a.text()} }}" for a in self.template) + ")")
            for n, atom in enumerate(self.template):
                tests.append(f"BIND(IF(EXISTS {{ {atom.text()} }}, ?d4d_unbound, {atom.s}) AS ?d4d_new{n})")
                head[n] = Atom(f"?d4d_new{n}", atom.p, atom.o)
        elif check == "guard":
            for n, graphs in guard:
                atom = self.template[n]
                values = " ".join(f"<{g}>" for g in graphs)
                held = f"EXISTS {{ GRAPH ?d4d_held{n} {{ {atom.text()} }} VALUES ?d4d_held{n} {{ {values} }} }}"
                if len(head) == 1:
                    tests.append(f"FILTER(!{held})")
                else:
                    tests.append(f"BIND(IF({held}, ?d4d_unbound, {atom.s}) AS ?d4d_new{n})")
                    head[n] = Atom(f"?d4d_new{n}", atom.p, atom.o)
        elif check != "none":
            raise ValueError(f"unknown check {check!r}")
        template = " ".join(a.text() for a in head)
        body = self.body
        if hashed and restrict:
            raise ValueError("a delta query (restrict) is not hashed")
        if hashed and self.clauses is not None and len(self.atoms) > 1:
            body = self._written(self.atoms, hashed=True)
        return (f"{self.prologue}\nCONSTRUCT {{ {template} }}\n"
                f"WHERE {{ {' '.join(extra)}\n{body}\n{' '.join(tests)} }}")


_IRI = re.compile(r"<[^<>\"{}|^`\\\s]*>")


def _skip(text: str, i: int) -> int:
    """The index after a string, IRI or comment starting at ``i`` (or ``i`` if none starts there)."""
    c = text[i]
    if c == "#":
        end = text.find("\n", i)
        return len(text) if end < 0 else end + 1
    if c == "<":
        m = _IRI.match(text, i)
        return m.end() if m else i
    if c in "\"'":
        quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else c
        j = i + len(quote)
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text.startswith(quote, j):
                return j + len(quote)
            j += 1
        raise ReasoningError("unterminated string in a rule")
    return i


def _code(text: str) -> list[tuple[int, str]]:
    """The characters of ``text`` outside strings, IRIs and comments, with their positions."""
    out = []
    i = 0
    while i < len(text):
        j = _skip(text, i)
        if j != i:
            if text[i] != "#":
                out.append((i, " "))  # a token boundary; its content is never a keyword or brace
            i = j
            continue
        out.append((i, text[i]))
        i += 1
    return out


def _find_block(text: str, start: int) -> tuple[int, int]:
    """(index of the "{", index after the matching "}") of the first block at or after ``start``."""
    depth = 0
    opened = -1
    for i, c in _code(text[start:]):
        if c == "{":
            if depth == 0:
                opened = start + i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return opened, start + i + 1
    raise ReasoningError("unbalanced braces in a rule")


def _keyword(text: str, word: str, start: int = 0) -> int:
    """Position of a keyword at or after ``start``, outside strings, IRIs and comments, or -1."""
    code = _code(text)
    masked = "".join(c for _, c in code)
    offset = next((n for n, (i, _) in enumerate(code) if i >= start), len(code))
    m = re.compile(rf"\b{word}\b", re.IGNORECASE).search(masked, offset)
    return code[m.start()][0] if m else -1


def _term(node: Any) -> str:
    if isinstance(node, Variable):
        return f"?{node}"
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3()
    if isinstance(node, BNode):
        raise ValueError("blank node")
    raise ValueError(f"unsupported term {node!r}")


def _atoms(triples: Iterable[Any]) -> tuple[Atom, ...]:
    return tuple(Atom(_term(s), _term(p), _term(o)) for s, p, o in triples)


def _exists_nodes(expr: Any) -> list[CompValue]:
    """Every EXISTS / NOT EXISTS inside a filter expression."""
    found: list[CompValue] = []
    if isinstance(expr, CompValue):
        if expr.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
            found.append(expr)
            return found
        for value in expr.values():
            found.extend(_exists_nodes(value))
    elif isinstance(expr, list):
        for item in expr:
            found.extend(_exists_nodes(item))
    return found


def _block_triples(graph: Any) -> list[Any] | None:
    """The triples of a group pattern that is a plain triples block, or None."""
    if not isinstance(graph, CompValue) or graph.name != "GroupGraphPatternSub":
        return None
    triples: list[Any] = []
    for part in graph.get("part") or []:
        if not isinstance(part, CompValue) or part.name != "TriplesBlock":
            return None
        triples.extend(tuple(t) for t in part["triples"])
    return triples


_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<var>[?$][A-Za-z_][A-Za-z0-9_]*)
  | (?P<pname>[A-Za-z][\w-]*:[A-Za-z0-9_][\w-]*|:[A-Za-z0-9_][\w-]*|[A-Za-z][\w-]*:(?=[\s<]))
  | (?P<kw>[A-Za-z]+)
  | (?P<punct>[{}().;,])
  | (?P<other>.)
""", re.VERBOSE)


class _Unplannable(Exception):
    """The quick reader does not handle this rule; the full SPARQL parser will."""


def _quick_plan(rule: Rule) -> Plan:
    """Read a rule with a small reader of the SPARQL the rules use (triple patterns, FILTERs, one
    ``FILTER NOT EXISTS`` on the template); faster than the full parser by three orders of magnitude.

    Raises _Unplannable for anything else (literals, blank nodes, OPTIONAL, GRAPH, sub-queries ...).
    """
    text = rule.sparql
    tokens = [(m.lastgroup, m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text) if m.lastgroup != "ws"]
    pos = 0
    prefixes: dict[str, str] = {}

    def peek(offset: int = 0) -> tuple[str, str]:
        if pos + offset >= len(tokens):
            raise _Unplannable("end of text")
        kind, value, _, _ = tokens[pos + offset]
        return (kind or "", value)

    def take(kind: str, value: str | None = None) -> str:
        nonlocal pos
        got_kind, got = peek()
        if got_kind != kind or (value is not None and got.upper() != value):
            raise _Unplannable(f"expected {value or kind}, got {got!r}")
        pos += 1
        return got

    def term(*, verb: bool = False) -> str:
        nonlocal pos
        kind, value = peek()
        if kind == "var":
            pos += 1
            return "?" + value[1:]
        if kind == "iri":
            pos += 1
            return value
        if kind == "pname":
            pos += 1
            prefix, _, local = value.partition(":")
            if prefix not in prefixes:
                raise _Unplannable(f"unknown prefix {prefix}")
            return f"<{prefixes[prefix]}{local}>"
        if verb and kind == "kw" and value == "a":
            pos += 1
            return RDF_TYPE
        raise _Unplannable(f"unsupported term {value!r}")

    def triples(stop: str) -> list[Atom]:
        nonlocal pos
        out: list[Atom] = []
        while peek() != ("punct", stop) and peek()[0] != "kw":
            subject = term()
            while True:
                verb = term(verb=True)
                while True:
                    out.append(Atom(subject, verb, term()))
                    if peek() == ("punct", ","):
                        pos += 1
                        continue
                    break
                if peek() == ("punct", ";"):
                    pos += 1
                    if peek() in (("punct", "."), ("punct", stop)):
                        break
                    continue
                break
            if peek() == ("punct", "."):
                pos += 1
        return out

    def balanced() -> list[str]:
        nonlocal pos
        take("punct", "(")
        depth, seen = 1, []
        while depth:
            kind, value = peek()
            pos += 1
            depth += value == "(" and kind == "punct"
            depth -= value == ")" and kind == "punct"
            seen.append(value.upper() if kind == "kw" else value)
        return seen

    while peek()[0] == "kw" and peek()[1].upper() == "PREFIX":
        pos += 1
        kind, value = peek()
        if kind != "pname" or not value.endswith(":"):
            raise _Unplannable("PREFIX")
        pos += 1
        prefixes[value[:-1]] = take("iri")[1:-1]
    start = tokens[pos][2]
    take("kw", "CONSTRUCT")
    take("punct", "{")
    template = tuple(triples("}"))
    take("punct", "}")
    take("kw", "WHERE")
    take("punct", "{")
    where_start = tokens[pos - 1][3]
    atoms: list[Atom] = []
    filters: list[tuple[str, ...]] = []
    clauses: list[str] = []
    cut: tuple[int, int] | None = None
    while peek() != ("punct", "}"):
        kind, value = peek()
        if kind == "kw" and value.upper() == "FILTER":
            filter_start = tokens[pos][2]
            pos += 1
            if peek()[0] == "kw" and peek()[1].upper() == "NOT":
                pos += 1
                take("kw", "EXISTS")
                take("punct", "{")
                block = triples("}")
                take("punct", "}")
                if set(block) != set(template) or cut is not None:
                    raise _Unplannable("a negation other than the newness check")
                cut = (filter_start - where_start, tokens[pos - 1][3] - where_start)
            else:
                call = []
                if peek()[0] == "kw":
                    call.append(peek()[1].upper())
                    pos += 1  # a function call such as regex(...)
                tokens_seen = balanced()
                if "EXISTS" in tokens_seen:
                    raise _Unplannable("EXISTS in a filter")
                filters.append(tuple(call + ["("] + tokens_seen))
                clauses.append(text[filter_start:tokens[pos - 1][3]])
        elif kind == "kw" and value != "a":
            raise _Unplannable(f"{value} in the WHERE")
        elif kind == "punct" and value == ".":
            pos += 1
        else:
            atoms.extend(triples("}"))
    where_end = tokens[pos][2]
    take("punct", "}")
    if pos != len(tokens):
        raise _Unplannable("text after the WHERE block")
    where = text[where_start:where_end]
    body = where[:cut[0]] + where[cut[1]:] if cut else where
    return Plan(name=rule.name, sparql=text, prologue=text[:start], template=template, body=body,
                atoms=tuple(atoms), opaque=not atoms, filters=tuple(filters), clauses=tuple(clauses))


def plan_rule(rule: Rule) -> Plan:
    """Take a rule (a SPARQL CONSTRUCT) apart for semi-naive evaluation.

    Raises
    ------
    ReasoningError
        The rule is not a CONSTRUCT with a WHERE block, or its template holds a blank node (a rule that
        makes new nodes each time it runs would never reach a fixpoint).
    """
    try:
        return _quick_plan(rule)
    except _Unplannable:
        return _parsed_plan(rule)


def _parsed_plan(rule: Rule) -> Plan:
    """:func:`plan_rule` with rdflib's SPARQL parser (any CONSTRUCT; slow)."""
    text = rule.sparql
    construct = _keyword(text, "CONSTRUCT")
    where_at = _keyword(text, "WHERE", construct + 1) if construct >= 0 else -1
    if construct < 0 or where_at < 0:
        raise ReasoningError(f"rule {rule.name}: not a CONSTRUCT ... WHERE query")
    prologue = text[:construct]
    open_at, close_at = _find_block(text, where_at)
    where = text[open_at + 1:close_at - 1]
    try:
        algebra = translateQuery(parseQuery(text)).algebra
        template = _atoms(algebra["template"])
    except ValueError as exc:
        raise ReasoningError(f"rule {rule.name}: {exc} in the template") from exc
    except Exception as exc:  # pyparsing raises its own exception types
        raise ReasoningError(f"rule {rule.name}: not valid SPARQL: {exc}") from exc

    atoms: list[Atom] = []
    opaque = False
    newness = 0

    def walk(node: Any) -> None:
        nonlocal opaque, newness
        if not isinstance(node, CompValue):
            opaque = True
            return
        if node.name in ("Project", "Distinct", "Reduced"):
            walk(node["p"])
        elif node.name == "Filter":
            for exists in _exists_nodes(node["expr"]):
                triples = _block_triples(exists["graph"])
                if exists.name == "Builtin_NOTEXISTS" and triples is not None and \
                        set(_atoms(triples)) == set(template):
                    newness += 1
                else:
                    opaque = True
            walk(node["p"])
        elif node.name == "BGP":
            try:
                atoms.extend(_atoms(node["triples"]))
            except ValueError:
                opaque = True
        elif node.name == "Join":
            walk(node["p1"])
            walk(node["p2"])
        else:
            opaque = True

    walk(algebra["p"])
    body = _remove_newness(rule, prologue, where, set(template)) if newness and not opaque else where
    return Plan(name=rule.name, sparql=text, prologue=prologue, template=template, body=body,
                atoms=tuple(atoms), opaque=opaque or not atoms)


def _remove_newness(rule: Rule, prologue: str, where: str, template: set[Atom]) -> str:
    """The WHERE text without its ``FILTER NOT EXISTS { <template> }``."""
    start = 0
    while True:
        at = _keyword(where, "FILTER", start)
        if at < 0:
            break
        after = where[at + len("FILTER"):].lstrip()
        if re.match(r"NOT\s+EXISTS\b", after, re.IGNORECASE):
            open_at, close_at = _find_block(where, at)
            block = where[open_at:close_at]
            algebra = translateQuery(parseQuery(f"{prologue}\nSELECT * WHERE {block}")).algebra
            bgp = algebra["p"]["p"]
            if bgp.name == "BGP" and set(_atoms(bgp["triples"])) == template:
                return where[:at] + where[close_at:]
        start = at + 1
    raise ReasoningError(f"rule {rule.name}: cannot find its 'FILTER NOT EXISTS' on the template in the text")


# ---------------------------------------------------------------------------------------------
# The engine


@dataclass
class Report:
    """What a run did: triples written per rule (before de-duplication), sweeps, queries, time."""

    derived: dict[str, int] = field(default_factory=dict)
    removed: int = 0
    rederived: int = 0
    net: int = 0
    """How many triples the graph of inferences gained (negative: lost); set by an incremental update."""
    typed: list[str] = field(default_factory=list)
    """The subjects an incremental update gave a type (the only places a new clash can be)."""
    sweeps: int = 0
    queries: int = 0
    seconds: float = 0.0
    mode: str = "full"

    @property
    def total(self) -> int:
        return sum(self.derived.values())


Shape = tuple[str, str, str]
"""A triple with ``S`` and ``O`` standing for the subject and object of the triple a closure starts from."""


class LocalRules:
    """The rules that map one triple to triples, applied in Python to triples as N-Triples text.

    Most of what the ontology entails is of this kind: the superclasses of a type, the super-properties
    and inverses of a property, the types that domains and ranges give. What such rules derive from a
    set of triples is the union of what they derive from each triple, so the closure of one triple
    under all of them can be worked out once per predicate (and class, for ``rdf:type``) and then
    written out for every triple as it streams into the store: no query, no term decoded, about a
    microsecond a triple. The rules that join two or more triples (property chains, defined classes,
    the hand-written rules) run in the store (:class:`Materialiser`), and what they derive is closed
    here the same way.
    """

    def __init__(self, plans: Iterable[Plan]) -> None:
        self.rules: dict[str, list[tuple[Atom, tuple[Atom, ...], frozenset[str]]]] = {}
        for plan in plans:
            not_literal = plan.local
            if not_literal is None:
                continue
            atom = plan.atoms[0]
            if not atom.s.startswith("?") or atom.p.startswith("?") or \
                    not (atom.o.startswith("?") or atom.p == RDF_TYPE):
                continue
            self.rules.setdefault(atom.p, []).append((atom, plan.template, not_literal))
        self.names = frozenset(plan.name for plan in plans if plan.local is not None
                               and any(plan.template == r[1] and plan.atoms[0] == r[0]
                                       for r in self.rules.get(plan.atoms[0].p, [])))
        self._closures: dict[tuple[str, str, bool], tuple[Shape, ...]] = {}
        self._byte_closures: dict[tuple[bytes, bytes, bool], tuple[tuple[Any, bytes, Any], ...]] = {}
        self._byte_predicates: set[bytes] | None = None
        self.signatures: set[tuple[str, str]] = set()
        """(predicate, class or "") of every triple written so far."""

    def closure(self, p: str, o: str, literal: bool) -> tuple[Shape, ...]:
        """What the rules derive from ``S p o`` (``o`` kept only for ``rdf:type``), as shapes."""
        key = (p, o if p == RDF_TYPE else "O", literal)
        found = self._closures.get(key)
        if found is not None:
            return found
        start: Shape = ("S", p, key[1])
        seen = {start}
        todo = [start]
        while todo:
            s, pred, obj = todo.pop()
            for atom, template, not_literal in self.rules.get(pred, ()):
                if not atom.o.startswith("?") and atom.o != obj:
                    continue
                binding = {atom.s: s}
                if atom.o.startswith("?"):
                    if binding.get(atom.o, obj) != obj:
                        continue
                    binding[atom.o] = obj
                if any(binding.get(v) == "O" and literal for v in not_literal):
                    continue
                for head in template:
                    made = tuple(binding.get(term, term) for term in (head.s, head.p, head.o))
                    if made[0] == "O" and literal:
                        continue  # a literal cannot be a subject
                    shape: Shape = (made[0], made[1], made[2])
                    if shape not in seen:
                        seen.add(shape)
                        todo.append(shape)
        seen.discard(start)
        result = tuple(sorted(seen))
        self._closures[key] = result
        for _, pred, obj in result:
            self.signatures.add((pred, obj if pred == RDF_TYPE else ""))
        return result

    def expand(self, data: bytes, out: BinaryIO, graph: str | None = None, *, quads: bool = False) -> int:
        """Write what the rules derive from N-Triples (or N-Quads) ``data``: as N-Quads in ``graph``, or
        as N-Triples without one.

        Triples that ``data`` itself holds are left out (a record often states a type and also a
        property whose domain gives it), and each derived triple is written once. Returns the number
        of lines written.
        """
        end = f" <{graph}> .\n".encode() if graph else b" .\n"
        given: set[bytes] = set()
        parsed: list[bytes] = []
        for line in data.split(b"\n"):
            if not line or line[0] == 35:  # "#"
                continue
            key = line.rsplit(b" ", 2)[0] if quads else line.rstrip()[:-1].rstrip()
            given.add(key)
            parsed.append(key)
        rules = self._byte_rules
        written: list[bytes] = []
        for key in parsed:
            s, p, o = key.split(b" ", 2)
            if p not in rules:
                continue
            for a, pred, b in self._shapes(p, o):
                triple = (s if a is None else o if a is True else a) + pred + (s if b is None else o if b is True else b)
                if triple not in given:
                    given.add(triple)
                    written.append(triple + end)
        if written:
            out.write(b"".join(written))
        return len(written)

    @property
    def _byte_rules(self) -> set[bytes]:
        if self._byte_predicates is None:
            self._byte_predicates = {p.encode() for p in self.rules} | {RDF_TYPE.encode()}
        return self._byte_predicates

    def _shapes(self, p: bytes, o: bytes) -> tuple[tuple[Any, bytes, Any], ...]:
        """The closure of ``S p o`` as byte pieces: (subject, " pred ", object), None standing for S
        and True for O."""
        literal = o[:1] == b'"'
        key = (p, o if p == _RDF_TYPE_BYTES else b"", literal)
        found = self._byte_closures.get(key)
        if found is None:
            shapes = self.closure(p.decode(), o.decode() if p == _RDF_TYPE_BYTES else "O", literal)

            def piece(term: str) -> Any:
                return None if term == "S" else True if term == "O" else term.encode()
            found = tuple((piece(a), f" {pred} ".encode(), piece(b)) for a, pred, b in shapes)
            self._byte_closures[key] = found
        return found

    def expand_file(self, path: str | Path, out: BinaryIO, graph: str | None = None, *, quads: bool = False,
                    block: int = 1 << 26) -> int:
        """:meth:`expand` on a file, a block of lines at a time (flat memory on any size)."""
        written = 0
        rest = b""
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(block), b""):
                chunk = rest + chunk
                cut = chunk.rfind(b"\n") + 1
                chunk, rest = chunk[:cut], chunk[cut:]
                written += self.expand(chunk, out, graph, quads=quads)
        if rest.strip():
            written += self.expand(rest, out, graph, quads=quads)
        return written

    def extended(self, plan: Plan) -> tuple[Atom, ...]:
        """A join rule's template with everything the local rules derive from it: the triples that
        running the rule and closing its output can write."""
        out = list(plan.template)
        for head in plan.template:
            if head.p.startswith("?"):
                continue
            for shapes in (self.closure(head.p, head.o, False), self.closure(head.p, head.o, True)):
                for a, pred, b in shapes:
                    def term(x: str) -> str:
                        return head.s if x == "S" else head.o if x == "O" else x
                    atom = Atom(term(a), pred, term(b))
                    if atom not in out:
                        out.append(atom)
        return tuple(out)


_GRAPH_END = re.compile(rb" <[^<>\"{}|^`\\\s]*> \.\n")
"""The graph name and end of an N-Quads line (a line with a named graph)."""


class ClosingStore:
    """A store that also writes, into ``out``, what the local rules derive from what is loaded into it.

    The importers write into the store in batches of N-Quads text; given this instead of the store,
    they write the closure of each batch too, on the way: the text is read once, no query runs.
    Everything else is passed to the store.

    A batch of N-Quads without blank nodes can also be copied in the layout of a built store (see
    :mod:`d4d.store`): with ``merge``, its triples go into the store's default graph too, in the same
    bulk load; given a ``mirror`` (a function taking N-Quads, for a second store), it is handed the
    batch's quads, the same triples in the default graph, and their closure in the default graph.
    :attr:`uncopied` names the graphs that got a write without that copy (None: not known which;
    blank nodes get new labels in a bulk load, so they must be copied as terms), and
    :attr:`closure_copied` says whether the mirror got all of the closure.
    """

    def __init__(self, store: ox.Store, local: LocalRules, out: BinaryIO,
                 mirror: Callable[[bytes], None] | None = None, merge: bool = False) -> None:
        self._store = store
        self._local = local
        self._out = out
        self._mirror = mirror
        self._merge = merge
        self.uncopied: set[str] | None = set()
        self.closure_copied = True

    def bulk_load(self, input: bytes | str | None = None, format: ox.RdfFormat | None = None,
                  **options: Any) -> None:
        data, default = self._copy_of(input, format, options)
        # The closure is worked out in a thread while the store loads (the bulk load leaves Python's
        # lock free): the two overlap instead of following each other.
        closing = Background(_expansion, self._local, data, _is_quads(format, options), name="d4d-closure") \
            if data is not None and format in _FOLLOWED else None
        try:
            self._store.bulk_load(input=self._to_load(input, data, default), format=format, **options)
        except BaseException:
            if closing is not None:
                closing.wait()  # the store's error is the one to report
            raise
        self._follow(data, default, format, options, closure=closing.result() if closing is not None else None)

    def load(self, input: bytes | str | None = None, format: ox.RdfFormat | None = None, **options: Any) -> None:
        data, default = self._copy_of(input, format, options)
        self._store.load(input=self._to_load(input, data, default), format=format, **options)
        self._follow(data, default, format, options)

    def extend(self, quads: Iterable[ox.Quad]) -> None:
        quads = list(quads)
        self._store.extend(quads)
        if self._merge or self._mirror is not None:
            self._not_copied(sorted({q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}))
        data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
        closure = _expansion(self._local, data or b"", True)
        self._out.write(closure)
        self._copy_closure(closure)

    def _copy_of(self, input: bytes | str | None, format: ox.RdfFormat | None,
                 options: dict[str, Any]) -> tuple[bytes | None, bytes | None]:
        """The text of a write (None for a file) and, when it is to be copied, its copy in the default
        graph (None if it cannot be made as text: the write is then noted in :attr:`uncopied`)."""
        data = input.encode("utf-8") if isinstance(input, str) else input
        if not self._merge and self._mirror is None:
            return data, None
        quads = _is_quads(format, options)
        default = _default_copy(data) if data is not None and quads else None
        if default is None:
            self._not_copied(_graphs_of(options.get("to_graph")) if not quads else None)
        return data, default

    def _to_load(self, input: bytes | str | None, data: bytes | None, default: bytes | None) -> bytes | str | None:
        """What the store loads: with ``merge``, the write with its default-graph copy when there is one."""
        return data + default if self._merge and data is not None and default is not None else input

    def _not_copied(self, graphs: Iterable[str] | None) -> None:
        if graphs is None:
            self.uncopied = None
        elif self.uncopied is not None:
            self.uncopied.update(graphs)

    def _follow(self, data: bytes | None, default: bytes | None, format: ox.RdfFormat | None,
                options: dict[str, Any], *, closure: bytes | None = None) -> None:
        """Write the closure of a write (``closure`` if it was worked out already) and hand the write
        and its closure to the mirror."""
        if format not in _FOLLOWED:
            raise ReasoningError("only N-Triples and N-Quads can be followed through the rules as they load")
        quads = _is_quads(format, options)
        if data is None:
            self.closure_copied = False
            self._local.expand_file(options["path"], self._out, quads=quads)
            return
        if closure is None:
            closure = _expansion(self._local, data, quads)
        self._out.write(closure)
        if self._mirror is not None and default is not None:
            self._mirror(data + default)
        self._copy_closure(closure)

    def _copy_closure(self, closure: bytes) -> None:
        if self._mirror is None:
            return
        if b"_:" in closure:
            self.closure_copied = False
        elif closure:
            self._mirror(closure)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _default_copy(data: bytes) -> bytes | None:
    """N-Quads ``data`` moved to the default graph; None if a line ends without a graph name or the
    data has a blank node (which a second load would give another label).

    A line is read from its end: one without a graph name whose object is an IRI would lose its object,
    so the lines must all be quads in a named graph (as the importers' batches are).
    """
    if b"_:" in data:
        return None
    lines = data.count(b"\n")
    # An importer's batch is all in one graph: when every line ends with the last line's graph name,
    # a plain replace does it (a quarter of the time of the expression's substitution).
    last = _GRAPH_END.search(data, data.rfind(b"\n", 0, len(data) - 1) + 1)
    if last is not None and data.count(last.group(0)) == lines:
        return data.replace(last.group(0), b" .\n")
    default, moved = _GRAPH_END.subn(b" .\n", data)
    return default if moved == lines else None


_FOLLOWED = (ox.RdfFormat.N_QUADS, ox.RdfFormat.N_TRIPLES)
"""The formats a :class:`ClosingStore` follows through the rules (line-based: read without a parser)."""


def _is_quads(format: ox.RdfFormat | None, options: dict[str, Any]) -> bool:
    """Whether a write's lines carry their graph (N-Quads not loaded into one graph)."""
    return format == ox.RdfFormat.N_QUADS and options.get("to_graph") is None


def _expansion(local: LocalRules, data: bytes, quads: bool) -> bytes:
    """:meth:`LocalRules.expand` of ``data``, as bytes."""
    buffer = io.BytesIO()
    local.expand(data, buffer, quads=quads)
    return buffer.getvalue()


def _graphs_of(name: Any) -> list[str] | None:
    return [name.value] if isinstance(name, ox.NamedNode) else None


class Materialiser:
    """Runs a rule set inside a store: a full materialisation, or the update after one graph changed.

    Parameters
    ----------
    store:
        A writable pyoxigraph store (in memory or on disk).
    rules:
        The rules (:func:`d4d.reason.all_rules`).
    asserted:
        The named graphs that hold asserted triples (ontology, facts, sources). Other graphs of the
        store are ignored, except ``into``.
    into:
        The named graph of the inferences (without ``merged``).
    progress:
        Called with a line of text now and then (sweep, rule, triples).
    merged:
        The layout of a built store (see :mod:`d4d.store`): the default graph is the merge of the
        asserted graphs and the inferences, and the inferences are only there (what the default graph
        holds and no asserted graph does). :meth:`replace_graph` keeps it so, and :meth:`full` writes
        the inferences into the default graph (nothing is removed from a store on disk afterwards).
    beside:
        Whether a full run's first sweep may run the rules that nothing feeds and nothing reads in a
        thread beside the others (see :meth:`_sweeps`). Off, every rule runs in the calling thread, in
        order: for a store so large that its merging of files needs the core such a thread would take.

    Raises
    ------
    ReasoningError
        A rule cannot be planned or fails to run.
    """

    def __init__(self, store: ox.Store, rules: Iterable[Rule], *, asserted: Sequence[str],
                 into: str = str(INFERRED), progress: Progress | None = None, merged: bool = False,
                 beside: bool = True) -> None:
        self.store = store
        self.merged = merged
        self.beside = beside
        if merged:
            into = DEFAULT
        self.plans = [plan_rule(r) for r in rules]
        self.asserted = list(asserted)
        self.into = into
        self.progress = progress
        self.local = LocalRules(self.plans)
        self._feeds: dict[tuple[int, int, bool], list[Atom]] = {}
        self._consumers: dict[tuple[int, bool], set[int]] = {}
        self._by_predicate: dict[str, set[int]] = {}
        for j, plan in enumerate(self.plans):
            for atom in plan.atoms:
                self._by_predicate.setdefault("?" if atom.p.startswith("?") else atom.p, set()).add(j)
        # Two programs: every rule in the store (updates), or the join rules with their outputs closed
        # by the local rules in Python (full runs).
        self.templates = [p.template for p in self.plans]
        self.extended = [self.local.extended(p) if p.name not in self.local.names else p.template
                         for p in self.plans]
        self.everything = list(range(len(self.plans)))
        self.joins = [i for i, p in enumerate(self.plans) if p.name not in self.local.names]
        self.order = self._order(self.everything, extended=False)
        self._scratch_dir: Path | None = None
        self._closing: list[tuple[Path | Background[Path], list[str]]] = []  # the sweeps' waiting outputs
        self._aside: Background[list[tuple[int, int]]] | None = None  # the rules run beside (a first sweep)
        self._aside_queue: deque[int] = deque()  # the rules it has yet to take
        self._graphs = itertools.count()
        self._held: dict[tuple[str, str], list[str]] = {}
        self._signatures: dict[str, set[tuple[str, str]]] = {}
        self.hashed: set[int] = set()
        """The rules whose first sweep is hashed (set by :meth:`smallest_first`)."""

    # -- dependencies ------------------------------------------------------------------------

    def feeds(self, i: int, j: int, *, extended: bool = False) -> list[Atom]:
        """The atoms of rule ``j`` that a triple written by rule ``i`` could match (with ``extended``:
        written by rule ``i`` and closed by the local rules)."""
        key = (i, j, extended)
        if key not in self._feeds:
            producer, consumer = self.plans[i], self.plans[j]
            written = self.extended[i] if extended else self.templates[i]
            if consumer.opaque or (not extended and _undoes(producer, consumer)):
                self._feeds[key] = []
            else:
                self._feeds[key] = [a for a in consumer.atoms if any(a.matches(t) for t in written)]
        return self._feeds[key]

    def consumers(self, i: int, active: Sequence[int], *, extended: bool = False) -> list[int]:
        """The rules of ``active`` that :meth:`feeds` says rule ``i`` feeds, in the order of ``active``."""
        key = (i, extended)
        if key not in self._consumers:
            # Only a consumer with an atom on a predicate the producer writes (or on any predicate) can
            # match: look those up by predicate instead of trying every pair of rules.
            written = self.extended[i] if extended else self.templates[i]
            if any(t.p.startswith("?") for t in written):
                candidates = set(range(len(self.plans)))
            else:
                candidates = set(self._by_predicate.get("?", ()))
                for t in written:
                    candidates.update(self._by_predicate.get(t.p, ()))
            self._consumers[key] = {j for j in candidates if self.feeds(i, j, extended=extended)}
        found = self._consumers[key]
        return [j for j in active if j in found]

    def _order(self, active: Sequence[int], *, extended: bool) -> list[int]:
        """Rules in dependency order: strongly connected groups in topological order (Tarjan)."""
        opaque = [j for j in active if self.plans[j].opaque]
        edges: dict[int, list[int]] = {}
        for i in active:
            fed = set(self.consumers(i, active, extended=extended)) | {j for j in opaque if j != i}
            edges[i] = [j for j in active if j in fed]
        index: dict[int, int] = {}
        low: dict[int, int] = {}
        on_stack: set[int] = set()
        stack: list[int] = []
        groups: list[list[int]] = []
        counter = itertools.count()

        def connect(v: int) -> None:
            # iterative Tarjan, so a long chain of rules cannot overflow the recursion limit
            work = [(v, iter(edges[v]))]
            index[v] = low[v] = next(counter)
            stack.append(v)
            on_stack.add(v)
            while work:
                node, children = work[-1]
                for w in children:
                    if w not in index:
                        index[w] = low[w] = next(counter)
                        stack.append(w)
                        on_stack.add(w)
                        work.append((w, iter(edges[w])))
                        break
                    if w in on_stack:
                        low[node] = min(low[node], index[w])
                else:
                    work.pop()
                    if work:
                        low[work[-1][0]] = min(low[work[-1][0]], low[node])
                    if low[node] == index[node]:
                        group = []
                        while True:
                            w = stack.pop()
                            on_stack.discard(w)
                            group.append(w)
                            if w == node:
                                break
                        groups.append(sorted(group))

        for v in active:
            if v not in index:
                connect(v)
        # Tarjan emits groups consumers-first
        return [i for group in reversed(groups) for i in group]

    # -- running queries -----------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    def _new_graph(self, label: str) -> str:
        return f"{SCRATCH}{label}/{next(self._graphs)}"

    def _dataset(self) -> list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph]:
        """The graphs the rules read: the asserted graphs and the inferences."""
        return [ox.DefaultGraph()] if self.merged else [ox.NamedNode(g) for g in self.asserted + [self.into]]

    def _construct(self, query: str, *, named: Sequence[str] = ()) -> Path | None:
        """Run a CONSTRUCT over the asserted graphs and the inferences; its N-Triples in a file (or None)."""
        assert self._scratch_dir is not None
        path = self._scratch_dir / f"q{next(self._graphs)}.nt"
        try:
            answer = self.store.query(query, default_graph=self._dataset(),
                                      named_graphs=[ox.NamedNode(g) for g in named] or None)
            assert isinstance(answer, ox.QueryTriples)
            answer.serialize(str(path), format=ox.RdfFormat.N_TRIPLES)
        except (SyntaxError, OSError, ValueError) as exc:
            raise ReasoningError(f"a rule failed: {exc}\n{query}") from exc
        if path.stat().st_size == 0:
            path.unlink()
            return None
        return path

    def _flush(self, pending: list[tuple[Path | Background[Path], list[str]]]) -> None:
        """Load waiting result files (or the closings that make them), each into its graphs, as one
        N-Quads load; empty the list."""
        if not pending:
            return
        assert self._scratch_dir is not None
        quads = self._scratch_dir / f"flush{next(self._graphs)}.nq"
        with open(quads, "wb") as out:
            for item, graphs in pending:
                path = item.result() if isinstance(item, Background) else item
                append_as_quads(path, out, graphs)
                path.unlink()
        pending.clear()
        self._load(quads, [], format=ox.RdfFormat.N_QUADS)
        quads.unlink()

    def _load(self, path: Path, graphs: Iterable[str], *, format: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> None:
        """Load a file the rules wrote (the store's own output, or lines made from it) into ``graphs``.
        Leniently: its IRIs and language tags were checked when they first entered the store."""
        big = path.stat().st_size > BULK_THRESHOLD
        if format == ox.RdfFormat.N_QUADS:
            if big:
                self.store.bulk_load(path=str(path), format=format, lenient=True)
            else:
                self.store.load(path=str(path), format=format, lenient=True)
            return
        for graph in graphs:
            target = ox.NamedNode(graph) if graph != DEFAULT else ox.DefaultGraph()
            if big:
                self.store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=target, lenient=True)
            else:
                self.store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=target, lenient=True)

    def _update(self, text: str) -> None:
        try:
            self.store.update(text)
        except (SyntaxError, OSError, ValueError) as exc:
            raise ReasoningError(f"an update of the inferences failed: {exc}") from exc

    def _count(self, graph: str) -> int:
        return self._count_query(f"GRAPH <{graph}> {{ ?s ?p ?o }}")

    def _count_query(self, pattern: str) -> int:
        return count_matches(self.store, pattern)

    def _drop(self, graphs: Iterable[str]) -> None:
        for graph in graphs:
            self.store.remove_graph(ox.NamedNode(graph))

    # -- join order ----------------------------------------------------------------------------

    def smallest_first(self, active: Sequence[int]) -> None:
        """Write the atoms of each rule of ``active`` in the order the store should join them: the one
        with the fewest triples first, then, among the atoms that share a variable with those before,
        again the smallest (ties keep the written order). A rule whose smallest pattern matches fewer
        than :data:`HASH_LIMIT` triples is noted in :attr:`hashed`.

        The store joins a group's patterns in the order they are written; with a lookup per solution,
        a rule written from the larger pattern reads all of it (``?v1 d4d:project ?v0`` before
        ``?v1 d4d:providerProject ?v2`` took 3.4 s instead of 0.74 s at 100k), and a hash join is
        quicker with the smaller pattern first too (0.14 s against 0.30 s). The candidates are
        counted up to a cap that grows fourfold until one of them stays under it, so the counts read
        a few times the smallest pattern, not the larger ones.
        """
        sizes: dict[Atom, tuple[int, bool]] = {}  # pattern -> (triples, exact) or (a lower bound, False)

        def size(atom: Atom, cap: int) -> int:
            """The triples matching ``atom``, counted up to ``cap``."""
            key = Atom(*(v if t.startswith("?") else t for t, v in zip((atom.s, atom.p, atom.o), ("?s", "?p", "?o"))))
            n, exact = sizes.get(key, (0, False))
            if not exact and n < cap:
                n = count_matches(self.store, key.text(), limit=cap, default_graph=self._dataset())
                exact = n < cap
                sizes[key] = (n, exact)
            return min(n, cap)

        for i in active:
            plan = self.plans[i]
            if plan.opaque or plan.clauses is None or len(plan.atoms) < 2:
                continue
            left = list(range(len(plan.atoms)))
            order: list[int] = []
            bound: set[str] = set()
            while left:
                linked = [k for k in left if bound & plan.atoms[k].variables()] or left
                best, cap = linked[0], 4096
                while len(linked) > 1:
                    # count every candidate up to a cap that grows until one of them stays under it
                    counts = [size(plan.atoms[k], cap) for k in linked]
                    if min(counts) < cap:
                        best = linked[counts.index(min(counts))]
                        break
                    cap *= 4
                order.append(best)
                left.remove(best)
                bound |= plan.atoms[best].variables()
            if size(plan.atoms[order[0]], HASH_LIMIT) < HASH_LIMIT:  # counted exactly above
                self.hashed.add(i)
            self.plans[i] = plan.reordered(order)

    # -- semi-naive sweeps ---------------------------------------------------------------------

    def _sweeps(self, report: Report, *, seed: str | None, collect: str | None = None,
                local: bool = False) -> None:
        """Run sweeps until nothing new appears.

        With ``seed`` None the first sweep runs every rule in full. Otherwise ``seed`` names a graph of
        triples new to the rules (added or re-derived) and every sweep only follows new triples. With
        ``local``, only the join rules run in the store and each output is closed by the local rules
        in Python (the caller has loaded the closure of the asserted triples already).
        """
        active = self.joins if local else self.everything
        order = self._order(active, extended=local) if local else self.order
        position = {rule: pos for pos, rule in enumerate(order)}
        consumers = {i: self.consumers(i, active, extended=local) for i in active}
        # written[(rule, sweep)] = scratch graph holding what the rule wrote in that sweep
        written: dict[tuple[int, int], str] = {}
        pending: list[tuple[Path | Background[Path], list[str]]] = []
        self._closing = pending
        pending_from: set[int] = set()
        # A first sweep's rule that reads only what no rule writes and writes only what no rule reads
        # runs once, whenever: such rules are run in a thread beside the others, which take what is
        # left of them when they are done (d4d:source from the citations, 5.9 s of 22 s at 100k). An
        # opaque rule may read anything: with one among them, every rule runs in order.
        beside = self.beside and seed is None and not any(self.plans[j].opaque for j in active)
        aside: deque[int] = deque(i for i in order if beside and self._aside_rule(i, active, consumers))
        free = set(aside)
        self._aside_queue = aside
        if aside:
            self._aside = Background(self._run_aside, aside, [self.into] + ([collect] if collect else []), local,
                                     name="d4d-aside")

        def first_sweep() -> Iterable[int]:
            yield from (i for i in order if i not in free)
            while aside:
                try:
                    yield aside.pop()  # the thread takes the other end
                except IndexError:
                    return

        sweep = 0
        while True:
            sweep += 1
            report.sweeps += 1
            added = 0
            for i in first_sweep() if sweep == 1 else order:
                plan = self.plans[i]
                named: list[str] = []
                # Outputs wait in files until a rule that reads them runs (or the sweep ends): one big
                # load instead of a small one per rule keeps the store's files few and its reads fast.
                # (Loaded before the rule's queries are written: a delta may be inlined, see Rows.)
                if any(self.feeds(j, i, extended=local) for j in pending_from):
                    self._flush(pending)
                    pending_from.clear()
                if plan.opaque:
                    queries, named = [plan.query()], []
                elif seed is None and sweep == 1:
                    # Repeating an inference costs only a load, unless a later sweep must follow it.
                    if any(position[j] <= position[i] for j in consumers[i]):
                        queries, named = [plan.query(check="new", hashed=i in self.hashed)], []
                    else:
                        queries, named = [self._guarded(i)], []
                else:
                    queries, named = self._delta_queries(i, written, sweep, seed, position, local=local)
                if not queries:
                    continue
                # Who will need what this rule writes now: any consumer that runs later in this sweep
                # in delta mode, or in the next sweep.
                keep = bool(consumers[i]) and (sweep > 1 or seed is not None or
                                               any(position[j] <= position[i] for j in consumers[i]))
                out = self._new_graph(f"w{sweep}") if keep else None
                wrote = 0
                for query in queries:
                    report.queries += 1
                    path = self._construct(query, named=named)
                    if path is None:
                        continue
                    lines = _count_lines(path)
                    # the output is closed in Python while the store runs the next query (which leaves
                    # Python's lock free)
                    made: Path | Background[Path] = path
                    if local:
                        if pending and isinstance(pending[-1][0], Background):
                            pending[-1][0].wait()  # one closing at a time: flat memory
                        made = Background(self._close, path, name="d4d-close")
                    pending.append((made, [self.into] + ([out] if out else []) + ([collect] if collect else [])))
                    pending_from.add(i)
                    report.derived[plan.name] = report.derived.get(plan.name, 0) + lines
                    added += lines
                    wrote += lines
                if out is not None and wrote:
                    written[(i, sweep)] = out
            self._flush(pending)
            pending_from.clear()
            if sweep == 1 and self._aside is not None:
                for i, lines in self._aside.result():
                    report.queries += 1
                    report.derived[self.plans[i].name] = report.derived.get(self.plans[i].name, 0) + lines
                    added += lines
                self._aside = None
            self._say(f"sweep {sweep}: {added} triples")
            # graphs of the previous sweep have been seen by everyone now
            stale = [g for (i, s), g in written.items() if s < sweep]
            self._drop(stale)
            for key in [k for k in written if k[1] < sweep]:
                del written[key]
            if seed is not None and sweep == 1:
                self._drop([seed])
            if added == 0:
                self._drop(written.values())
                return
            if sweep > 100:
                raise ReasoningError("the rules did not reach a fixpoint after 100 sweeps")

    @staticmethod
    def _aside_rule(i: int, active: Sequence[int], consumers: dict[int, list[int]]) -> bool:
        """Whether rule ``i`` of ``active`` can run beside the others in a first sweep: no rule of
        ``active`` writes what it reads (what it reads is all there before the sweep), and none reads
        what it writes (nothing waits for it, and what another rule finds does not depend on when it
        is loaded). The caller rules out a set of rules with an opaque one, which may read anything."""
        return not consumers[i] and not any(i in consumers[j] for j in active)

    def _run_aside(self, queue: deque[int], graphs: list[str], local: bool) -> list[tuple[int, int]]:
        """Take rules from the front of ``queue`` until it is empty; run each (closed by the local rules
        with ``local``) and load what they all wrote into ``graphs`` at the end, in one :meth:`_flush`.
        Each rule taken and the triples it wrote (before the closing)."""
        done: list[tuple[int, int]] = []
        pending: list[tuple[Path | Background[Path], list[str]]] = []
        while queue:
            try:
                i = queue.popleft()
            except IndexError:  # the main thread took the last one
                break
            path = self._construct(self._guarded(i))
            done.append((i, _count_lines(path) if path is not None else 0))
            if path is not None:
                pending.append((self._close(path) if local else path, graphs))
        self._flush(pending)
        return done

    def _guarded(self, i: int) -> str:
        """Rule ``i``'s query over everything, each derived triple tested against the asserted graphs
        only (see :meth:`Plan.query`): for a first sweep's rule that no later sweep must follow."""
        plan = self.plans[i]
        return plan.query(check="guard", guard=self._guard(plan), hashed=i in self.hashed)

    def _close(self, path: Path) -> Path:
        """A rule's output file with what the local rules derive from it appended (N-Triples)."""
        closed = path.with_suffix(".closed.nt")
        with open(closed, "wb") as out:
            with open(path, "rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 24)
            self.local.expand_file(path, out)
        path.unlink()
        return closed

    def _guard(self, plan: Plan) -> list[tuple[int, list[str]]]:
        """The template triples of a rule that an asserted graph may hold (by predicate and class)."""
        out = []
        for n, atom in enumerate(plan.template):
            key = (atom.p, atom.o if atom.p == RDF_TYPE and not atom.o.startswith("?") else "?")
            if key not in self._held:
                pattern = f"?s {key[0]} {key[1] if key[1] != '?' else '?o'}"
                self._held[key] = [g for g in self.asserted
                                   if self.store.query(f"ASK {{ GRAPH <{g}> {{ {pattern} }} }}")]
            if self._held[key]:
                out.append((n, self._held[key]))
        return out

    def _delta_queries(self, i: int, written: dict[tuple[int, int], str], sweep: int, seed: str | None,
                       position: dict[int, int], *, local: bool = False) -> tuple[list[str], list[str]]:
        """The delta queries of rule ``i``: each atom restricted to the triples it has not seen yet."""
        plan = self.plans[i]
        unseen: list[tuple[int, str]] = []
        for (j, s), graph in written.items():
            # In the previous sweep it saw what rules before it wrote; now it must see the rest, and
            # what the rules before it wrote in this sweep.
            if (s == sweep - 1 and position[j] >= position[i]) or (s == sweep and position[j] < position[i]):
                unseen.append((j, graph))
        queries: list[str] = []
        named: set[str] = set()
        for atom in plan.atoms:
            templates = self.extended if local else self.templates
            graphs = sorted(g for j, g in unseen if any(atom.matches(t) for t in templates[j]))
            if seed is not None and sweep == 1 and self._may_match(atom, seed):
                graphs.append(seed)
            restriction = self._restriction(atom, graphs) if graphs else None
            if restriction is not None:
                queries.append(plan.query(restrict=[(atom, restriction)]))
                named.update(graphs)
        return queries, sorted(named)

    # -- public entry points -------------------------------------------------------------------

    def __enter__(self) -> Materialiser:
        self._scratch_dir = Path(tempfile.mkdtemp(prefix="d4d-rules-"))
        return self

    def __exit__(self, *exc: object) -> None:
        for item, _ in self._closing:  # after an error: the closings still writing into the scratch folder
            if isinstance(item, Background):
                item.wait()
        self._closing = []
        if self._aside is not None:  # after an error: the rules run beside end after the one they run
            self._aside_queue.clear()
            self._aside.wait()
            self._aside = None
        for graph in list(self.store.named_graphs()):
            if graph.value.startswith(SCRATCH):
                self.store.remove_graph(graph)
        if self._scratch_dir is not None:
            shutil.rmtree(self._scratch_dir, ignore_errors=True)
            self._scratch_dir = None

    def full(self, *, closed: bool = False, collect: str | None = None) -> Report:
        """Derive every inference anew.

        The local rules run in Python over the asserted graphs (dumped from the store), the join rules
        in the store, semi-naively, their outputs closed by the local rules; the inferences that an
        asserted graph also holds are removed at the end. With ``merged``, the default graph is made
        the merge of the asserted graphs first and the inferences are added to it (an asserted triple a
        rule writes again is already there, so nothing needs removing).

        Parameters
        ----------
        closed:
            The caller has already loaded what the local rules derive from the asserted graphs into
            ``into`` (as :func:`d4d.incremental.build_store` does while it imports, from the text it
            writes into the store), and with ``merged`` the asserted graphs into the default graph:
            keep it and run the join rules only.
        collect:
            A named graph into which the join rules' outputs (closed by the local rules) are also
            written: what the run added beyond the closure of the asserted triples (it may repeat
            asserted triples). The caller removes it.

        Returns
        -------
        Report
        """
        started = time.perf_counter()
        report = Report(mode="full")
        with self:
            if not closed:
                if self.merged:
                    self.store.clear_graph(ox.DefaultGraph())
                    for graph in self.asserted:
                        mirror_graph(self.store, graph)
                else:
                    self.store.remove_graph(ox.NamedNode(self.into))
                assert self._scratch_dir is not None
                closure = self._scratch_dir / "closure.nt"
                asserted = self._scratch_dir / "asserted.nt"
                with open(closure, "wb") as out:
                    for graph in self.asserted:
                        # through a file, a block at a time: flat memory whatever the graph's size
                        self.store.dump(str(asserted), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
                        report.derived["local rules"] = report.derived.get("local rules", 0) + \
                            self.local.expand_file(asserted, out)
                        asserted.unlink()
                self._load(closure, [self.into])
            self.smallest_first(self.joins)
            self._sweeps(report, seed=None, local=True, collect=collect)
            if not self.merged:
                self.remove_asserted()
        report.seconds = time.perf_counter() - started
        return report

    def remove_asserted(self) -> None:
        """Remove from the inferences what an asserted graph holds (the inferences are what only the
        rules say). Only the predicates and classes the rules can write are looked at."""
        signatures = set(self.local.signatures)
        for i in self.joins:
            for atom in self.extended[i]:
                if not atom.p.startswith("?"):
                    signatures.add((atom.p, atom.o if atom.p == RDF_TYPE and not atom.o.startswith("?") else ""))
        for p, cls in sorted(signatures):
            pattern = f"?s {p} {cls or '?o'}"
            for graph in self.asserted:
                if self.store.query(f"ASK {{ GRAPH <{graph}> {{ {pattern} }} GRAPH <{self.into}> {{ {pattern} }} }}"):
                    self._update(f"DELETE {{ GRAPH <{self.into}> {{ {pattern} }} }} WHERE {{ "
                                 f"GRAPH <{graph}> {{ {pattern} }} GRAPH <{self.into}> {{ {pattern} }} }}")

    def replace_graph(self, graph: str, new: Path | bytes, *, format: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> Report:
        """Replace the content of one asserted graph and update the inferences (delete and re-derive).

        Parameters
        ----------
        graph:
            One of the asserted graphs (it may be empty or absent before).
        new:
            Its new content: a file or bytes in ``format``.

        Returns
        -------
        Report
            ``removed`` counts the inferences deleted for good, ``rederived`` those put back.

        Raises
        ------
        ReasoningError
            The graph holds blank nodes (their labels cannot be compared across loads: use
            :meth:`full`), or a rule fails.
        """
        started = time.perf_counter()
        report = Report(mode="incremental")
        if graph not in self.asserted:
            raise ReasoningError(f"{graph} is not one of the asserted graphs")
        with self:
            fresh = self._new_graph("new")
            if isinstance(new, bytes):
                self.store.load(new, format=format, to_graph=ox.NamedNode(fresh))
            else:
                self.store.bulk_load(path=str(new), format=format, to_graph=ox.NamedNode(fresh))
            for g in (graph, fresh):
                if self._has_blank_nodes(g):
                    raise ReasoningError(f"{graph} holds blank nodes: its inferences can only be derived in full")
            removed, added = self._new_graph("removed"), self._new_graph("added")
            self._update(f"INSERT {{ GRAPH <{removed}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} "
                         f"FILTER NOT EXISTS {{ GRAPH <{fresh}> {{ ?s ?p ?o }} }} }}")
            self._update(f"INSERT {{ GRAPH <{added}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{fresh}> {{ ?s ?p ?o }} "
                         f"FILTER NOT EXISTS {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} }}")
            others = " ".join(f"<{g}>" for g in self.asserted if g != graph)
            # Triples the graph loses but another asserted graph still holds are not lost at all.
            lost = self._new_graph("lost")
            other_filter = (f"FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} VALUES ?other {{ {others} }} }}"
                            if others else "")
            self._update(f"INSERT {{ GRAPH <{lost}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{removed}> {{ ?s ?p ?o }} "
                         f"{other_filter} }}")
            overdeleted = self._overdelete(lost, report)
            if self.merged:
                # added triples that were inferences (and stay so until now): they become asserted
                now_asserted = self._count_query(f"GRAPH <{added}> {{ ?s ?p ?o }} {self._inferred('?s ?p ?o')} "
                                                 f"FILTER NOT EXISTS {{ GRAPH <{overdeleted}> {{ ?s ?p ?o }} }}")
            # the change itself
            self._update(f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{removed}> {{ ?s ?p ?o }} }}")
            self._update(f"INSERT {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{added}> {{ ?s ?p ?o }} }}")
            if self.merged:
                # out of the merge: the over-deleted inferences and the triples no graph asserts any more
                # (both may be derived again below); in: the added triples
                self._update(f"DELETE {{ ?s ?p ?o }} WHERE {{ {{ GRAPH <{overdeleted}> {{ ?s ?p ?o }} }} UNION "
                             f"{{ GRAPH <{lost}> {{ ?s ?p ?o }} }} }}")
                self._update(f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH <{added}> {{ ?s ?p ?o }} }}")
            else:
                self._update(f"DELETE {{ GRAPH <{self.into}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{overdeleted}> {{ ?s ?p ?o }} }}")
                # an added triple that was inferred is now asserted: the inferences keep only what no graph asserts
                now_asserted = self._count_query(f"GRAPH <{added}> {{ ?s ?p ?o }} GRAPH <{self.into}> {{ ?s ?p ?o }}")
                self._update(f"DELETE {{ GRAPH <{self.into}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{added}> {{ ?s ?p ?o }} }}")
            candidates = self._new_graph("candidates")
            self._update(f"INSERT {{ GRAPH <{candidates}> {{ ?s ?p ?o }} }} WHERE {{ "
                         f"{{ GRAPH <{overdeleted}> {{ ?s ?p ?o }} }} UNION {{ GRAPH <{lost}> {{ ?s ?p ?o }} }} }}")
            seed = self._new_graph("seed")
            report.rederived = self._rederive(candidates, seed, report)
            overdeleted_count = self._count(overdeleted)
            report.removed = overdeleted_count - report.rederived
            self._update(f"INSERT {{ GRAPH <{seed}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{added}> {{ ?s ?p ?o }} }}")
            self._drop([fresh, removed, lost, candidates])
            collected = self._new_graph("collected")
            report.typed = self._typed([seed])
            self._sweeps(report, seed=seed, collect=collected)
            report.typed = sorted(set(report.typed) | set(self._typed([collected])))
            report.net = report.rederived + self._count(collected) - overdeleted_count - now_asserted
        report.seconds = time.perf_counter() - started
        return report

    def _restriction(self, atom: Atom, graphs: Sequence[str]) -> Sequence[str] | Rows | None:
        """How to restrict ``atom`` to the triples of ``graphs``: the rows of its variables when they are
        few (see :class:`Rows`), else the graphs; None when no triple of the graphs matches it."""
        variables = sorted(atom.variables())
        if not variables:
            return graphs
        values = " ".join(f"<{g}>" for g in graphs)
        answer = self.store.query(f"SELECT DISTINCT {' '.join(variables)} WHERE {{ GRAPH ?d4d_delta {{ "
                                  f"{atom.text()} }} VALUES ?d4d_delta {{ {values} }} }} LIMIT {INLINE_ROWS + 1}")
        assert isinstance(answer, ox.QuerySolutions)
        rows: list[tuple[str, ...]] = []
        for solution in answer:
            terms = [solution[v[1:]] for v in variables]
            if len(rows) == INLINE_ROWS or any(isinstance(term, ox.BlankNode) for term in terms):
                return graphs
            rows.append(tuple(str(term) for term in terms))
        return Rows(tuple(variables), tuple(rows)) if rows else None

    def _inferred(self, triple: str) -> str:
        """A graph pattern that matches ``triple`` when it is an inference (held by no asserted graph)."""
        if not self.merged:
            return f"GRAPH <{self.into}> {{ {triple} }}"
        asserted = " ".join(f"<{g}>" for g in self.asserted)
        return (f"{triple} FILTER NOT EXISTS {{ GRAPH ?d4d_asserted {{ {triple} }} "
                f"VALUES ?d4d_asserted {{ {asserted} }} }}")

    def _may_match(self, atom: Atom, graph: str) -> bool:
        """Could ``atom`` match a triple of ``graph``? (By the predicates and the classes it holds.)"""
        if graph not in self._signatures:
            answer = self.store.query(
                f"SELECT DISTINCT ?p ?c WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} "
                f"BIND(IF(?p = {RDF_TYPE}, ?o, \"\") AS ?c) }}")
            assert isinstance(answer, ox.QuerySolutions)
            found: set[tuple[str, str]] = set()
            for row in answer:
                cls = row["c"]
                found.add((f"<{row['p'].value}>", f"<{cls.value}>" if isinstance(cls, ox.NamedNode) else ""))
            self._signatures[graph] = found
        found = self._signatures[graph]
        if atom.p.startswith("?"):
            return bool(found)
        if atom.p == RDF_TYPE and not atom.o.startswith("?"):
            return (atom.p, atom.o) in found
        return any(p == atom.p for p, _ in found)

    def _typed(self, graphs: Sequence[str]) -> list[str]:
        """The subjects given a type by the triples of some graphs (where a new clash could be)."""
        values = " ".join(f"<{g}>" for g in graphs)
        answer = self.store.query(f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a ?c }} VALUES ?g {{ {values} }} "
                                  "FILTER(isIRI(?s)) }")
        assert isinstance(answer, ox.QuerySolutions)
        return [str(row["s"].value) for row in answer]

    def _has_blank_nodes(self, graph: str) -> bool:
        return has_blank_nodes(self.store, graph)

    def _overdelete(self, lost: str, report: Report) -> str:
        """Every inference that has a derivation using a lost triple (transitively), in a scratch graph."""
        overdeleted = self._new_graph("overdeleted")
        frontier = lost
        sweep = 0
        while True:
            sweep += 1
            step = self._new_graph("step")
            for plan in self.plans:
                if plan.opaque:
                    raise ReasoningError(f"rule {plan.name} cannot be followed backwards: derive in full")
                for atom in plan.atoms:
                    if not self._may_match(atom, frontier):
                        continue
                    restriction = self._restriction(atom, [frontier])
                    if restriction is None:
                        continue
                    report.queries += 1
                    path = self._construct(plan.query(restrict=[(atom, restriction)], check="none"),
                                           named=[frontier])
                    if path is not None:
                        self._load(path, [step])
                        path.unlink()
            following = self._new_graph("frontier")
            # only inferences can be deleted; what an asserted graph holds stays (and so do its consequences)
            self._update(f"INSERT {{ GRAPH <{following}> {{ ?s ?p ?o }} GRAPH <{overdeleted}> {{ ?s ?p ?o }} }} "
                         f"WHERE {{ GRAPH <{step}> {{ ?s ?p ?o }} {self._inferred('?s ?p ?o')} "
                         f"FILTER NOT EXISTS {{ GRAPH <{overdeleted}> {{ ?s ?p ?o }} }} }}")
            self._drop([step] + ([frontier] if frontier != lost else []))
            size = self._count(following)
            self._say(f"over-deletion {sweep}: {size} triples")
            if size == 0:
                self._drop([following])
                return overdeleted
            frontier = following

    def _rederive(self, candidates: str, seed: str, report: Report) -> int:
        """Put back the candidates that the remaining triples still derive (one step); count them."""
        for plan in self.plans:
            for atom in plan.template:
                if not self._may_match(atom, candidates):
                    continue
                restriction = self._restriction(atom, [candidates])
                if restriction is None:
                    continue
                report.queries += 1
                path = self._construct(plan.query(restrict=[(atom, restriction)]), named=[candidates])
                if path is not None:
                    self._load(path, [self.into, seed])
                    path.unlink()
        return self._count(seed)


def _undoes(producer: Plan, consumer: Plan) -> bool:
    """True when the consumer applied to what the producer writes only gives back the producer's input
    (an inverse of an inverse, a symmetric property applied twice): that input is in the store already,
    so the consumer need not follow the producer."""
    if producer.opaque or consumer.opaque or len(producer.atoms) != 1 or len(consumer.atoms) != 1 \
            or len(producer.template) != 1 or len(consumer.template) != 1:
        return False
    written, read = producer.template[0], consumer.atoms[0]
    binding: dict[str, str] = {}
    for mine, theirs in ((read.s, written.s), (read.p, written.p), (read.o, written.o)):
        if mine.startswith("?"):
            if binding.setdefault(mine, theirs) != theirs:
                return False
        elif mine != theirs:
            return False
    head = consumer.template[0]
    back = tuple(binding.get(term, term) if term.startswith("?") else term for term in (head.s, head.p, head.o))
    return back == (producer.atoms[0].s, producer.atoms[0].p, producer.atoms[0].o)


def _count_lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            count += block.count(b"\n")
    return count


def materialise_store(store: ox.Store, rules: Iterable[Rule], *, asserted: Sequence[str],
                      into: str = str(INFERRED), progress: Progress | None = None) -> Report:
    """Derive every inference of the rules inside ``store`` (semi-naive); see :class:`Materialiser`.

    Returns the :class:`Report`; raises :class:`ReasoningError` as :class:`Materialiser` does.
    """
    return Materialiser(store, rules, asserted=asserted, into=into, progress=progress).full()


__all__ = ["Atom", "ClosingStore", "LocalRules", "Materialiser", "Plan", "Report", "Rows", "SCRATCH", "materialise_store", "plan_rule"]
