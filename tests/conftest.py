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
    """Return a directory holding ``ansible_collections/airgap/wsus`` for this checkout."""
    parts = os.path.realpath(COLLECTION_ROOT).split(os.sep)
    if parts[-3:] == ['ansible_collections', 'airgap', 'wsus']:
        return os.sep.join(parts[:-3])
    shim = os.path.join(COLLECTION_ROOT, '.cache', 'collections')
    link = os.path.join(shim, 'ansible_collections', 'airgap', 'wsus')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        try:
            os.symlink(COLLECTION_ROOT, link)
        except FileExistsError:
            pass
    return shim


COLLECTIONS_PATH = collections_path()
if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
os.environ.setdefault('ANSIBLE_COLLECTIONS_PATH', COLLECTIONS_PATH)
