"""The CRAF'd Crisis Data Funding Compass (an Airtable export) into the graph.

The compass has three linked tables (records link by Airtable record id):

- ``organizations-table.json``: crisis-data organisations -> organisations ``id/crafd/org/<org_key>``
  (or their org-id node, or a curated node: see below), with name, short name, description, website,
  kind and sectors from ``Org Type`` (``d4d/data/compass.yaml``), and their HDX organisation page as
  ``d4d:sameAs``;
- ``agencies-table.json``: donor agencies -> organisations ``id/crafd/agency/<record id>`` (the record id:
  the compass has, for instance, two records for one development bank, and names are never merged
  silently), kind from ``Country Name`` (a country: a government body; else a category);
- ``ecosystem-table.json``: data projects and products -> :class:`d4d:Project`
- ``iati-data.json`` (read when it is in the folder): the IATI activities of 28 compass organisations,
  flattened from the IATI Datastore -> projects ``id/iati/activity/<iati-identifier>`` (the node the
  IATI importer gives the same activity), with title, description, start and end dates (actual before
  planned, as the IATI importer) and the reporting organisation its ``reporting_org_ref`` identifies
  (the file files an activity under each compass org_key that shares the org-id, so the key does not
  say who reports it). Budget and transaction values carry no currency in this file: they are quoted
  in the citation, not stated as amounts. The file names no funder of an activity, so the compass's
  org -> donor-agency fundings get no date or amount from it;
  ``id/crafd/project/<product_key>``.

Links: each organisation's ``Org Donor Agencies`` -> a :class:`d4d:Funding` from the agency to the
organisation (``id/crafd/funding/<org_key>/<agency record id>``; the compass gives no amount or date);
each project's ``Provider Orgs Full Name`` and ``Project Donor Agencies`` -> a :class:`d4d:Participation`
with the role Provider or Funding. The organisations' own list of projects is checked against the
projects' providers; a link to a record that is not in the tables is reported.

Identity of the organisations, in this order: the crosswalk's ``crafd`` key (``org_key``: the compass's
``hhi`` is the curated ``harvard-humanitarian-initiative``); then the ``IATI Org Key`` as an org-id,
unless two compass records give the same one (``ocha`` and ``ocha-hum-data-centre`` both give
XM-DAC-41127): such a shared key identifies neither, and is reported; then ``id/crafd/org/<org_key>``.
Budget fields (with expired signed screenshot links) are not read.
"""

from __future__ import annotations

from collections import Counter
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
    ResolvedOrg,
    d4d,
    data_file,
    date_literal,
    url_literal,
)
from d4d.imports.identity import key_segment, parse_org_id
from d4d.vocab import ID

TABLES = {"organisations": "organizations-table.json", "agencies": "agencies-table.json",
          "projects": "ecosystem-table.json"}
IATI_DATA = "iati-data.json"
"""The compass's IATI activities, read when the folder holds it."""
HDX_ORGANISATION = "https://data.humdata.org/organization/"


def _tables(paths: Sequence[str | Path]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for item in paths:
        path = Path(item)
        candidates = [path / name for name in TABLES.values()] if path.is_dir() else [path]
        for candidate in candidates:
            for key, name in TABLES.items():
                if candidate.name == name and candidate.is_file():
                    found[key] = candidate
        if path.is_dir() and (path / IATI_DATA).is_file():
            found["iati"] = path / IATI_DATA
        elif path.name == IATI_DATA and path.is_file():
            found["iati"] = path
        if not path.exists():
            raise SourceError("no such file or folder", path=path)
    missing = [TABLES[k] for k in TABLES if k not in found]
    if missing:
        raise SourceError(f"the compass needs {', '.join(missing)} (give its folder or the files)",
                          path=str(paths[0]) if paths else None)
    return found


def _load(path: Path) -> list[dict[str, Any]]:
    return read_json(path, list, "a compass table is a JSON list of records")


def read(ctx: ImportContext, paths: Sequence[str | Path]) -> None:
    """Import the compass tables (their folder, or the three files).

    The tables are small (hundreds of records) and link to each other, so each is read whole.

    Raises
    ------
    SourceError
        A table is missing or is not a JSON list; or, when strict, a record cannot be read.
    """
    files = _tables(paths)
    rules = data_file("compass.yaml")
    title = str(ctx.options.get("title") or "CRAF'd Crisis Data Funding Compass")
    docs = {key: ctx.document(path, title=f"{title}: {path.name}",
                              description="Airtable export of the CRAF'd Crisis Data Funding Compass, imported by d4d")
            for key, path in files.items()}

    agencies: dict[str, ResolvedOrg] = {}
    agency_labels: dict[str, str] = {}
    for number, record in enumerate(_load(files["agencies"]), start=1):
        rec_id, fields = _record(ctx, files["agencies"], record, number, "agency")
        if rec_id is None:
            continue
        name = ctx.text(fields.get("Agency/Department Name"), path=files["agencies"], record=rec_id)
        country = ctx.text(fields.get("Country Name"), path=files["agencies"], record=rec_id)
        if not name:
            ctx.problem(files["agencies"], f"record {rec_id}", "agency without a name", kind="agency")
            continue
        category = rules["agency_categories"].get(country or "")
        mapping = category or rules["country_agency"]
        label = name if category or not country else f"{name}, {country}"
        mention = OrgMention(ref=None, name=name, label=label, scope="crafd/agency", local_key=rec_id,
                             keys=[("crafd-agency", rec_id)], kind=mapping["kind"], sectors=mapping["sectors"],
                             url=fields.get("Agency Website"),
                             quote=f'agencies-table record {rec_id}: "{name}", {country or "no country"}')
        resolved = ctx.organisation(mention, docs["agencies"], path=files["agencies"], record=f"record {rec_id}")
        if resolved is not None:
            agencies[rec_id] = resolved
            agency_labels[rec_id] = label
            ctx.count("agencies")
        ctx.record_done()

    org_records = _load(files["organisations"])
    shared = _shared_keys(ctx, org_records)
    orgs: dict[str, tuple[ResolvedOrg, str]] = {}
    org_projects: dict[str, list[str]] = {}
    for number, record in enumerate(org_records, start=1):
        rec_id, fields = _record(ctx, files["organisations"], record, number, "organisation")
        if rec_id is None:
            continue
        key = str(fields.get("org_key") or "").strip()
        name = ctx.text(fields.get("Org Full Name"), path=files["organisations"], record=rec_id)
        if not key or not name:
            ctx.problem(files["organisations"], f"record {rec_id}", "organisation without org_key or name",
                        kind="organisation")
            continue
        org_type = fields.get("Org Type")
        mapping = rules["org_types"].get(org_type)
        if org_type and mapping is None:
            ctx.warn(files["organisations"], f"record {rec_id}", f"unknown Org Type {org_type!r}")
        iati_key = str(fields.get("IATI Org Key") or "").strip()
        use_key = iati_key if iati_key and iati_key.upper() not in shared else None
        if iati_key and not use_key:
            ctx.warn(files["organisations"], f"record {rec_id}",
                     f"IATI Org Key {iati_key} is given to several compass organisations: it identifies none")
        hdx = str(fields.get("HDX Org Key") or "").strip()
        short = ctx.text(fields.get("Org Short Name"), path=files["organisations"], record=rec_id)
        keys = [("crafd", key)] + ([("hdx", hdx)] if hdx else [])
        mention = OrgMention(
            ref=use_key, name=name, scope="crafd/org", local_key=key, keys=keys,
            kind=mapping["kind"] if mapping else None, sectors=mapping["sectors"] if mapping else (),
            alternate_names=[short] if short and short != name else [],
            description=ctx.text(fields.get("Org Description"), path=files["organisations"], record=rec_id),
            url=fields.get("Org Website"), same_as=[HDX_ORGANISATION + hdx] if hdx else [],
            quote=f'organizations-table record {rec_id} (org_key {key}): "{name}", Org Type {org_type or "none"}'
                  + (f", IATI Org Key {iati_key}" if iati_key else ""))
        resolved = ctx.organisation(mention, docs["organisations"], path=files["organisations"],
                                    record=f"record {rec_id}")
        if resolved is None:
            continue
        orgs[rec_id] = (resolved, key)
        ctx.count("compass organisations")
        org_projects[rec_id] = list(fields.get("Provided Data Ecosystem Projects") or [])
        for agency_id in fields.get("Org Donor Agencies") or []:
            where = f"record {rec_id}, Org Donor Agencies {agency_id}"
            agency = agencies.get(agency_id)
            if agency is None:
                ctx.problem(files["organisations"], where, "links to an agency that is not in agencies-table",
                            kind="funding link")
                continue
            node = ox.NamedNode(f"{ID}crafd/funding/{key_segment(key)}/{key_segment(agency_id)}")
            ctx.count("fundings")
            ctx.add(node, RDF_TYPE, d4d("Funding"))
            ctx.add(node, d4d("funder"), agency.node)
            ctx.add(node, d4d("recipient"), resolved.node)
            ctx.add(node, RDFS_LABEL, ox.Literal(f"Funding: {agency_labels[agency_id]} → {resolved.name}"))
            ctx.cite(node, docs["organisations"],
                     f'organizations-table record {rec_id} ({name}): Org Donor Agencies includes '
                     f'{agency_id} ({agency_labels[agency_id]})')
        ctx.record_done()

    provided: set[tuple[str, str]] = set()
    for number, record in enumerate(_load(files["projects"]), start=1):
        rec_id, fields = _record(ctx, files["projects"], record, number, "project")
        if rec_id is None:
            continue
        key = str(fields.get("product_key") or "").strip()
        name = ctx.text(fields.get("Project/Product Name"), path=files["projects"], record=rec_id)
        if not key or not name:
            ctx.problem(files["projects"], f"record {rec_id}", "project without product_key or name", kind="project")
            continue
        project = ox.NamedNode(f"{ID}crafd/project/{key_segment(key)}")
        ctx.count("projects")
        ctx.add(project, RDF_TYPE, d4d("Project"))
        ctx.add(project, RDFS_LABEL, ox.Literal(name))
        ctx.add(project, DC_TITLE, ox.Literal(name))
        ctx.add(project, DC_IDENTIFIER, ox.Literal(key))
        description = ctx.text(fields.get("Project Description"), path=files["projects"], record=rec_id)
        if description:
            ctx.add(project, DC_DESCRIPTION, ox.Literal(description))
        url = url_literal(fields.get("Project Website"))
        if url is not None:
            ctx.add(project, d4d("url"), url)
        ctx.cite(project, docs["projects"], f'ecosystem-table record {rec_id} (product_key {key}): "{name}"')
        for role, column, table in (("provider", "Provider Orgs Full Name", "organisation"),
                                    ("donor", "Project Donor Agencies", "agency")):
            for linked in fields.get(column) or []:
                where = f"record {rec_id}, {column} {linked}"
                if table == "organisation":
                    found = orgs.get(linked)
                    actor, actor_key = (found[0], found[1]) if found else (None, linked)
                else:
                    actor, actor_key = agencies.get(linked), linked
                if actor is None:
                    ctx.problem(files["projects"], where, f"links to an {table} that is not in its table",
                                kind="project link")
                    continue
                if role == "provider":
                    provided.add((linked, rec_id))
                node = ox.NamedNode(f"{project.value}/{role}/{key_segment(actor_key)}")
                role_name = rules["roles"][role]
                ctx.count("participations")
                ctx.count(f"{role} links")
                ctx.add(node, RDF_TYPE, d4d("Participation"))
                ctx.add(node, d4d("project"), project)
                ctx.add(node, d4d("participant"), actor.node)
                ctx.add(node, d4d("participationRole"), ox.Literal(role_name))
                ctx.add(node, RDFS_LABEL, ox.Literal(f"{role_name}: {actor.name} — {name}"))
                ctx.cite(node, docs["projects"], f'ecosystem-table record {rec_id} ("{name}"): {column} includes '
                                                 f'{linked} ({actor.name})')
        ctx.record_done()

    if "iati" in files:
        _iati_activities(ctx, files["iati"], ctx.document(files["iati"], title=f"{title}: {files['iati'].name}",
                         description="IATI activities of compass organisations, as the compass keeps them"))

    for org_id, projects in org_projects.items():
        for project_id in projects:
            if (org_id, project_id) not in provided:
                ctx.warn(files["organisations"], f"record {org_id}",
                         f"lists project {project_id}, which does not list it as a provider")


def _iati_activities(ctx: ImportContext, path: Path, doc: ox.NamedNode) -> None:
    """The activities of ``iati-data.json``: projects with dates and their reporting organisation."""
    from d4d.imports.iati import activity_iri

    data = read_json(path, dict, "iati-data.json is a JSON object keyed by org_key")
    order = data_file("iati.yaml")["activity_dates"]
    seen: set[str] = set()
    for org_key, entry in data.items():
        activities = entry.get("activities") if isinstance(entry, dict) else None
        if not isinstance(activities, list):
            ctx.problem(path, f"org_key {org_key}", "no list of activities", kind="iati activity")
            continue
        for number, act in enumerate(activities, start=1):
            where = f"org_key {org_key}, activity {number}"
            ident = str(act.get("iati_identifier") or "").strip() if isinstance(act, dict) else ""
            if not ident:
                ctx.problem(path, where, "an activity without iati_identifier", kind="iati activity")
                continue
            if ident in seen:   # filed under several org_keys that share an org-id
                ctx.count("iati activities filed twice")
                continue
            seen.add(ident)
            project = activity_iri(ident)
            titles = [t for t in act.get("title_narrative") or [] if isinstance(t, str) and t.strip()]
            title = ctx.text(titles[0], path=path, record=where) if titles else None
            title = title or ident
            ctx.count("iati activities")
            ctx.add(project, RDF_TYPE, d4d("Project"))
            ctx.add(project, DC_IDENTIFIER, ox.Literal(ident))
            ctx.add(project, RDFS_LABEL, ox.Literal(title))
            ctx.add(project, DC_TITLE, ox.Literal(title))
            for text in (act.get("description_narrative") or [])[:1]:
                clean = ctx.text(text, path=path, record=where)
                if clean:
                    ctx.add(project, DC_DESCRIPTION, ox.Literal(clean))
            types = act.get("activity_date_type") or []
            isos = act.get("activity_date_iso_date") or []
            dates = dict(zip((str(t) for t in types), isos)) if len(types) == len(isos) else {}
            if types and not dates:
                ctx.warn(path, where, "activity dates and their types do not pair up (dates not read)")
            for prop, codes in (("startDate", order["start"]), ("endDate", order["end"])):
                for code in codes:
                    literal = date_literal(dates.get(str(code)))
                    if literal is not None:
                        ctx.add(project, d4d(prop), literal)
                        ctx.count(f"iati activities with a {prop}")
                        break
            ref = str(act.get("reporting_org_ref") or "").strip() or None
            names = [n for n in act.get("reporting_org_narrative") or [] if isinstance(n, str) and n.strip()]
            reporter = ctx.organisation(
                OrgMention(ref=ref, name=names[0].strip() if names else None, scope="crafd/iati-org",
                           quote=f"iati-data.json {where}: reporting_org_ref {ref or 'none'}"),
                doc, path=path, record=where)
            if reporter is not None:
                ctx.add(project, d4d("reportingOrganization"), reporter.node)
            values = [("budget", act.get("budget_value")), ("transactions", act.get("transaction_value"))]
            quoted = "; ".join(f"{label} values {sum(v for v in numbers if isinstance(v, (int, float)))!r} in all "
                               "(no currency given)" for label, numbers in values if isinstance(numbers, list) and numbers)
            ctx.cite(project, doc, f'iati-data.json {where} ({ident}): "{title}"' + (f"; {quoted}" if quoted else ""))
            ctx.record_done()


def _record(ctx: ImportContext, path: Path, record: Any, number: int, kind: str) -> tuple[str | None, dict[str, Any]]:
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not isinstance(record.get("fields"), dict):
        ctx.problem(path, f"record {number}", "not an Airtable record ({id, fields})", kind=kind)
        return None, {}
    return record["id"], record["fields"]


def _shared_keys(ctx: ImportContext, records: list[Any]) -> set[str]:
    """IATI Org Keys that several compass organisations give (and the crosswalk does not settle)."""
    counts: Counter[str] = Counter()
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
            continue
        fields = record["fields"]
        key = str(fields.get("IATI Org Key") or "").strip()
        org_key = str(fields.get("org_key") or "")
        if not key or parse_org_id(key) is None:
            continue
        if ctx.resolver.crosswalk.lookup("crafd", org_key) is not None:
            continue
        counts[key.upper()] += 1
    return {key for key, n in counts.items() if n > 1}
