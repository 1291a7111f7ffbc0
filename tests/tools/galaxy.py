"""Build the collection artifact, install it, and read every module's and role's docs from the install.

This is what a user gets from Galaxy: a file missing from the tarball, a module without
documentation or a role without argument specs shows up here and nowhere else.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import tarfile
import tempfile

from . import task_options
from .common import Context, Finding, StageResult, capture_tool, read_yaml, tool_env, tree_files
from .meta_checks import ARTIFACT_REQUIRED, module_names, role_names

CORE = '2.19'
# Development files that must never reach the artifact (see build_ignore in galaxy.yml).
FORBIDDEN_PREFIXES = ('.cache/', '.git/', '.ci/', 'tests/output/', '.pytest_cache/', '.hypothesis/', '.ansible/')


def artifact_name(root: str) -> str:
    galaxy = read_yaml(os.path.join(root, 'galaxy.yml')) or {}
    return f"{galaxy.get('namespace')}-{galaxy.get('name')}-{galaxy.get('version')}.tar.gz"


def tarball_findings(tarball: str) -> list[Finding]:
    """Findings about the artifact's content: required files present, caches absent."""
    name = os.path.basename(tarball)
    with tarfile.open(tarball) as archive:
        members = {m.name[2:] if m.name.startswith('./') else m.name for m in archive.getmembers()}
    findings = [Finding(name, f'{required} is missing from the artifact') for required in ARTIFACT_REQUIRED if required not in members]
    for member in sorted(members):
        if member.startswith(FORBIDDEN_PREFIXES) or member.endswith('.tar.gz'):
            findings.append(Finding(name, f'{member} is in the artifact: add it to build_ignore in galaxy.yml'))
    return findings


def doc_finding(kind: str, name: str, proc, install_dir: str = '') -> Finding | None:
    """A finding when ansible-doc failed or printed nothing for a plugin (paths inside ``install_dir`` shortened)."""
    label = f'airgap.wsus.{name}'
    source = f'plugins/modules/{name}.py' if kind == 'module' else f'roles/{name}'
    errors = ' '.join(line.strip() for line in proc.stderr.splitlines() if line.strip())
    if install_dir:
        errors = errors.replace(install_dir, '<install>')
    errors = errors[:500]
    if proc.returncode != 0:
        return Finding(source, f'ansible-doc {"-t role " if kind == "role" else ""}{label} failed ({proc.returncode}): {errors}')
    if not proc.stdout.strip():
        return Finding(source, f'ansible-doc {"-t role " if kind == "role" else ""}{label} printed nothing: {errors or "no documentation"}')
    return None


def run(ctx: Context, core: str = CORE) -> StageResult:
    galaxy_bin, doc_bin = ctx.tool(core, 'ansible-galaxy'), ctx.tool(core, 'ansible-doc')
    expected = artifact_name(ctx.root)
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix='airgap-wsus-galaxy-') as tmp:
        env = tool_env(ctx, core, ANSIBLE_COLLECTIONS_PATH=os.path.join(tmp, 'collections'), ANSIBLE_NOCOLOR='1')
        build = capture_tool([galaxy_bin, 'collection', 'build', '--output-path', os.path.join(tmp, 'dist'), ctx.root], tmp, env)
        ctx.say((build.stdout + build.stderr).strip())
        built = sorted(os.listdir(os.path.join(tmp, 'dist'))) if os.path.isdir(os.path.join(tmp, 'dist')) else []
        if build.returncode != 0 or not built:
            return StageResult.from_findings([Finding('galaxy.yml', f'ansible-galaxy collection build failed ({build.returncode})')])
        if built != [expected]:
            findings.append(Finding('galaxy.yml', f'the build made {", ".join(built)}, expected {expected}'))
        tarball = os.path.join(tmp, 'dist', built[0])
        findings.extend(tarball_findings(tarball))
        install = capture_tool([galaxy_bin, 'collection', 'install', '--offline', '-p', os.path.join(tmp, 'collections'), tarball], tmp, env)
        ctx.say((install.stdout + install.stderr).strip())
        if install.returncode != 0:
            findings.append(Finding(built[0], f'ansible-galaxy collection install failed ({install.returncode})'))
            return StageResult.from_findings(findings)
        jobs = [('module', name, [doc_bin, f'airgap.wsus.{name}']) for name in module_names(ctx.root)]
        jobs += [('role', name, [doc_bin, '-t', 'role', f'airgap.wsus.{name}']) for name in role_names(ctx.root)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
            procs = list(pool.map(lambda job: capture_tool(job[2], tmp, env), jobs))
        documented = []
        for (kind, name, argv), proc in zip(jobs, procs):
            finding = doc_finding(kind, name, proc, install_dir=tmp)
            ctx.say(f'$ {" ".join(os.path.basename(a) if a == argv[0] else a for a in argv)}: '
                    f'{"FAIL" if finding else "ok"} ({len(proc.stdout.splitlines())} lines)')
            if finding:
                findings.append(finding)
            elif kind == 'module':
                documented.append(f'airgap.wsus.{name}')
        findings.extend(option_findings(ctx, doc_bin, documented, tmp, env))
    return StageResult.from_findings(findings, note=f'{expected}, {len(jobs)} docs')


def option_findings(ctx: Context, doc_bin: str, modules: list[str], cwd: str, env: dict[str, str]) -> list[Finding]:
    """Options used with the modules in the tree's YAML and in EXAMPLES must be documented ones."""
    if not modules:
        return []
    proc = capture_tool([doc_bin, '--json', *modules], cwd, env)
    try:
        doc_json = json.loads(proc.stdout)
    except ValueError:
        return [Finding('plugins/modules', f'ansible-doc --json failed ({proc.returncode}): {proc.stderr.strip()[:300]}')]
    names = task_options.option_names(doc_json)
    found = task_options.examples_findings(doc_json, names) + task_options.tree_findings(ctx.root, tree_files(ctx.root), names)
    ctx.say(f'options used with {len(names)} modules checked against their documentation: {len(found)} unknown')
    return found
