"""What every stage of the check runner shares: findings, results, the file list, tool runs."""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import typing as t

import yaml

# Directories that hold caches, virtualenvs or build output, never project files. They are skipped
# when the tree is walked without git; with git, .gitignore already leaves them out.
SKIP_DIRS = frozenset(('.git', '.cache', '.ansible', '.pytest_cache', '.hypothesis', '.tox', '__pycache__', '.mypy_cache'))
SKIP_PATHS = frozenset(('tests/output',))
SKIP_SUFFIXES = ('.pyc', '.tar.gz')


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem a stage found, reported as ``path:line:col: message``."""

    path: str
    message: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f':{self.line}'
            if self.col:
                where += f':{self.col}'
        return f'{where}: {self.message}'


@dataclasses.dataclass
class StageResult:
    """Outcome of one stage: it passed only when ``ok`` is true."""

    ok: bool
    findings: list[Finding] = dataclasses.field(default_factory=list)
    note: str = ''

    @classmethod
    def from_findings(cls, findings: list[Finding], note: str = '') -> StageResult:
        return cls(ok=not findings, findings=findings, note=note)


@dataclasses.dataclass
class Context:
    """Where a stage runs: the tree it checks and the tools it may use."""

    root: str
    # ansible-core minor version ("2.16", "2.19") -> virtualenv directory
    venvs: dict[str, str]
    # results of slow stages that passed, keyed by a digest of their inputs
    cache_dir: str
    use_cache: bool = True
    out: t.TextIO = dataclasses.field(default_factory=lambda: sys.stdout)

    def venv(self, core: str) -> str:
        path = self.venvs.get(core)
        if not path or not os.path.exists(os.path.join(path, 'bin', 'python')):
            raise ToolMissing(f'no virtualenv for ansible-core {core} at {path!r}: run `make test` (it creates .cache/venv*), '
                              'or pass --venv CORE=PATH')
        return path

    def tool(self, core: str, name: str) -> str:
        path = os.path.join(self.venv(core), 'bin', name)
        if not os.path.exists(path):
            raise ToolMissing(f'{name} is not installed in {self.venv(core)}: remove that virtualenv and run `make test` again')
        return path

    def say(self, text: str) -> None:
        self.out.write(text + '\n')
        self.out.flush()


class ToolMissing(Exception):
    """A tool a stage needs is not installed; the message says how to get it."""


def tree_files(root: str) -> list[str]:
    """Return the project's files under ``root`` as sorted, '/'-separated relative paths.

    In a git checkout this is what git tracks plus untracked files that .gitignore does not
    exclude, so work in progress is checked too. Without git the tree is walked, skipping caches.
    """
    files = _git_files(root)
    if files is None:
        files = _walk_files(root)
    return sorted(f for f in files if not _skipped(f) and os.path.isfile(os.path.join(root, f)))


def _git_files(root: str) -> list[str] | None:
    if not os.path.exists(os.path.join(root, '.git')) or not shutil.which('git'):
        return None
    proc = subprocess.run(['git', '-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        return None
    return [name for name in proc.stdout.decode('utf-8', 'surrogateescape').split('\0') if name]


def _walk_files(root: str) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, '/')
        rel_dir = '' if rel_dir == '.' else rel_dir + '/'
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and rel_dir + d not in SKIP_PATHS]
        found.extend(rel_dir + name for name in filenames)
    return found


def _skipped(rel_path: str) -> bool:
    parts = rel_path.split('/')
    if any(part in SKIP_DIRS for part in parts[:-1]):
        return True
    if any(rel_path == p or rel_path.startswith(p + '/') for p in SKIP_PATHS):
        return True
    return rel_path.endswith(SKIP_SUFFIXES)


def tree_digest(root: str, files: list[str], *extra: str) -> str:
    """Digest of the files' names, executable bits and contents plus ``extra`` strings (tool versions)."""
    digest = hashlib.sha256()
    for item in extra:
        digest.update(b'x\0' + item.encode() + b'\0')
    for rel in files:
        path = os.path.join(root, rel)
        executable = b'1' if os.access(path, os.X_OK) else b'0'
        with open(path, 'rb') as handle:
            content = handle.read()
        digest.update(b'f\0' + rel.encode('utf-8', 'surrogateescape') + b'\0' + executable + hashlib.sha256(content).digest())
    return digest.hexdigest()


def file_digest(path: str) -> str:
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


class PassCache:
    """Remembers that a slow, deterministic stage passed on exactly these inputs."""

    def __init__(self, ctx: Context, stage: str, digest: str) -> None:
        self.enabled = ctx.use_cache
        self.path = os.path.join(ctx.cache_dir, 'passed', f'{stage}-{digest[:32]}')

    def hit(self) -> bool:
        return self.enabled and os.path.exists(self.path)

    def record(self, result: StageResult) -> StageResult:
        if result.ok and self.enabled:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, 'w', encoding='utf-8') as handle:
                handle.write('passed\n')
        return result


def run_tool(ctx: Context, argv: list[str], cwd: str | None = None, env: dict[str, str] | None = None,
             timeout: float | None = None) -> int:
    """Run a tool, streaming its output to the console as it comes; return its exit code (124 on timeout)."""
    ctx.say('$ ' + ' '.join(argv))
    try:
        # Its own process group, so a timeout or Ctrl-C also ends what it started (pytest-xdist workers, pylint).
        proc = subprocess.Popen(argv, cwd=cwd or ctx.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    except FileNotFoundError as ex:
        raise ToolMissing(f'{argv[0]} not found ({ex})') from ex
    expired = threading.Event()

    def stop() -> None:
        expired.set()
        _kill_group(proc)

    timer = threading.Timer(timeout, stop) if timeout else None
    try:
        if timer:
            timer.start()
        with proc:
            for raw in proc.stdout or ():
                ctx.out.write(raw.decode('utf-8', 'replace'))
                ctx.out.flush()
            code = proc.wait()
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        if timer:
            timer.cancel()
    if expired.is_set():
        ctx.say(f'timed out after {timeout:.0f}s: {" ".join(argv)}')
        return 124
    return code


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def capture_tool(argv: list[str], cwd: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a tool quietly and return its output (text)."""
    return subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          text=True, timeout=timeout, check=False)


def tool_env(ctx: Context, core: str, **extra: str) -> dict[str, str]:
    """Environment for a tool of one virtualenv: its bin first on PATH, no inherited ANSIBLE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('ANSIBLE_')}
    env['PATH'] = os.path.join(ctx.venv(core), 'bin') + os.pathsep + env.get('PATH', os.defpath)
    env['VIRTUAL_ENV'] = ctx.venv(core)
    env.update(extra)
    return env


def read_yaml(path: str) -> t.Any:
    """Load one YAML document (PyYAML comes with ansible-core, so every test virtualenv has it)."""
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)
