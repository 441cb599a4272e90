"""Contact data and code lists (d4d.checks), on hand-written texts and on strings of the real data."""

from __future__ import annotations

import doctest

import pytest

from d4d import checks
from d4d.checks import find_contact_data, is_currency, redact


@pytest.mark.parametrize("text, found", [
    ("Call 212-555-0199 today", "212-555-0199"),
    ("Office: (212) 555-0199.", "(212) 555-0199"),
    ("020 7946 0958", "020 7946 0958"),
    ("tel: 0207 946 0958", "0207 946 0958"),
    ("212.555.0199", "212.555.0199"),
    ("+44 20 7946 0958", "+44 20 7946 0958"),
    ("+1 212 555 0199", "+1 212 555 0199"),
    ("Ring +46 8 698 50 00 eller", "+46 8 698 50 00"),   # a Swedish number in a real IATI text
    ("+44 (0)20 7012 6400", "+44 (0)20 7012 6400"),
    ("Tel: +1.202.232.1211", "+1.202.232.1211"),
    ("+41216542025", "+41216542025"),
])
def test_phone_numbers_in_every_common_format(text: str, found: str) -> None:
    assert [(c.kind, c.text) for c in find_contact_data(text)] == [("phone", found)]


@pytest.mark.parametrize("text, found", [
    ("Write to info@example.org.", "info@example.org"),
    ("mailto:first.last+grants@dept.example.co.uk", "first.last+grants@dept.example.co.uk"),
    ("o'brien@example.ie wrote", "o'brien@example.ie"),
    ("skicka e-post till sida@sida.se.", "sida@sida.se"),
])
def test_email_addresses(text: str, found: str) -> None:
    assert [(c.kind, c.text) for c in find_contact_data(text)] == [("e-mail", found)]


@pytest.mark.parametrize("text", [
    # strings of ../shared/data that libphonenumber's looser VALID leniency reads as phone numbers
    "2015 SEK 6 298 000; 2016 SEK 3 104 000; 2017 SEK 2 985 000.",
    "GB-CHC-1126727-9-2015-CORE",
    "XI-IATI-EC_INTPA-2016/38622/0",
    "80740580.74",
    "EQ-2015-000048-NPL",
    "Pluskomponent 6107800001 Communication/Empowering Local Radios",
    "https://example.org/wiki/spaces/imtoolbox/pages/4099440644/Common",
    # identifiers, dates and amounts
    "Grants 2015-2019: 12 000 000 GBP", "Registered charity 1015648", "GB-COH-213890", "US-EIN-06-1597-668",
    "XM-DAC-41114", "from 2011-01-18 to 2020-12-31", "amount 1,234,567.00", "CRS codes 41122 and 44001",
    "user@localhost", "an @ sign alone", "",
])
def test_not_contact_data(text: str) -> None:
    assert find_contact_data(text) == []


def test_redact_replaces_each_in_place() -> None:
    assert redact("a@b.org, (212) 555-0199 and +44 20 7946 0958; end") == (
        "[e-mail removed], [phone removed] and [phone removed]; end", 3)


@pytest.mark.parametrize("code, known", [("GBP", True), ("USD", True), ("EUR", True), ("XOF", True),
                                         ("GPB", False), ("ABC", False), ("gbp", False), ("GB", False),
                                         ("", False), ("GBPX", False)])
def test_is_currency_reads_iso_4217(code: str, known: bool) -> None:
    assert is_currency(code) is known


def test_doctests() -> None:
    assert doctest.testmod(checks).failed == 0


def test_value_helpers_of_the_importers() -> None:
    from d4d.imports import context

    assert doctest.testmod(context).failed == 0
    # measured before parsing: a million digits is refused without being read as a number
    assert context.number_problem("9" * 1_000_000) == "is out of bounds (more than 30 digits or beyond 10^±30)"
    assert context.amount_value("-0.5") == (None, "is negative")
    assert context.amount_value("1E+30")[0] is not None and context.amount_value("1E+31")[0] is None
