"""A synthetic IATI activity file of a given size, for the build benchmark (``bench/bench_build.py``).

The proportions follow the real D-Portal COVID extract in ``../shared/data`` (401 activities, 1,335
participating organisations, 1,033 transactions from 18 publishers): about 2.6 transactions and 3.3
participating organisations per activity; a few publishers report most activities (Zipf-like); one
organisation in ten appears without an org-id (name only), and three provider activities in ten point
to another activity of the file (funding chains). Organisation ids use real registration-agency
prefixes (``GB-CHC``, ``US-EIN``, ``XM-DAC`` ...) and the IATI OrganisationType codes.

The file is written as it is generated (flat memory) and is the same for the same size and seed.

Usage::

    python bench/synthetic_iati.py --transactions 100000 -o /tmp/iati-100k.xml
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

# IATI OrganisationType codes with their share among organisations (rough proportions of the
# organisations that publish or are named in IATI data).
ORG_TYPES = [("10", 12), ("11", 3), ("15", 4), ("21", 18), ("22", 22), ("23", 3), ("24", 6), ("30", 1),
             ("40", 5), ("60", 6), ("70", 8), ("71", 2), ("72", 2), ("73", 1), ("80", 6), ("90", 1)]
# Registration agencies (org-id prefixes) by organisation type.
PREFIXES = {"10": ["XM-DAC", "GB-GOV", "US-GOV", "DE-GOV"], "11": ["GB-LAE", "US-GOV"], "15": ["GB-GOV", "NL-KVK"],
            "21": ["GB-CHC", "US-EIN", "NL-KVK"], "22": ["KE-NCB", "NG-CAC", "IN-MCA", "GB-CHC"],
            "23": ["ZA-NPO", "KE-NCB"], "24": ["UG-NGB", "BD-NAB", "NP-SWC"], "30": ["GB-COH"], "40": ["XM-DAC", "XI-IATI"],
            "60": ["US-EIN", "GB-CHC", "CH-FDJP"], "70": ["GB-COH", "US-EIN", "DE-CR"], "71": ["GB-COH"],
            "72": ["KE-RCO", "IN-MCA"], "73": ["GB-COH"], "80": ["GB-EDU", "US-EIN", "GB-CHC"], "90": ["XI-IATI"]}
WORDS = ["Action", "Aid", "Alliance", "Children", "Community", "Data", "Development", "Education", "Food",
         "Foundation", "Fund", "Future", "Global", "Health", "Hope", "Humanitarian", "Initiative", "Institute",
         "International", "Justice", "Network", "Open", "Partners", "Relief", "Rights", "Rural", "Trust", "Water",
         "Women", "Youth"]
LANGS = ["en", "en", "en", "fr", "es", "pt"]
CURRENCIES = ["USD", "USD", "USD", "EUR", "GBP", "CHF"]
TRANSACTION_TYPES = ["2", "3", "3", "3", "4", "1", "11"]


@dataclass(frozen=True)
class Organisation:
    ref: str | None
    type: str
    name: str


def _organisations(rng: random.Random, n: int) -> list[Organisation]:
    codes = [code for code, _ in ORG_TYPES]
    weights = [w for _, w in ORG_TYPES]
    out = []
    for i in range(n):
        kind = rng.choices(codes, weights)[0]
        name = " ".join(rng.sample(WORDS, 3)) + f" {i}"
        # One organisation in ten is known by its name only (no org-id), as in real files.
        ref = None if rng.random() < 0.1 else f"{rng.choice(PREFIXES[kind])}-{100000 + i}"
        out.append(Organisation(ref=ref, type=kind, name=name))
    return out


def _org_xml(tag: str, org: Organisation, lang: str, indent: str, extra: str = "") -> str:
    ref = f" ref={quoteattr(org.ref)}" if org.ref else ""
    return (f"{indent}<{tag}{ref} type=\"{org.type}\"{extra}>\n{indent} <narrative xml:lang=\"{lang}\">"
            f"{escape(org.name)}</narrative>\n{indent}</{tag}>")


def activities(transactions: int, *, seed: int = 7) -> Iterator[str]:
    """Yield the ``<iati-activity>`` elements of a file with about ``transactions`` transactions."""
    rng = random.Random(seed)
    n_activities = max(1, round(transactions / 2.6))
    orgs = _organisations(rng, max(10, transactions // 20))
    with_ref = [o for o in orgs if o.ref]
    n_publishers = max(3, len(with_ref) // 60)
    publishers = with_ref[:n_publishers]
    # Zipf-like: publisher k reports in proportion to 1/(k+1).
    publisher_weights = list(itertools.accumulate(1.0 / (k + 1) for k in range(n_publishers)))
    # Organisations named as partners are also skewed: a few big funders and implementers.
    org_weights = list(itertools.accumulate(1.0 / (k + 1) ** 0.8 for k in range(len(orgs))))
    ids: list[str] = []
    written = 0
    for a in range(n_activities):
        publisher = rng.choices(publishers, cum_weights=publisher_weights)[0]
        identifier = f"{publisher.ref}-SYN-{a:08d}"
        lang = rng.choice(LANGS)
        currency = rng.choice(CURRENCIES)
        year = rng.randint(2008, 2023)
        lines = [f" <iati-activity default-currency=\"{currency}\" hierarchy=\"1\" xml:lang=\"{lang}\""
                 f" last-updated-datetime=\"{year + 1}-01-15T10:00:00\">",
                 f"  <iati-identifier>{escape(identifier)}</iati-identifier>",
                 _org_xml("reporting-org", publisher, lang, "  "),
                 f"  <title>\n   <narrative xml:lang=\"{lang}\">{' '.join(rng.sample(WORDS, 4))} programme {a}"
                 "</narrative>\n  </title>"]
        partners = [publisher] + rng.choices(orgs, cum_weights=org_weights, k=rng.choice([1, 2, 2, 3, 3, 4]))
        roles = ["2"] + [rng.choice(["1", "1", "3", "4", "4"]) for _ in partners[1:]]
        for org, role in zip(partners, roles):
            ref = f" ref={quoteattr(org.ref)}" if org.ref else ""
            lines.append(f"  <participating-org{ref} role=\"{role}\" type=\"{org.type}\">\n"
                         f"   <narrative xml:lang=\"{lang}\">{escape(org.name)}</narrative>\n  </participating-org>")
        lines.append(f"  <activity-status code=\"{rng.choice('2234')}\"/>")
        lines.append(f"  <activity-date iso-date=\"{year}-{rng.randint(1, 12):02d}-01\" type=\"2\"/>")
        # Spread the remaining transactions evenly over the remaining activities.
        remaining = transactions - written
        left = n_activities - a
        count = remaining // left + (1 if rng.random() < (remaining % left) / left else 0)
        for _ in range(count):
            funders = [o for o, r in zip(partners, roles) if r == "1"] or [publisher]
            provider = rng.choice(funders)
            receiver = rng.choice([o for o in partners if o is not provider] or orgs)
            kind = rng.choice(TRANSACTION_TYPES)
            date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            value = rng.choice([rng.randint(1, 999) * 1000, round(rng.lognormvariate(11, 1.6), 2)])
            chain = (f" provider-activity-id={quoteattr(rng.choice(ids))}"
                     if ids and rng.random() < 0.3 else "")
            lines.append("  <transaction>\n"
                         f"   <transaction-type code=\"{kind}\"/>\n"
                         f"   <transaction-date iso-date=\"{date}\"/>\n"
                         f"   <value currency=\"{currency}\" value-date=\"{date}\">{value}</value>\n"
                         + _org_xml("provider-org", provider, lang, "   ", chain) + "\n"
                         + _org_xml("receiver-org", receiver, lang, "   ") + "\n"
                         "  </transaction>")
        written += count
        lines.append(" </iati-activity>\n")
        ids.append(identifier)
        yield "\n".join(lines)


def write(path: str | Path | IO[str], transactions: int, *, seed: int = 7) -> dict[str, int]:
    """Write a synthetic IATI 2.03 activity file; return its counts (activities, transactions, ...)."""
    counts = {"activities": 0, "transactions": 0, "participating_orgs": 0}

    def emit(out: IO[str]) -> None:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                  '<iati-activities version="2.03" generated-datetime="2024-01-01T00:00:00">\n')
        for element in activities(transactions, seed=seed):
            counts["activities"] += 1
            counts["transactions"] += element.count("<transaction>")
            counts["participating_orgs"] += element.count("<participating-org")
            out.write(element)
        out.write("</iati-activities>\n")

    if isinstance(path, (str, Path)):
        with open(path, "w", encoding="utf-8") as handle:
            emit(handle)
    else:
        emit(path)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("-o", "--output", default="-")
    args = parser.parse_args(argv)
    counts = write(sys.stdout if args.output == "-" else args.output, args.transactions, seed=args.seed)
    print(", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
