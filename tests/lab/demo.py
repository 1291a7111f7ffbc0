#!/usr/bin/env python
"""The demo ``make demo`` runs: two air-gap cycles of export and import on the emulated lab.

    .cache/venv/bin/python tests/lab/demo.py [--state-dir DIR] [--new-updates N]

It starts the lab of ``demo_spec.yml`` in this process (a connected export server with 3,000
updates and 800 content files, an empty disconnected import server, one medium mounted as E:
on both), writes an inventory and a variables file, and runs the collection's playbooks with
``.cache/venv``'s ``ansible-playbook``, as a user would:

1. ``ansible-playbook airgap.wsus.export``, then ``airgap.wsus.import`` through ``E:\\airgap``;
2. new updates appear upstream (``synchronize(new_updates=N)`` on the export server, whose
   files then download), and the export and import run again: only the new files travel.

It prints what each run moved and where the reports are, checks that the import server ends
with the export server's catalog and content, and stops the lab when done, on a failure and
on Ctrl+C. Everything it writes goes under the state folder (default ``.cache/demo``, emptied
first): the lab's hosts and medium, ``inventory.ini``, ``vars.yml`` (mode 0600: it holds the
signing key), ``reports/`` and ``logs/`` (one ``ansible-playbook`` log per run).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import typing as t

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(REPO, '.cache', 'venv')
SPEC = os.path.join(HERE, 'demo_spec.yml')
REQUIRED_MODULES = ('winrm', 'spnego', 'yaml', 'cryptography')
DESTINATION = 'plant-a'
TRANSFER = 'E:\\airgap'
EXPORT_HOST = 'wsus-connected'
IMPORT_HOST = 'wsus-disconnected'
PLAYBOOK_TIMEOUT = 600
# ansible-playbook's exit code after Ctrl+C.
ANSIBLE_INTERRUPTED = 99


def say(text: str, error: bool = False) -> None:
    """Print a line at once (the demo's lines interleave with errors on stderr)."""
    print(text, file=sys.stderr if error else sys.stdout, flush=True)


def _missing_modules() -> list:
    missing = []
    for name in REQUIRED_MODULES:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    return missing


if __name__ == '__main__' and _missing_modules():
    # Run by an interpreter without the lab's libraries: use the project's virtualenv when it exists.
    _VENV_PYTHON = os.path.join(VENV, 'bin', 'python')
    if os.path.exists(_VENV_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(_VENV_PYTHON):
        os.execv(_VENV_PYTHON, [_VENV_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    say(f'demo: {", ".join(_missing_modules())} not installed for {sys.executable}. Run `make demo`, which builds .cache/venv '
        'with everything the demo needs.', error=True)
    sys.exit(2)

if __package__ in (None, ''):
    # Run as a script: import the lab package from tests/ (this folder must not shadow it, since
    # it holds lab.py), whether or not the checkout sits in an ansible_collections tree.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
    sys.path.insert(0, os.path.dirname(HERE))
    from lab import spec as spec_mod  # noqa: E402  # pylint: disable=import-self
    from lab.lab import Lab, LabError  # noqa: E402
    from tools.collection_path import collections_shim  # noqa: E402  # pylint: disable=import-error
else:
    from . import spec as spec_mod
    from .lab import Lab, LabError
    from ..tools.collection_path import collections_shim


class DemoError(RuntimeError):
    """The demo cannot go on; the message says why and where to look."""


def human(size: t.Optional[int]) -> str:
    """Bytes as the collection prints them: decimal units, three significant digits."""
    if size is None:
        return '?'
    for factor, unit in ((1000 ** 4, 'TB'), (1000 ** 3, 'GB'), (1000 ** 2, 'MB'), (1000, 'KB')):
        if size >= factor:
            return f'{size / factor:.3g} {unit}'
    return f'{size} B'


def ansible_playbook() -> str:
    path = os.path.join(VENV, 'bin', 'ansible-playbook')
    if not os.path.exists(path):
        raise DemoError(f'{path} does not exist: run `make demo`, which builds .cache/venv first')
    return path


def private_file(path: str, text: str) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        handle.write(text)
    return path


class Demo:
    """One demo run: the lab, the files under the state folder, and the playbook runs."""

    def __init__(self, state_dir: str, new_updates: int) -> None:
        self.state_dir = state_dir
        self.new_updates = new_updates
        self.reports = os.path.join(state_dir, 'reports')
        self.logs = os.path.join(state_dir, 'logs')
        self.lab: t.Optional[t.Any] = None
        self.runs = 0
        self.inventory = ''
        self.vars_file = ''
        self.playbook = ''
        self.env: dict = {}

    # -- setup ------------------------------------------------------------------------------
    def prepare(self) -> None:
        playbook = ansible_playbook()
        if os.path.isdir(self.state_dir):
            shutil.rmtree(self.state_dir)
        for folder in (self.state_dir, self.reports, self.logs):
            os.makedirs(folder, exist_ok=True)
        config = os.path.join(self.state_dir, 'ansible.cfg')
        with open(config, 'w', encoding='utf-8') as handle:
            handle.write('# The demo\'s own settings come from the environment (tests/lab/demo.py).\n[defaults]\n')
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_shim(REPO), ANSIBLE_CONFIG=config,
                        ANSIBLE_HOME=os.path.join(self.state_dir, 'ansible-home'),
                        ANSIBLE_LOCAL_TEMP=os.path.join(self.state_dir, 'ansible-tmp'), ANSIBLE_NOCOLOR='1',
                        ANSIBLE_FORCE_COLOR='0', ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_DEPRECATION_WARNINGS='0',
                        PYTHONUNBUFFERED='1')
        self.env.pop('ANSIBLE_COLLECTIONS_PATHS', None)
        self.playbook = playbook

    def start_lab(self) -> None:
        self.lab = Lab.from_spec(SPEC, os.path.join(self.state_dir, 'lab'))
        began = time.monotonic()
        self.lab.start()
        self.inventory = self.lab.write_inventory(os.path.join(self.state_dir, 'inventory.ini'))
        key = secrets.token_urlsafe(48)
        variables = {
            'export_server_destination': DESTINATION, 'export_server_transfer_root': TRANSFER, 'export_server_signing_key': key,
            'export_server_report_dir': self.reports,
            'import_server_destination': DESTINATION, 'import_server_transfer_root': TRANSFER, 'import_server_verify_key': key,
            'import_server_report_dir': self.reports,
        }
        self.vars_file = private_file(os.path.join(self.state_dir, 'vars.yml'), json.dumps(variables, indent=2) + '\n')
        export = self.wsus(EXPORT_HOST)
        counts = export.get_status()
        say(f'lab up in {time.monotonic() - began:.1f} s: {EXPORT_HOST} (export: {counts["UpdateCount"]} updates, '
            f'{len(self.content(EXPORT_HOST))} content files, {human(sum(self.content(EXPORT_HOST).values()))}), '
            f'{IMPORT_HOST} (import: empty); medium E: on both')

    def stop_lab(self) -> None:
        if self.lab is not None:
            self.lab.stop()
            self.lab = None

    # -- the lab's state ----------------------------------------------------------------------
    def wsus(self, host: str) -> t.Any:
        return self.lab.hosts[host].host.wsus

    def content(self, host: str) -> dict:
        return dict(self.wsus(host).content.iter_files())

    # -- runs ---------------------------------------------------------------------------------
    def run(self, playbook: str, label: str) -> dict:
        """Run ``ansible-playbook airgap.wsus.<playbook>``; return its newest report. Fails with the log's end."""
        self.runs += 1
        log = os.path.join(self.logs, f'{self.runs}-{playbook}.log')
        command = [self.playbook, '-i', self.inventory, f'airgap.wsus.{playbook}', '-e', '@' + self.vars_file]
        began = time.monotonic()
        with open(log, 'w', encoding='utf-8') as handle:
            handle.write('$ ' + ' '.join(command) + '\n')
            handle.flush()
            proc = subprocess.run(command, env=self.env, cwd=self.state_dir, stdout=handle, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=PLAYBOOK_TIMEOUT, check=False)
        seconds = time.monotonic() - began
        if proc.returncode in (ANSIBLE_INTERRUPTED, -signal.SIGINT):
            # Ctrl+C reached ansible-playbook too (same process group) and it stopped first.
            raise KeyboardInterrupt
        if proc.returncode != 0:
            with open(log, encoding='utf-8', errors='replace') as handle:
                tail = handle.read().splitlines()[-25:]
            raise DemoError(f'{label}: ansible-playbook airgap.wsus.{playbook} exited {proc.returncode} after {seconds:.0f} s. '
                            f'End of its log ({log}):\n' + '\n'.join('    ' + line for line in tail))
        host = EXPORT_HOST if playbook == 'export' else IMPORT_HOST
        found = sorted(glob.glob(os.path.join(self.reports, f'{host}-{playbook}-*.json')), key=os.path.getmtime)
        if not found:
            raise DemoError(f'{label}: the run succeeded but wrote no report into {self.reports}; see {log}')
        with open(found[-1], encoding='utf-8') as handle:
            report = json.load(handle)
        report['seconds'] = seconds
        return report

    def cycle(self, number: int) -> tuple:
        say(f'cycle {number}')
        export = self.run('export', f'cycle {number}, export')
        bundle, moved = export['bundle'], export['moved']
        metadata = 'metadata exported' if export['metadata']['exported'] else 'metadata package reused'
        say(f'  export  {EXPORT_HOST:<18} bundle {bundle["sequence"]} ({bundle["basis"]["kind"]} basis) at {bundle["path"]}: '
            f'{moved["files"]} files, {human(moved["bytes"])}; {metadata}  [{export["seconds"]:.1f} s]')
        imported = self.run('import', f'cycle {number}, import')
        after = (imported['counts'] or {}).get('after') or {}
        say(f'  import  {IMPORT_HOST:<18} copied {imported["moved"]["files"]} files, {human(imported["moved"]["bytes"])}; '
            f'{after.get("updates", "?")} updates in the catalog; receipt {imported["receipt"]["last_sequence"]} written  '
            f'[{imported["seconds"]:.1f} s]')
        return export, imported

    def upstream_news(self) -> None:
        export = self.wsus(EXPORT_HOST)
        export.synchronize(new_updates=self.new_updates)
        arrived = export.finish_downloads()
        say(f'new updates upstream: {EXPORT_HOST} synchronized {self.new_updates} more and downloaded {arrived} files')

    def check_result(self) -> None:
        export, imported = self.wsus(EXPORT_HOST), self.wsus(IMPORT_HOST)
        catalog, content = set(export.update_ids()), self.content(EXPORT_HOST)
        if set(imported.update_ids()) != catalog or self.content(IMPORT_HOST) != content:
            raise DemoError(f'{IMPORT_HOST} does not hold what {EXPORT_HOST} holds after the import: '
                            f'{len(set(imported.update_ids()))} of {len(catalog)} updates, '
                            f'{len(self.content(IMPORT_HOST))} of {len(content)} content files; see the reports in {self.reports}')
        say(f'result: {IMPORT_HOST} holds the catalog ({len(catalog)} updates) and the content ({len(content)} files, '
            f'{human(sum(content.values()))}) of {EXPORT_HOST}')


def main(argv: t.Optional[t.Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='demo.py', description='Two air-gap cycles of export and import on the emulated WSUS lab.')
    parser.add_argument('--state-dir', default=os.path.join(REPO, '.cache', 'demo'),
                        help='folder for the lab, inventory, reports and logs; emptied first (default .cache/demo)')
    parser.add_argument('--new-updates', type=int, default=150, help='updates that appear upstream before the second cycle (default 150)')
    args = parser.parse_args(argv)
    demo = Demo(os.path.abspath(args.state_dir), args.new_updates)
    began = time.monotonic()
    say('airgap.wsus demo: export and import through a transfer folder on the emulated lab')
    try:
        demo.prepare()
        demo.start_lab()
        first_export, _first_import = demo.cycle(1)
        demo.upstream_news()
        second_export, _second_import = demo.cycle(2)
        demo.check_result()
        first, second = first_export['moved']['bytes'] or 0, second_export['moved']['bytes'] or 0
        share = f' ({100.0 * second / first:.1f} % of the first)' if first else ''
        say(f'content carried: cycle 1 {human(first)} ({first} bytes), cycle 2 {human(second)} ({second} bytes){share}')
        htmls = sorted(glob.glob(os.path.join(demo.reports, '*.html')))
        say(f'reports: {demo.reports} ({len(htmls)} HTML, {len(htmls)} JSON), for example {os.path.basename(htmls[-1])}')
        say(f'ansible-playbook logs: {demo.logs}')
        return 0
    except KeyboardInterrupt:
        say('\ninterrupted', error=True)
        return 130
    except (DemoError, LabError, spec_mod.SpecError) as exc:
        say(f'demo failed: {exc}', error=True)
        return 1
    except subprocess.TimeoutExpired as exc:
        say(f'demo failed: {" ".join(exc.cmd)} did not finish within {exc.timeout:.0f} s', error=True)
        return 1
    finally:
        demo.stop_lab()
        say(f'lab stopped; the demo took {time.monotonic() - began:.0f} s')


if __name__ == '__main__':
    sys.exit(main())
