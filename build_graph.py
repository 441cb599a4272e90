#!/usr/bin/env python3
"""Build the d4d knowledge graph and its outputs into build/ (same as `d4d build`)."""

import sys

from d4d.cli import main

if __name__ == "__main__":
    sys.exit(main(["build", *sys.argv[1:]]))
