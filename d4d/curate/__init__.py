"""Curation: from documents to sourced facts.

:mod:`~d4d.curate.snapshot` reads a document (a file or a URL, checked by SHA-256) as text;
:mod:`~d4d.curate.extract` proposes candidate facts from it; :mod:`~d4d.curate.lint` checks the fact
files like a linter; :mod:`~d4d.curate.diff` compares two builds.
"""
