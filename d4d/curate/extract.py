"""``d4d extract``: candidate facts from a document, each citing the sentence it rests on, for review.

How it reads a document
-----------------------
1. The text (:mod:`d4d.curate.snapshot`: a file or URL, plain text, HTML or PDF) is cut into lines and
   each line into sentences by spaCy's blank English pipeline (its tokenizer and rule-based
   sentencizer: no trained model, nothing downloaded).
2. A gazetteer of every name the graph knows — the curated records of ``graph/`` (actors, places,
   roles, with their other names) and, given a built store, the actors of its imported sources — is
   matched with spaCy's ``PhraseMatcher`` (case-insensitive, whatever the quotation marks around a
   nickname). spaCy's ``Matcher`` finds organisations the graph does not know (a run of capitalised
   words ending in "Foundation", "Institute", ... or followed by "of ..."), and people it does not
   know (two or three capitalised words next to a role: "Jane Roe, director of ...").
3. Each sentence is written as a skeleton with a placeholder for each actor, place and role, and the
   relation rules of ``d4d/data/extract.yaml`` (regular expressions over skeletons) propose
   foundings, fundings (with amounts and currencies), incubations, memberships with roles,
   partnerships and support, with their dates.

Every candidate cites its sentence(s) word for word, says its basis (``stated``; ``read`` with a note
where a rule reads more than the words say) and carries a ``review`` field naming the rule that
proposed it — a field the loader does not know, so a draft cannot enter the graph unreviewed.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from d4d.curate.snapshot import Snapshot

_QUOTES = "'\"‘’“”"
_LETTER = {"Person": "P", "Place": "L", "Role": "R"}
_ACTOR_FIELDS = {
    "Founding": ("founder", "founded"), "Funding": ("funder", "recipient"), "Incubation": ("incubator", "incubated"),
    "Support": ("supporter", "supported"), "Partnership": ("partner", "partner"),
    "Membership": ("member", "organization"),
}
"""For each relationship type: the fact-file fields of its two ends (source, target)."""


@dataclass(frozen=True)
class Actor:
    """A name the gazetteer knows or a pattern found: its record id, name, type and whether it is new."""

    id: str
    name: str
    type: str
    new: bool = False
    sector: tuple[str, ...] = ()
    note: str | None = None

    @property
    def letter(self) -> str:
        return _LETTER.get(self.type, "O")


@dataclass
class Gazetteer:
    """Names (as written) -> the actor, place or role they name."""

    names: dict[str, Actor] = field(default_factory=dict)
    _reader: Any = field(default=None, repr=False, compare=False)

    def reader(self) -> _Reader:
        """The spaCy pipeline and matchers for these names (made once)."""
        if self._reader is None:
            self._reader = _Reader(self)
        return self._reader

    def add(self, name: str, actor: Actor) -> None:
        self._reader = None
        name = re.sub(r"\s+", " ", name).strip()
        if len(name) < 2:
            return
        variants = _quote_variants(name)
        if name.startswith("The ") and len(name) > 5:
            # "The Rockefeller Foundation" is "the Rockefeller Foundation" within a sentence
            variants |= {v[4:] for v in variants}
        for variant in variants:
            self.names.setdefault(variant, actor)

    @property
    def actors(self) -> dict[str, Actor]:
        return {a.id: a for a in self.names.values()}


def _quote_variants(name: str) -> set[str]:
    """A name with each style of quotation marks around a nickname (“Sandy”, ‘Sandy’, "Sandy")."""
    out = {name}
    if any(q in name for q in _QUOTES):
        for left, right in (("“", "”"), ("‘", "’"), ('"', '"'), ("'", "'")):
            out.add(re.sub(r"[‘“\"']([^‘’“”\"']+)[’”\"']", lambda m: f"{left}{m.group(1)}{right}", name))
    return out


def record_id(text: str) -> str:
    """An id from a name: ASCII, lower case, words joined by hyphens (a leading "The" dropped).

    >>> record_id("The Rockefeller Foundation")
    'rockefeller-foundation'
    >>> record_id("Emmanuel Letouzé")
    'emmanuel-letouze'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = re.sub(r"^the\s+", "", ascii_text.strip(), flags=re.IGNORECASE)
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "unnamed"


@functools.lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    """The extraction rules of ``d4d/data/extract.yaml``."""
    text = resources.files("d4d").joinpath("data/extract.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def gazetteer_from_graph(project: str | Path = ".", *, graph_dir: str | Path | None = None,
                         ontology_dir: str | Path | None = None, store: Any = None,
                         leave_out: Iterable[str] = ()) -> Gazetteer:
    """The gazetteer of a project: every curated actor, place and role (name and other names) and,
    with ``store`` (a built pyoxigraph store), every actor of its imported sources.

    ``leave_out`` drops records by id (the benchmark leaves out the actors a document introduces).

    Raises
    ------
    FactError, OntologyError
        The curated facts cannot be loaded.
    """
    from rdflib import RDF, URIRef

    from d4d.load import load_facts
    from d4d.ontology import load_ontology
    from d4d.vocab import D4D, ID

    project = Path(project)
    ontology = load_ontology(Path(ontology_dir) if ontology_dir else project / "ontology")
    facts = load_facts(Path(graph_dir) if graph_dir else project / "graph", ontology).graph
    skip = set(leave_out)
    gazetteer = Gazetteer()
    kinds = {v: k for k, v in ontology.record_types.items()}
    for subject, cls in sorted(facts.subject_objects(RDF.type)):
        ident = str(subject)[len(str(ID)):]
        if not isinstance(cls, URIRef):
            continue
        kind = kinds.get(cls)
        if ident in skip or kind is None:
            continue
        if not (ontology.is_subclass(cls, D4D.Agent) or kind in ("Place", "Role")):
            continue
        name = facts.value(subject, D4D.name)
        if name is None:
            continue
        kind_name = "Person" if ontology.is_subclass(cls, D4D.Person) else kind
        actor = Actor(id=ident, name=str(name), type=kind_name)
        for label in [name, *facts.objects(subject, D4D.alternateName)]:
            gazetteer.add(str(label), actor)
    if store is not None:
        for row in store.query("""
            SELECT ?x ?name ?person WHERE {
              GRAPH ?g { ?x <https://w3id.org/d4d/ontology#name> ?name }
              FILTER(STRSTARTS(STR(?g), "https://w3id.org/d4d/graph/source/"))
              BIND(EXISTS { ?x a <https://w3id.org/d4d/ontology#Person> } AS ?person)
            } ORDER BY ?x"""):
            iri = row["x"].value
            ident = iri[len(str(ID)):] if iri.startswith(str(ID)) else iri
            if ident in skip:
                continue
            kind_name = "Person" if row["person"].value == "true" else "Organization"
            gazetteer.add(row["name"].value, Actor(id=ident, name=row["name"].value, type=kind_name))
    return gazetteer


# ---------------------------------------------------------------------------------------------------
# Reading sentences


@dataclass
class _Mention:
    start: int
    end: int
    actor: Actor
    gazetteer: bool


@dataclass
class Sentence:
    """A sentence of the document: its exact text, where it starts, and the actors named in it."""

    text: str
    start: int
    mentions: list[_Mention]


class _Reader:
    """spaCy's blank English pipeline with the gazetteer's PhraseMatcher and the pattern Matcher."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher

        self.nlp = spacy.blank("en")
        self.nlp.add_pipe("sentencizer")
        self.gazetteer = gazetteer
        config = rules()
        # names as written (an organisation's name is capitalised: "Harvard University" is not the
        # "Harvard university-wide" of a sentence); role words in any case
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        self.role_phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        names = sorted(gazetteer.names)
        tokenizer: Any = self.nlp.tokenizer
        for number, doc in enumerate(tokenizer.pipe(names)):
            actor = gazetteer.names[names[number]]
            (self.role_phrases if actor.type == "Role" else self.phrases).add(f"G{number}", [doc])
        self.by_key = {f"G{number}": gazetteer.names[name] for number, name in enumerate(names)}
        known_roles = {a.name.lower() for a in gazetteer.names.values() if a.type == "Role"}
        self.role_words = sorted(set(config["roles"]) - known_roles)
        for number, doc in enumerate(tokenizer.pipe(self.role_words)):
            self.role_phrases.add(f"R{number}", [doc])
        self.org_words = config["organisation_words"]
        self.matcher = Matcher(self.nlp.vocab)
        word = {"TEXT": {"REGEX": r"^([A-Z][\w.&'’]*|-|&)$"}}
        head = {"TEXT": {"IN": sorted(self.org_words)}}
        link = {"LOWER": {"IN": ["of", "for", "on"]}}
        the = {"LOWER": "the", "OP": "?"}
        self.matcher.add("ORG", [
            [{**word, "OP": "+"}, head],
            [{**word, "OP": "*"}, head, link, the, {**word, "OP": "+"}],
        ])
        quote = {"TEXT": {"IN": list(_QUOTES)}}
        self.matcher.add("NAME", [[{"IS_TITLE": True}, {"IS_TITLE": True}],
                                  [{"IS_TITLE": True}, {"IS_TITLE": True}, {"IS_TITLE": True}],
                                  [{"IS_TITLE": True}, quote, {"IS_TITLE": True}, quote, {"IS_TITLE": True}]])
        self.aliases: dict[str, Actor] = {}

    def sentences(self, text: str) -> list[Sentence]:
        """The sentences of a document with the actors, places and roles each names. An abbreviation a
        document gives a new organisation ("Harvard Humanitarian Initiative (HHI)") names it in the
        rest of the document."""
        out = []
        offset = 0
        self.aliases = {}
        for line in text.splitlines(keepends=True):
            body = line.rstrip("\r\n")
            if body.strip():
                doc = self.nlp(body)
                mentions = self._mentions(doc)
                for sent in doc.sents:
                    if not sent.text.strip():
                        continue
                    inside = [m for m in mentions if m.start >= sent.start_char and m.end <= sent.end_char]
                    out.append(Sentence(text=sent.text, start=offset + sent.start_char,
                                        mentions=[_Mention(m.start - sent.start_char, m.end - sent.start_char,
                                                           m.actor, m.gazetteer) for m in inside]))
            offset += len(line)
        return out

    def _mentions(self, doc: Any) -> list[_Mention]:
        spans = []
        for key, start, end in [*self.phrases(doc), *self.role_phrases(doc)]:
            label = self.nlp.vocab.strings[key]
            spans.append(doc[start:end].__class__(doc, start, end, label=label))
        for key, start, end in self.matcher(doc):
            label = self.nlp.vocab.strings[key]
            span = doc[start:end]
            if label == "ORG":
                if span[0].lower_ == "the":
                    span = doc[start + 1:end]
                if len(span) < 2 or span[0].text in ("-", "&"):
                    continue
            spans.append(span.__class__(doc, span.start, span.end, label=label))
        # the names the graph knows first (the longest of overlapping ones), then role words, then
        # the patterns' new organisations and people where they overlap nothing chosen
        def rank(span: Any) -> int:
            label = span.label_
            if label.startswith("G"):
                return 1 if self.by_key[label].type == "Role" else 0
            return {"R": 1, "O": 2, "N": 3}[label[0]]

        spans.sort(key=lambda s: (rank(s), -(s.end - s.start), s.start))
        taken: set[int] = set()
        chosen = []
        for span in spans:
            if taken.isdisjoint(range(span.start, span.end)):
                chosen.append(span)
                taken.update(range(span.start, span.end))
        roles = [s for s in chosen if s.label_.startswith("R") or (s.label_.startswith("G")
                                                                   and self.by_key[s.label_].type == "Role")]
        out = []
        for span in sorted(chosen, key=lambda s: s.start):
            label = span.label_
            if label.startswith("G"):
                actor = self.by_key[label]
            elif label.startswith("R"):
                role = self.role_words[int(label[1:])]
                actor = Actor(id=f"role-{record_id(role)}", name=role[:1].upper() + role[1:], type="Role", new=True,
                              note=f'A role word of d4d/data/extract.yaml: "{role}".')
            elif label == "ORG":
                actor = self._new_organisation(span.text)
            else:
                if not self._next_to_role(span, roles):
                    continue
                actor = Actor(id=record_id(span.text), name=span.text, type="Person", new=True,
                              note="Named next to a role in the sentence; a person the graph does not know.")
            out.append(_Mention(span.start_char, span.end_char, actor, label.startswith("G")))
            after = doc[span.end:span.end + 3]
            if actor.new and len(after) == 3 and after[0].text == "(" and after[2].text == ")" \
                    and re.fullmatch(r"[A-Z][A-Z&]+", after[1].text):
                self.aliases[after[1].text] = actor
        for token in doc:
            if token.text in self.aliases and token.i not in taken:
                out.append(_Mention(token.idx, token.idx + len(token.text), self.aliases[token.text], False))
        return sorted(out, key=lambda m: m.start)

    def _new_organisation(self, name: str) -> Actor:
        words = name.split()
        head = next((w for w in reversed(words) if w in self.org_words), None)
        if head is None or (words[-1] not in self.org_words):
            head = next((w for w in words if w in self.org_words), words[-1])
        kind = self.org_words.get(head, {"type": "Organization", "sector": []})
        return Actor(id=record_id(name), name=name, type=kind["type"], new=True, sector=tuple(kind["sector"]),
                     note=f'Proposed from the word "{head}" in its name: its kind ({kind["type"]}) and sectors '
                          f'({", ".join(kind["sector"])}) are for the editors to confirm.')

    @staticmethod
    def _next_to_role(span: Any, roles: list[Any]) -> bool:
        doc = span.doc
        after = doc[span.end:span.end + 3]
        for role in roles:
            if len(after) >= 2 and after[0].text == "," and role.start in (span.end + 1, span.end + 2):
                return True
            # "demographer (and cartoonist) Jane Roe": a role just before, maybe with a parenthesis between
            between = doc[role.end:span.start]
            if role.end <= span.start and (len(between) == 0 or (between[0].text == "(" and between[-1].text == ")")):
                return True
            # "leadership: Jane Roe, John Doe and Ann Poe": a list of names after a role and a colon
            if role.end < span.start and between[0].text == ":" and all(
                    t.is_title or t.text in (",", "and") or t.text in _QUOTES for t in between[1:]):
                return True
        return False


# ---------------------------------------------------------------------------------------------------
# Relations


@dataclass
class CandidateFact:
    """A proposed fact: its type, fields (ids or values), quotes, the rule and its basis."""

    type: str
    fields: dict[str, list[str]]
    quotes: list[str]
    rule: str
    basis: str = "stated"
    note: str | None = None

    def key(self) -> tuple[Any, ...]:
        return (self.type, tuple(sorted((k, tuple(sorted(v))) for k, v in self.fields.items()
                                        if k not in ("roleTitle", "note"))))


def _skeleton(sentence: Sentence) -> tuple[str, list[Actor]]:
    actors: list[Actor] = []
    parts, last = [], 0
    for mention in sorted(sentence.mentions, key=lambda m: m.start):
        if mention.start < last:
            continue
        parts.append(sentence.text[last:mention.start].replace("⟦", "[").replace("⟧", "]"))
        if mention.actor not in actors:
            actors.append(mention.actor)
        parts.append(f"⟦{mention.actor.letter}:{actors.index(mention.actor)}⟧")
        last = mention.end
    parts.append(sentence.text[last:].replace("⟦", "[").replace("⟧", "]"))
    text = "".join(parts)
    # "Harvard Humanitarian Initiative (HHI)" names one actor twice: one placeholder
    text = re.sub(r"(⟦\w:(\d+)⟧) \(⟦\w:\2⟧\)", r"\1", text)
    return text, actors


@functools.lru_cache(maxsize=1)
def _compiled() -> list[tuple[dict[str, Any], re.Pattern[str]]]:
    macros = {"ORG": r"⟦O:\d+⟧", "PERSON": r"⟦P:\d+⟧", "AGENT": r"⟦[OP]:\d+⟧", "PLACE": r"⟦L:\d+⟧",
              "ROLE": r"⟦R:\d+⟧", "GAP": r"(?:(?!⟦).)*?"}
    macros["LIST"] = rf"{macros['AGENT']}(?:(?:,|,? and|,? &)\s+(?:[Tt]he\s+)?{macros['AGENT']})*"
    macros["PLIST"] = rf"{macros['PERSON']}(?:(?:,|,? and)\s+{macros['PERSON']})*"
    macros["ROLES"] = rf"{macros['ROLE']}(?:(?:,|,? and|,? &)\s+{macros['ROLE']})*"
    return [(rule, re.compile(rule["pattern"].format(**macros))) for rule in rules()["relations"]]


def _ids(group: str, actors: list[Actor]) -> list[Actor]:
    return [actors[int(n)] for n in re.findall(r"⟦\w:(\d+)⟧", group)]


_MONEY = re.compile(r"(?P<cur>US\$|[$£€]|\b(?:USD|GBP|EUR|CHF|CAD|AUD))\s?(?P<num>\d[\d,]*(?:\.\d+)?)"
                    r"(?:\s?(?P<mult>thousand|million|billion|mn|bn|m|k)\b)?")


def _money(text: str) -> tuple[str, str, str | None] | None:
    match = _MONEY.search(text)
    if match is None:
        return None
    config = rules()
    amount = Decimal(match.group("num").replace(",", ""))
    if match.group("mult"):
        amount *= config["multipliers"][match.group("mult").lower()]
    sign = match.group("cur")
    return format(amount.normalize(), "f"), config["currencies"][sign], config["ambiguous_currencies"].get(sign)


def _byline(sentences: list[Sentence]) -> list[Actor]:
    """The authors a document names in its first lines ("... post by A, B and C")."""
    for sentence in sentences[:5]:
        skeleton, actors = _skeleton(sentence)
        by = re.search(r"\bby\b", skeleton)
        if by:
            people = [a for a in _ids(skeleton[by.end():], actors) if a.type == "Person"]
            if people:
                return people
    return []


def candidates(sentences: list[Sentence]) -> list[CandidateFact]:
    """Apply the relation rules to each sentence; the same fact from several sentences is one
    candidate citing each."""
    config = rules()
    founder_roles = {r.lower() for r in config["founder_roles"]}
    byline = _byline(sentences)
    found: dict[tuple[Any, ...], CandidateFact] = {}

    def add(candidate: CandidateFact) -> None:
        key = candidate.key()
        if key in found:
            if candidate.quotes[0] not in found[key].quotes:
                found[key].quotes += candidate.quotes
            return
        found[key] = candidate

    for sentence in sentences:
        skeleton, actors = _skeleton(sentence)
        if not actors:
            continue
        for rule, pattern in _compiled():
            for match in pattern.finditer(skeleton):
                groups = {k: v for k, v in match.groupdict().items() if v is not None}
                kind = rule["type"]
                quote = sentence.text.strip()
                if kind == "Membership":
                    roles = _ids(groups["role"], actors)
                    wording = re.sub(r"⟦\w:(\d+)⟧", lambda m: actors[int(m.group(1))].name.lower(), groups["role"])
                    org = _ids(groups["organization"], actors)[0]
                    behalf = _ids(groups.get("onBehalfOf", ""), actors)
                    for member in _ids(groups["member"], actors):
                        for role in roles:
                            fields = {"member": [member.id], "organization": [org.id], "role": [role.id],
                                      "roleTitle": [wording]}
                            if behalf:
                                fields["onBehalfOf"] = [behalf[0].id]
                            add(CandidateFact("Membership", fields, [quote], rule["name"]))
                            if role.name.lower() in founder_roles:
                                add(CandidateFact("Founding", {"founder": [member.id], "founded": [org.id]}, [quote],
                                              f"{rule['name']} ({role.name.lower()})"))
                    continue
                values: dict[str, list[str]] = {}
                for name, text in groups.items():
                    if name == "date":
                        values["date"] = [text]
                        continue
                    target = "partner" if name == "partner2" else name
                    values.setdefault(target, []).extend(a.id for a in _ids(text, actors))
                basis, note = rule.get("basis", "stated"), None
                quotes = [quote]
                if rule.get("founders") == "byline":
                    if not byline:
                        continue
                    values["founder"] = [a.id for a in byline]
                    note = rule["note"].format(byline=", ".join(a.name for a in byline))
                    first = next(s.text.strip() for s in sentences
                                 if any(m.actor in byline for m in s.mentions))
                    quotes = [quote, first] if first != quote else [quote]
                if kind == "Funding":
                    money = _money(sentence.text)
                    if money is not None:
                        values["amount"], values["currency"] = [money[0]], [money[1]]
                        if money[2]:
                            basis, note = "read", money[2]
                if kind == "Partnership" and len(set(values.get("partner", []))) < 2:
                    continue
                add(CandidateFact(kind, values, quotes, rule["name"], basis=basis, note=note))
    return list(found.values())


# ---------------------------------------------------------------------------------------------------
# The draft


@dataclass
class Draft:
    """The records ``d4d extract`` proposes: the source document (unless the graph has it), the new
    actors and roles, and the candidate facts."""

    source: dict[str, Any] | None
    actors: list[dict[str, Any]]
    facts: list[dict[str, Any]]
    candidates: list[CandidateFact]

    def records(self) -> list[dict[str, Any]]:
        return ([self.source] if self.source else []) + self.actors + self.facts

    def to_yaml(self) -> str:
        header = ("# Draft of d4d extract: candidate facts for review. Check each record against its quotes,\n"
                  "# correct or delete it, set its basis, then remove its 'review' line and move it into graph/.\n")
        return header + yaml.safe_dump(self.records(), sort_keys=False, allow_unicode=True, width=110)


_TYPE_PREFIX = {"Founding": "founding", "Funding": "funding", "Incubation": "incubation", "Support": "support",
                "Partnership": "partnership", "Membership": "membership"}


def extract(snap: Snapshot, gazetteer: Gazetteer, *, source_id: str | None = None,
            known_sources: dict[str, str] | None = None, existing: dict[tuple[Any, ...], str] | None = None,
            taken: Iterable[str] = ()) -> Draft:
    """Propose candidate facts from a document.

    Parameters
    ----------
    snap:
        The document as read (:func:`d4d.curate.snapshot.read`).
    gazetteer:
        The names the graph knows (:func:`gazetteer_from_graph`).
    source_id:
        The id of its SourceDocument record; by default the graph's record with the same SHA-256
        (``known_sources``: sha256 -> id), else a new record with an id from the file name.
    existing:
        Keys of the graph's facts (:meth:`CandidateFact.key`) -> their ids: a candidate the graph already
        has says so in its review line.
    taken:
        Ids already used in the graph; new ids avoid them.

    Returns
    -------
    Draft
    """
    sentences = gazetteer.reader().sentences(snap.text)
    found = candidates(sentences)
    used = set(taken)

    def fresh(base: str) -> str:
        ident, number = base, 2
        while ident in used:
            ident, number = f"{base}-{number}", number + 1
        used.add(ident)
        return ident

    source = None
    sid = source_id or (known_sources or {}).get(snap.sha256)
    if sid is None:
        name = Path(snap.location.split("?")[0].rstrip("/")).stem or "document"
        sid = fresh(f"source-{record_id(name)}")
        title = next((s.text.strip() for s in sentences), name)
        source = {"id": sid, "type": "SourceDocument", "title": title[:200], "fromSeeds": False}
        if re.match(r"^https?://", snap.location):
            source["url"] = snap.location
            source["retrieved"] = snap.retrieved
        source["sha256"] = snap.sha256
        source["review"] = ("keep the text where its licence allows (localFile), else keep url and sha256; "
                            "check the title")

    mentioned: dict[str, tuple[Actor, str]] = {}
    for sentence in sentences:
        for mention in sentence.mentions:
            if mention.actor.new and mention.actor.id not in mentioned:
                mentioned[mention.actor.id] = (mention.actor, sentence.text.strip())
    in_facts = {i for c in found for k, v in c.fields.items() if k not in ("date", "amount", "currency", "roleTitle")
                for i in v}
    renamed: dict[str, str] = {}
    actors = []
    for ident in sorted(in_facts):
        if ident not in mentioned:
            continue
        actor, quote = mentioned[ident]
        new_id = fresh(ident)
        renamed[ident] = new_id
        record: dict[str, Any] = {"id": new_id, "type": actor.type, "basis": "read", "name": actor.name}
        if actor.sector:
            record["sector"] = list(actor.sector)
        if actor.note:
            record["note"] = actor.note
        record["sources"] = [{"source": sid, "quote": quote}]
        record["review"] = "a new record: is it one the graph knows under another name?"
        actors.append(record)

    facts = []
    for candidate in sorted(found, key=lambda c: (c.type, c.key())):
        fields = {k: [renamed.get(i, i) for i in v] if k not in ("date", "amount", "currency", "roleTitle") else v
                  for k, v in candidate.fields.items()}
        ends = _ACTOR_FIELDS[candidate.type]
        base = "-".join([_TYPE_PREFIX[candidate.type], *fields.get(ends[1], [])[:1], *fields.get(ends[0], [])[:1]])
        record = {"id": fresh(base), "type": candidate.type, "basis": candidate.basis}
        order = [*ends, "partner", "role", "roleTitle", "onBehalfOf", "location", "amount", "currency", "date"]
        for key, values in sorted(fields.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99):
            if key == "amount":
                record[key] = int(values[0]) if values[0].isdigit() else float(values[0])
            elif key == "date":
                record[key] = int(values[0]) if values[0].isdigit() else values[0]
            else:
                record[key] = values if (len(values) > 1 or key in ("founder", "partner")) else values[0]
        if candidate.note:
            record["note"] = candidate.note
        record["sources"] = [{"source": sid, "quote": q} for q in candidate.quotes]
        already = (existing or {}).get(candidate.key())
        record["review"] = f"rule {candidate.rule}" + (f"; the graph has this fact as {already}" if already else "")
        facts.append(record)
    return Draft(source=source, actors=actors, facts=facts, candidates=found)


def graph_facts(project: str | Path = ".", *, graph_dir: str | Path | None = None
                ) -> tuple[dict[tuple[Any, ...], str], dict[str, str], set[str], dict[str, list[CandidateFact]]]:
    """What extract compares a draft with, read from the fact files: the keys of the graph's facts
    (-> id), its source documents by SHA-256 (-> id), every id in use, and each source's facts as
    candidates (source id -> candidates; the benchmark's answer key).

    Raises
    ------
    FactError
        A fact file cannot be read.
    """
    from d4d.load import fact_files

    directory = Path(graph_dir) if graph_dir else Path(project) / "graph"
    keys: dict[tuple[Any, ...], str] = {}
    sources: dict[str, str] = {}
    ids: set[str] = set()
    by_source: dict[str, list[CandidateFact]] = defaultdict(list)
    for path in fact_files(directory):
        for record in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            ids.add(str(record.get("id")))
            kind = record.get("type")
            if kind == "SourceDocument" and record.get("sha256"):
                sources[record["sha256"]] = record["id"]
            if kind not in _ACTOR_FIELDS:
                continue
            fields = {}
            for key in (*_ACTOR_FIELDS[kind], "role", "onBehalfOf", "location", "date", "amount", "currency"):
                if key in record:
                    value = record[key]
                    fields[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
            candidate = CandidateFact(kind, fields, [c["quote"] for c in record.get("sources", [])], "graph",
                                  basis=record.get("basis", "stated"))
            keys[candidate.key()] = record["id"]
            for source in {c["source"] for c in record.get("sources", [])}:
                by_source[source].append(candidate)
    return keys, sources, ids, dict(by_source)


# ---------------------------------------------------------------------------------------------------
# Measuring against curated facts


def units(candidate: CandidateFact) -> set[tuple[str, ...]]:
    """The ties a fact asserts, one per pair of actors (and role, for a membership): what recall and
    precision count. A founding without a founder counts as (Founding, "", founded, date)."""
    kind = candidate.type
    src_field, dst_field = _ACTOR_FIELDS[kind]
    if kind == "Partnership":
        partners = sorted(set(candidate.fields.get("partner", [])))
        return {(kind, a, b) for i, a in enumerate(partners) for b in partners[i + 1:]}
    sources = candidate.fields.get(src_field) or [""]
    targets = candidate.fields.get(dst_field) or [""]
    extra: tuple[str, ...] = ()
    if kind == "Membership":
        extra = tuple(candidate.fields.get("role") or [""])[:1]
    elif kind == "Founding" and sources == [""]:
        extra = tuple(candidate.fields.get("date") or [""])[:1]
    return {(kind, s, t, *extra) for s in sources for t in targets}


@dataclass(frozen=True)
class Score:
    """Recall and precision of extracted ties against the curated ones."""

    curated: int
    extracted: int
    matched: int
    stated_curated: int
    stated_matched: int
    missed: tuple[tuple[str, ...], ...]
    extra: tuple[tuple[str, ...], ...]

    @property
    def recall(self) -> float:
        return self.matched / self.curated if self.curated else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.extracted if self.extracted else 1.0

    @property
    def stated_recall(self) -> float:
        return self.stated_matched / self.stated_curated if self.stated_curated else 1.0


def score(extracted: Iterable[CandidateFact], curated: Iterable[CandidateFact],
          same: dict[str, str] | None = None) -> Score:
    """Compare extracted candidates with curated facts, tie by tie (:func:`units`). ``same`` maps a
    proposed new id to the curated id of the actor it names (for a gazetteer that lacked it)."""
    same = same or {}
    got = {tuple(same.get(p, p) for p in u) for c in extracted for u in units(c)}
    want: set[tuple[str, ...]] = set()
    stated: set[tuple[str, ...]] = set()
    for c in curated:
        want |= units(c)
        if c.basis == "stated":
            stated |= units(c)
    return Score(curated=len(want), extracted=len(got), matched=len(want & got), stated_curated=len(stated),
                 stated_matched=len(stated & got), missed=tuple(sorted(want - got)), extra=tuple(sorted(got - want)))
