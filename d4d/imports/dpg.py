"""Importer of the Digital Public Goods Alliance registry (``publicgoods-api``): ``kind: dpg``.

Each product of ``dpgs/index.json`` (stage ``DPG``) and ``nominees/index.json`` (stage ``nominee``)
becomes a project of the class its stage maps to in ``d4d/data/dpg.yaml`` (``DigitalPublicGood``,
``DigitalPublicGoodNominee``): ``id/dpg/<product id>``, with its name, description and website. Each of
its organisation entries becomes an organisation and a participation in the product in the role its
``org_type`` maps to (owner, maintainer, funder, implementer): ``id/dpg/<product id>/<role>/<org>``.

The registry gives organisations no identifier: an organisation is local to the registry and keyed by
its name (``id/dpg/org/<name folded>``), so the 12 products of "UNICEF Ventures Fund" share one node;
the crosswalk (scheme ``dpg``, the name) and ``d4d reconcile`` join it to other sources.

People: the entries' ``contact_name`` and ``contact_email`` are a real person's name and address. They
are never read (the mapping file lists the fields that are): no person enters the graph from the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from d4d.errors import SourceError
from d4d.imports.context import (
    read_json,
    DC_DESCRIPTION,
    DC_IDENTIFIER,
    DC_TITLE,
    RDF_TYPE,
    RDFS_LABEL,
    ImportContext,
    OrgMention,
    d4d,
    data_file,
    url_literal,
)
from d4d.imports.identity import key_segment, slug
from d4d.vocab import ID


def _files(paths: Sequence[str | Path]) -> list[Path]:
    """The registry's index files: from its folder (both), or as given."""
    names = data_file("dpg.yaml")["files"]
    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found = [path / rel for rel in names.values() if (path / rel).is_file()]
            if not found:
                raise SourceError(f"no {' or '.join(names.values())} in this folder", path=path)
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise SourceError("no such file or folder", path=path)
    return out


def _load(path: Path) -> list[Any]:
    return read_json(path, list, "a registry index is a JSON list of products")


def read(ctx: ImportContext, paths: Sequence[str | Path]) -> None:
    """Import the registry's products and their organisations (the folder, or index files).

    Raises
    ------
    SourceError
        A file is missing or is not a JSON list; or, when strict, a product cannot be read.
    """
    rules = data_file("dpg.yaml")
    title = str(ctx.options.get("title") or "Digital Public Goods registry")
    seen: set[str] = set()
    for path in _files(paths):
        doc = ctx.document(path, title=f"{title}: {path.parent.name}/{path.name}",
                           description="The Digital Public Goods Alliance registry (publicgoods-api), imported by d4d")
        for number, record in enumerate(_load(path), start=1):
            where = f"product {number}"
            if not isinstance(record, dict):
                ctx.problem(path, where, "a product is not a JSON object", kind="product")
                continue
            key = str(record.get("id") or "").strip()
            name = ctx.text(record.get("name"), path=path, record=where)
            stage = record.get("stage")
            cls = rules["stages"].get(stage)
            if not key or not name:
                ctx.problem(path, where, "a product without id or name", kind="product")
                continue
            if cls is None:
                ctx.problem(path, f"{where} ({key})", f"unknown stage {stage!r} (known: {', '.join(rules['stages'])})",
                            kind="product")
                continue
            if key in seen:
                ctx.problem(path, f"{where} ({key})", "a product id given twice in the registry", kind="product")
                continue
            seen.add(key)
            product = ox.NamedNode(f"{ID}dpg/{key_segment(key)}")
            ctx.count(f"products ({stage})")
            ctx.add(product, RDF_TYPE, d4d(cls))
            ctx.add(product, RDFS_LABEL, ox.Literal(name))
            ctx.add(product, DC_TITLE, ox.Literal(name))
            ctx.add(product, DC_IDENTIFIER, ox.Literal(key))
            description = ctx.text(record.get("description"), path=path, record=where)
            if description:
                ctx.add(product, DC_DESCRIPTION, ox.Literal(description))
            url = url_literal(record.get("website"))
            if url is not None:
                ctx.add(product, d4d("url"), url)
            ctx.cite(product, doc, f'{path.parent.name}/{path.name} product {key}: "{name}", stage {stage}')
            _organisations(ctx, path, doc, record, key, name, product, rules)
            ctx.record_done()


def _organisations(ctx: ImportContext, path: Path, doc: ox.NamedNode, record: dict[str, Any], key: str,
                   product_name: str, product: ox.NamedNode, rules: dict[str, Any]) -> None:
    entries = record.get("organizations") or []
    if not isinstance(entries, list):
        ctx.problem(path, f"product {key}", "organizations is not a list", kind="organisation entry")
        return
    for number, entry in enumerate(entries, start=1):
        where = f"product {key}, organization {number}"
        if not isinstance(entry, dict):
            ctx.problem(path, where, "an organisation entry is not a JSON object", kind="organisation entry")
            continue
        fields = {field: entry.get(field) for field in rules["organisation_fields"]}
        name = ctx.text(fields["name"], path=path, record=where)
        role = rules["roles"].get(fields["org_type"])
        if not name:
            ctx.problem(path, where, "an organisation entry without a name", kind="organisation entry")
            continue
        if role is None:
            ctx.problem(path, where, f"unknown org_type {fields['org_type']!r} (known: {', '.join(rules['roles'])})",
                        kind="organisation entry")
            continue
        mention = OrgMention(ref=None, name=name, scope="dpg/org", keys=[("dpg", name)], url=fields["website"],
                             quote=f'{path.parent.name}/{path.name} product {key}: organization "{name}", '
                                   f'org_type {fields["org_type"]}')
        org = ctx.organisation(mention, doc, path=path, record=where)
        if org is None:
            continue
        node = ox.NamedNode(f"{product.value}/{slug(role)}/{slug(name)}")
        if not ctx.add_once(node, RDF_TYPE, d4d("Participation")):
            ctx.warn(path, where, "the same organisation is given twice in one role of a product")
            continue
        ctx.count("participations")
        ctx.count(f"{role.lower()} participations")
        ctx.add(node, d4d("project"), product)
        ctx.add(node, d4d("participant"), org.node)
        ctx.add(node, d4d("participationRole"), ox.Literal(role))
        ctx.add(node, RDFS_LABEL, ox.Literal(f"{role}: {org.name} — {product_name}"))
        ctx.cite(node, doc, f'{path.parent.name}/{path.name} product {key} ("{product_name}"): organization '
                            f'"{name}", org_type {fields["org_type"]}')
