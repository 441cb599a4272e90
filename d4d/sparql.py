"""The query layer: the SPARQL catalogue, parameter binding, local and remote execution, formats.

The catalogue
-------------
Every file ``queries/<name>.rq`` is one named query. It starts with a header of ``#`` comment
lines, each ``# key: value``::

    # title: Who funds whom
    # description: Every funding fact: funder, recipient, amount, currency and year.
    #   A line that starts with "#" and two or more spaces continues the previous value.
    # param: funder iri - Only the grants of this funder (unbound: every funder)
    # param: min_amount decimal 0 Smallest amount to list
    # returns: ?funder ?funderName ?recipient ?recipientName ?amount ?currency ?year

``title`` (required) is one line; ``description`` may continue on following lines. Each
``param`` line is ``NAME TYPE DEFAULT DESCRIPTION``:

- ``NAME`` is the SPARQL variable the value binds (``?funder``), without the ``?``;
- ``TYPE`` is one of :data:`PARAM_TYPES` (``iri``, ``string``, ``integer``, ``decimal``,
  ``double``, ``boolean``, ``date``, ``term``);
- ``DEFAULT`` is a value in the same syntax as ``--param`` takes (``d4did:data-pop-alliance``,
  ``2015``, ``"two words"`` in double quotes), or ``-`` for no default: the variable is then
  left unbound, so the query must read an unbound parameter as "no restriction"
  (``FILTER(!BOUND(?min_amount) || ?amount >= ?min_amount)``);
- ``DESCRIPTION`` is the rest of the line.

``returns`` lists the variables of the result in order (for ``ASK``: ``?ask``; for
``CONSTRUCT``/``DESCRIBE``: ``?subject ?predicate ?object``). The catalogue reader checks that
every parameter occurs in the query and that ``returns`` matches the ``SELECT`` projection.

Binding
-------
Parameter values become RDF terms (:class:`pyoxigraph.NamedNode` / :class:`pyoxigraph.Literal`,
validated by pyoxigraph) and reach the query as a ``VALUES`` block written from those terms at
the start of the outermost ``WHERE`` group; the text the user gave is never pasted into the
query, so a value holding quotes, braces or ``}`` stays one value. The same bound text runs
locally and on any SPARQL 1.1 endpoint, so both give the same answers. (pyoxigraph's own
``substitutions=`` only accepts variables of the ``SELECT`` projection, which would rule out
parameters used in ``FILTER`` and every ``CONSTRUCT``/``ASK``.) A parameter is therefore in scope
in the outermost group — its triple patterns, ``FILTER``, ``OPTIONAL`` and ``BIND`` — but not
inside a sub-``SELECT``, which SPARQL evaluates on its own.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Union

import pyoxigraph as ox

from d4d.errors import QueryError
from d4d.store import query_options
from d4d.vocab import ID, PREFIXES

#: Where the catalogue lives: ``queries/`` at the root of the project.
DEFAULT_CATALOGUE = Path(__file__).resolve().parents[1] / "queries"

#: Parameter types a catalogue header may declare.
PARAM_TYPES = ("iri", "string", "integer", "decimal", "double", "boolean", "date", "term")

#: Output formats of SELECT/ASK results (W3C SPARQL results formats).
RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}

#: Output formats of CONSTRUCT/DESCRIBE results.
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}

#: Every ``--format`` the query layer accepts (``table`` is rendered by the CLI).
FORMATS = ("table", *RESULT_FORMATS, *GRAPH_FORMATS)

XSD = "http://www.w3.org/2001/XMLSchema#"

#: Prefixes every query may use without declaring them (the CLI, the endpoint and the editor add
#: the ones a query does not declare, as the Wikidata Query Service does), and that tables use to
#: shorten IRIs: a name the CLI prints pastes back into a query.
PREDECLARED: dict[str, str] = dict(PREFIXES)
DISPLAY_PREFIXES = PREDECLARED

#: The namespace a bare slug (``datakind``) given for an IRI parameter is read in.
SLUG_NAMESPACE = str(ID)

Term = Union[ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple]

QUERY_FORMS = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE",
                             "COPY", "WITH"})

# ---------------------------------------------------------------------------------------------
# A small SPARQL lexer: enough to find keywords, braces, prefixes and IRIs outside strings,
# IRIs and comments (where a "{" or "#" means nothing).

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              | '''(?:[^'\\]|\\.|'(?!''))*'''
              | "(?:[^"\\\r\n]|\\.)*"
              | '(?:[^'\\\r\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)
  | (?P<pname>(?:[A-Za-z\u00C0-\uFFFF][\w\u00B7-\uFFFF.-]*)?:(?:[\w\u00B7-\uFFFF:%-]|\\.|\.(?=[\w:%\\]))*
              | _:[\w\u00B7-\uFFFF.-]*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<open>\{)
  | (?P<close>\})
  | (?P<other>\\.|.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    depth: int  # brace depth before this token


@functools.lru_cache(maxsize=512)
def _token_list(text: str) -> tuple[_Token, ...]:
    """The tokens of a query, computed once per text (a catalogue query is lexed once per process)."""
    return tuple(_lex(text))


def _tokens(text: str) -> Iterator[_Token]:
    return iter(_token_list(text))


def _lex(text: str) -> Iterator[_Token]:
    depth = 0
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        assert match is not None  # the last alternative matches any character
        kind = match.lastgroup or "other"
        if kind == "close":
            depth -= 1
        if kind not in ("ws", "comment"):
            yield _Token(kind, match.group(), position, depth)
        if kind == "open":
            depth += 1
        position = match.end()


@functools.lru_cache(maxsize=512)
def query_form(text: str) -> str:
    """The form of a query: ``SELECT``, ``CONSTRUCT``, ``ASK``, ``DESCRIBE``, or ``UPDATE``.

    Raises
    ------
    QueryError
        Neither a query form nor an update operation is found.

    >>> query_form("PREFIX ex: <http://e/> # SELECT in a comment\\nASK { ?s ex:p ?o }")
    'ASK'
    >>> query_form("DELETE WHERE { ?s ?p ?o }")
    'UPDATE'
    """
    for token in _tokens(text):
        if token.kind == "word" and token.depth == 0:
            keyword = token.text.upper()
            if keyword in QUERY_FORMS:
                return keyword
            if keyword in UPDATE_KEYWORDS:
                return "UPDATE"
    raise QueryError("not a SPARQL query: no SELECT, CONSTRUCT, ASK or DESCRIBE found")


def declared_prefixes(text: str) -> dict[str, str]:
    """The ``PREFIX`` declarations of a query: ``{"d4d": "https://w3id.org/d4d/ontology#"}``."""
    return dict(_declared_prefixes(text))


def query_prefixes(text: str) -> dict[str, str]:
    """The prefixes a query can use: :data:`PREDECLARED`, then its own ``PREFIX`` lines."""
    return {**PREDECLARED, **declared_prefixes(text)}


def prefix_block(text: str) -> str:
    """``PREFIX`` declarations of the :data:`PREDECLARED` prefixes the query does not declare, on
    one line without a line break, to put before the query (so line numbers stay the query's).

    >>> prefix_block("PREFIX xsd: <urn:x#> ASK {}").count("PREFIX")
    13
    >>> prefix_block("PREFIX xsd: <urn:x#> ASK {}").startswith("PREFIX d4d: <https://w3id.org/d4d/ontology#> ")
    True
    """
    declared = declared_prefixes(text)
    return "".join(f"PREFIX {name}: <{iri}> " for name, iri in PREDECLARED.items() if name not in declared)


@functools.lru_cache(maxsize=512)
def _declared_prefixes(text: str) -> tuple[tuple[str, str], ...]:
    prefixes: dict[str, str] = {}
    tokens = _token_list(text)
    for index, token in enumerate(tokens[:-2]):
        if token.kind == "word" and token.text.upper() == "PREFIX":
            name, iri = tokens[index + 1], tokens[index + 2]
            if name.kind == "pname" and name.text.endswith(":") and iri.kind == "iri":
                prefixes[name.text[:-1]] = iri.text[1:-1]
    return tuple(prefixes.items())


def service_calls(text: str) -> list[str]:
    """The targets of the ``SERVICE`` clauses of a query (IRIs, prefixed names or variables).

    >>> service_calls('SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }')
    ['<http://example.org/sparql>']
    >>> service_calls('SELECT ?service { ?service a "SERVICE" } # SERVICE')
    []
    """
    tokens = _token_list(text)
    targets = []
    for index, token in enumerate(tokens):
        if token.kind == "word" and token.text.upper() == "SERVICE":
            following = tokens[index + 1:index + 3]
            if following and following[0].kind == "word" and following[0].text.upper() == "SILENT":
                following = following[1:]
            targets.append(following[0].text if following else "")
    return targets


def _where_group_start(text: str) -> int:
    """Offset just after the ``{`` that opens the outermost WHERE group of a query."""
    form = query_form(text)
    if form == "UPDATE":
        raise QueryError("SPARQL Update cannot take parameters here; only queries run")
    tokens = _token_list(text)
    seen_form = False
    skip_template = False
    for index, token in enumerate(tokens):
        if token.kind == "word" and token.depth == 0 and token.text.upper() == form:
            seen_form = True
            # CONSTRUCT { template } WHERE { ... }: the first group is the template, unless the
            # short form CONSTRUCT WHERE { ... } is used.
            nxt = tokens[index + 1] if index + 1 < len(tokens) else None
            skip_template = form == "CONSTRUCT" and nxt is not None and nxt.kind == "open"
            continue
        if seen_form and token.kind == "open" and token.depth == 0:
            if skip_template:
                skip_template = False
                continue
            return token.start + 1
    raise QueryError(f"this {form} query has no WHERE group to bind parameters in")


# ---------------------------------------------------------------------------------------------
# RDF terms written as SPARQL text (for VALUES blocks). Only IRIs and literals, both validated by
# pyoxigraph, are written; the escaping leaves no way out of the quotes or angle brackets.

_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
                   "\f": "\\f"}
_STRING_TABLE = str.maketrans(_STRING_ESCAPES)


def term_to_sparql(term: Term) -> str:
    """A term as SPARQL syntax, for a ``VALUES`` block.

    Raises
    ------
    QueryError
        The term is a blank node or a triple (neither can be bound from outside a query).

    >>> term_to_sparql(ox.Literal('say "}" \\\\ now'))
    '"say \\\\"}\\\\" \\\\\\\\ now"'
    """
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"  # NamedNode rejects <, >, ", {, }, |, ^, `, \ and spaces
    if isinstance(term, ox.Literal):
        body = term.value.translate(_STRING_TABLE)
        if term.language:
            return f'"{body}"@{term.language}'
        if term.datatype.value == XSD + "string":
            return f'"{body}"'
        return f'"{body}"^^<{term.datatype.value}>'
    raise QueryError(f"cannot bind {term} as a parameter: only IRIs and literals can be bound")


def bind(text: str, values: Mapping[str, Term]) -> str:
    """Return the query with ``values`` bound through ``VALUES`` blocks.

    A block binding every value opens the outermost WHERE group, and every nested group that SPARQL
    evaluates on its own (a ``UNION`` branch, a sub-``SELECT``'s WHERE, ``MINUS``, a plain ``{}``)
    gets a block for the variables it uses. ``OPTIONAL`` and ``EXISTS`` groups, and the groups
    inside them, get none: the engine evaluates them with the outer solution, the value included
    (a block there would make pyoxigraph evaluate the group apart and join it afterwards). The variable is then the same constant
    in every group, as if written there: what SPARQL's pre-binding proposal (SEP-0007) means, and
    what lets the engine look the value up inside each group instead of joining it in at the end. Blocks are
    inserted on the line of their ``{``, so line numbers of syntax errors stay those of the text.

    Parameters
    ----------
    text:
        A SPARQL query.
    values:
        Variable name (without ``?``) to RDF term.

    Raises
    ------
    QueryError
        A name is not a SPARQL variable name, a term cannot be bound, or the query has no WHERE
        group.

    >>> bind("SELECT ?n WHERE { ?x <http://e/name> ?n }", {"x": ox.NamedNode("http://e/a")})
    'SELECT ?n WHERE { VALUES (?x) { (<http://e/a>) } ?x <http://e/name> ?n }'
    >>> bind("ASK { { ?x ?p ?o } UNION { ?o ?p ?x OPTIONAL { ?o ?q ?x } } }", {"x": ox.NamedNode("http://e/a")})
    'ASK { VALUES (?x) { (<http://e/a>) } { VALUES (?x) { (<http://e/a>) } ?x ?p ?o } UNION { VALUES (?x) { (<http://e/a>) } ?o ?p ?x OPTIONAL { ?o ?q ?x } } }'
    """
    return _bind(text, values)[0]


def _values_block(names: list[str], values: Mapping[str, Term]) -> str:
    return (" VALUES (" + " ".join(f"?{name}" for name in names) + ") { ("
            + " ".join(term_to_sparql(values[name]) for name in names) + ") }")


@functools.lru_cache(maxsize=512)
def _groups(text: str) -> tuple[int, tuple[tuple[int, frozenset[str]], ...]]:
    """Where parameters are bound in a query, computed once per text: the offset after the ``{``
    of the outermost WHERE group, and each group SPARQL evaluates on its own (offset after its
    ``{``, the variables it uses outside its own VALUES blocks: a VALUES of the query and the
    bound value simply join)."""
    outermost = _where_group_start(text)
    tokens = _token_list(text)
    # Classify every "{": a group graph pattern, a VALUES data block, a CONSTRUCT template or the
    # wrapper of a sub-SELECT; collect the variables each group mentions directly.
    stack: list[tuple[str, int]] = []  # (kind, offset after the brace)
    mentioned: dict[int, set[str]] = {}
    pending_values = False
    for index, token in enumerate(tokens):
        if token.kind == "word" and token.text.upper() == "VALUES":
            pending_values = True
        elif token.kind == "open":
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            previous = tokens[index - 1] if index else None
            if pending_values:
                kind = "data"
                pending_values = False
            elif previous is not None and previous.kind == "word" and previous.text.upper() == "CONSTRUCT":
                kind = "template"
            elif following is not None and following.kind == "word" and following.text.upper() == "SELECT":
                kind = "subselect"
            elif previous is not None and previous.kind == "word" and previous.text.upper() in ("OPTIONAL",
                                                                                               "EXISTS"):
                kind = "sees-outer"  # evaluated with the outer solution, value included
            else:
                kind = "group"  # evaluated on its own: a UNION branch, a sub-SELECT's WHERE, MINUS, ...
            if kind == "group" and any(outer == "sees-outer" for outer, _ in stack):
                kind = "sees-outer"  # inside an OPTIONAL or EXISTS: evaluated with the outer solution too
            stack.append((kind, token.start + 1))
            if kind == "group":
                mentioned.setdefault(token.start + 1, set())
        elif token.kind == "close":
            if stack:
                stack.pop()
        elif token.kind == "var" and stack:
            name = token.text[1:]
            kind, at = stack[-1]
            if pending_values or kind == "data":  # VALUES (?x ?y) { ... } in the query itself
                continue
            # A group evaluated on its own needs the value wherever it uses the variable. An
            # OPTIONAL or EXISTS group is evaluated with the outer solution, value included; a
            # block there would only make the engine evaluate it apart and join afterwards.
            if kind == "group":
                mentioned[at].add(name)
    return outermost, tuple((at, frozenset(names)) for at, names in sorted(mentioned.items()))


def _bind(text: str, values: Mapping[str, Term]) -> tuple[str, list[tuple[int, int]]]:
    """The bound text and its insertions as (offset in ``text``, length)."""
    if not values:
        return text, []
    for name in values:
        if not _VARIABLE_NAME.fullmatch(name):
            raise QueryError(f"{name!r} is not a SPARQL variable name")
    outermost, groups = _groups(text)
    mentioned = dict(groups)
    insertions: dict[int, list[str]] = {outermost: sorted(values)}
    for at, names in mentioned.items():
        bound_here = sorted(names & values.keys())
        if bound_here and at != outermost:
            insertions[at] = bound_here
    pieces = []
    offsets = []
    last = 0
    for at in sorted(insertions):
        block = _values_block(insertions[at], values)
        pieces += [text[last:at], block]
        offsets.append((at, len(block)))
        last = at
    pieces.append(text[last:])
    return "".join(pieces), offsets


_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# ---------------------------------------------------------------------------------------------
# The catalogue


@dataclass(frozen=True)
class Param:
    """One declared parameter of a catalogue query."""

    name: str
    type: str
    default: str | None
    description: str


@dataclass(frozen=True)
class CatalogueQuery:
    """One query of the catalogue (or a query file / text given on the command line)."""

    name: str
    text: str
    title: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    returns: tuple[str, ...] = ()
    path: Path | None = None
    form: str = field(default="SELECT")

    def param(self, name: str) -> Param | None:
        """The declared parameter called ``name``, or ``None``."""
        return next((param for param in self.params if param.name == name), None)


_HEADER_LINE = re.compile(r"#\s*([A-Za-z]+)\s*:\s?(.*)")
_CONTINUATION = re.compile(r"#\s{2,}(\S.*)")
_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z]+)\s+("(?:[^"\\]|\\.)*"|\S+)\s*(.*)')
_HEADER_KEYS = ("title", "description", "param", "returns")


def parse_query_text(text: str, *, name: str = "query", path: Path | None = None) -> CatalogueQuery:
    """Read a query and its header comment (see the module docstring for the format).

    A text without a header is accepted as a query with no title and no declared parameters.

    Raises
    ------
    QueryError
        The header is malformed: unknown key, bad ``param`` line, unknown type, a parameter
        not used in the query, ``returns`` not matching the projection.
    """
    title = description = ""
    params: list[Param] = []
    returns: tuple[str, ...] = ()
    last_key: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        record = f"line {number}"
        continuation = _CONTINUATION.match(stripped)
        header = _HEADER_LINE.match(stripped)
        if continuation and last_key == "description":
            description = f"{description} {continuation.group(1).strip()}"
            continue
        if not header or header.group(1).lower() not in _HEADER_KEYS:
            last_key = None
            continue  # an ordinary comment
        key, value = header.group(1).lower(), header.group(2).strip()
        last_key = key
        if key == "title":
            title = value
        elif key == "description":
            description = value
        elif key == "returns":
            returns = tuple(part.lstrip("?$") for part in value.split())
        elif key == "param":
            match = _PARAM.fullmatch(value)
            if not match:
                raise QueryError("a param line is NAME TYPE DEFAULT DESCRIPTION", path=path, record=record)
            pname, ptype, default, pdescription = match.groups()
            if ptype not in PARAM_TYPES:
                raise QueryError(f"unknown parameter type {ptype!r} (one of {', '.join(PARAM_TYPES)})",
                                 path=path, record=record)
            if not re.search(rf"[?$]{pname}\b", _strip_comments(text)):
                raise QueryError(f"parameter {pname!r} is not used in the query", path=path, record=record)
            if default != "-":
                try:
                    parse_value(default, type=ptype, prefixes=query_prefixes(text), name=pname)
                except QueryError as error:
                    raise QueryError(f"bad default: {error.reason}", path=path, record=record) from error
            params.append(Param(pname, ptype, None if default == "-" else default, pdescription.strip()))
    form = query_form(text)
    query = CatalogueQuery(name=name, text=text, title=title, description=description,
                           params=tuple(params), returns=returns, path=path, form=form)
    if returns and form == "SELECT":
        projected = select_variables(text)
        if projected is not None and list(projected) != list(returns):
            raise QueryError(f"'returns' says {' '.join(returns)} but the query selects "
                             f"{' '.join(projected)}", path=path)
    return query


def _strip_comments(text: str) -> str:
    return " ".join(token.text for token in _tokens(text))


def select_variables(text: str) -> tuple[str, ...] | None:
    """The projected variables of a SELECT query, in order, or ``None`` for ``SELECT *``."""
    tokens = _token_list(text)
    start = next((i for i, t in enumerate(tokens) if t.kind == "word" and t.text.upper() == "SELECT"), None)
    if start is None:
        return ()
    names: list[str] = []
    paren = 0
    after_as = False
    for token in tokens[start + 1:]:
        if token.kind == "open" or (token.kind == "word" and token.text.upper() in ("WHERE", "FROM")):
            break
        if token.text == "*" and paren == 0:
            return None
        if token.text == "(":
            paren += 1
        elif token.text == ")":
            paren -= 1
        elif token.kind == "word" and token.text.upper() == "AS":
            after_as = True
            continue
        elif token.kind == "var" and (paren == 0 or after_as):
            names.append(token.text[1:])
        after_as = False
    return tuple(names)


def load_catalogue(directory: str | Path | None = None) -> dict[str, CatalogueQuery]:
    """Read every ``*.rq`` file of the catalogue, keyed by file stem, sorted by name.

    Parameters
    ----------
    directory:
        The catalogue directory; :data:`DEFAULT_CATALOGUE` by default.

    Raises
    ------
    QueryError
        The directory is missing, or a file has a malformed header or no title.
    """
    folder = Path(directory) if directory is not None else DEFAULT_CATALOGUE
    if not folder.is_dir():
        raise QueryError("no query catalogue here", path=folder)
    catalogue: dict[str, CatalogueQuery] = {}
    for path in sorted(folder.glob("*.rq")):
        query = parse_query_text(path.read_text(encoding="utf-8"), name=path.stem, path=path)
        if not query.title:
            raise QueryError("the header has no '# title:' line", path=path)
        catalogue[path.stem] = query
    return catalogue


def resolve_query(spec: str, *, catalogue: Mapping[str, CatalogueQuery] | None = None,
                  text: bool = False) -> CatalogueQuery:
    """Find the query a user names: a catalogue name, a ``.rq`` file, ``-`` (stdin) or text.

    Parameters
    ----------
    spec:
        The name, path or (with ``text=True``) the query text itself.
    catalogue:
        The catalogue to look names up in (default: :func:`load_catalogue`).
    text:
        ``spec`` is the query text (``d4d query -e``).

    Raises
    ------
    QueryError
        Neither a catalogue name nor a readable file.
    """
    if text:
        return parse_query_text(spec, name="query")
    if spec == "-":
        import sys
        return parse_query_text(sys.stdin.read(), name="stdin")
    if catalogue is None:
        catalogue = load_catalogue() if DEFAULT_CATALOGUE.is_dir() else {}
    if spec in catalogue:
        return catalogue[spec]
    path = Path(spec)
    if path.is_file():
        try:
            body = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise QueryError(f"not UTF-8 text: {exc.reason} at byte {exc.start}", path=path) from exc
        return parse_query_text(body, name=path.stem, path=path)
    raise QueryError(f"no catalogue query or file called {spec!r}; `d4d queries` lists the catalogue")


# ---------------------------------------------------------------------------------------------
# Parameter values


def parse_value(value: str, *, type: str = "term", prefixes: Mapping[str, str] | None = None,
                name: str = "value") -> Term:
    """Turn a parameter value given as text into an RDF term.

    Parameters
    ----------
    value:
        The text: ``https://...``, ``<https://...>``, ``prefix:local`` or a bare slug
        (``datakind``, read as ``d4did:datakind``) for IRIs, the lexical form for literals.
    type:
        One of :data:`PARAM_TYPES`. ``term`` guesses: an IRI in angle brackets or with a
        declared prefix, an integer, a decimal, otherwise a string. A value in double quotes is
        a string for every literal type.
    prefixes:
        Prefix declarations of the query, to expand ``prefix:local``.

    Raises
    ------
    QueryError
        The value is not valid for its type.

    >>> parse_value("d4did:data-pop-alliance", type="iri", prefixes={"d4did": "https://w3id.org/d4d/id/"})
    <NamedNode value=https://w3id.org/d4d/id/data-pop-alliance>
    >>> parse_value("2015", type="integer")
    <Literal value=2015 datatype=<NamedNode value=http://www.w3.org/2001/XMLSchema#integer>>
    """
    prefixes = prefixes or {}
    raw = value
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        if type == "term":
            type = "string"
    try:
        if type == "term":
            if raw.startswith("<") and raw.endswith(">") or _prefixed(raw, prefixes):
                return _iri(raw, prefixes)
            if re.fullmatch(r"[+-]?\d+", raw):
                return ox.Literal(raw, datatype=ox.NamedNode(XSD + "integer"))
            if re.fullmatch(r"[+-]?\d*\.\d+", raw):
                return ox.Literal(raw, datatype=ox.NamedNode(XSD + "decimal"))
            return ox.Literal(raw)
        if type == "iri":
            return _iri(raw, prefixes)
        if type == "string":
            return ox.Literal(raw)
        if type == "integer":
            return ox.Literal(str(int(raw)), datatype=ox.NamedNode(XSD + "integer"))
        if type == "decimal":
            number = Decimal(raw)
            if not number.is_finite():
                raise ValueError("not a finite number")
            return ox.Literal(str(number), datatype=ox.NamedNode(XSD + "decimal"))
        if type == "double":
            return ox.Literal(repr(float(raw)), datatype=ox.NamedNode(XSD + "double"))
        if type == "boolean":
            if raw.lower() not in ("true", "false"):
                raise ValueError("not true or false")
            return ox.Literal(raw.lower(), datatype=ox.NamedNode(XSD + "boolean"))
        if type == "date":
            return ox.Literal(_dt.date.fromisoformat(raw).isoformat(), datatype=ox.NamedNode(XSD + "date"))
    except (ValueError, InvalidOperation) as error:
        raise QueryError(f"parameter {name}: {value!r} is not a valid {type} ({error})") from error
    raise QueryError(f"parameter {name}: unknown type {type!r}")


_SLUG = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def is_slug(value: str) -> bool:
    """A bare slug (``datakind``): read as ``d4did:datakind`` where an IRI is asked for.

    >>> is_slug("data-pop-alliance"), is_slug("d4did:data-pop-alliance"), is_slug("Foundation")
    (True, False, False)
    """
    return bool(_SLUG.fullmatch(value))


def _prefixed(raw: str, prefixes: Mapping[str, str]) -> bool:
    head, colon, _ = raw.partition(":")
    return bool(colon) and head in prefixes


def _iri(raw: str, prefixes: Mapping[str, str]) -> ox.NamedNode:
    if raw.startswith("<") and raw.endswith(">"):
        raw = raw[1:-1]
    elif is_slug(raw):
        raw = SLUG_NAMESPACE + raw
    elif _prefixed(raw, prefixes):
        head, _, local = raw.partition(":")
        raw = prefixes[head] + re.sub(r"\\(.)", r"\1", local)
    elif not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://|(?:urn|tag|mailto|did):", raw):
        # "d4did:x" without a PREFIX d4did would be a valid IRI with the scheme "d4did" and
        # silently match nothing: ask for <...> instead.
        head = raw.partition(":")[0]
        raise ValueError(f"{head!r} is not a prefix declared by the query; write an absolute IRI "
                         f"in <...>")
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", raw):
        raise ValueError("not an absolute IRI")
    return ox.NamedNode(raw)


def resolve_params(query: CatalogueQuery, given: Mapping[str, str]) -> dict[str, Term]:
    """The RDF terms to bind: the given values, then the declared defaults.

    Undeclared names are accepted only for queries that declare no parameters (ad-hoc queries),
    and are then read with type ``term``.

    Raises
    ------
    QueryError
        An unknown parameter for a catalogue query, or an invalid value.
    """
    prefixes = query_prefixes(query.text)
    values: dict[str, Term] = {}
    for name, value in given.items():
        param = query.param(name)
        if param is None and query.params:
            known = ", ".join(p.name for p in query.params)
            raise QueryError(f"{query.name} has no parameter {name!r} (it takes: {known})")
        if param is None and not _VARIABLE_NAME.fullmatch(name):
            raise QueryError(f"{name!r} is not a SPARQL variable name")
        values[name] = parse_value(value, type=param.type if param else "term", prefixes=prefixes,
                                   name=name)
    for param in query.params:
        if param.name not in values and param.default is not None:
            values[param.name] = parse_value(param.default, type=param.type, prefixes=prefixes,
                                             name=param.name)
    return values


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class Result:
    """The answer to one query, from the local store or an endpoint.

    ``form`` is ``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``. A SELECT result holds
    pyoxigraph ``QuerySolutions`` (read once: iterate, or serialise, not both), an ASK result
    ``boolean``, a graph result its triples.
    """

    form: str
    variables: list[str] = field(default_factory=list)
    solutions: ox.QuerySolutions | None = None
    boolean: bool | None = None
    triples: list[ox.Triple] | None = None
    prefixes: dict[str, str] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Term | None]]:
        """SELECT solutions as dicts variable -> term (``None`` when unbound); reads the results."""
        if self.solutions is None:
            raise QueryError(f"a {self.form} query has no rows")
        solutions, self.solutions = self.solutions, None
        # a solution iterates over its values in the order of the variables (None when unbound):
        # zipping them is three times faster than looking each variable up
        names = self.variables
        try:
            return [dict(zip(names, solution)) for solution in solutions]
        except OSError as exc:   # raised by the store while it evaluates (a SERVICE it may not call)
            raise QueryError(f"the query failed as it ran: {exc}") from exc

    def values(self) -> list[dict[str, str | None]]:
        """SELECT solutions with each term as its plain value (IRI text, literal lexical form)."""
        return [{name: None if term is None else term_value(term) for name, term in row.items()}
                for row in self.rows()]


def term_value(term: Term) -> str:
    """The plain text of a term: an IRI's text, a literal's lexical form, ``_:id`` for a blank node."""
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return term.value
    return str(term)


def _compact(iri: str, prefixes: Mapping[str, str]) -> str:
    best: str | None = None
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(namespace) > len(prefixes[best] if best is not None else ""):
            if re.fullmatch(r"(?:\w(?:[\w.-]*[\w-])?)?", iri[len(namespace):]):
                best = prefix
    if best is not None:
        return f"{best}:{iri[len(prefixes[best]):]}"
    return f"<{iri}>"


def display(term: Term | None, prefixes: Mapping[str, str] | None = None) -> str:
    """A term as a table cell: IRIs compacted with the query's prefixes (then
    :data:`DISPLAY_PREFIXES`), literals as their text without datatype or language."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return _compact(term.value, {**DISPLAY_PREFIXES, **(prefixes or {})})
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def to_table(result: Result) -> tuple[list[str], list[list[str]]]:
    """Header and rows of display strings for any result (reads the results).

    ASK gives one column ``ask``; CONSTRUCT/DESCRIBE give ``subject predicate object``.
    """
    if result.form == "ASK":
        return ["ask"], [["true" if result.boolean else "false"]]
    if result.triples is not None:
        return (["subject", "predicate", "object"],
                [[display(t.subject, result.prefixes), display(t.predicate, result.prefixes),
                  display(t.object, result.prefixes)] for t in result.triples])
    return list(result.variables), [[display(row[name], result.prefixes) for name in result.variables]
                                    for row in result.rows()]


def serialize(result: Result, format: str, output: IO[bytes] | None = None) -> bytes | None:
    """Write a result in a W3C results format (SELECT/ASK) or an RDF format (CONSTRUCT/DESCRIBE).

    Parameters
    ----------
    result:
        A :class:`Result` (read by this call).
    format:
        A key of :data:`RESULT_FORMATS` or :data:`GRAPH_FORMATS`.
    output:
        A binary stream to write to; ``None`` returns the bytes.

    Raises
    ------
    QueryError
        The format does not fit the query form, or is unknown.
    """
    if result.form in ("SELECT", "ASK"):
        if format not in RESULT_FORMATS:
            raise QueryError(f"a {result.form} result is written as {', '.join(RESULT_FORMATS)} or table, "
                             f"not {format!r}")
        fmt = RESULT_FORMATS[format]
        if result.form == "ASK":
            data = ox.parse_query_results(
                json.dumps({"head": {}, "boolean": bool(result.boolean)}), ox.QueryResultsFormat.JSON)
            return data.serialize(output, fmt)
        if result.solutions is None:
            raise QueryError("these results have already been read")
        solutions, result.solutions = result.solutions, None
        return solutions.serialize(output, fmt)
    if format not in GRAPH_FORMATS:
        raise QueryError(f"a {result.form} result is RDF: write it as {', '.join(GRAPH_FORMATS)} or table, "
                         f"not {format!r}")
    rdf_format = GRAPH_FORMATS[format]
    triples = result.triples or []
    graph: list[ox.Triple] | list[ox.Quad] = triples
    if rdf_format.supports_datasets:  # N-Quads, TriG: the triples are the default graph
        graph = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
    return ox.serialize(graph, output, rdf_format, prefixes=result.prefixes or None)


# ---------------------------------------------------------------------------------------------
# Execution

_ERROR_AT = re.compile(r"error at (\d+):(\d+):?\s*")
_POSITION = re.compile(r"syntax error at line (\d+), column (\d+):?\s*")


@dataclass(frozen=True)
class Prepared:
    """A query ready to run: the predeclared prefixes it lacks and its bound values added.

    ``text`` runs; ``original`` is what the user wrote; ``insertions`` are the added pieces as
    (offset in ``original``, length), so an error position is reported in the user's text.
    """

    text: str
    original: str
    insertions: tuple[tuple[int, int], ...]

    def syntax_message(self, message: str) -> str:
        """One line for an engine's syntax error on :attr:`text`, positioned in :attr:`original`.

        Takes pyoxigraph's message (``error at L:C: ...``) or one already written as ``syntax
        error at line L, column C: ...``.
        """
        match = _ERROR_AT.search(message) or _POSITION.search(message)
        detail = " ".join(message[match.end():].split()) if match else " ".join(message.split())
        if "Prefix not found" in detail:
            detail = "an undeclared prefix"
        if not match:
            return f"syntax error: {detail}"
        line, column = _original_position(self.original, self.text, list(self.insertions),
                                          int(match.group(1)), int(match.group(2)))
        if detail == "an undeclared prefix":
            found = _prefix_before(self.original, line, column)
            name = ""
            if found is not None:
                name, column = found[0] + ":", found[1]
            detail = (f"the prefix {name} is not declared (add a PREFIX line; declared without one: "
                      f"{', '.join(PREDECLARED)})")
        return f"syntax error at line {line}, column {column}: {detail}"


def _prefix_before(text: str, line: int, column: int) -> tuple[str, int] | None:
    """The prefix of the prefixed name that ends at a position of ``text``, and its column."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    head = lines[line - 1][:max(column - 1, 0)]
    match = re.search(r"([A-Za-z\u00C0-\uFFFF][\w\u00B7-\uFFFF.-]*)?:[\w\u00B7-\uFFFF:%.-]*$", head)
    return (match.group(1) or "", match.start() + 1) if match else None


def prepare(query: CatalogueQuery, values: Mapping[str, Term]) -> Prepared:
    """The text that runs for ``query`` with ``values`` bound (see :func:`bind`), preceded by
    the :data:`PREDECLARED` prefixes it does not declare itself.

    Raises
    ------
    QueryError
        As :func:`bind`.
    """
    bound, insertions = _bind(query.text, values)
    block = prefix_block(query.text)
    if block:
        insertions = [(0, len(block))] + insertions
    return Prepared(block + bound, query.text, tuple(insertions))


def _original_position(original: str, bound: str, insertions: list[tuple[int, int]], line: int,
                       column: int) -> tuple[int, int]:
    """Map a (line, column) of the bound text back to the text the user wrote."""
    if not insertions:
        return line, column
    offset = 0
    for _ in range(line - 1):
        offset = bound.index("\n", offset) + 1
    offset += column - 1
    shift = 0
    for at, length in insertions:
        start = at + shift
        if offset >= start + length:
            shift += length
        elif offset >= start:
            offset = start  # inside a VALUES block: point at its brace
            break
        else:
            break
    position = offset - shift
    return original.count("\n", 0, position) + 1, position - (original.rfind("\n", 0, position) + 1) + 1


def run_query(query: CatalogueQuery | str, *, store: ox.Store | None = None,
              endpoint: str | None = None, params: Mapping[str, str] | None = None,
              bindings: Mapping[str, Term] | None = None, timeout: float = 60.0,
              union_default_graph: bool | None = None) -> Result:
    """Run a query on a local store or a remote SPARQL 1.1 endpoint.

    Parameters
    ----------
    query:
        A :class:`CatalogueQuery` or the query text.
    store:
        The local store (see :func:`d4d.store.open_store`); used unless ``endpoint`` is given.
    endpoint:
        URL of a SPARQL 1.1 Protocol query endpoint (``http://host/sparql``).
    params:
        Parameter values as text (``{"actor": "d4did:data-pop-alliance"}``), read with the
        types the query declares; defaults fill the rest.
    bindings:
        Parameter values already as RDF terms (override ``params``).
    timeout:
        Seconds to wait for a remote endpoint.
    union_default_graph:
        Locally, let the default graph be the union of the store's named graphs (True) or the
        store's default graph (False). The default, None, reads a built store's default graph,
        which holds every triple of its named graphs once, and the union of a store whose default
        graph is empty (see :func:`d4d.store.query_options`); a remote endpoint holding
        ``build/ecosystem.ttl`` in its default graph answers the same.

    Returns
    -------
    Result

    Raises
    ------
    QueryError
        Syntax error (with line and column), a bad parameter, an update instead of a query, or
        an endpoint that fails or cannot be reached.
    """
    parsed = query if isinstance(query, CatalogueQuery) else parse_query_text(query)
    if parsed.form == "UPDATE":
        raise QueryError("this is a SPARQL Update; d4d only runs queries", record=parsed.name)
    values = resolve_params(parsed, params or {})
    values.update(bindings or {})
    prepared = prepare(parsed, values)
    prefixes = query_prefixes(parsed.text)
    if endpoint is None and store is None:
        raise QueryError("no store to query: pass store= or endpoint=")
    for name, given in (params or {}).items():
        value = values.get(name)
        if is_slug(given) and isinstance(value, ox.NamedNode) and name not in (bindings or {}):
            _check_slug(value, given, name=name, store=store, endpoint=endpoint, timeout=timeout,
                        record=parsed.name)
    if endpoint is not None:
        return _run_remote(endpoint, prepared.text, parsed, prefixes, timeout=timeout)
    assert store is not None
    try:
        options = query_options(store) if union_default_graph is None else \
            {"use_default_graph_as_union": union_default_graph}
        answer = store.query(prepared.text, **options)
    except SyntaxError as error:
        raise QueryError(prepared.syntax_message(str(error)), record=parsed.name) from error
    except OSError as error:
        raise QueryError(f"the query failed: {error}", record=parsed.name) from error
    return _result(answer, parsed.form, prefixes)


def _check_slug(iri: ox.NamedNode, slug: str, *, name: str, store: ox.Store | None, endpoint: str | None,
                timeout: float, record: str) -> None:
    """A slug is a guess at a namespace: refuse one that names nothing, rather than answer nothing."""
    ask = parse_query_text("ASK { ?thing ?p ?o }")
    found = run_query(ask, store=store, endpoint=endpoint, bindings={"thing": iri}, timeout=timeout).boolean
    if not found:
        raise QueryError(unknown_slug(name, slug), record=record)


def unknown_slug(name: str, slug: str) -> str:
    """The message for a slug that names nothing in the graph."""
    return f"parameter {name}: no actor called {slug!r} (nothing is said about d4did:{slug})"


def _result(answer: object, form: str, prefixes: dict[str, str]) -> Result:
    if isinstance(answer, ox.QuerySolutions):
        return Result("SELECT", [v.value for v in answer.variables], solutions=answer, prefixes=prefixes)
    if isinstance(answer, ox.QueryBoolean):
        return Result("ASK", boolean=bool(answer), prefixes=prefixes)
    triples = [t if isinstance(t, ox.Triple) else t.triple for t in answer]  # type: ignore[attr-defined]
    return Result(form, triples=triples, prefixes=prefixes)


_RESULTS_ACCEPT = ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
                   "text/tab-separated-values;q=0.8")
_GRAPH_ACCEPT = ("application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8, "
                 "application/ld+json;q=0.5")


def _run_remote(endpoint: str, text: str, query: CatalogueQuery, prefixes: dict[str, str], *,
                timeout: float) -> Result:
    accept = _RESULTS_ACCEPT if query.form in ("SELECT", "ASK") else _GRAPH_ACCEPT
    request = urllib.request.Request(
        endpoint, data=urllib.parse.urlencode({"query": text}).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Accept": accept,
                 "User-Agent": "d4d (SPARQL client)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            media_type = response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        detail = error.read(2000).decode("utf-8", "replace").strip().splitlines()
        first = detail[0] if detail else error.reason
        raise QueryError(f"the endpoint answered {error.code}: {first}", path=endpoint,
                         record=query.name) from error
    except (urllib.error.URLError, OSError) as error:
        raise QueryError(f"cannot reach the endpoint: {error}", path=endpoint, record=query.name) from error
    try:
        if query.form in ("SELECT", "ASK"):
            results_format = ox.QueryResultsFormat.from_media_type(media_type)
            if results_format is None:
                raise QueryError(f"the endpoint answered in {media_type}, not a SPARQL results format",
                                 path=endpoint, record=query.name)
            return _result(ox.parse_query_results(body, results_format), query.form, prefixes)
        rdf_format = ox.RdfFormat.from_media_type(media_type)
        if rdf_format is None:
            raise QueryError(f"the endpoint answered in {media_type}, not an RDF format",
                             path=endpoint, record=query.name)
        triples = [quad.triple for quad in ox.parse(body, rdf_format)]
        return Result(query.form, triples=triples, prefixes=prefixes)
    except (SyntaxError, ValueError) as error:
        raise QueryError(f"the endpoint's answer cannot be read: {error}", path=endpoint,
                         record=query.name) from error


def catalogue_summary(catalogue: Mapping[str, CatalogueQuery]) -> list[dict[str, object]]:
    """The catalogue as plain data (name, title, description, form, params, returns, text)."""
    return [
        {"name": q.name, "title": q.title, "description": q.description, "form": q.form,
         "params": [{"name": p.name, "type": p.type, "default": p.default, "description": p.description}
                    for p in q.params],
         "returns": list(q.returns), "text": q.text}
        for q in catalogue.values()
    ]
