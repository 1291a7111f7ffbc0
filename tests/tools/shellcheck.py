"""shellcheck over the tree's shell scripts: ``*.sh``/``*.bash`` files and files with a shell shebang."""
from __future__ import annotations

import os
import re
import shutil

from .common import Context, StageResult, ToolMissing, run_tool, tree_files

SHELL_SHEBANG = re.compile(rb'^#!\s*(?:/usr)?/bin/(?:env\s+)?(?:ba|da|k)?sh\b')


def shell_scripts(root: str) -> list[str]:
    found = []
    for rel in tree_files(root):
        if rel.endswith(('.sh', '.bash')):
            found.append(rel)
            continue
        with open(os.path.join(root, rel), 'rb') as handle:
            if SHELL_SHEBANG.match(handle.readline(200)):
                found.append(rel)
    return found


def run(ctx: Context) -> StageResult:
    scripts = shell_scripts(ctx.root)
    if not scripts:
        return StageResult(ok=True, note='no shell scripts')
    shellcheck = shutil.which('shellcheck')
    if not shellcheck:
        raise ToolMissing('shellcheck is not installed: apt-get install -y shellcheck (make test installs it when run as root)')
    code = run_tool(ctx, [shellcheck, '--external-sources', '--format', 'gcc'] + scripts, cwd=ctx.root)
    return StageResult(ok=code == 0, note=f'{len(scripts)} scripts' + ('' if code == 0 else f', shellcheck exited {code}'))
