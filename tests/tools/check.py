"""Entry point of the project's test command: ``python tests/tools/check.py [--only STAGE ...]``.

``make test`` runs it with .cache/venv's Python after building the virtualenvs. Run it with
``--list`` to see the stages, ``--only lint pssyntax`` to run a few.
"""
from __future__ import annotations

import os
import sys

if __name__ == '__main__':
    # The stages are the `tools` package beside this file; it imports its own modules relatively.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tools.runner import main  # pylint: disable=import-error  # found through the sys.path entry above

    sys.exit(main())
