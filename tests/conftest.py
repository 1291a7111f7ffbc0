"""Make the collection importable as ``ansible_collections.airgap.wsus``.

Tests import the collection the way Ansible does. When the checkout does not already sit at
``.../ansible_collections/airgap/wsus``, a symlink at
``.cache/collections/ansible_collections/airgap/wsus`` points back at it and that tree goes on
``sys.path`` (ansible-test needs a real copy; Python and Ansible accept the symlink).
"""
from __future__ import annotations

import os
import sys

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def collections_path() -> str:
    """Return a directory holding ``ansible_collections/airgap/wsus`` for this checkout (``tests/tools/collection_path.py``)."""
    # The collection is not importable yet: load the shim maker as the test command does, from tests/.
    tests = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, tests)
    try:
        from tools.collection_path import collections_shim  # pylint: disable=import-error  # found through the entry above
    finally:
        sys.path.remove(tests)
    return collections_shim(COLLECTION_ROOT)


COLLECTIONS_PATH = collections_path()
if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
os.environ.setdefault('ANSIBLE_COLLECTIONS_PATH', COLLECTIONS_PATH)
