"""d4d: the knowledge graph of the Big Data for development ecosystem.

The verbs a notebook needs; everything else lives in the module of its stage::

    import d4d
    d4d.build(".")                 # the same build as `d4d build` (d4d.pipeline)
    graph = d4d.open("build")      # a built graph: query, network, analyse, map, export
"""

from d4d.api import Ecosystem, Rows, build, open

__version__ = "0.1.0"

__all__ = ["Ecosystem", "Rows", "__version__", "build", "open"]
