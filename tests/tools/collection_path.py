"""Where ``ansible_collections/airgap/wsus`` resolves to this checkout, for Python and Ansible.

The one place that makes the shim: pytest's conftest, the test command, the demo and the
benchmark all call it before the collection is importable, so it uses the standard library only.
"""
from __future__ import annotations

import os


def collections_shim(root: str) -> str:
    """Return a directory holding ``ansible_collections/airgap/wsus`` that resolves to ``root``.

    The tree itself when it already sits at ``.../ansible_collections/airgap/wsus``; otherwise
    a symlink at ``<root>/.cache/collections/ansible_collections/airgap/wsus`` (Python and
    Ansible accept it; ansible-test needs a real copy, which tests/tools/sanity.py makes).
    """
    parts = os.path.realpath(root).split(os.sep)
    if parts[-3:] == ['ansible_collections', 'airgap', 'wsus']:
        return os.sep.join(parts[:-3])
    shim = os.path.join(root, '.cache', 'collections')
    link = os.path.join(shim, 'ansible_collections', 'airgap', 'wsus')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        try:
            os.symlink(os.path.realpath(root), link)
        except FileExistsError:
            pass
    return shim
