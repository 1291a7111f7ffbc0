"""ansible-lint at profile ``production``, offline, configured by the tree's ``.ansible-lint``.

ansible-lint validates module options in playbooks only when it can load the modules, so the
collection goes on ``ANSIBLE_COLLECTIONS_PATH`` through the same ``.cache/collections`` shim
the unit tests use.
"""
from __future__ import annotations

import os

from .collection_path import collections_shim
from .common import Context, PassCache, StageResult, file_digest, run_tool, tool_env, tree_digest, tree_files

CORE = '2.19'
LINT_TIMEOUT = 900


def run(ctx: Context, core: str = CORE) -> StageResult:
    ansible_lint = ctx.tool(core, 'ansible-lint')
    files = tree_files(ctx.root)
    constraints = os.path.join(ctx.root, 'tests', 'requirements', f'constraints-{core}.txt')
    extra = [file_digest(constraints)] if os.path.exists(constraints) else []
    cache = PassCache(ctx, 'lint', tree_digest(ctx.root, files, core, ansible_lint, *extra))
    if cache.hit():
        return StageResult(ok=True, note='cached: same files and linter as a run that passed')
    env = tool_env(ctx, core, ANSIBLE_COLLECTIONS_PATH=collections_shim(ctx.root), NO_COLOR='1')
    # --offline repeats the config file's `offline: true`, so a tree without that line cannot reach Galaxy.
    code = run_tool(ctx, [ansible_lint, '--offline', '--profile', 'production', '--nocolor'], cwd=ctx.root, env=env,
                    timeout=LINT_TIMEOUT)
    return cache.record(StageResult(ok=code == 0, note='' if code == 0 else f'ansible-lint exited {code}; its findings are above'))
