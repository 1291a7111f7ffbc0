"""Air-gap cycles on the emulated lab, as a user runs them: ``ansible-playbook airgap.wsus.export`` then ``.import``.

A :class:`CycleLab` starts the lab of a :class:`Scale` in this process (so :mod:`ledger` can see
its traffic), writes an inventory and a variables file, and runs the collection's playbooks
with the ``ansible-playbook`` beside this interpreter. Each :meth:`CycleLab.run` returns a
:class:`Run`: wall time, the PLAY RECAP, the listener counters of the host it ran against, and
its traffic per host-script operation.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import typing as t

from ansible_collections.airgap.wsus.benchmarks.ledger import DriveMeter, WinrmLedger
from ansible_collections.airgap.wsus.tests.lab.lab import Lab
from ansible_collections.airgap.wsus.tests.lab.wsus.susdb import sql_time, utcnow

EXPORT = 'wsus-connected'
IMPORT = 'wsus-disconnected'
DESTINATION = 'plant-a'
TRANSFER = 'E:\\airgap'
PLAYBOOK_TIMEOUT = 3600
CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'callback')
_RECAP_RE = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.MULTILINE)


class CycleError(RuntimeError):
    """A playbook failed or the lab is not what the benchmark expects; the message says where to look."""


@dataclasses.dataclass(frozen=True)
class Scale:
    """One lab size: the export server's catalog, and what appears upstream before the measured cycle."""

    name: str
    updates: int
    files: int
    new_updates: int
    file_size_min: int = 64
    file_size_max: int = 256
    slow_medium: t.Optional[int] = None

    def spec(self) -> dict:
        # One language, the one the servers download (English), and no express files: every file
        # reference of the catalog but shared EULAs becomes a file in WsusContent, so ``files``
        # is about the number of content files, as in the scales.
        catalog = {'seed': 'bench', 'updates': self.updates, 'files': self.files, 'file_size_min': self.file_size_min,
                   'file_size_max': self.file_size_max, 'languages': ['en'], 'express_ratio': 0.0}
        # Every file of the catalog is downloaded (not only approved updates' files).
        export: dict = {'name': EXPORT, 'role': 'export', 'catalog': catalog, 'wsus': {'deferred_download': False}}
        if self.slow_medium:
            export['faults'] = {'slow_drive': {'E:': self.slow_medium}}
        return {'hosts': [export, {'name': IMPORT, 'role': 'import'}]}


@dataclasses.dataclass
class Run:
    """One ``ansible-playbook`` run."""

    playbook: str
    host: str
    seconds: float
    changed: int
    failed: int
    counters: dict
    operations: dict
    log: str
    tasks: list = dataclasses.field(default_factory=list)

    @property
    def requests(self) -> int:
        return int(self.counters.get('requests') or 0)

    @property
    def winrm_bytes(self) -> int:
        return int(self.counters.get('bytes_in') or 0) + int(self.counters.get('bytes_out') or 0)


def task_times(path: str) -> list:
    """``[{task, action, host, seconds, status}]`` the ``task_times`` callback wrote, in order."""
    if not os.path.exists(path):
        return []
    with open(path, encoding='utf-8') as handle:
        return [json.loads(line) for line in handle if line.strip()]


def ansible_playbook() -> str:
    found = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    if not os.path.exists(found):
        raise CycleError(f'{found} does not exist: run the benchmark with the interpreter of .cache/venv (make bench builds it)')
    return found


def private_file(path: str, text: str) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        handle.write(text)
    return path


class CycleLab:
    """A running lab of one :class:`Scale` and the playbook runs against it."""

    def __init__(self, scale: Scale, work_dir: str, collections_path: str) -> None:
        self.scale = scale
        self.work_dir = work_dir
        self.ledger = WinrmLedger.install()
        self.meter = DriveMeter.install()
        if os.path.isdir(work_dir):
            shutil.rmtree(work_dir)
        os.makedirs(os.path.join(work_dir, 'reports'))
        os.makedirs(os.path.join(work_dir, 'logs'))
        config = os.path.join(work_dir, 'ansible.cfg')
        with open(config, 'w', encoding='utf-8') as handle:
            handle.write('# Settings come from the environment (benchmarks/cycles.py).\n[defaults]\n')
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_CONFIG=config,
                        ANSIBLE_HOME=os.path.join(work_dir, 'ansible-home'), ANSIBLE_LOCAL_TEMP=os.path.join(work_dir, 'ansible-tmp'),
                        ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_DEPRECATION_WARNINGS='0',
                        PYTHONUNBUFFERED='1')
        self.env.pop('ANSIBLE_COLLECTIONS_PATHS', None)
        self.env.update(ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED='task_times')
        self.lab: t.Any = None
        self.inventory = ''
        self.vars_file = ''
        self.start_seconds = 0.0
        self.runs = 0

    def start(self) -> 'CycleLab':
        began = time.monotonic()
        self.lab = Lab.from_spec(self.scale.spec(), os.path.join(self.work_dir, 'lab'))
        self.lab.start(timeout=120)
        self.start_seconds = time.monotonic() - began
        self.inventory = self.lab.write_inventory(os.path.join(self.work_dir, 'inventory.ini'))
        key = secrets.token_urlsafe(48)
        variables = {
            'export_server_destination': DESTINATION, 'export_server_transfer_root': TRANSFER, 'export_server_signing_key': key,
            'export_server_report_dir': os.path.join(self.work_dir, 'reports'),
            'import_server_destination': DESTINATION, 'import_server_transfer_root': TRANSFER, 'import_server_verify_key': key,
            'import_server_report_dir': os.path.join(self.work_dir, 'reports'),
        }
        self.vars_file = private_file(os.path.join(self.work_dir, 'vars.json'), json.dumps(variables, indent=2) + '\n')
        self.synchronized_earlier()
        return self

    def stop(self) -> None:
        if self.lab is not None:
            self.lab.stop()
            self.lab = None

    def __enter__(self) -> 'CycleLab':
        return self.start()

    def __exit__(self, *exc_info: t.Any) -> None:
        self.stop()

    # -- the lab's state ----------------------------------------------------------------------
    def wsus(self, host: str) -> t.Any:
        return self.lab.hosts[host].host.wsus

    def content(self, host: str) -> dict:
        """``{relative path: size}`` of a host's WsusContent."""
        return dict(self.wsus(host).content.iter_files())

    def medium_root(self) -> str:
        """The folder of the medium both hosts mount as E: (the key :class:`~ledger.DriveMeter` counts it by)."""
        return str(self.lab.hosts[EXPORT].host.fs.drive('E:').volume.root)

    def medium_written(self) -> int:
        return self.meter.written(self.medium_root())

    def synchronized_earlier(self, hours: float = 1.0) -> None:
        """Date the export server's last synchronization an hour back, as on a server that synchronizes on a schedule.

        The export role reuses the staged metadata package when no synchronization ran since it was
        exported (five minutes of clock difference allowed); a lab that has just synchronized is
        inside those five minutes, and would export the metadata again on every run.
        """
        wsus = self.wsus(EXPORT)
        with wsus.db.transaction() as conn:
            conn.execute("UPDATE labSubscription SET Value = ? WHERE Name = 'last_synchronization_time'",
                         (json.dumps(sql_time(utcnow() - datetime.timedelta(hours=hours))),))

    def upstream_news(self, new_updates: t.Optional[int] = None) -> int:
        """New updates appear upstream (a synchronization, just now) and their files download; returns the files downloaded.

        The next export exports the metadata again, as it must; call :meth:`synchronized_earlier`
        after it for runs that should find nothing new.
        """
        wsus = self.wsus(EXPORT)
        wsus.synchronize(new_updates=self.scale.new_updates if new_updates is None else new_updates)
        return wsus.finish_downloads()

    # -- runs -----------------------------------------------------------------------------------
    def run(self, playbook: str, label: str) -> Run:
        """``ansible-playbook airgap.wsus.<playbook>``, measured; raises :class:`CycleError` when it fails."""
        host = EXPORT if playbook == 'export' else IMPORT
        self.runs += 1
        log_path = os.path.join(self.work_dir, 'logs', f'{self.runs:02d}-{label}-{playbook}.log')
        for handle in self.lab.hosts.values():
            handle.server.counters.reset()
        self.ledger.reset()
        command = [ansible_playbook(), '-i', self.inventory, f'airgap.wsus.{playbook}', '-e', '@' + self.vars_file]
        times_path = log_path[:-len('.log')] + '.times.jsonl'
        began = time.monotonic()
        with open(log_path, 'w', encoding='utf-8') as log:
            proc = subprocess.run(command, env=dict(self.env, AIRGAP_TASK_TIMES_FILE=times_path), cwd=self.work_dir, stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=PLAYBOOK_TIMEOUT, check=False)
        seconds = time.monotonic() - began
        with open(log_path, encoding='utf-8', errors='replace') as log:
            text = log.read()
        recap = {m.group(1): (int(m.group(3)), int(m.group(5)) + int(m.group(4))) for m in _RECAP_RE.finditer(text)}
        changed, failed = recap.get(host, (0, 1))
        if proc.returncode != 0 or failed:
            tail = '\n'.join('    ' + line for line in text.splitlines()[-30:])
            raise CycleError(f'{self.scale.name} {label}: ansible-playbook airgap.wsus.{playbook} exited {proc.returncode}; '
                             f'end of {log_path}:\n{tail}')
        counters = self.lab.hosts[host].server.counters.snapshot()
        return Run(playbook, host, seconds, changed, failed, counters, self.ledger.operations(host), log_path, task_times(times_path))

    def cycle(self, label: str) -> t.Tuple[Run, Run]:
        """Export, then import."""
        return self.run('export', label), self.run('import', label)

    def check_in_step(self) -> None:
        """The import server holds the export server's catalog and content: the cycle did its job."""
        exported, imported = self.wsus(EXPORT), self.wsus(IMPORT)
        if set(imported.update_ids()) != set(exported.update_ids()) or self.content(IMPORT) != self.content(EXPORT):
            raise CycleError(f'{self.scale.name}: after the cycle {IMPORT} does not hold what {EXPORT} holds '
                             f'({len(imported.update_ids())} of {len(exported.update_ids())} updates); see {self.work_dir}/logs')
