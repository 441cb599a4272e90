"""The examples in the analytics docstrings run and give what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["d4d.analyse", "d4d.analyse.connectivity", "d4d.analyse.sectors",
           "d4d.analyse.communities", "d4d.analyse.brokerage", "d4d.analyse.resilience",
           "d4d.analyse.temporal", "d4d.analyse.claims", "d4d.field"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
