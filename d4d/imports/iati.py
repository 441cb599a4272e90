"""IATI activity XML (versions 2.01 to 2.03) into the graph, one activity at a time.

What becomes what:

- each ``iati-activity`` -> a :class:`d4d:Project` ``id/iati/activity/<iati-identifier>`` (the
  identifier percent-encoded, case kept) with its identifier (``dcterms:identifier``), its titles and
  descriptions in every language given (``dcterms:title``/``dcterms:description``, BCP 47 tags), its
  start and end dates (actual before planned), its reporting organisation and its parent project
  (related-activity of type parent or child);
- each ``participating-org`` -> a :class:`d4d:Participation` ``<project>/participation/<n>`` (the
  organisation, its role, and the link to its own activity: ``activity-id``);
- each ``transaction`` -> a :class:`d4d:Transaction` ``<project>/transaction/<n>`` with type, value,
  currency, date, provider and receiver organisations and their activities (``provider-activity-id``,
  ``receiver-activity-id``: chains of funding between projects). A transaction of a type that moves
  funding (``d4d/data/iati.yaml``) between two named organisations is also a :class:`d4d:Funding`
  (funder -> recipient), an edge of the network. A missing provider or receiver is not filled in from
  the reporting organisation;
- each organisation (reporting-org, participating-org, provider-org, receiver-org) -> a node by
  :mod:`d4d.imports.identity`, its kind and sectors from its IATI OrganisationType.

Every node cites the file (a SourceDocument) with a locator quote: the activity's iati-identifier and
the element's position. Nothing from ``contact-info`` is read.

Parsing is safe: lxml with entity resolution, network access and DTD loading off and huge trees
refused; a document that declares a DTD is refused outright (IATI files have none), so neither an
entity-expansion bomb nor an external entity can do anything. Each activity element is cleared after
use, so memory stays flat; an activity larger than :data:`d4d.limits.ACTIVITY_BYTES` is reported and
skipped, its elements dropped as they are parsed, so one activity's width costs no more than the bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
from lxml import etree

from d4d.imports.context import (
    DC_DESCRIPTION,
    DC_IDENTIFIER,
    DC_TITLE,
    RDF_TYPE,
    RDFS_LABEL,
    ImportContext,
    OrgMention,
    ResolvedOrg,
    amount_value,
    currency_code,
    d4d,
    data_file,
    date_literal,
    decimal_literal,
    expand_paths,
    language_tag,
    shown,
)
from d4d.imports.identity import slug
from d4d.limits import ACTIVITY_BYTES
from d4d.vocab import ID

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DPORTAL_VERSION = "{http://d-portal.org/xmlns/iati-activities}version"
ACTIVITY_BASE = f"{ID}iati/activity/"
SUFFIXES = (".xml",)


def activity_iri(identifier: str) -> ox.NamedNode:
    """``https://w3id.org/d4d/id/iati/activity/<iati-identifier>``: the same activity in any source is
    one project node.

    >>> activity_iri("XM-DAC-41114-PROJECT-00127336").value
    'https://w3id.org/d4d/id/iati/activity/XM-DAC-41114-PROJECT-00127336'
    """
    return ox.NamedNode(ACTIVITY_BASE + quote(identifier.strip(), safe="-._~"))


def _codes() -> dict[str, Any]:
    codes: dict[str, Any] = data_file("iati.yaml")
    return codes


CHUNK_BYTES = 1 << 16
"""How much of a file the parser is fed at a time (the size of an activity is checked after each)."""


def _parser_options() -> dict[str, Any]:
    return {"resolve_entities": False, "no_network": True, "huge_tree": False, "load_dtd": False,
            "dtd_validation": False, "remove_comments": True, "remove_pis": True}


def read(ctx: ImportContext, paths: Sequence[str | Path]) -> None:
    """Import IATI activity files (or folders of them) into the context's graph.

    Raises
    ------
    SourceError
        A path does not exist; or, when the import is strict, the first record that cannot be read.
    """
    for path in expand_paths(paths, SUFFIXES):
        read_file(ctx, path)


def read_file(ctx: ImportContext, path: Path) -> None:
    """Import one IATI activity file, activity by activity.

    An activity larger than :data:`d4d.limits.ACTIVITY_BYTES` is reported (one problem: its identifier,
    line and the bound) and skipped whole; the activities around it are read as usual. Its elements are
    dropped as they complete once it has passed the bound, and so are the elements outside any activity
    (which d4d does not read), so memory stays bounded whatever the width of either.
    """
    document = ctx.document(path, title=str(ctx.options.get("title") or f"IATI activity file {path.name}"),
                            description="IATI activity XML (iati-activities), imported by d4d")
    seen = 0
    root_checked = False
    fed = 0                          # bytes fed to the parser so far
    open_act: Any = None             # the iati-activity being parsed, if any
    opened_at = 0                    # bytes fed when the chunk holding its start tag was read
    too_large = False                # it has passed ACTIVITY_BYTES: its children are dropped as they come
    dropped_ident: str | None = None # its iati-identifier, if read before it was dropped
    root: Any = None                 # the document's root, once the parser has reported an element
    # the root's start is reported too (when it is iati-activities), so that what lies outside the
    # activities can be dropped from the first chunk on
    parser = etree.XMLPullParser(events=("start", "end"), tag=("iati-activity", "iati-activities"),
                                 **_parser_options())
    # A pull parser fed in chunks, its events read after each one: the activities completed before a
    # syntax error are still read when the error comes (iterparse drops them on libxml2 2.14).
    with path.open("rb") as stream:
        while True:
            chunk = stream.read(CHUNK_BYTES)
            fed += len(chunk)
            error: etree.XMLSyntaxError | None = None
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
            except etree.XMLSyntaxError as exc:
                error = exc
            for event, elem in parser.read_events():
                if not root_checked:
                    root_checked = True
                    if elem.getroottree().docinfo.doctype:
                        ctx.problem(path, "document type declaration",
                                    "the file declares a DTD, which IATI files never do; refused (entities "
                                    "are not expanded)", kind="file")
                        return
                    root = elem.getroottree().getroot()
                if elem.tag != "iati-activity":
                    continue
                if event == "start":
                    if open_act is None:
                        open_act, opened_at, too_large, dropped_ident = elem, fed, False, None
                    continue
                if too_large and elem is not open_act:
                    continue             # an activity nested in the skipped one is part of it
                seen += 1
                try:
                    if too_large:
                        _report_too_large(ctx, path, elem, dropped_ident)
                    else:
                        read_activity(ctx, path, document, elem)
                finally:
                    ctx.record_done()
                    if elem is open_act:
                        open_act = None
                    _release(elem)
            if open_act is not None:
                if fed - opened_at > ACTIVITY_BYTES:
                    too_large = True
                    dropped_ident = dropped_ident or _identifier_read(open_act)
                    _drop_completed(open_act)
            elif root is not None:
                _drop_completed(root)    # outside any activity: elements d4d does not read
            if error is not None:
                line = error.lineno if getattr(error, "lineno", None) else "?"
                ctx.problem(path, f"line {line}", f"not well-formed XML, the rest of the file is skipped: "
                            f"{error.msg}", kind="file")
                return
            if not chunk:
                break
    if seen == 0:
        ctx.problem(path, "file", "no iati-activity element in the file", kind="file")


def _report_too_large(ctx: ImportContext, path: Path, act: Any, ident: str | None) -> None:
    ident = ident or " ".join((act.findtext("iati-identifier") or "").split())
    record = f"iati-activity {ident} at line {act.sourceline}" if ident else f"iati-activity at line {act.sourceline}"
    ctx.problem(path, record, f"larger than the bound of {ACTIVITY_BYTES:,} bytes (d4d.limits.ACTIVITY_BYTES); "
                "skipped", kind="activity")


def _identifier_read(act: Any) -> str | None:
    """The iati-identifier of an activity being parsed, if the parser has read it whole."""
    el = act.find("iati-identifier")
    if el is not None and el.getnext() is not None:   # complete: an element follows it
        return " ".join((el.text or "").split()) or None
    return None


def _drop_completed(node: Any) -> None:
    """Drop what the parser has completed inside an element: at each level of the path it is building,
    every child but the last (which may still be open), so one element per level stays."""
    while len(node):
        last = node[-1]
        del node[:-1]
        node = last


def _release(elem: Any) -> None:
    """Free an activity's subtree and the siblings before it (flat memory on any file size)."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def _narratives(el: Any, default_lang: str | None) -> list[tuple[str, str | None]]:
    """(text, language) of an element's narratives (IATI 2) or of its own text (IATI 1)."""
    if el is None:
        return []
    out = []
    narratives = el.findall("narrative")
    for narrative in narratives:
        text = " ".join((narrative.text or "").split())
        if text:
            out.append((text, language_tag(narrative.get(XML_LANG)) or default_lang))
    if not narratives:
        text = " ".join((el.text or "").split())
        if text:
            out.append((text, language_tag(el.get(XML_LANG)) or default_lang))
    return out


def _first_name(el: Any, default_lang: str | None) -> str | None:
    names = _narratives(el, default_lang)
    return names[0][0] if names else None


def read_activity(ctx: ImportContext, path: Path, document: ox.NamedNode, act: Any) -> None:
    """Import one ``iati-activity`` element."""
    codes = _codes()
    ident = " ".join((act.findtext("iati-identifier") or "").split())
    line = act.sourceline
    if not ident:
        ctx.problem(path, f"iati-activity at line {line}", "no iati-identifier", kind="activity")
        return
    where = f"iati-activity {ident}"
    root = act.getparent()
    raw_lang = act.get(XML_LANG) or (root.get(XML_LANG) if root is not None else None)
    lang = language_tag(raw_lang)
    if raw_lang and raw_lang != lang:
        ctx.warn(path, where, "language code normalised to BCP 47 (lower case, shortest ISO 639 code)")
    default_currency = currency_code(act.get("default-currency"))
    project = activity_iri(ident)

    # Reporting organisation: the publisher, and the scope of the organisations it names without an org-id.
    reporting = act.find("reporting-org")
    reporting_ref = (reporting.get("ref") or "").strip() if reporting is not None else ""
    reporting_name = _first_name(reporting, lang)
    scope = "iati/org/" + slug(reporting_ref or reporting_name or "unknown-publisher")
    reporter: ResolvedOrg | None = None
    if reporting is not None:
        reporter = _organisation(ctx, path, document, reporting, scope, lang, f"{where}, reporting-org")

    # the titles as kept (contact data removed, an over-long one left out): the label, the participations'
    # labels and the citation quote the first
    titles = [(clean, tag) for text, tag in _unique(_narratives(act.find("title"), lang))
              if (clean := ctx.text(text, path=path, record=where))]
    title = titles[0][0] if titles else ident
    ctx.count("activities")
    ctx.add(project, RDF_TYPE, d4d("Project"))
    ctx.add(project, DC_IDENTIFIER, ox.Literal(ident))
    ctx.add(project, RDFS_LABEL, ox.Literal(title))
    for text, tag in titles:
        ctx.add(project, DC_TITLE, ctx.literal(text, tag))
    descriptions = [n for d in act.findall("description") for n in _narratives(d, lang)]
    for text, tag in _unique(descriptions):
        clean = ctx.text(text, path=path, record=where)
        if clean:
            ctx.add(project, DC_DESCRIPTION, ctx.literal(clean, tag))
    if reporter is not None:
        ctx.add(project, d4d("reportingOrganization"), reporter.node)
    dates = {d.get("type"): d.get("iso-date") for d in act.findall("activity-date")}
    for prop, order in (("startDate", codes["activity_dates"]["start"]), ("endDate", codes["activity_dates"]["end"])):
        for code in order:
            literal = date_literal(dates.get(str(code)))
            if literal is not None:
                ctx.add(project, d4d(prop), literal)
                break
    ctx.cite(project, document, f'{where}: "{title}"')

    for number, org in enumerate(act.findall("participating-org"), start=1):
        _participation(ctx, path, document, project, title, org, number, scope, lang, where)
    for number, tx in enumerate(act.findall("transaction"), start=1):
        _transaction(ctx, path, document, project, tx, number, scope, lang, where, default_currency, codes)
    for rel in act.findall("related-activity"):
        kind = codes["related_activity_types"].get((rel.get("type") or "").strip())
        other = (rel.get("ref") or "").strip()
        if not kind or not other:
            ctx.count("related-activities not kept")
            continue
        if kind == "parent":
            ctx.add(project, d4d("parentProject"), activity_iri(other))
        else:
            ctx.add(activity_iri(other), d4d("parentProject"), project)
        ctx.count("parent-child links")


def _unique(items: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _organisation(ctx: ImportContext, path: Path, document: ox.NamedNode, el: Any, scope: str,
                  lang: str | None, where: str) -> ResolvedOrg | None:
    codes = _codes()
    type_code = (el.get("type") or "").strip()
    mapping = codes["organisation_types"].get(type_code) if type_code else None
    if type_code and mapping is None:
        ctx.warn(path, where, f"unknown OrganisationType code {type_code!r}")
    names = [ctx.text(text, path=path, record=where) or "" for text, _ in _narratives(el, lang)]
    clean = names[0] if names else None
    ref = el.get("ref")
    # Names in other languages become alternate names (d4d:alternateName holds plain text).
    mention = OrgMention(ref=ref, name=clean, scope=scope, kind=mapping["kind"] if mapping else None,
                         sectors=mapping["sectors"] if mapping else (), alternate_names=names[1:],
                         quote=f'{where}: ref {(ref or "").strip() or "(none)"} "{clean or ""}"')
    return ctx.organisation(mention, document, path=path, record=where)


def _participation(ctx: ImportContext, path: Path, document: ox.NamedNode, project: ox.NamedNode, title: str,
                   org: Any, number: int, scope: str, lang: str | None, where: str) -> None:
    codes = _codes()
    record = f"{where}, participating-org {number}"
    resolved = _organisation(ctx, path, document, org, scope, lang, record)
    if resolved is None:
        ctx.problem(path, record, "participating-org has neither a ref nor a name", kind="participating-org")
        return
    role_code = (org.get("role") or "").strip()
    role = codes["organisation_roles"].get(role_code)
    node = ox.NamedNode(f"{project.value}/participation/{number}")
    ctx.count("participations")
    ctx.add(node, RDF_TYPE, d4d("Participation"))
    ctx.add(node, d4d("project"), project)
    ctx.add(node, d4d("participant"), resolved.node)
    if role is not None:
        ctx.add(node, d4d("participationRole"), ox.Literal(role["name"]))
    else:
        ctx.warn(path, record, f"unknown or missing organisation role {role_code!r}: role not kept")
    ctx.add(node, RDFS_LABEL, ox.Literal(f"{role['name'] if role else 'Participant'}: {resolved.name} — {title}"))
    activity_id = (org.get("activity-id") or "").strip()
    if not activity_id and org.get("provider-activity-id"):
        activity_id = org.get("provider-activity-id").strip()
        ctx.warn(path, record, "participating-org/@provider-activity-id read as its activity-id")
    if activity_id:
        link = role.get("activity_link") if role else None
        if link:
            ctx.add(node, d4d(link), activity_iri(activity_id))
        else:
            ctx.count("participant activity-ids not kept")
    ctx.cite(node, document, f'{record}: role {role_code or "(none)"}, ref {(org.get("ref") or "").strip() or "(none)"} "{resolved.name}"')


def _transaction(ctx: ImportContext, path: Path, document: ox.NamedNode, project: ox.NamedNode, tx: Any,
                 number: int, scope: str, lang: str | None, where: str, default_currency: str | None,
                 codes: dict[str, Any]) -> None:
    record = f"{where}, transaction {number}"
    type_el = tx.find("transaction-type")
    code = (type_el.get("code") or "").strip() if type_el is not None else ""
    if not code and type_el is not None and (type_el.text or "").strip():
        code = type_el.text.strip()
        ctx.warn(path, record, "transaction type read from the element text (no @code)")
    tx_type = codes["transaction_types"].get(code)
    if tx_type is None:
        ctx.problem(path, record, f"unknown or missing transaction type {code!r}", kind="transaction")
        return

    date = None
    date_el = tx.find("transaction-date")
    if date_el is not None:
        date = date_literal(date_el.get("iso-date"))
        if date is None and date_literal(date_el.text) is not None:
            date = date_literal(date_el.text)
            ctx.warn(path, record, "transaction date read from the element text (its iso-date is not a date)")
    value_el = tx.find("value")
    if date is None and value_el is not None and date_literal(value_el.get("value-date")) is not None:
        date = date_literal(value_el.get("value-date"))
        ctx.warn(path, record, "transaction date taken from value/@value-date")
    amount, why = amount_value(value_el.text if value_el is not None else None)
    given = value_el.get("currency") if value_el is not None else None
    currency = currency_code(given) if given else default_currency
    act_currency = tx.getparent().get("default-currency") if tx.getparent() is not None else None
    if why is not None:
        ctx.warn(path, record, f"transaction value {why}: no amount",
                 detail=shown((value_el.text or "").strip()) if value_el is not None and why != "is missing" else None)
        amount = None
    elif currency is None:
        if given:
            ctx.warn(path, record, "value/@currency is not an ISO 4217 code: no amount", detail=shown(given))
        elif act_currency:
            ctx.warn(path, record, "default-currency is not an ISO 4217 code: no amount", detail=shown(act_currency))
        else:
            ctx.warn(path, record, "transaction value without a currency: no amount")
        amount = None

    node = ox.NamedNode(f"{project.value}/transaction/{number}")
    ctx.count("transactions")
    ctx.add(node, RDF_TYPE, d4d("Transaction"))
    ctx.add(node, d4d("project"), project)
    ctx.add(node, d4d("transactionType"), ox.Literal(tx_type["name"]))
    if date is not None:
        ctx.add(node, d4d("date"), date)
    if amount is not None and currency is not None:
        ctx.add(node, d4d("amount"), decimal_literal(amount))
        ctx.add(node, d4d("currency"), ox.Literal(currency))
    descriptions = _narratives(tx.find("description"), lang)
    for text, tag in _unique(descriptions):
        clean = ctx.text(text, path=path, record=record)
        if clean:
            ctx.add(node, DC_DESCRIPTION, ctx.literal(clean, tag))

    parties: dict[str, ResolvedOrg | None] = {}
    for role, prop, activity_attr, activity_prop in (
            ("provider-org", "provider", "provider-activity-id", "providerProject"),
            ("receiver-org", "receiver", "receiver-activity-id", "receiverProject")):
        el = tx.find(role)
        parties[role] = None
        activity_id = ""
        if el is not None:
            ctx.count(role + "s")
            resolved = _organisation(ctx, path, document, el, scope, lang, f"{record}, {role}")
            parties[role] = resolved
            if resolved is not None:
                ctx.add(node, d4d(prop), resolved.node)
            else:
                ctx.warn(path, f"{record}, {role}", f"{role} has neither a ref nor a name")
            activity_id = (el.get(activity_attr) or "").strip()
        if not activity_id and tx.get(activity_attr):
            activity_id = tx.get(activity_attr).strip()
            ctx.warn(path, record, f"transaction/@{activity_attr} read as the {role}'s activity")
        if activity_id:
            ctx.add(node, d4d(activity_prop), activity_iri(activity_id))
            ctx.count(activity_attr + " links")

    provider, receiver = parties["provider-org"], parties["receiver-org"]
    names = f"{provider.name if provider else '?'} → {receiver.name if receiver else '?'}"
    if tx_type["funding"] and provider is not None and receiver is not None:
        ctx.add(node, RDF_TYPE, d4d("Funding"))
        ctx.add(node, d4d("funder"), provider.node)
        ctx.add(node, d4d("recipient"), receiver.node)
        ctx.count("fundings")
    ctx.add(node, RDFS_LABEL, ox.Literal(f"{tx_type['name']}: {names}"))
    value_text = f"{value_el.text.strip()} {currency or ''}".strip() if value_el is not None and (value_el.text or "").strip() else "no value"
    date_text = date.value if date is not None else "no date"
    ctx.cite(node, document, f"{record}: {tx_type['name']} ({code}), {date_text}, {value_text}, {names}")
