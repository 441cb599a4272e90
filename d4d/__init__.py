"""d4d: the knowledge graph of the Big Data for development ecosystem."""

__version__ = "0.1.0"
