"""The roles without a lab: their documentation, the linter, input validation, and the HTML report's escaping."""
from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest

from ansible_collections.airgap.wsus.tests.integration import playbook as pb

ROLES = ('export_server', 'import_server')
HOSTILE = '<script>alert("x")</script>" onmouseover="alert(1)'

# A report as the roles write it (see roles/*/templates/report.json.j2), with a hostile string
# wherever a host, a path, a server or a module message could put one.
REPORT = {
    'schema': 'airgap.wsus.report/1', 'kind': 'import', 'host': 'wsus-' + HOSTILE, 'computer_name': HOSTILE,
    'destination': 'plant-a', 'transfer_root': 'E:\\' + HOSTILE, 'check_mode': False, 'status': 'failed',
    'started': '2026-11-25T12:00:00Z', 'ended': '2026-11-25T12:00:09Z', 'duration': 9.2,
    'failed_step': {'number': '6', 'name': 'Metadata import', 'task': HOSTILE, 'msg': 'WsusUtil import failed: ' + HOSTILE},
    'steps': [{'number': '1', 'name': 'Verify bundle', 'status': 'ok', 'started': '2026-11-25T12:00:00Z', 'ended': '2026-11-25T12:00:01Z',
               'duration': 0.4, 'summary': HOSTILE},
              {'number': '6', 'name': 'Metadata import', 'status': 'failed', 'started': '2026-11-25T12:00:05Z',
               'ended': '2026-11-25T12:00:09Z', 'duration': 3.9, 'summary': HOSTILE}],
    'bundle': {'id': 'bundle-' + HOSTILE, 'path': 'E:\\airgap\\plant-a-000003', 'sequence': 3, 'base': 2,
               'basis': {'kind': 'receipt', 'reason': HOSTILE}, 'volumes': ['E:\\' + HOSTILE], 'package_sha256': 'ab' * 32,
               'settings': {'languages': [HOSTILE]}},
    'moved': {'files': 12, 'bytes': 4_700_000_000, 'copied_bytes': 1234, 'content_dir': 'D:\\WSUS\\WsusContent'},
    'metadata': {'package': 'E:\\' + HOSTILE, 'size': 5000, 'sha256': None, 'imported': False, 'skipped_reason': HOSTILE, 'duration': None},
    'parity': {'side': 'import', 'mode': 'check', 'differences': [{'setting': HOSTILE, 'export': [HOSTILE], 'import': ['en'], 'note': HOSTILE}],
               'informational': [{'setting': 'products', 'export': ['Windows 10'], 'import': [], 'note': HOSTILE}]},
    'counts': {'before': {'updates': 0}, 'after': {'updates': 200}},
    'receipt': {'id': 'receipt-' + HOSTILE, 'path': None, 'last_sequence': 3, 'inventory_count': 5, 'missing_count': 0},
    'approvals': {'enabled': True, 'path': 'E:\\' + HOSTILE, 'prune': True, 'applied': True, 'changed': True,
                  'document': {'sha256': 'cd' * 32, 'counts': {'groups': 3, 'updates': 4, 'approvals': 2, 'declines': 1}},
                  'approved': 2, 'approvals_removed': 1, 'declined': 1, 'undeclined': 0,
                  'groups_created': ['All Computers/new-' + HOSTILE], 'groups_deleted': ['All Computers/old-' + HOSTILE],
                  'unchanged': {'groups': 1, 'approvals': 0, 'declines': 0}, 'skipped': 1, 'skipped_reasons': {'not_in_catalog': 1},
                  'skipped_items': [{'kind': 'approval', 'update_id': 'id-' + HOSTILE, 'revision': 2, 'kb': 'KB' + HOSTILE,
                                     'title': 'title-' + HOSTILE, 'group': 'All Computers/' + HOSTILE, 'action': 'install',
                                     'reason_code': 'not_in_catalog', 'reason': 'reason-' + HOSTILE}],
                  'failed_items': [{'op': 'approve', 'update_id': 'x', 'group': 'g', 'error': 'error-' + HOSTILE}]},
    'content_verify': {'approved_files': 10, 'present_files': 7, 'missing': 2, 'corrupt': 1, 'missing_bytes': 3000, 'hashed': True,
                       'files': ['0A/missing-' + HOSTILE, '0B/damaged.cab'], 'content_dir': 'D:\\' + HOSTILE},
    'warnings': [HOSTILE, 'a second warning'],
    'reports': {'json': '/reports/' + HOSTILE + '.json', 'html': '/reports/x.html'},
}


def tool(name: str) -> str:
    path = os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(path):
        pytest.skip(f'{name} is not installed next to {sys.executable}')
    return path


@pytest.fixture
def local_runner(tmp_path):
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text(f'[local]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n'
                         '[export]\nwsus-nowhere ansible_connection=winrm ansible_host=192.0.2.1 ansible_port=1\n')
    return pb.PlaybookRunner(str(inventory), str(tmp_path / 'runs'))


@pytest.mark.parametrize('role', ROLES)
def test_ansible_doc_renders_each_role_from_its_argument_specs(role):
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    proc = subprocess.run([tool('ansible-doc'), '-t', 'role', f'airgap.wsus.{role}'], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    prefix = role.split('_')[0]
    for option in (f'{role}_destination', f'{role}_transfer_root', f'{role}_report_dir', f'{role}_work_dir'):
        assert option in proc.stdout
    assert f'{prefix} stopped at step' in proc.stdout


def test_ansible_lint_production_profile_is_clean_on_the_roles_and_playbooks():
    env = dict(os.environ, NO_COLOR='1')
    proc = subprocess.run([tool('ansible-lint'), '--offline', '--profile', 'production', '--nocolor', 'roles/export_server',
                           'roles/import_server', 'playbooks'], cwd=pb.REPO_ROOT, capture_output=True, text=True, env=env, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]


@pytest.mark.parametrize('role', ROLES)
def test_html_report_escapes_every_value_and_loads_nothing_from_outside(local_runner, tmp_path, role):
    template = os.path.join(pb.REPO_ROOT, 'roles', role, 'templates', 'report.html.j2')
    out = tmp_path / 'report.html'
    report = copy.deepcopy(REPORT)
    local_runner.run(f'''
    - name: Render
      hosts: localhost
      gather_facts: false
      tasks:
        - name: Render the report
          ansible.builtin.template:
            src: {template}
            dest: {out}
            mode: "0600"
    ''', extra_vars={'airgap_wsus_report': report})
    html = out.read_text(encoding='utf-8')
    assert '<script' not in html and 'onmouseover="' not in html
    assert '&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#34; onmouseover=&#34;alert(1)' in html
    assert 'bundle-&lt;script&gt;' in html and 'receipt-&lt;script&gt;' in html
    assert 'Stopped at step 6. Metadata import' in html
    assert '4.7 GB (4700000000 bytes)' in html
    for escaped in ('new-&lt;script&gt;', 'old-&lt;script&gt;', 'id-&lt;script&gt;', 'KB&lt;script&gt;', 'title-&lt;script&gt;',
                    'reason-&lt;script&gt;', 'error-&lt;script&gt;', '0A/missing-&lt;script&gt;'):
        assert escaped in html, escaped
    assert '1 (1 not in catalog)' in html and 'The first 2 of 3 missing or damaged files' in html
    assert 'None' not in html
    for outside in ('src=', 'href=', 'url(', '@import', '<link', '<img'):
        assert outside not in html, outside


def test_missing_required_variables_stop_the_role_before_it_reaches_the_host(local_runner):
    run = local_runner.run('- ansible.builtin.import_playbook: airgap.wsus.export\n',
                           extra_vars={'export_server_destination': 'plant-a', 'export_server_signing_key': 'k' * 40},
                           expect_failure=True)
    failed = [record for record in run.records if record.failed]
    assert len(failed) == 1 and 'export_server_transfer_root' in failed[0].result['msg']
    assert 'k' * 40 not in run.everything
