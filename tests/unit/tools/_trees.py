"""Helpers for the check runner's tests: small throwaway trees and a Context pointing at them."""
from __future__ import annotations

import io
import os
import sys

from ansible_collections.airgap.wsus.tests.tools.common import Context

# The interpreter running the tests is a virtualenv with the project's test tools; stages look up
# their tools there under this (arbitrary) core label.
CORE = 'current'


def write(root, rel_path: str, text: str, mode: int | None = None) -> str:
    path = os.path.join(str(root), rel_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)
    if mode is not None:
        os.chmod(path, mode)
    return path


def context(root) -> Context:
    return Context(root=str(root), venvs={CORE: sys.prefix}, cache_dir=os.path.join(str(root), '.cache', 'check'),
                   use_cache=False, out=io.StringIO())


def has_tool(name: str) -> bool:
    return os.path.exists(os.path.join(sys.prefix, 'bin', name))
