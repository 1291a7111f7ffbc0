"""``ansible-test sanity`` with every test, in ``--venv`` mode, offline.

ansible-test insists on a real ``.../ansible_collections/airgap/wsus`` directory (it resolves
symlinks), so the tree is mirrored into one under the system temp dir, outside any git
checkout: ansible-test then checks every file of the copy, and it needs no git metadata. The
copy persists between runs, and with it ansible-test's own virtualenv in its ``tests/output``.

Every virtualenv ansible-test makes first runs a ``get-pip.py`` it downloads from a host this
machine cannot reach. It uses ``~/.ansible/test/cache/get_pip_<version>.py`` when that exists,
so a stand-in there installs the pinned pip from the package index instead.
"""
from __future__ import annotations

import ast
import filecmp
import hashlib
import os
import shutil
import sys
import tempfile

from .common import Context, Finding, PassCache, StageResult, file_digest, run_tool, tool_env, tree_digest, tree_files

GET_PIP_MARKER = '# airgap.wsus offline get-pip stand-in'
GET_PIP_STANDIN = f'''{GET_PIP_MARKER}
"""Installs the pip ansible-test asked for from the package index, since get-pip.py cannot be downloaded here.

Written by tests/tools/sanity.py. ansible-test runs it in a new, empty virtualenv with pip's
arguments (for example ``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``).
"""
import subprocess
import sys

ARGS = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--upgrade'] + ARGS)
'''
SANITY_TIMEOUT = 1800


def pip_version(python_requirements: str, python_version: str) -> str:
    """The pip version ansible-test bootstraps for ``python_version``, read from its python_requirements.py.

    The file defines ``default_packages = dict(pip='X', ...)`` and, for old Pythons,
    ``override_packages = {'3.6': dict(pip='Y', ...)}`` inside ``get_venv_packages``.
    """
    with open(python_requirements, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), python_requirements)
    default = None
    overrides: dict[str, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            continue
        name = node.targets[0].id
        if name == 'default_packages':
            default = _pip_keyword(node.value)
        elif name == 'override_packages' and isinstance(node.value, ast.Dict):
            for key, value in zip(node.value.keys, node.value.values):
                version = _pip_keyword(value)
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and version:
                    overrides[key.value] = version
    version = overrides.get(python_version, default)
    if not version:
        raise ValueError(f'no pip version for Python {python_version} in {python_requirements}: '
                         'ansible-test changed how it pins pip, update tests/tools/sanity.py')
    return version


def _pip_keyword(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict':
        for keyword in node.keywords:
            if keyword.arg == 'pip' and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                return keyword.value.value
    return None


def write_get_pip(cache_dir: str, version: str) -> str:
    """Write the stand-in for ``get_pip_<version>.py`` unless a real download or the same stand-in is there."""
    path = os.path.join(cache_dir, 'get_pip_%s.py' % version.replace('.', '_'))
    if os.path.exists(path):
        with open(path, encoding='utf-8', errors='replace') as handle:
            current = handle.read()
        if not current.startswith(GET_PIP_MARKER) or current == GET_PIP_STANDIN:
            return path
    os.makedirs(cache_dir, exist_ok=True)
    with open(path + '.tmp', 'w', encoding='utf-8') as handle:
        handle.write(GET_PIP_STANDIN)
    os.replace(path + '.tmp', path)
    return path


def ignore_findings(root: str) -> list[Finding]:
    """The project keeps no sanity ignore entries: a test that fails is fixed, not ignored."""
    folder = os.path.join(root, 'tests', 'sanity')
    if not os.path.isdir(folder):
        return []
    found = []
    for name in sorted(os.listdir(folder)):
        if not (name.startswith('ignore-') and name.endswith('.txt')):
            continue
        with open(os.path.join(folder, name), encoding='utf-8', errors='replace') as handle:
            for number, line in enumerate(handle, 1):
                if line.strip() and not line.lstrip().startswith('#'):
                    found.append(Finding(f'tests/sanity/{name}', f'sanity ignore entry {line.strip()!r}: fix the code instead',
                                         line=number))
    return found


def mirror(root: str, files: list[str], dest: str) -> None:
    """Make ``dest`` hold exactly ``files`` from ``root`` (plus its own tests/output), copying only what changed."""
    wanted = set(files)
    os.makedirs(dest, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(dest, topdown=True):
        rel_dir = os.path.relpath(dirpath, dest).replace(os.sep, '/')
        rel_dir = '' if rel_dir == '.' else rel_dir + '/'
        if rel_dir == 'tests/':
            dirnames[:] = [d for d in dirnames if d != 'output']
        for name in filenames:
            if rel_dir + name not in wanted:
                os.unlink(os.path.join(dirpath, name))
    for rel in files:
        src, dst = os.path.join(root, rel), os.path.join(dest, rel)
        if os.path.islink(src):
            # Symlinks stay symlinks, so ansible-test's `symlinks` test judges them as they are.
            if not (os.path.islink(dst) and os.readlink(dst) == os.readlink(src)):
                _replace(dst, lambda target, link=os.readlink(src): os.symlink(link, target))
        elif not (os.path.isfile(dst) and not os.path.islink(dst) and filecmp.cmp(src, dst, shallow=False)
                  and os.stat(src).st_mode == os.stat(dst).st_mode):
            _replace(dst, lambda target, source=src: shutil.copy2(source, target))
    for dirpath, dirnames, dummy in os.walk(dest, topdown=False):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, dest).replace(os.sep, '/')
            if rel != 'tests/output' and not rel.startswith('tests/output/') and not os.listdir(path):
                os.rmdir(path)


def _replace(path: str, create) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    create(path)


def work_dir(root: str, core: str) -> str:
    """A short, per-checkout path outside the checkout (ansible-test venvs hit the 127-character shebang limit)."""
    tag = hashlib.sha256(os.path.realpath(root).encode()).hexdigest()[:10]
    uid = os.getuid() if hasattr(os, 'getuid') else 0
    return os.path.join(tempfile.gettempdir(), f'airgap-wsus-sanity-{uid}-{tag}', core, 'ansible_collections', 'airgap', 'wsus')


def python_version(venv: str) -> str:
    """``X.Y`` of the virtualenv's interpreter, from the name of its lib/pythonX.Y folder."""
    lib = os.path.join(venv, 'lib')
    names = [n for n in os.listdir(lib) if n.startswith('python')] if os.path.isdir(lib) else []
    if len(names) == 1:
        return names[0][len('python'):]
    return '%d.%d' % sys.version_info[:2]


def run(ctx: Context, core: str) -> StageResult:
    venv = ctx.venv(core)
    findings = ignore_findings(ctx.root)
    # Ignore files stay out of the copy, so ansible-test also shows what their entries would hide.
    files = [f for f in tree_files(ctx.root) if not (f.startswith('tests/sanity/ignore-') and f.endswith('.txt'))]
    pyver = python_version(venv)
    site_packages = os.path.join(venv, 'lib', f'python{pyver}', 'site-packages')
    requirements = os.path.join(site_packages, 'ansible_test', '_internal', 'python_requirements.py')
    pip = pip_version(requirements, pyver)
    ansible_test = ctx.tool(core, 'ansible-test')
    cache = PassCache(ctx, f'sanity-{core}', tree_digest(ctx.root, files, core, pyver, file_digest(requirements),
                                                         file_digest(os.path.join(venv, 'pyvenv.cfg')), _installed_core(site_packages)))
    if not findings and cache.hit():
        return StageResult(ok=True, note='cached: same files and ansible-core as a run that passed')
    write_get_pip(os.path.expanduser('~/.ansible/test/cache'), pip)
    dest = work_dir(ctx.root, core)
    mirror(ctx.root, files, dest)
    ctx.say(f'sanity copy: {dest} ({len(files)} files), pip {pip} bootstrap stand-in')
    code = run_tool(ctx, [ansible_test, 'sanity', '--venv', '--python', pyver, '--color', 'no'], cwd=dest,
                    env=tool_env(ctx, core), timeout=SANITY_TIMEOUT)
    note = '' if code == 0 else f'ansible-test exited {code}; its findings are above'
    return cache.record(StageResult(ok=code == 0 and not findings, findings=findings, note=note))


def _installed_core(site_packages: str) -> str:
    """Name of ansible-core's dist-info folder, which carries its exact version."""
    return ','.join(sorted(n for n in os.listdir(site_packages) if n.startswith('ansible_core-') and n.endswith('.dist-info')))
