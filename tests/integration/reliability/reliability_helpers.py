"""What the reliability tests share: role runs tuned for the lab, state snapshots, and what ran on the hosts.

The roles run as a user's own play would run them (``roles: [airgap.wsus.import_server]``), with
``module_defaults`` lowering the detached jobs' poll interval to one second: a lab job ends in
seconds, and the default 30 s cap would only make the tests wait. Nothing else differs from
``ansible-playbook airgap.wsus.import``.

State is compared by content (SHA-256 of every file), not only by size, so "unchanged" means
unchanged.
"""
from __future__ import annotations

import hashlib
import json
import os
import typing as t

from ansible_collections.airgap.wsus.tests.integration import playbook as pb
from ansible_collections.airgap.wsus.tests.integration.roles import roles_helpers as rh

KEY = rh.KEY
HMAC_KEY = {'key_id': 'airgap-wsus', 'algorithm': 'hmac-sha256', 'key': KEY}
DESTINATION = rh.DESTINATION
TRANSFER = rh.TRANSFER
WORK_DIR = rh.WORK_DIR
STAGED_PACKAGE = rh.STAGED_PACKAGE
CONTENT = 'D:\\WSUS\\WsusContent'

# The reports the roles write on the controller cost a Python start per module; pipelining saves the
# temporary folder round trips around each. It changes nothing on the Windows hosts.
FAST_ENV = {'ANSIBLE_PIPELINING': '1'}
# Every module that runs a detached job polls it every second at most in these tests.
JOB_MODULES = ('airgap.wsus.bundle', 'airgap.wsus.metadata', 'airgap.wsus.content_sync', 'airgap.wsus.content_verify')
FAST_JOBS = {name: {'poll_interval': 1} for name in JOB_MODULES}


def role_play(role: str, hosts: str) -> list:
    return [{'name': f'Run {role}', 'hosts': hosts, 'gather_facts': False, 'module_defaults': FAST_JOBS,
             'roles': [{'role': f'airgap.wsus.{role}'}]}]


def run_export(lab: pb.WsusLab, expect_failure: t.Optional[bool] = False, hosts: str = 'export', verbosity: int = 0,
               extra: t.Optional[dict] = None, env: t.Optional[dict] = None, **overrides: t.Any) -> pb.PlaybookResult:
    """The export_server role on ``hosts``; ``overrides`` are role variables, ``extra`` other extra variables."""
    variables = dict(rh.export_vars(lab, **overrides), **(extra or {}))
    return lab.run_playbook(role_play('export_server', hosts), extra_vars=variables, expect_failure=expect_failure, verbosity=verbosity,
                            env=dict(FAST_ENV, **(env or {})))


def run_import(lab: pb.WsusLab, expect_failure: t.Optional[bool] = False, hosts: str = 'import', verbosity: int = 0,
               extra: t.Optional[dict] = None, env: t.Optional[dict] = None, **overrides: t.Any) -> pb.PlaybookResult:
    """The import_server role on ``hosts``; ``overrides`` are role variables, ``extra`` other extra variables."""
    variables = dict(rh.import_vars(lab, **overrides), **(extra or {}))
    return lab.run_playbook(role_play('import_server', hosts), extra_vars=variables, expect_failure=expect_failure, verbosity=verbosity,
                            env=dict(FAST_ENV, **(env or {})))


def stop_message(run: pb.PlaybookResult, side: str, host: t.Optional[str] = None) -> str:
    """The message the role failed the host with (``<side> stopped at step ...``)."""
    record = rh.role_task(run, f'{side}_server', 'Stop this host at the step that failed', host)
    assert record.status == 'failed', f'{host or side} did not stop: {run.tasks}'
    return record.result['msg']


def assert_stopped(run: pb.PlaybookResult, side: str, step: str, *needles: str, host: t.Optional[str] = None) -> str:
    """The role stopped the host at ``step`` (``'6. Metadata import'``) with a message holding every needle."""
    message = stop_message(run, side, host)
    assert message.startswith(f"{side} stopped at step '{step}': "), message
    for needle in needles:
        assert needle in message, f'{needle!r} is not in: {message}'
    return message


def report(lab: pb.WsusLab, side: str, host: t.Optional[str] = None) -> dict:
    return rh.latest_report(lab, side, host or (pb.EXPORT if side == 'export' else pb.IMPORT))


# --------------------------------------------------------------------------- state

def file_digests(root: str) -> dict:
    """``{relative path with /: sha256}`` of every file under the real folder ``root`` (empty when it does not exist)."""
    found = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            full = os.path.join(folder, name)
            with open(full, 'rb') as handle:
                found[os.path.relpath(full, root).replace(os.sep, '/')] = hashlib.sha256(handle.read()).hexdigest()
    return found


def tree(lab: pb.WsusLab, name: str, windows_path: str) -> dict:
    """:func:`file_digests` of a folder of host ``name``."""
    return file_digests(lab.sandbox_path(name, windows_path))


def catalog(lab: pb.WsusLab, name: str = pb.IMPORT) -> set:
    return set(lab.wsus(name).update_ids())


def import_state(lab: pb.WsusLab, name: str = pb.IMPORT) -> dict:
    """What a fault before the metadata import must leave exactly as it was on an import server."""
    return {'catalog': catalog(lab, name), 'content': tree(lab, name, CONTENT), 'records': tree(lab, name, WORK_DIR + '\\state')}


def medium(lab: pb.WsusLab, windows_path: str = TRANSFER, name: str = pb.EXPORT) -> dict:
    return tree(lab, name, windows_path)


# --------------------------------------------------------------------------- what ran on the hosts

def processes(lab: pb.WsusLab, name: str, image: str) -> list:
    """Command lines of the processes of ``image`` (``robocopy.exe``, ``WsusUtil.exe``) host ``name`` started."""
    return [p.command_line for p in lab.hosts[name].host.processes.all() if p.name.lower() == image.lower()]


def robocopy_copies(lab: pb.WsusLab, name: str) -> list:
    """robocopy runs that copied (not the ``/L`` listings)."""
    return [line for line in processes(lab, name, 'robocopy.exe') if ' /L ' not in line + ' ']


def wsusutil_runs(lab: pb.WsusLab, name: str, verb: str) -> list:
    return [line for line in processes(lab, name, 'WsusUtil.exe') if f' {verb} ' in line.lower() + ' ']


def received_payloads(lab: pb.WsusLab, name: str) -> list:
    """``(command line, decoded stdin payload or None)`` of every command host ``name`` received."""
    out = []
    for item in lab.hosts[name].server.received():
        payload = None
        text = item.stdin.decode('utf-8', 'replace').strip()
        if text:
            try:
                payload = json.loads(text.splitlines()[0])
            except ValueError:
                payload = None
        out.append((item.command_line, payload))
    return out


# --------------------------------------------------------------------------- a fault when a named task starts

CALLBACK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'callback')


def fault_at_task_env(control: t.Any, host: str, task: str, fault: dict) -> dict:
    """Environment for a run that sets WinRM ``fault`` on ``host`` when the task named ``... task`` starts.

    ``control`` is a running ``tests.lab.control.ControlServer`` of the lab.
    """
    return {'ANSIBLE_CALLBACK_PLUGINS': os.pathsep.join([pb.CALLBACK_DIR, CALLBACK_DIR]),
            'ANSIBLE_CALLBACKS_ENABLED': f'{pb.CALLBACK_NAME},airgap_fault_at_task',
            'AIRGAP_FAULT_AT_TASK': task, 'AIRGAP_FAULT_HOST': host, 'AIRGAP_FAULT_BODY': json.dumps(fault),
            'AIRGAP_CONTROL_PORT': str(control.port), 'AIRGAP_CONTROL_TOKEN': control.token}


# --------------------------------------------------------------------------- imports done by the modules

def deploy_with_module(lab: pb.WsusLab, path: str = TRANSFER) -> dict:
    """Deploy the next bundle's content with the module (steps 4 and 5 only); returns its result."""
    args = {'state': 'deployed', 'path': path, 'destination': DESTINATION, 'verify_keys': ['{{ key }}']}
    task = {'name': 'Deploy', 'airgap.wsus.bundle': args}
    run = lab.run_playbook([{'hosts': pb.IMPORT, 'gather_facts': False, 'module_defaults': FAST_JOBS, 'tasks': [task]}],
                           extra_vars={'key': HMAC_KEY}, env=FAST_ENV)
    return run.result('Deploy')


def import_with_modules(lab: pb.WsusLab, *bundle_paths: str, destination: str = DESTINATION) -> pb.PlaybookResult:
    """Deploy, import and confirm (receipt) each bundle folder (or the next bundle under a transfer root) with the modules.

    The steps the import role runs, without its reports: test setup, and reruns whose point is
    that the bundle imports once the fault is gone.
    """
    tasks = []
    for index, path in enumerate(bundle_paths):
        common = {'destination': destination, 'verify_keys': ['{{ key }}']}
        skip = f'not deployed{index}.already_imported'
        tasks += [
            {'name': f'Deploy {index}', 'airgap.wsus.bundle': dict(common, state='deployed', path=path), 'register': f'deployed{index}'},
            {'name': f'Import {index}', 'airgap.wsus.metadata': {'state': 'imported', 'package': f'{{{{ deployed{index}.package_path }}}}'},
             'when': skip},
            {'name': f'Receipt {index}', 'when': skip,
             'airgap.wsus.receipt': dict(common, path=rh.TRANSFER + '\\receipts\\' + destination, bundle=f'{{{{ deployed{index}.bundle_path }}}}',
                                         signing_key='{{ key }}')},
        ]
    play = [{'hosts': pb.IMPORT, 'gather_facts': False, 'module_defaults': FAST_JOBS, 'tasks': tasks}]
    return lab.run_playbook(play, extra_vars={'key': HMAC_KEY}, env=FAST_ENV)


def export_with_modules(lab: pb.WsusLab, reuse: bool = True) -> dict:
    """Export the metadata (reusing the staged package when ``reuse``) and build the next bundle, with the modules.

    The steps the export role runs after its preflight, without its reports: a rerun whose point is
    that the build completes once the fault is gone. Returns ``{'metadata': result, 'bundle': result}``.
    """
    common = {'destination': DESTINATION, 'signing_key': '{{ key }}', 'verify_keys': ['{{ key }}']}
    tasks = [{'name': 'Export', 'airgap.wsus.metadata': {'state': 'exported', 'package': STAGED_PACKAGE, 'max_age': 86400 if reuse else 0}},
             {'name': 'Build', 'airgap.wsus.bundle': dict(common, state='built', path=TRANSFER, package=STAGED_PACKAGE,
                                                          receipts=[rh.TRANSFER + '\\receipts\\' + DESTINATION])}]
    run = lab.run_playbook([{'hosts': pb.EXPORT, 'gather_facts': False, 'module_defaults': FAST_JOBS, 'tasks': tasks}],
                           extra_vars={'key': HMAC_KEY}, env=FAST_ENV)
    return {'metadata': run.result('Export'), 'bundle': run.result('Build')}
