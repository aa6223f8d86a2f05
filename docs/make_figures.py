"""Regenerate the figures and generated blocks of the docs:

    PDK_ROOT=../shared/pdks .venv/bin/python docs/make_figures.py [NAME ...]

The generators live in the package (sactk/docsgen/), under the same rules as the rest of
sactk (size, layering, tests); this file only calls them. ``NAME``: one of
``sactk.docsgen.figures()`` (``model_chip_numbers``, ``layer_figures``, ...); none: all but
``process_comparison``.
"""

import sys

from sactk.docsgen import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
