"""The metadata stage keeps meta/runtime.yml's action group and galaxy.yml's build_ignore honest."""
from __future__ import annotations

import os

from ansible_collections.airgap.wsus.tests.tools import meta_checks

from ansible_collections.airgap.wsus.tests.unit.tools._trees import context, write

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _runtime(names):
    lines = ['---', 'requires_ansible: ">=2.16.0"', 'action_groups:', '  wsus:'] + [f'    - {n}' for n in names]
    return '\n'.join(lines) + '\n'


def test_module_missing_from_action_group_is_a_finding(tmp_path):
    write(tmp_path, 'plugins/modules/server_info.py', '')
    write(tmp_path, 'plugins/modules/content_sync.py', '')
    write(tmp_path, 'plugins/modules/__init__.py', '')
    write(tmp_path, 'meta/runtime.yml', _runtime(['server_info']))
    findings = meta_checks.action_group_findings(str(tmp_path))
    assert [f.path for f in findings] == ['plugins/modules/content_sync.py']
    assert 'missing from action_groups.wsus' in findings[0].message


def test_entry_without_module_is_a_finding(tmp_path):
    write(tmp_path, 'plugins/modules/server_info.py', '')
    write(tmp_path, 'meta/runtime.yml', _runtime(['server_info', 'bundle']))
    findings = meta_checks.action_group_findings(str(tmp_path))
    assert len(findings) == 1
    assert "'bundle'" in findings[0].message


def test_matching_group_passes_and_missing_group_fails(tmp_path):
    write(tmp_path, 'plugins/modules/server_info.py', '')
    write(tmp_path, 'meta/runtime.yml', _runtime(['server_info']))
    assert not meta_checks.action_group_findings(str(tmp_path))
    write(tmp_path, 'meta/runtime.yml', 'requires_ansible: ">=2.16.0"\n')
    assert meta_checks.action_group_findings(str(tmp_path))


def test_build_ignore_must_keep_dependency_files(tmp_path):
    write(tmp_path, 'galaxy.yml', 'build_ignore:\n  - .cache\n  - "*.tar.gz"\n')
    assert not meta_checks.build_ignore_findings(str(tmp_path))
    for pattern in ('"*.txt"', 'meta', 'bindep.txt'):
        write(tmp_path, 'galaxy.yml', f'build_ignore:\n  - .cache\n  - {pattern}\n')
        assert meta_checks.build_ignore_findings(str(tmp_path)), pattern


def test_stage_fails_on_planted_bad_yaml(tmp_path):
    write(tmp_path, 'meta/runtime.yml', 'action_groups:\n  wsus: [server_info\n')
    result = meta_checks.run(context(tmp_path))
    assert not result.ok
    assert any(f.path == 'meta/runtime.yml' and 'YAML' in f.message for f in result.findings)


def test_this_collections_metadata_is_consistent():
    assert not meta_checks.build_ignore_findings(REPO_ROOT)
    assert not meta_checks.ee_findings(REPO_ROOT)
