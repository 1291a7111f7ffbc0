"""What the roles' integration tests share: the variables, the runs, and the lab state to compare.

The roles run through the collection's own playbooks (``airgap.wsus.export`` and
``airgap.wsus.import``, imported by FQCN), as a user runs them, against the emulated export and
import hosts of ``tests/integration/conftest.py``. Tests assert on what the lab holds afterwards
(the catalog, ``WsusContent``, the medium) and on the reports, never on log lines.
"""
from __future__ import annotations

import datetime
import glob
import json
import os
import typing as t

from ansible_collections.airgap.wsus.tests.integration import playbook as pb

# A shared HMAC secret of 44 bytes; a test looks for it in every byte a run shows or writes.
KEY = 'Zq4vN8xK2mPw7LbR1tYc9HsD3fGj6UeA0oIk5WnXzQ7='
DESTINATION = 'plant-a'
TRANSFER = 'E:\\airgap'
RECEIPTS = TRANSFER + '\\receipts\\' + DESTINATION
WORK_DIR = 'C:\\ProgramData\\airgap.wsus'
STAGED_PACKAGE = 'D:\\WSUS\\airgap-wsus-export.xml.gz'

EXPORT_PLAY = '- ansible.builtin.import_playbook: airgap.wsus.export\n'
IMPORT_PLAY = '- ansible.builtin.import_playbook: airgap.wsus.import\n'
SYNC_PLAY = '- ansible.builtin.import_playbook: airgap.wsus.sync\n'


def report_dir(lab: pb.WsusLab) -> str:
    return os.path.join(lab.work_dir, 'reports')


def export_vars(lab: pb.WsusLab, **overrides: t.Any) -> dict:
    values = {'export_server_destination': DESTINATION, 'export_server_transfer_root': TRANSFER,
              'export_server_signing_key': KEY, 'export_server_report_dir': report_dir(lab)}
    values.update(overrides)
    return values


def import_vars(lab: pb.WsusLab, **overrides: t.Any) -> dict:
    values = {'import_server_destination': DESTINATION, 'import_server_transfer_root': TRANSFER,
              'import_server_verify_key': KEY, 'import_server_report_dir': report_dir(lab)}
    values.update(overrides)
    return values


def run_export(lab: pb.WsusLab, check: bool = False, expect_failure: t.Optional[bool] = False, **overrides: t.Any) -> pb.PlaybookResult:
    return lab.run_playbook(EXPORT_PLAY, extra_vars=export_vars(lab, **overrides), check=check, expect_failure=expect_failure)


def run_import(lab: pb.WsusLab, check: bool = False, expect_failure: t.Optional[bool] = False, **overrides: t.Any) -> pb.PlaybookResult:
    return lab.run_playbook(IMPORT_PLAY, extra_vars=import_vars(lab, **overrides), check=check, expect_failure=expect_failure)


def latest_report(lab: pb.WsusLab, kind: str, host: str, folder: t.Optional[str] = None) -> dict:
    """The newest JSON report of ``kind`` (export, import) for ``host``, with ``html`` holding its HTML twin's text."""
    found = sorted(glob.glob(os.path.join(folder or report_dir(lab), f'{host}-{kind}-*.json')), key=os.path.getmtime)
    assert found, f'no {kind} report for {host} in {folder or report_dir(lab)}'
    with open(found[-1], encoding='utf-8') as handle:
        report = json.load(handle)
    with open(found[-1][:-len('.json')] + '.html', encoding='utf-8') as handle:
        report['html'] = handle.read()
    return report


def reports_text(lab: pb.WsusLab) -> str:
    """Every report written so far, JSON and HTML, as one text."""
    text = []
    for path in sorted(glob.glob(os.path.join(report_dir(lab), '*'))):
        with open(path, encoding='utf-8') as handle:
            text.append(handle.read())
    return '\n'.join(text)


def step(report: dict, number: str) -> dict:
    matches = [entry for entry in report['steps'] if entry['number'] == number]
    assert len(matches) == 1, f'step {number} appears {len(matches)} times in {report["steps"]}'
    return matches[0]


def content(lab: pb.WsusLab, name: str) -> dict:
    """``{path relative to WsusContent: size}`` of a host's content folder."""
    return dict(lab.wsus(name).content.iter_files())


def catalog(lab: pb.WsusLab, name: str) -> set:
    """UpdateIDs a host's WSUS knows."""
    return set(lab.wsus(name).update_ids())


def tree(lab: pb.WsusLab, windows_path: str, name: str = pb.EXPORT) -> dict:
    """``{relative path: size}`` of the files under a folder of a host (the medium, a work folder)."""
    root = lab.sandbox_path(name, windows_path)
    found = {}
    for folder, _dirs, names in os.walk(root):
        for entry in names:
            full = os.path.join(folder, entry)
            found[os.path.relpath(full, root).replace(os.sep, '\\')] = os.path.getsize(full)
    return found


def import_server_state(lab: pb.WsusLab) -> tuple:
    """What steps 1 to 3 of an import must leave alone: the catalog, WsusContent and the collection's records."""
    return catalog(lab, pb.IMPORT), content(lab, pb.IMPORT), tree(lab, WORK_DIR + '\\state', pb.IMPORT)


def synchronized_earlier(lab: pb.WsusLab, name: str = pb.EXPORT, hours: float = 1.0) -> None:
    """Pretend the host's last synchronization ended ``hours`` ago (the lab sets it to its start time).

    The export role reuses a staged metadata package exported after the last synchronization,
    allowing five minutes of clock difference; a lab that started seconds ago is inside them.
    """
    from ansible_collections.airgap.wsus.tests.lab.wsus.susdb import sql_time, utcnow  # pylint: disable=import-outside-toplevel

    wsus = lab.wsus(name)
    with wsus.db.transaction() as conn:
        conn.execute("UPDATE labSubscription SET Value = ? WHERE Name = 'last_synchronization_time'",
                     (json.dumps(sql_time(utcnow() - datetime.timedelta(hours=hours))),))


def role_task(run: pb.PlaybookResult, role: str, name: str, host: t.Optional[str] = None) -> pb.TaskRecord:
    """The record of task ``name`` of role ``role`` (recorded as ``<role> : <name>``)."""
    matches = [r for r in run.records if r.task.endswith(f'{role} : {name}') and (host is None or r.host == host)]
    assert len(matches) == 1, f'{role} : {name} ran {len(matches)} times: {run.tasks}'
    return matches[0]
