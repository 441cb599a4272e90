"""Every bound d4d puts on what it reads, named in one place.

A breach is never a crash or a silent cut: the reader raises (or, for one record of an imported
source, reports) one line naming the file, the record and the bound. The figures behind each value
are in ``bench/RESULTS-inputs.md``; the build's tunables (the last section) in ``bench/RESULTS-build.md``.
"""

from __future__ import annotations

# -- curated facts (YAML, graph/) ------------------------------------------------------------------

FACT_FILE_BYTES = 4 * 1024 * 1024
"""Largest fact file read (4 MiB; the seed graph's largest file is 8 KB)."""

YAML_DEPTH = 16
"""Deepest nesting of lists and mappings in a fact file (a record with its sources is 4 deep)."""

# Anchors and aliases are refused outright in fact files (no expansion limit to tune): a record says
# what it says where it says it, and an anchor bomb or a recursive alias stops at its first '&' or '*'.

# -- any text read: a fact's value, an imported name, title or description ---------------------------

TEXT_CHARS = 100_000
"""Longest text value kept (characters). The longest in the real data of ../shared/data is 12,192
(an IATI description); a longer one is an error in a fact and is left out, with a warning, of an
imported record."""

FIELD_VALUES = 1_000
"""Most values of one field of one fact record (a list: sectors, sources, partners)."""

# -- JSON (360Giving packages) ---------------------------------------------------------------------

JSON_DEPTH = 32
"""Deepest nesting of arrays and objects in a JSON file (a 360Giving package is 6 deep)."""

JSON_ITEMS = 10_000
"""Most members of one array or object inside one record (a grant lists a few organisations)."""

NUMBER_DIGITS = 30
"""Most significant digits of a number read from JSON or a spreadsheet."""

NUMBER_MAGNITUDE = 30
"""Largest decimal exponent of a number's leading digit, either way (1E+30 and 1E-30 are the bounds):
no amount of money is near 10^30, and a larger exponent would be written out digit by digit."""

# The JSON reader is ijson's pure-Python backend: its C backend (yajl2_c) crashes the process on a
# number of a million digits, and neither bounds nesting. Both bounds above are checked on ijson's
# event stream, so no record is built beyond them.

# -- spreadsheets (CSV, XLSX) ----------------------------------------------------------------------

# A CSV cell is bounded by Python's csv module (131,072 characters, its default, which d4d does not
# change: the setting is process-wide); a longer one stops the file, the rows before it kept. A cell's
# text is then bounded by TEXT_CHARS like any other.

# -- XML (IATI) ------------------------------------------------------------------------------------
# lxml's own limits, kept on (huge_tree=False): 10,000,000 bytes of one text node, 256 levels of
# nesting; entities are not resolved, no DTD is loaded and nothing is fetched.

ACTIVITY_BYTES = 4 * 1024 * 1024
"""Largest ``iati-activity`` read (4 MiB of the file). The largest in the real files of ../shared/data
is 34,339 bytes with 521 elements (NL-KVK-30214009-C380, foodsecurity), so the bound leaves room for
activities 120 times larger; a larger one is reported and skipped, the activities around it read. It is
checked after each chunk the parser is fed (``d4d.imports.iati.CHUNK_BYTES``): an activity is skipped
when more than this many bytes were read after the chunk holding its start tag and it has not ended.
Past the bound its completed elements are dropped as they come, so the memory an activity costs is that
of its first 4 MiB (about 45 MB as an lxml tree) whatever its width."""

# -- the build -------------------------------------------------------------------------------------

DUMP_LIMIT = 5_000_000
"""Above this many triples a build writes neither ``ecosystem.ttl`` nor ``ecosystem.jsonld`` unless
asked (``d4d build --dumps``): the files would run to gigabytes and take minutes, and the store, the
endpoint and ``d4d export`` serve the graph. Below it (the populated default among them) the build
writes every output of its contract."""

IMPORT_BATCH = 500_000
"""Quads an importer writes into the store at a time (one bulk load each): large batches leave few
files for the on-disk store to merge."""

CHECK_IN_FULL = 100_000
"""A source of up to this many triples is checked against the shapes in full; a larger one on a
sample of :data:`SAMPLE` focus nodes per constraint (a shape costs tens of microseconds per node)."""

SAMPLE = 5_000
"""Focus nodes per constraint checked in a source above :data:`CHECK_IN_FULL` triples."""

MAX_EXAMPLES = 20
"""Violations of a source reported with their file and record (all are counted)."""

MAX_PASSES = 20
"""Passes of the rules before a build gives up on reaching a fixpoint (the bundled ontology needs 4:
its longest chain of rules feeding rules is three deep)."""

HERMIT_SECONDS = 300.0
"""Wall-clock limit of HermiT's consistency check; past it the JVM is killed and the build fails
(the seed facts take about a second)."""

HERMIT_MEMORY_MB = 2_000
"""Heap of HermiT's JVM."""
