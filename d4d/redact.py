"""Redaction for export: every person replaced by their public role.

:func:`redact_people` copies a built store with each person (``d4d:Person``) replaced by a node
``d4did:person-N`` named after the roles the graph gives them ("Director (Data-Pop Alliance)"), or
"Author (SSIR)" for an author, "Person" when the graph gives none. The person's own statements other
than their type and name are dropped (descriptions, other names, web addresses, citations); in every
other text of the graph (quotes, titles, labels) each of their names, their other names and the
last word of each (the family name) is replaced by the role in square brackets; in every record id
the person's id and its words are replaced by ``person-N`` (``membership-letouze-...`` becomes
``membership-person-1-...``). Names are matched whatever the quotation marks around a nickname
(“Sandy”, ‘Sandy’) and the spacing.

Every export format is written from the redacted copy, so they all redact alike.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pyoxigraph as ox

from d4d.vocab import ID

D4D_NS = "https://w3id.org/d4d/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_QUOTES = "'\"‘’“”«»"


def _names(store: ox.Store, node: Any, predicates: tuple[str, ...]) -> list[str]:
    out = []
    for predicate in predicates:
        for quad in store.quads_for_pattern(node, ox.NamedNode(predicate), None, None):
            if isinstance(quad.object, ox.Literal):
                out.append(quad.object.value)
    return sorted(set(out))


def _label(store: ox.Store, node: Any) -> str:
    if isinstance(node, ox.NamedNode):
        for predicate in (D4D_NS + "name", "http://www.w3.org/2000/01/rdf-schema#label"):
            names = _names(store, node, (predicate,))
            if names:
                return names[0]
        return node.value.rsplit("/", 1)[-1]
    return str(getattr(node, "value", node))


def _roles(store: ox.Store, person: ox.NamedNode) -> str:
    """The public roles of a person as text: memberships (role or title, and organisation), else authorship."""
    roles = set()
    for quad in store.quads_for_pattern(None, ox.NamedNode(D4D_NS + "member"), person, ox.DefaultGraph()):
        membership = quad.subject
        orgs = [_label(store, q.object) for q in store.quads_for_pattern(
            membership, ox.NamedNode(D4D_NS + "organization"), None, ox.DefaultGraph())]
        titles = [_label(store, q.object) for q in store.quads_for_pattern(
            membership, ox.NamedNode(D4D_NS + "role"), None, ox.DefaultGraph())]
        if not titles:
            titles = _names(store, membership, (D4D_NS + "roleTitle",)) or ["Member"]
        for title in titles:
            roles.add(f"{title} ({', '.join(sorted(orgs))})" if orgs else title)
    if not roles:
        for quad in store.quads_for_pattern(None, ox.NamedNode(D4D_NS + "author"), person, ox.DefaultGraph()):
            outlets = [_label(store, q.object) for q in store.quads_for_pattern(
                quad.subject, ox.NamedNode(D4D_NS + "outlet"), None, ox.DefaultGraph())]
            outlets += [_label(store, q.object) for q in store.quads_for_pattern(
                quad.subject, ox.NamedNode(D4D_NS + "publishedBy"), None, ox.DefaultGraph())]
            roles.add(f"Author ({', '.join(sorted(set(outlets)))})" if outlets else "Author")
    return "; ".join(sorted(roles)) or "Person"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub("[" + _QUOTES + "]", "'", text)).strip().lower()


def _variants(names: list[str]) -> set[str]:
    """A person's names as matched in text: each name and the last word of each (the family name)."""
    out = set()
    for name in names:
        words = name.split()
        if words:
            out.add(name.strip())
            last = words[-1].strip(_QUOTES)
            if len(last) > 1:
                out.add(last)
    return out


def _regex(variant: str) -> str:
    pieces = re.split(r"(\s+|[" + _QUOTES + "])", variant)
    return "".join(r"\s+" if p.isspace() else "[" + re.escape(_QUOTES) + "]" if p in _QUOTES else re.escape(p)
                   for p in pieces if p)


class PeopleRedaction:
    """How a store's people are replaced: their new ids, their roles, the patterns of their names.

    ``iri``, ``text`` and ``value`` redact an IRI, a text, or a JSON-like value (the analysis output:
    keys and strings); ``store`` makes the redacted copy of the store.
    """

    def __init__(self, store: ox.Store) -> None:
        self.people = people = sorted({q.subject.value for q in store.quads_for_pattern(
            None, ox.NamedNode(RDF_TYPE), ox.NamedNode(D4D_NS + "Person"), None) if isinstance(q.subject, ox.NamedNode)})
        base = str(ID)
        replacement: dict[str, ox.NamedNode] = {}
        roles: dict[str, str] = {}
        names: dict[str, list[str]] = {}
        tokens: dict[str, str] = {}
        for number, iri in enumerate(people, start=1):
            node = ox.NamedNode(iri)
            new = f"person-{number}"
            replacement[iri] = ox.NamedNode(base + new)
            roles[iri] = _roles(store, node)
            names[iri] = _names(store, node, (D4D_NS + "name", D4D_NS + "alternateName"))
            if iri.startswith(base):
                slug = iri[len(base):]
                tokens[slug] = new
                for word in slug.split("-"):
                    if len(word) > 2:
                        tokens.setdefault(word, new)
        by_variant: dict[str, str] = {}
        for iri in people:
            for variant in _variants(names[iri]):
                key = _norm(variant)
                # a word two people share (a family name) names neither: it becomes [Person]
                by_variant[key] = f"[{roles[iri]}]" if by_variant.get(key, f"[{roles[iri]}]") == f"[{roles[iri]}]" \
                    else "[Person]"
        names_pattern = re.compile(r"(?<!\w)(?:" + "|".join(_regex(v) for v in sorted(
            {v for iri in people for v in _variants(names[iri])}, key=len, reverse=True)) + r")(?!\w)",
            re.IGNORECASE) if by_variant else None
        token_pattern = re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))
                                   + r")(?![a-z0-9])") if tokens else None
        name_values = {iri: {re.sub(r"\s+", " ", n).strip() for n in names[iri]} for iri in people}

        self.base, self.replacement, self.roles, self.tokens = base, replacement, roles, tokens
        self.by_variant, self.names_pattern, self.token_pattern = by_variant, names_pattern, token_pattern
        self.name_values = name_values
        self.source = store

    def iri(self, value: str) -> str:
        """An IRI with each person's id (and its words, inside a record id) replaced."""
        if value in self.replacement:
            return self.replacement[value].value
        if self.token_pattern is not None and value.startswith(self.base):
            return self.base + self.token_pattern.sub(lambda m: self.tokens[m.group(1)], value[len(self.base):])
        return value

    def text(self, value: str) -> str:
        """A text with each person's names replaced by their roles in brackets."""
        if self.names_pattern is None:
            return value
        return self.names_pattern.sub(lambda m: self.by_variant.get(_norm(m.group(0)), "[Person]"), value)

    def value(self, data: Any) -> Any:
        """A JSON-like value (mappings, lists, strings) redacted: IRIs as :meth:`iri`, texts as :meth:`text`."""
        if isinstance(data, dict):
            return {self.value(k): self.value(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.value(v) for v in data]
        if isinstance(data, str):
            return self.iri(data) if data.startswith("http") else self.text(data)
        return data

    def store(self) -> ox.Store:
        """The redacted copy of the store (in memory)."""
        store, people, replacement = self.source, self.people, self.replacement

        def term(t: Any) -> Any:
            if isinstance(t, ox.NamedNode):
                return ox.NamedNode(self.iri(t.value))
            if isinstance(t, ox.Literal):
                value = self.text(t.value)
                if value == t.value:
                    return t
                if t.language:
                    return ox.Literal(value, language=t.language)
                return ox.Literal(value, datatype=t.datatype)
            return t

        own_citations: dict[str, set[str]] = defaultdict(set)
        for iri in people:
            for quad in store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(D4D_NS + "citation"), None, None):
                if isinstance(quad.object, ox.NamedNode):
                    own_citations[iri].add(quad.object.value)
        dropped = set().union(*own_citations.values()) if own_citations else set()

        out = ox.Store()
        kept = []
        for quad in store.quads_for_pattern(None, None, None, None):
            subject = quad.subject
            if isinstance(subject, ox.NamedNode) and subject.value in dropped:
                continue
            if isinstance(quad.object, ox.NamedNode) and quad.object.value in dropped:
                continue
            if isinstance(subject, ox.NamedNode) and subject.value in replacement:
                person = subject.value
                if quad.predicate.value == RDF_TYPE:
                    kept.append(ox.Quad(replacement[person], quad.predicate, quad.object, quad.graph_name))
                elif isinstance(quad.object, ox.Literal) and \
                        re.sub(r"\s+", " ", quad.object.value).strip() in self.name_values[person]:
                    kept.append(ox.Quad(replacement[person], quad.predicate, ox.Literal(self.roles[person]),
                                        quad.graph_name))
                continue
            graph = quad.graph_name
            kept.append(ox.Quad(term(subject), quad.predicate, term(quad.object),
                                term(graph) if isinstance(graph, ox.NamedNode) else graph))
        out.extend(kept)
        return out


def redact_people(store: ox.Store) -> ox.Store:
    """A copy of ``store`` (in memory) with every person replaced by their role (see the module).

    >>> s = ox.Store()
    >>> p, m, o = ox.NamedNode(str(ID["jane-roe"])), ox.NamedNode(str(ID["membership-roe"])), ox.NamedNode(str(ID["acme"]))
    >>> name, org = ox.NamedNode(D4D_NS + "name"), ox.NamedNode(D4D_NS + "organization")
    >>> s.extend([ox.Quad(p, ox.NamedNode(RDF_TYPE), ox.NamedNode(D4D_NS + "Person")),
    ...           ox.Quad(p, name, ox.Literal("Jane Roe")), ox.Quad(o, name, ox.Literal("Acme")),
    ...           ox.Quad(m, ox.NamedNode(D4D_NS + "member"), p), ox.Quad(m, org, o),
    ...           ox.Quad(m, ox.NamedNode(D4D_NS + "roleTitle"), ox.Literal("chair")),
    ...           ox.Quad(m, ox.NamedNode(D4D_NS + "note"), ox.Literal("Roe chairs Acme."))])
    >>> sorted(str(q.object.value) for q in redact_people(s) if isinstance(q.object, ox.Literal))
    ['Acme', '[chair (Acme)] chairs Acme.', 'chair', 'chair (Acme)']
    """
    return PeopleRedaction(store).store()
