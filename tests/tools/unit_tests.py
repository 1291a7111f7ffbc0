"""pytest over the project's tests, in parallel (pytest-xdist) and with a per-test time limit (pytest-timeout).

Unit tests run under every supported ansible-core; integration tests, which start the emulated
lab and run ansible-playbook, under the newest only. A run that collects no test fails (pytest
exits 5): a suite that silently stopped collecting must not pass.
"""
from __future__ import annotations

import os

from .common import Context, StageResult, run_tool, tool_env

# A test that hangs (a lab server that never answers) fails after this long instead of stalling the run.
TEST_TIMEOUT = 600
RUN_TIMEOUT = 3600
EXIT_MEANINGS = {1: 'tests failed', 2: 'interrupted or a collection error', 3: 'internal error', 4: 'usage error',
                 5: 'no tests were collected'}


def run(ctx: Context, core: str, suites: tuple[str, ...], workers: str = 'auto') -> StageResult:
    python = os.path.join(ctx.venv(core), 'bin', 'python')
    paths = [os.path.join('tests', suite) for suite in suites if os.path.isdir(os.path.join(ctx.root, 'tests', suite))]
    if not paths:
        return StageResult(ok=False, note=f'no tests: none of {", ".join("tests/" + s for s in suites)} exists')
    # importlib mode names each test module after its path: test folders have no __init__.py, and two
    # test files with the same name in different folders would otherwise collide ("import file mismatch").
    # --durations: the slowest tests are printed on every run, so the test command's 20-minute budget stays visible.
    argv = [python, '-m', 'pytest', *paths, '--rootdir', ctx.root, '--import-mode=importlib', '-n', workers,
            f'--timeout={TEST_TIMEOUT}', '-p', 'no:cacheprovider', '-q', '-rfE', '--color=no', '--durations=15']
    code = run_tool(ctx, argv, cwd=ctx.root, env=tool_env(ctx, core), timeout=RUN_TIMEOUT)
    if code == 0:
        return StageResult(ok=True, note=' '.join(paths))
    return StageResult(ok=False, note=f'pytest exited {code}: {EXIT_MEANINGS.get(code, "see above")}')
