"""Importer of the Civic Graph (Microsoft TCE's ``civic.json``, ca. 2015): ``kind: civic``.

Each node whose ``type`` ``d4d/data/civic.yaml`` maps to a kind (For-Profit, Non-Profit, Government)
becomes an organisation local to the source. The file repeats organisations (Microsoft Corporation is
35 nodes, each with the same website and place): nodes with the same name (case and punctuation folded)
and the same places are one organisation, ``id/civic/org/<name folded>``; a name given to nodes in
different places makes one organisation per place (``id/civic/org/<name>--<places>``). Its locations
become places (``id/civic/place/<name folded>``), which reconciliation compares.

Each connection of the four lists becomes a relationship of the class the mapping names:
``funding_connections`` a Funding, ``investment_connections`` an Investment (for a ``Received`` edge
the ``source`` received from the ``target``: "Berkman Center -> Ford Foundation" is a funding of the
Berkman Center by the Ford Foundation), ``collaboration_connections`` a Collaboration and
``data_connections`` a DataSharing (the file does not say which way data flows): ``id/civic/<list>/<n>``,
``n`` the connection's place in its list. A funding's year becomes its date. Its amount is not
stated as an amount: the file gives no currency (the citation quotes it).

People: Individual nodes and Unknown nodes (many are people's names), ``key_people``, Twitter handles
and follower counts are never read; the connections that touch a node left out are counted and skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from d4d.errors import SourceError
from d4d.imports.context import (
    read_json,
    RDF_TYPE,
    RDFS_LABEL,
    ImportContext,
    OrgMention,
    ResolvedOrg,
    d4d,
    data_file,
    date_literal,
    expand_paths,
)
from d4d.imports.identity import slug
from d4d.vocab import ID


def _load(path: Path) -> dict[str, Any]:
    shape = "the Civic Graph is a JSON object with a 'nodes' list"
    data: dict[str, Any] = read_json(path, dict, shape)
    if not isinstance(data.get("nodes"), list):
        raise SourceError(shape, path=path)
    return data


def read(ctx: ImportContext, paths: Sequence[str | Path]) -> None:
    """Import ``civic.json`` (the file, or a folder holding it).

    Raises
    ------
    SourceError
        The file is missing or is not the Civic Graph's JSON; or, when strict, a record cannot be read.
    """
    rules = data_file("civic.yaml")
    title = str(ctx.options.get("title") or "The Civic Graph (Microsoft TCE)")
    for path in expand_paths(paths, (".json",)):
        data = _load(path)
        doc = ctx.document(path, title=f"{title}: {path.name}",
                           description="The Civic Graph of Microsoft Technology and Civic Engagement, imported by d4d")
        nodes = _nodes(ctx, path, doc, data["nodes"], rules)
        for listed, mapping in rules["connections"].items():
            edges = data.get(listed) or []
            if not isinstance(edges, list):
                ctx.problem(path, listed, "a connection list is not a list", kind="connection")
                continue
            for number, edge in enumerate(edges, start=1):
                _connection(ctx, path, doc, listed, number, edge, mapping, nodes)
                ctx.record_done()


def _nodes(ctx: ImportContext, path: Path, doc: ox.NamedNode, records: list[Any],
           rules: dict[str, Any]) -> dict[int, ResolvedOrg | None]:
    """Node ID -> its organisation, or None for a node left out (a person, an unknown)."""
    out: dict[int, ResolvedOrg | None] = {}
    keys = _organisation_keys(records)
    for number, record in enumerate(records, start=1):
        where = f"node {number}"
        if not isinstance(record, dict) or not isinstance(record.get("ID"), int):
            ctx.problem(path, where, "a node without an integer ID", kind="node")
            continue
        node_id = record["ID"]
        where = f"node ID {node_id}"
        if node_id in out:
            ctx.problem(path, where, "a node ID given twice", kind="node")
            continue
        node_type = record.get("type")
        if node_type not in rules["node_types"]:
            ctx.problem(path, where, f"unknown node type {node_type!r}", kind="node")
            continue
        mapping = rules["node_types"][node_type]
        if mapping is None:
            out[node_id] = None
            ctx.count(f"nodes left out ({node_type})")
            ctx.record_done()
            continue
        name = ctx.text(record.get("name"), path=path, record=where)
        if not name:
            ctx.problem(path, where, "an organisation without a name", kind="node")
            continue
        nickname = ctx.text(record.get("nickname"), path=path, record=where)
        mention = OrgMention(ref=None, name=name, scope="civic/org", local_key=keys[node_id],
                             keys=[("civic", keys[node_id])], kind=mapping["kind"], sectors=mapping["sectors"],
                             alternate_names=[nickname] if nickname and nickname != name else [],
                             url=record.get("url"), quote=f'civic.json node ID {node_id}: "{name}", type {node_type}')
        org = ctx.organisation(mention, doc, path=path, record=where)
        out[node_id] = org
        if org is None:
            continue
        ctx.count_distinct(f"organisations ({node_type})", org.node.value)
        for place in record.get("location") or []:
            text = ctx.text(place.get("location") if isinstance(place, dict) else None, path=path, record=where)
            if text:
                _place(ctx, doc, org, text, node_id)
        ctx.record_done()
    return out


def _places(record: dict[str, Any]) -> tuple[str, ...]:
    found = {" ".join(str(p.get("location") or "").split()).strip(" ,").casefold()
             for p in record.get("location") or [] if isinstance(p, dict)}
    return tuple(sorted(found - {""}))


def _organisation_keys(records: list[Any]) -> dict[int, str]:
    """Node ID -> the key of its organisation: its name folded, and its places when the name is given
    to nodes in different places."""
    named: dict[int, tuple[str, tuple[str, ...]]] = {}
    for record in records:
        if isinstance(record, dict) and isinstance(record.get("ID"), int) and isinstance(record.get("name"), str):
            named[record["ID"]] = (slug(record["name"]), _places(record))
    place_sets: dict[str, set[tuple[str, ...]]] = {}
    for name, places in named.values():
        place_sets.setdefault(name, set()).add(places)
    return {node_id: name if len(place_sets[name]) == 1 else f"{name}--{slug(' '.join(places) or 'no place')}"
            for node_id, (name, places) in named.items()}


def _place(ctx: ImportContext, doc: ox.NamedNode, org: ResolvedOrg, text: str, node_id: int) -> None:
    text = text.rstrip(" ,")
    node = ox.NamedNode(f"{ID}civic/place/{slug(text)}")
    if ctx.add_once(node, RDF_TYPE, d4d("Place")):
        ctx.count("places")
        ctx.add(node, d4d("name"), ox.Literal(text))
        ctx.add(node, RDFS_LABEL, ox.Literal(text))
        ctx.cite(node, doc, f'civic.json node ID {node_id}: location "{text}"')
    ctx.add_once(org.node, d4d("location"), node)


def _connection(ctx: ImportContext, path: Path, doc: ox.NamedNode, listed: str, number: int, edge: Any,
                mapping: dict[str, str], nodes: dict[int, ResolvedOrg | None]) -> None:
    where = f"{listed} {number}"
    kind = listed.replace("_connections", " connections")
    if not isinstance(edge, dict) or not isinstance(edge.get("source"), int) or not isinstance(edge.get("target"), int):
        ctx.problem(path, where, "a connection without integer source and target", kind=kind)
        return
    source_id, target_id = edge["source"], edge["target"]
    ends = []
    for end in (source_id, target_id):
        if end not in nodes:
            ctx.problem(path, where, f"names node ID {end}, which is not a node of the file", kind=kind)
            return
        ends.append(nodes[end])
    source, target = ends
    if source is None or target is None:
        ctx.count(f"{kind} left out (a node left out)")
        return
    if source.node == target.node:
        ctx.warn(path, where, "a connection of an organisation with itself (left out)")
        return
    cls = mapping["class"]
    node = ox.NamedNode(f"{ID}civic/{listed.replace('_connections', '')}/{number}")
    ctx.add(node, RDF_TYPE, d4d(cls))
    quote = f"civic.json {where}: source {source_id} ({source.name}), target {target_id} ({target.name})"
    if "both" in mapping:
        ctx.add(node, d4d(mapping["both"]), source.node)
        ctx.add(node, d4d(mapping["both"]), target.node)
        ctx.add(node, RDFS_LABEL, ox.Literal(f"{cls}: {source.name} — {target.name}"))
    else:
        direction = edge.get("type")
        if direction == "Received":
            giver, receiver = target, source
        elif direction == "Given":
            giver, receiver = source, target
        else:
            ctx.problem(path, where, f"type {direction!r} is neither Received nor Given", kind=kind)
            return
        ctx.add(node, d4d(mapping["giver"]), giver.node)
        ctx.add(node, d4d(mapping["receiver"]), receiver.node)
        ctx.add(node, RDFS_LABEL, ox.Literal(f"{cls}: {giver.name} → {receiver.name}"))
        quote += f", type {direction}"
        year = edge.get("year")
        date = date_literal(str(year)) if isinstance(year, int) and not isinstance(year, bool) else None
        if date is not None:
            ctx.add(node, d4d("date"), date)
            quote += f", year {year}"
        amount = edge.get("amount")
        if isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount > 0:
            quote += f", amount {amount} (no currency given)"
    ctx.count(kind)
    ctx.cite(node, doc, quote)
