"""Checks of single values shared by the loaders, the importers and ``d4d lint``: contact data in a
text, and codes against their code lists.

Contact data is found by real parsers, not a guess at digits: e-mail addresses by the RFC 5322
"dot-atom" form, phone numbers by Google's libphonenumber (the ``phonenumbers`` package) in every
common format: ``+44 20 7946 0958``, ``020 7946 0958``, ``212-555-0199``, ``(212) 555-0199``,
``212.555.0199``. Currency codes are checked against ISO 4217 as the ``pycountry`` package keeps it.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import phonenumbers
import pycountry
import yaml

EMAIL = re.compile(
    r"(?<![A-Za-z0-9!#$%&'*+/=?^_`{|}~.-])"
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9-])"
)
"""An e-mail address (RFC 5322 dot-atom local part, a domain of DNS labels and a top-level name)."""

_PHONE_DIGITS = 7
"""Fewest digits of a phone number anywhere (a text with fewer is not searched further)."""
_NOT_DIGITS = str.maketrans("", "", string.digits)


@dataclass(frozen=True)
class ContactData:
    """Contact data found in a text: its kind (``e-mail`` or ``phone``), the words and where they are."""

    kind: str
    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _regions() -> tuple[str, ...]:
    data: Any = yaml.safe_load(resources.files("d4d").joinpath("data/contact.yaml").read_text(encoding="utf-8"))
    return tuple(str(r) for r in data["phone_regions"])


def find_contact_data(text: str) -> list[ContactData]:
    """The e-mail addresses and phone numbers in a text, in the order they appear.

    A phone number is one libphonenumber accepts as a valid number, grouped the way its country
    writes numbers (leniency ``STRICT_GROUPING``), in international form or in the national form of a
    region of ``d4d/data/contact.yaml``. A bare run of digits (``6107800001``, a reference number) is
    not taken for a phone unless it starts with ``+``: nothing marks it as one.

    >>> [(c.kind, c.text) for c in find_contact_data("Write to info@example.org or call 020 7946 0958.")]
    [('e-mail', 'info@example.org'), ('phone', '020 7946 0958')]
    >>> [c.text for c in find_contact_data("(212) 555-0199, 212-555-0199, +44 20 7946 0958")]
    ['(212) 555-0199', '212-555-0199', '+44 20 7946 0958']
    >>> find_contact_data("Grants 2015-2019: SEK 3 104 000, GB-CHC-1126727-9-2015, 80740580.74")
    []
    """
    found: list[ContactData] = []
    if "@" in text:
        found.extend(ContactData("e-mail", m.group(), m.start(), m.end()) for m in EMAIL.finditer(text))
    if len(text) - len(text.translate(_NOT_DIGITS)) >= _PHONE_DIGITS:
        seen: set[tuple[int, int]] = set()
        for region in _regions():
            for match in phonenumbers.PhoneNumberMatcher(text, region,
                                                          leniency=phonenumbers.Leniency.STRICT_GROUPING):
                raw = match.raw_string
                if (match.start, match.end) in seen or (raw.isdigit() and "+" not in raw):
                    continue
                if any(c.start < match.end and match.start < c.end for c in found):
                    continue   # the digits of an e-mail address
                seen.add((match.start, match.end))
                found.append(ContactData("phone", raw, match.start, match.end))
    return sorted(found, key=lambda c: c.start)


def redact(text: str) -> tuple[str, int]:
    """A text with its e-mail addresses and phone numbers replaced, and how many were replaced.

    >>> redact("Write to info@example.org or call +44 20 7946 0000.")
    ('Write to [e-mail removed] or call [phone removed].', 2)
    >>> redact("Grants 2015-2019: 12 000 000 GBP")[1]
    0
    """
    found = find_contact_data(text)
    for item in reversed(found):
        text = text[:item.start] + f"[{item.kind} removed]" + text[item.end:]
    return text, len(found)


def is_currency(code: str) -> bool:
    """Whether ``code`` is an ISO 4217 currency code (upper-case, as the standard writes it).

    >>> is_currency("GBP"), is_currency("USD"), is_currency("GPB"), is_currency("gbp")
    (True, True, False, False)
    """
    return bool(re.fullmatch(r"[A-Z]{3}", code)) and pycountry.currencies.get(alpha_3=code) is not None
