"""antsibull-changelog lint: the fragments and changelogs/changelog.yaml must be well formed."""
from __future__ import annotations

import os

from .common import Context, Finding, StageResult, run_tool, tool_env

CORE = '2.19'


def run(ctx: Context, core: str = CORE) -> StageResult:
    tool = ctx.tool(core, 'antsibull-changelog')
    if not os.path.exists(os.path.join(ctx.root, 'changelogs', 'config.yaml')):
        return StageResult.from_findings([Finding('changelogs/config.yaml', 'missing: run `antsibull-changelog init .`')])
    env = tool_env(ctx, core)
    fragments = run_tool(ctx, [tool, 'lint'], cwd=ctx.root, env=env)
    findings = [] if fragments == 0 else [Finding('changelogs/fragments', f'antsibull-changelog lint exited {fragments}: see above')]
    changes = os.path.join('changelogs', 'changelog.yaml')
    if not os.path.exists(os.path.join(ctx.root, changes)):
        findings.append(Finding(changes, 'missing: ansible-lint and antsibull-changelog need it'))
    elif run_tool(ctx, [tool, 'lint-changelog-yaml', changes], cwd=ctx.root, env=env) != 0:
        findings.append(Finding(changes, 'antsibull-changelog lint-changelog-yaml failed: see above'))
    return StageResult.from_findings(findings)
