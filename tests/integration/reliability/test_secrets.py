"""No secret ever shows: not in task output at -vvvv, not in Ansible's log, not in the reports, not in what the hosts received.

One run does the whole cycle through both roles at ``-vvvv`` with an HMAC signing key held in
Ansible Vault (``group_vars/all/vault.yml`` beside the inventory), then reads SUSDB from the
controller with an ODBC password (``server_info`` and ``content_verify`` with ``susdb``), then
makes tasks fail while they hold secrets (a wrong ODBC database, a wrong verification key, a
signing key too short to use, a wrong WinRM password). Every byte the runs printed or logged,
every report, every command and stdin payload the lab's hosts received (files sent
base64-encoded decoded too), every process command line and every file on the hosts' disks and
the medium is then searched for each secret. The WinRM password necessarily reaches the host in
the Authorization header; the payloads are what must never carry it.
"""
from __future__ import annotations

import base64
import glob
import os
import typing as t

from ansible_collections.airgap.wsus.tests.integration import playbook as pb
from ansible_collections.airgap.wsus.tests.integration.reliability import reliability_helpers as rel
from ansible_collections.airgap.wsus.tests.integration.roles import roles_helpers as rh

ODBC_PASSWORD = 'Odbc-S3cret-7f4e2b19c0'
VAULT_PASSWORD = 'Vault-Pa55phrase-31c8e0'
OTHER_KEY = 'Another-shared-secret-of-44-bytes-9d2c1b7a60'
SHORT_KEY = 'Sh0rt-K3y-9x'


def _secrets(lab: pb.WsusLab) -> dict:
    """The secrets the second run uses, passed as extra variables (as from Vault: never written in a playbook)."""
    odbc = {name: lab.wsus(name).odbc_connection_string() + f';PWD={ODBC_PASSWORD}' for name in (pb.EXPORT, pb.IMPORT)}
    key = {'key_id': 'airgap-wsus', 'algorithm': 'hmac-sha256'}
    return {'odbc_import': odbc[pb.IMPORT], 'odbc_export': odbc[pb.EXPORT],
            'odbc_wrong': odbc[pb.IMPORT].replace(lab.wsus(pb.IMPORT).database_path, '/nonexistent/SUSDB.sqlite'),
            'other_key': dict(key, key=OTHER_KEY), 'short_key': dict(key, key=SHORT_KEY), 'wrong_password': OTHER_KEY}


def _plays() -> list:
    return [{
        'name': 'Read SUSDB from the controller and fail while holding secrets',
        'hosts': pb.IMPORT, 'gather_facts': False, 'module_defaults': rel.FAST_JOBS,
        'tasks': [
            {'name': 'Server info through ODBC', 'airgap.wsus.server_info': {'susdb': {'connection_string': '{{ odbc_import }}'}}},
            {'name': 'Export server info through ODBC', 'delegate_to': pb.EXPORT,
             'airgap.wsus.server_info': {'susdb': {'connection_string': '{{ odbc_export }}'}}},
            {'name': 'Content verification through ODBC', 'airgap.wsus.content_verify': {'susdb': {'connection_string': '{{ odbc_import }}'}}},
            {'name': 'A wrong ODBC database', 'ignore_errors': True,
             'airgap.wsus.server_info': {'susdb': {'connection_string': '{{ odbc_wrong }}'}}},
            {'name': 'A wrong verification key', 'ignore_errors': True,
             'airgap.wsus.bundle': {'state': 'verified', 'path': rh.TRANSFER, 'destination': rh.DESTINATION,
                                    'verify_keys': ['{{ other_key }}']}},
            {'name': 'A signing key too short', 'ignore_errors': True, 'delegate_to': pb.EXPORT,
             'airgap.wsus.bundle': {'state': 'built', 'path': 'E:\\short', 'destination': rh.DESTINATION,
                                    'package': rh.STAGED_PACKAGE, 'signing_key': '{{ short_key }}'}},
            {'name': 'A wrong WinRM password', 'ignore_errors': True, 'ignore_unreachable': True,
             'vars': {'ansible_password': '{{ wrong_password }}'}, 'airgap.wsus.server_info': {}},
        ],
    }]


def _vault(lab: pb.WsusLab) -> dict:
    """Put the signing key into Ansible Vault beside the inventory, as a site keeps it; return the environment that opens it."""
    from ansible.parsing.vault import VaultLib, VaultSecret  # pylint: disable=import-outside-toplevel

    folder = os.path.join(os.path.dirname(lab.inventory), 'group_vars', 'all')
    os.makedirs(folder, exist_ok=True)
    vault = VaultLib([('default', VaultSecret(VAULT_PASSWORD.encode('utf-8')))])
    with open(os.path.join(folder, 'vault.yml'), 'wb') as handle:
        handle.write(vault.encrypt(f'vault_airgap_key: {rh.KEY}\n'.encode('utf-8')))
    password_file = os.path.join(lab.work_dir, 'vault-password')
    descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, 'w', encoding='utf-8') as handle:
        handle.write(VAULT_PASSWORD + '\n')
    return {'ANSIBLE_VAULT_PASSWORD_FILE': password_file}


def _host_texts(lab: pb.WsusLab) -> t.Iterator[tuple]:
    """``(where, bytes)`` of everything the hosts received and hold."""
    for name, handle in lab.hosts.items():
        for index, (line, payload) in enumerate(rel.received_payloads(lab, name)):
            yield f'{name} command {index}', line.encode('utf-8')
            if payload is None:
                continue
            yield f'{name} payload {index} ({payload.get("name")})', repr(payload).encode('utf-8')
            for key, value in _walk(payload.get('params')):
                if key.lower() in ('contentb64', 'content_b64') and isinstance(value, str):
                    yield f'{name} payload {index} {key}', base64.b64decode(value)
        for process in handle.host.processes.all():
            yield f'{name} process {process.pid}', process.command_line.encode('utf-8')
    state = lab.lab.state_dir
    for root in glob.glob(os.path.join(str(state), 'hosts', '*')) + glob.glob(os.path.join(str(state), 'media', '*')):
        for folder, _dirs, files in os.walk(root):
            for file_name in files:
                path = os.path.join(folder, file_name)
                with open(path, 'rb') as handle:
                    yield path, handle.read()


def _walk(value: t.Any, key: str = '') -> t.Iterator[tuple]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _walk(item, str(name))
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)
    else:
        yield key, value


def test_a_full_cycle_at_vvvv_shows_no_secret_anywhere(wsus_lab: pb.WsusLab) -> None:
    lab = wsus_lab
    log_path = os.path.join(lab.work_dir, 'ansible.log')
    env = dict(rel.FAST_ENV, ANSIBLE_LOG_PATH=log_path, **_vault(lab))
    variables = dict(rh.export_vars(lab, export_server_signing_key='{{ vault_airgap_key }}'),
                     **rh.import_vars(lab, import_server_verify_key='{{ vault_airgap_key }}'))
    cycle = lab.run_playbook(rel.role_play('export_server', 'export') + rel.role_play('import_server', 'import'), extra_vars=variables,
                             verbosity=4, env=env)
    assert rel.report(lab, 'import')['status'] == 'succeeded'
    extra = lab.run_playbook(_plays(), extra_vars=_secrets(lab), verbosity=4, env=env)
    assert extra.result('Server info through ODBC')['susdb_source'] == 'controller'
    assert extra.result('Export server info through ODBC', pb.IMPORT)['susdb_source'] == 'controller'
    assert not extra.result('Content verification through ODBC').get('failed')
    for task, cause in (('A wrong ODBC database', 'cannot connect to SUSDB'), ('A wrong verification key', 'signature'),
                        ('A signing key too short', 'at least 32 bytes'), ('A wrong WinRM password', 'refused the credentials')):
        record = extra.record(task)
        assert record.status == 'failed' and cause in record.result['msg'], (task, record.result.get('msg'))

    secrets = {'the signing key': rh.KEY, 'the ODBC password': ODBC_PASSWORD, 'the other key': OTHER_KEY, 'the short key': SHORT_KEY,
               'the export host password': lab.export.password, 'the import host password': lab.import_.password,
               'the vault password': VAULT_PASSWORD}
    texts = [('output of the cycle', cycle.everything.encode('utf-8')), ('output of the ODBC run', extra.everything.encode('utf-8'))]
    with open(log_path, 'rb') as handle:
        texts.append(('ansible.log', handle.read()))
    for path in sorted(glob.glob(os.path.join(rh.report_dir(lab), '*'))):
        with open(path, 'rb') as handle:
            texts.append((path, handle.read()))
    assert len(texts) > 4, 'no report was written'
    host = list(_host_texts(lab))
    assert sum(1 for where, _data in host if 'ContentB64' in where) > 10 and sum(1 for where, _data in host if 'payload' in where) > 100
    texts += host
    found = [(what, where) for where, data in texts for what, secret in secrets.items() if secret.encode('utf-8') in data]
    assert found == [], found
    # The run is verbose enough to have shown them, had they been anywhere in a result or a command.
    assert 'EXEC' in cycle.stdout or '<127.0.0.1>' in cycle.stdout
