"""Collection metadata that can drift from the code: the action group and what the artifact keeps."""
from __future__ import annotations

import fnmatch
import os

from .common import Context, Finding, StageResult, read_yaml

RUNTIME = 'meta/runtime.yml'
GALAXY = 'galaxy.yml'
EE_META = 'meta/execution-environment.yml'
ACTION_GROUP = 'wsus'
# ansible-builder reads these from the installed collection; build_ignore must never drop them.
ARTIFACT_REQUIRED = ('requirements.txt', 'bindep.txt', EE_META, RUNTIME)


def module_names(root: str) -> list[str]:
    """Short names of the modules in plugins/modules/ (documentation stubs of the action plugins)."""
    folder = os.path.join(root, 'plugins', 'modules')
    if not os.path.isdir(folder):
        return []
    return sorted(name[:-3] for name in os.listdir(folder)
                  if name.endswith('.py') and name != '__init__.py' and not name.startswith('.'))


def role_names(root: str) -> list[str]:
    folder = os.path.join(root, 'roles')
    if not os.path.isdir(folder):
        return []
    return sorted(name for name in os.listdir(folder) if os.path.isdir(os.path.join(folder, name)) and not name.startswith('.'))


def action_group_findings(root: str) -> list[Finding]:
    """Every module must be in the ``wsus`` action group of meta/runtime.yml, and every entry must be a module."""
    path = os.path.join(root, RUNTIME)
    if not os.path.exists(path):
        return [Finding(RUNTIME, 'missing: the collection needs requires_ansible and the wsus action group')]
    try:
        runtime = read_yaml(path) or {}
    except Exception as ex:  # pylint: disable=broad-exception-caught  # any YAML error is a finding, reported with its text
        return [Finding(RUNTIME, f'not valid YAML: {ex}')]
    groups = runtime.get('action_groups') if isinstance(runtime, dict) else None
    group = groups.get(ACTION_GROUP) if isinstance(groups, dict) else None
    if not isinstance(group, list):
        return [Finding(RUNTIME, f'action_groups.{ACTION_GROUP} must be a list of the module names in plugins/modules/')]
    listed = [entry for entry in group if isinstance(entry, str)]
    findings = [Finding(RUNTIME, f'action_groups.{ACTION_GROUP} entry {entry!r} is not a module name') for entry in group
                if not isinstance(entry, str)]
    modules = module_names(root)
    for name in modules:
        if name not in listed:
            findings.append(Finding(f'plugins/modules/{name}.py',
                                    f'module {name} is missing from action_groups.{ACTION_GROUP} in {RUNTIME}: add it there'))
    for name in listed:
        if name not in modules:
            findings.append(Finding(RUNTIME, f'action_groups.{ACTION_GROUP} lists {name!r}, but plugins/modules/{name}.py does not exist'))
    return findings


def build_ignore_findings(root: str) -> list[Finding]:
    """galaxy.yml's build_ignore must not drop the files ansible-builder and Ansible read from the artifact."""
    path = os.path.join(root, GALAXY)
    if not os.path.exists(path):
        return [Finding(GALAXY, 'missing')]
    try:
        galaxy = read_yaml(path) or {}
    except Exception as ex:  # pylint: disable=broad-exception-caught  # any YAML error is a finding, reported with its text
        return [Finding(GALAXY, f'not valid YAML: {ex}')]
    patterns = galaxy.get('build_ignore') or []
    findings = []
    for required in ARTIFACT_REQUIRED:
        prefixes = [required] + ['/'.join(required.split('/')[:n]) for n in range(1, required.count('/') + 1)]
        for pattern in patterns:
            if any(fnmatch.fnmatch(prefix, str(pattern)) for prefix in prefixes):
                findings.append(Finding(GALAXY, f'build_ignore pattern {pattern!r} drops {required} from the collection artifact'))
    return findings


def ee_findings(root: str) -> list[Finding]:
    """meta/execution-environment.yml must name dependency files that exist (paths relative to the collection root)."""
    path = os.path.join(root, EE_META)
    if not os.path.exists(path):
        return [Finding(EE_META, 'missing: ansible-builder reads the collection\'s Python and system dependencies from it')]
    try:
        meta = read_yaml(path) or {}
    except Exception as ex:  # pylint: disable=broad-exception-caught  # any YAML error is a finding, reported with its text
        return [Finding(EE_META, f'not valid YAML: {ex}')]
    deps = meta.get('dependencies') if isinstance(meta, dict) else None
    if not isinstance(deps, dict):
        return [Finding(EE_META, 'needs a dependencies mapping with python and system entries')]
    findings = []
    for key in ('python', 'system'):
        value = deps.get(key)
        if not isinstance(value, str):
            findings.append(Finding(EE_META, f'dependencies.{key} must name a file relative to the collection root'))
        elif not os.path.isfile(os.path.join(root, value)):
            findings.append(Finding(EE_META, f'dependencies.{key} names {value}, which does not exist'))
    return findings


def run(ctx: Context) -> StageResult:
    findings = action_group_findings(ctx.root) + build_ignore_findings(ctx.root) + ee_findings(ctx.root)
    modules, roles = module_names(ctx.root), role_names(ctx.root)
    return StageResult.from_findings(findings, note=f'{len(modules)} modules, {len(roles)} roles')
