"""Run ``ansible-playbook`` against an emulated WSUS lab and read back each task's exact result.

The integration tests of every module use this through the fixtures in
``tests/integration/conftest.py`` (``wsus_lab``, ``wsus_lab_shared``, ``wsus_lab_factory``),
which yield a :class:`WsusLab`::

    def test_reads_the_server(wsus_lab):
        wsus_lab.export.host.wsus.approve(update_id)           # change lab state before a run
        wsus_lab.export.server.faults.drop_next(1)             # or inject a WinRM fault
        run = wsus_lab.run_playbook('''
        - hosts: wsus-connected
          gather_facts: false
          tasks:
            - name: Read
              airgap.wsus.server_info:
        ''')
        info = run.result('Read')                              # the task's result dict
        assert info['config']['languages'] == ['en']
        assert wsus_lab.export.host.wsus.get_configuration().enabled_languages == ['en']

``ansible-playbook`` runs as a subprocess (the one next to ``sys.executable``) with the
collection on ``ANSIBLE_COLLECTIONS_PATH`` (``tests/conftest.py`` sets it), no ``ansible.cfg``
from the working tree, and the ``airgap_results`` callback (``tests/integration/callback/``)
recording every task result as a JSON line. Extra variables travel in a 0600 JSON file, never
on the command line.
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import typing as t

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
CALLBACK_DIR = os.path.join(HERE, 'callback')
CALLBACK_NAME = 'airgap_results'

EXPORT = 'wsus-connected'
IMPORT = 'wsus-disconnected'

# Small enough that a lab starts in about half a second and a playbook takes seconds, large
# enough that counts are not trivially zero: 200 updates with 60 file references.
DEFAULT_CATALOG = {'seed': 1, 'updates': 200, 'files': 60}
DEFAULT_TIMEOUT = 300


class PlaybookError(AssertionError):
    """A playbook did not end as the test expected; the message carries the output."""


def default_spec() -> dict:
    """The lab the integration tests use unless told otherwise: one export and one import host.

    The export host knows the catalog (:data:`DEFAULT_CATALOG`) with every approved update's
    files downloaded; the import host knows no update yet. Both use the lab's WSUS defaults
    (English only, no express files, deferred download on, autonomous).
    """
    return {'hosts': [
        {'name': EXPORT, 'role': 'export', 'catalog': dict(DEFAULT_CATALOG)},
        {'name': IMPORT, 'role': 'import', 'catalog': {'seed': DEFAULT_CATALOG['seed'], 'updates': 0, 'files': 0}},
    ]}


def merge(base: t.Any, override: t.Any) -> t.Any:
    """Deep-merge ``override`` into a copy of ``base`` (mappings merge, anything else replaces)."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = copy.deepcopy(base)
        for key, value in override.items():
            merged[key] = merge(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def build_spec(spec: t.Optional[dict] = None, export: t.Optional[dict] = None, import_: t.Optional[dict] = None) -> dict:
    """``spec`` (default :func:`default_spec`) with ``export``/``import_`` merged into those hosts' entries.

    ``build_spec(export={'wsus': {'languages': ['en', 'de']}})`` gives the default lab with a
    bilingual export server.
    """
    result = copy.deepcopy(spec) if spec is not None else default_spec()
    for name, override in ((EXPORT, export), (IMPORT, import_)):
        if not override:
            continue
        for index, entry in enumerate(result.get('hosts') or []):
            if entry.get('name') == name:
                result['hosts'][index] = merge(entry, override)
                break
        else:
            raise ValueError(f'the spec has no host {name} to apply {override!r} to')
    return result


def ansible_playbook() -> str:
    """The ``ansible-playbook`` of the interpreter running the tests (else the one on PATH)."""
    beside = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    found = beside if os.path.exists(beside) else shutil.which('ansible-playbook')
    if not found:
        raise PlaybookError(f'ansible-playbook is not installed next to {sys.executable} nor on PATH')
    return found


def collections_path() -> str:
    """Where Ansible finds ``airgap.wsus``: what ``tests/conftest.py`` put in the environment."""
    path = os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.environ.get('ANSIBLE_COLLECTIONS_PATHS')
    if not path:
        raise PlaybookError('ANSIBLE_COLLECTIONS_PATH is not set: run the tests with pytest from the repository root '
                            '(tests/conftest.py sets it to the collection shim)')
    return path


@dataclasses.dataclass
class TaskRecord:
    """One task's result on one host, as the ``airgap_results`` callback recorded it."""

    play: str
    task: str
    action: str
    host: str
    status: str
    changed: bool
    ignored: bool
    result: dict

    @property
    def failed(self) -> bool:
        return self.status == 'failed'


@dataclasses.dataclass
class PlaybookResult:
    """What one ``ansible-playbook`` run produced."""

    rc: int
    stdout: str
    stderr: str
    records: list
    command: list
    results_text: str = ''

    @property
    def output(self) -> str:
        """stdout and stderr together, for messages."""
        return self.stdout + self.stderr

    @property
    def everything(self) -> str:
        """Every byte the run showed or recorded: check that a secret appears nowhere in it."""
        return self.stdout + self.stderr + self.results_text

    @property
    def tasks(self) -> list:
        """``(task, host, status)`` of every recorded result, in order."""
        return [(r.task, r.host, r.status) for r in self.records]

    def records_for(self, task: str, host: t.Optional[str] = None) -> list:
        """Every record of task ``task`` (on ``host``, when given)."""
        return [r for r in self.records if r.task == task and (host is None or r.host == host)]

    def record(self, task: str, host: t.Optional[str] = None) -> TaskRecord:
        """The single record of ``task`` (on ``host``); fails the test, listing what ran, otherwise."""
        found = self.records_for(task, host)
        if len(found) != 1:
            where = f' on {host}' if host else ''
            raise PlaybookError(f'expected one result of task {task!r}{where}, found {len(found)}. Recorded: {self.tasks}\n'
                                f'{self.output[-4000:]}')
        return found[0]

    def result(self, task: str, host: t.Optional[str] = None) -> dict:
        """The result dict of ``task`` (on ``host``)."""
        return self.record(task, host).result

    def status(self, task: str, host: t.Optional[str] = None) -> str:
        """``ok``, ``failed``, ``skipped`` or ``unreachable``."""
        return self.record(task, host).status


class PlaybookRunner:
    """Runs playbooks against one inventory; files go to ``work_dir``."""

    def __init__(self, inventory: str, work_dir: str) -> None:
        self.inventory = inventory
        self.work_dir = work_dir
        self._runs = itertools.count(1)
        os.makedirs(work_dir, exist_ok=True)

    def _playbook_file(self, playbook: t.Any, number: int) -> str:
        if isinstance(playbook, (list, dict)):
            text = yaml.safe_dump(playbook if isinstance(playbook, list) else [playbook], sort_keys=False)
        elif isinstance(playbook, os.PathLike) or (isinstance(playbook, str) and '\n' not in playbook and os.path.isfile(playbook)):
            return os.path.abspath(os.fspath(playbook))
        elif isinstance(playbook, str):
            text = playbook
        else:
            raise TypeError(f'a playbook is YAML text, a path, or a list of plays, not {type(playbook).__name__}')
        path = os.path.join(self.work_dir, f'playbook-{number}.yml')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(_dedent(text))
        return path

    def _private_file(self, path: str, data: t.Any) -> str:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            json.dump(data, handle)
        return path

    def _config_file(self) -> str:
        path = os.path.join(self.work_dir, 'ansible.cfg')
        if not os.path.exists(path):
            with open(path, 'w', encoding='utf-8') as handle:
                handle.write('# Empty on purpose: the settings come from the environment (tests/integration/playbook.py).\n[defaults]\n')
        return path

    def environment(self, results_file: str, extra: t.Optional[dict] = None) -> dict:
        """The environment ``ansible-playbook`` runs with."""
        env = dict(os.environ)
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': collections_path(),
            'ANSIBLE_CALLBACK_PLUGINS': CALLBACK_DIR,
            'ANSIBLE_CALLBACKS_ENABLED': CALLBACK_NAME,
            'AIRGAP_RESULTS_FILE': results_file,
            # Nothing from the developer's home or working tree changes what a test sees.
            'ANSIBLE_CONFIG': self._config_file(),
            'ANSIBLE_HOME': os.path.join(self.work_dir, 'ansible-home'),
            'ANSIBLE_LOCAL_TEMP': os.path.join(self.work_dir, 'ansible-tmp'),
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_FORKS': '5',
            'ANSIBLE_DEPRECATION_WARNINGS': '0',
            'ANSIBLE_STDOUT_CALLBACK': 'default',
            'PYTHONUNBUFFERED': '1',
        })
        env.pop('ANSIBLE_COLLECTIONS_PATHS', None)
        env.update(extra or {})
        return env

    def run(self, playbook: t.Any, extra_vars: t.Optional[dict] = None, check: bool = False, diff: bool = False,
            verbosity: int = 0, expect_failure: t.Optional[bool] = False, limit: t.Optional[str] = None,
            env: t.Optional[dict] = None, timeout: float = DEFAULT_TIMEOUT) -> PlaybookResult:
        """Run ``playbook`` (YAML text, a path, or a list of plays) and return what happened.

        The test fails (:class:`PlaybookError`, with the output) when the run's success does not
        match ``expect_failure``: a non-zero exit code is a failure. ``expect_failure=None``
        accepts either outcome.
        """
        number = next(self._runs)
        path = self._playbook_file(playbook, number)
        results_file = os.path.join(self.work_dir, f'results-{number}.jsonl')
        if os.path.exists(results_file):
            os.unlink(results_file)
        command = [ansible_playbook(), '-i', self.inventory, path]
        if extra_vars:
            command += ['-e', '@' + self._private_file(os.path.join(self.work_dir, f'extra-vars-{number}.json'), extra_vars)]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        if limit:
            command += ['--limit', limit]
        if verbosity:
            command.append('-' + 'v' * verbosity)
        try:
            proc = subprocess.run(command, env=self.environment(results_file, env), cwd=self.work_dir, capture_output=True,
                                  text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise PlaybookError(f'ansible-playbook did not finish within {timeout} s:\n{_text(exc.stdout)[-4000:]}\n'
                                f'{_text(exc.stderr)[-4000:]}') from None
        text = ''
        records = []
        if os.path.exists(results_file):
            with open(results_file, encoding='utf-8') as handle:
                text = handle.read()
            records = [TaskRecord(**json.loads(line)) for line in text.splitlines() if line.strip()]
        result = PlaybookResult(rc=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, records=records,
                                command=command, results_text=text)
        if expect_failure is None:
            return result
        if expect_failure and proc.returncode == 0:
            raise PlaybookError(f'the playbook was expected to fail but succeeded. Tasks: {result.tasks}\n{result.output[-4000:]}')
        if not expect_failure and proc.returncode != 0:
            raise PlaybookError(f'ansible-playbook exited {proc.returncode}. Tasks: {result.tasks}\n'
                                f'--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-4000:]}')
        return result


def _text(data: t.Any) -> str:
    if data is None:
        return ''
    return data.decode('utf-8', 'replace') if isinstance(data, bytes) else str(data)


def _dedent(text: str) -> str:
    text = textwrap.dedent(text)
    return text.lstrip('\n') if text.strip() else text


class WsusLab:
    """A running lab plus a playbook runner for it (what the fixtures yield).

    ``lab`` is the :class:`~tests.lab.lab.Lab`; ``hosts`` its host handles by name;
    ``export``/``import_`` the handles of :data:`EXPORT` and :data:`IMPORT` (``None`` when the
    spec has no such host). A handle's ``host`` is the emulated Windows host (``host.wsus``
    its WSUS server, ``host.fs`` its files, ``host.faults`` its faults) and ``server`` its WinRM
    listener (``server.faults``, ``server.counters``).
    """

    def __init__(self, lab: t.Any, work_dir: str) -> None:
        self.lab = lab
        self.work_dir = str(work_dir)
        self.inventory = lab.write_inventory(os.path.join(self.work_dir, 'inventory.ini'))
        self.runner = PlaybookRunner(self.inventory, os.path.join(self.work_dir, 'runs'))

    @property
    def hosts(self) -> dict:
        return self.lab.hosts

    @property
    def export(self) -> t.Any:
        return self.lab.hosts.get(EXPORT)

    @property
    def import_(self) -> t.Any:
        return self.lab.hosts.get(IMPORT)

    def wsus(self, name: str) -> t.Any:
        """The emulated WSUS server of host ``name``."""
        return self.lab.hosts[name].host.wsus

    def sandbox_path(self, name: str, windows_path: str) -> str:
        r"""The real file behind ``windows_path`` (``D:\WSUS\WsusContent\...``) on host ``name``."""
        return str(self.lab.hosts[name].host.fs.real_path(windows_path))

    def credentials(self, account: str, name: t.Optional[str] = None) -> dict:
        """Connection variables that make a play connect as ``account`` (e.g. ``operator``, not an administrator).

        Pass them as ``extra_vars`` (they apply to every host of the run) or as play ``vars``.
        """
        handle = self.lab.hosts[name or EXPORT]
        accounts = handle.entry['accounts']
        if account not in accounts:
            raise KeyError(f'{handle.name} has no account {account}; it has {", ".join(sorted(accounts))}')
        return {'ansible_user': account, 'ansible_password': accounts[account]['password']}

    def run_playbook(self, playbook: t.Any, extra_vars: t.Optional[dict] = None, check: bool = False, diff: bool = False,
                     verbosity: int = 0, expect_failure: t.Optional[bool] = False, **kwargs: t.Any) -> PlaybookResult:
        """Run a playbook against this lab; see :meth:`PlaybookRunner.run` (also ``limit``, ``env``, ``timeout``)."""
        return self.runner.run(playbook, extra_vars=extra_vars, check=check, diff=diff, verbosity=verbosity,
                               expect_failure=expect_failure, **kwargs)

    def stop(self) -> None:
        self.lab.stop()


def start_lab(spec: t.Any, work_dir: str) -> WsusLab:
    """Start a lab from ``spec`` with its state under ``work_dir`` and return its :class:`WsusLab`."""
    from ansible_collections.airgap.wsus.tests.lab.lab import Lab  # pylint: disable=import-outside-toplevel

    lab = Lab.from_spec(spec, os.path.join(str(work_dir), 'lab'))
    lab.start()
    try:
        return WsusLab(lab, str(work_dir))
    except BaseException:
        lab.stop()
        raise
