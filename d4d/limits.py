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

SORT_RUN_BYTES = 512 * 1024 * 1024
"""The RDF files list the triples sorted (``d4d.dumps``): this many bytes of N-Triples are sorted in
memory at a time (about twice that at the peak, as Python lines), and larger graphs are merged from
such runs, so ``d4d build --dumps`` of any size stays in bounded memory. One run holds about 2.5M
triples (the 10k-transaction benchmark's 0.9M triples are 180 MB)."""

ASSEMBLE_IN_MEMORY = 16_000_000
"""A new store whose sources' files total at most this many bytes is assembled in memory and written
to disk once; a larger one is assembled on disk. In memory the populated default (9 MB of files, 235k
triples) assembles in 5.2 s against 21.6 s on disk (the shapes' and rules' many small queries are
several times faster there); but memory grows with the graph (an IATI file of 8 MB gives 0.9M triples
and a peak of about 2 GB), and the guard of bench/RESULTS-build.md is 8 GB at 1M transactions."""

RULE_THREADS = 2
"""Threads that answer the rules of one level at once (their answers go into the store in one bulk
load after the level): one per core of the 2-core machine measured. At 100k transactions on disk the
rules took 79.5 and 78.9 s with two threads against 113.0 and 99.0 s with one, runs alternated (see
bench/RESULTS-build.md)."""

PERSIST_THREADS = 2
"""Bulk loads at once when an in-memory store is written to disk (:func:`d4d.store.persist`), each of
a share of its lines: one per core of the 2-core machine measured. pyoxigraph gives a thread to each
million statements it bulk loads, so one load of the 10k-transaction store (1.23M quads) ran mostly on
one core: 6.9 and 6.5 s with two against 13.1 and 10.0 s with one, runs alternated. The other loads
stay one: the 100k-transaction build, where every load is on disk and most are over a million, took
152 s with two against 156 s with one (medians of two, alternated) and peaked 1.1 GB higher. See
bench/RESULTS-build.md."""

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
"""Passes of the rules before a build gives up on reaching a fixpoint (the bundled ontology needs 2:
one through its levels, then one that adds nothing, since its only cycles are pairs of inverses)."""

HERMIT_SECONDS = 300.0
"""Wall-clock limit of HermiT's consistency check; past it the JVM is killed and the build fails
(the seed facts take about a second)."""

HERMIT_MEMORY_MB = 2_000
"""Heap of HermiT's JVM."""

# -- the endpoint (d4d serve): the figures behind each value are in bench/RESULTS-endpoint.md -------

QUERY_SECONDS = 30.0
"""A query's time limit (``--time-limit``; past it the worker is killed, HTTP 503): the catalogue's
queries take 2-50 ms on the seed build, and a query that runs on holds a slow-lane worker this long."""

MAX_ROWS = 100_000
"""Most rows or triples one answer holds (``--max-rows``; more: HTTP 422, add a LIMIT): some tens of
MB of JSON, more than a page or the editor can show; the whole graph is ``d4d export``'s job."""

FAST_WORKERS = 2
"""Worker processes of the fast lane (``--workers``): one per core of the 2-core machine measured."""

SLOW_WORKERS = 1
"""Worker processes of the slow lane (``--slow-workers``): expensive queries share one, so they never
hold more than one core that cheap queries need."""

FAST_BUDGET_SECONDS = 1.0
"""Seconds a query runs in the fast lane before it moves to the slow one (``--fast-budget``): the
cheap catalogue queries take 2-50 ms on the seed build, 20 times room for a cold cache."""

WORKER_MEMORY_MB = 2048
"""Address space of one query worker (``--memory-limit``, RLIMIT_AS): a worker at rest has 390-520 MB;
at 700 MB a replacement failed to start its threads; 3 workers and 2 spares at 2 GB stay within a
quarter of the measuring machine's 24 GB."""

PER_CLIENT = 8
"""Queries one client address may have running or waiting (``--per-client``; one more: HTTP 429): the
Wikidata Query Service allows 5; 8 leaves room for a page's parallel requests (the editor, a map)."""

FAST_QUEUE = 100
"""Requests waiting for a fast-lane worker (one more: HTTP 429): above the load test's 45 closed-loop
cheap clients, which never saw a 429."""

SLOW_QUEUE = 2
"""Requests waiting for a slow-lane worker (one more: HTTP 429): one running and two waiting is 90 s
of slow-lane work at :data:`QUERY_SECONDS`."""

MAX_CONNECTIONS = 160
"""Connections handled at once, one thread each (one more: HTTP 503 from the accepting thread): the
load test's 50 clients and the fast queue, with room."""

READ_SECONDS = 10.0
"""Seconds a client has to send its whole request, headers and body (slower: HTTP 408): a stalled
client holds one of :data:`MAX_CONNECTIONS` threads no longer than this."""

MAX_REQUEST_BYTES = 1_000_000
"""Largest request body (larger: HTTP 413): the longest catalogue query (``queries/chain.rq``) is
5,288 bytes."""

LISTEN_BACKLOG = 256
"""Connections the kernel holds while the server's threads are busy: the standard library's 5 drops
connections when 50 clients connect at once (a dropped SYN costs the client 1 s)."""

RETRY_AFTER = 1
"""Seconds a client told 429 or 503 is asked to wait (Retry-After): a cheap query takes milliseconds,
so a second later the queue has moved."""

SLOW_LANE_NICENESS = 10
"""Niceness of the slow lane's workers: the queries that overran the fast budget yield the CPU to the
fast lane's."""

SPARE_WORKERS = 1
"""Started workers waiting in each lane to replace a killed one: starting a worker took 1.64-2.87 s at
load 16 (0.3 s idle), a lane a worker short all that time."""

START_ATTEMPTS = 3
"""Tries to start each worker when the server starts: a worker can abort as it starts on a loaded
machine (exit status -6 was seen once); a store that cannot be opened fails every try."""

WORKER_START_SECONDS = 60.0
"""Seconds a worker has to open the store and say it is ready: 20 times the slowest start measured."""

REMEMBERED_SLOW_QUERIES = 1024
"""Query texts remembered as slow, so that they go to the slow lane at once (a few MB at most)."""

# -- push (d4d push) -------------------------------------------------------------------------------

PUSH_CHUNK_TRIPLES = 50_000
"""Triples per request (``--chunk-size``): about 9 MB of N-Triples (185 bytes a triple in the populated
default build), so a failed request costs seconds to send again and the checkpoint moves on often."""

PUSH_TIMEOUT = 30.0
"""Seconds a request may go without an answer before it is tried again (``--timeout``): the same as a
query's :data:`QUERY_SECONDS` on d4d's own endpoint."""

PUSH_RETRIES = 2
"""Times a request that got no answer or a 5xx is sent again (waiting 1 s, then 2 s): a server that
never answers is reported after about ``3 * PUSH_TIMEOUT + 3`` seconds."""
