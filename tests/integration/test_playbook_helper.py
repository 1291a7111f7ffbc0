"""The integration tests' playbook runner and result recorder (``playbook.py``, ``callback/airgap_results.py``)."""
from __future__ import annotations

import pytest

from ansible_collections.airgap.wsus.tests.integration import playbook as pb

PLAY = '''
- name: Local play
  hosts: local
  gather_facts: false
  tasks:
    - name: Say
      ansible.builtin.debug:
        msg: "{{ greeting }}"
    - name: Skip
      ansible.builtin.debug:
        msg: never
      when: false
    - name: Fail but go on
      ansible.builtin.fail:
        msg: expected failure
      ignore_errors: true
    - name: Fail
      ansible.builtin.fail:
        msg: "{{ final }}"
      when: final | length > 0
'''


@pytest.fixture
def runner(tmp_path):
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('[local]\nlocalhost ansible_connection=local ansible_python_interpreter=auto_silent\n')
    return pb.PlaybookRunner(str(inventory), str(tmp_path / 'runs'))


def test_records_every_task_result_by_name_and_host(runner):
    run = runner.run(PLAY, extra_vars={'greeting': 'h\u00e9llo', 'final': ''})
    assert run.rc == 0
    assert run.tasks == [('Say', 'localhost', 'ok'), ('Skip', 'localhost', 'skipped'), ('Fail but go on', 'localhost', 'failed'),
                         ('Fail', 'localhost', 'skipped')]
    assert run.result('Say')['msg'] == 'h\u00e9llo'
    failed = run.record('Fail but go on', 'localhost')
    assert failed.failed and failed.ignored and failed.result['msg'] == 'expected failure' and failed.play == 'Local play'
    assert not any(key.startswith('_ansible_') for key in failed.result)


def test_a_failure_is_reported_unless_expected(runner):
    with pytest.raises(pb.PlaybookError, match='exited 2') as caught:
        runner.run(PLAY, extra_vars={'greeting': 'x', 'final': 'stop here'})
    assert 'stop here' in str(caught.value)
    run = runner.run(PLAY, extra_vars={'greeting': 'x', 'final': 'stop here'}, expect_failure=True)
    assert run.status('Fail') == 'failed' and run.result('Fail')['msg'] == 'stop here'
    with pytest.raises(pb.PlaybookError, match='expected to fail but succeeded'):
        runner.run(PLAY, extra_vars={'greeting': 'x', 'final': ''}, expect_failure=True)


def test_asking_for_a_task_that_did_not_run_lists_what_did(runner):
    run = runner.run(PLAY, extra_vars={'greeting': 'x', 'final': ''})
    with pytest.raises(pb.PlaybookError, match=r"expected one result of task 'Nope'.*\('Say', 'localhost', 'ok'\)"):
        run.result('Nope')


def test_extra_vars_stay_off_the_command_line(runner):
    run = runner.run(PLAY, extra_vars={'greeting': 'Sup3r-Secret', 'final': ''})
    assert 'Sup3r-Secret' not in ' '.join(run.command)


def test_build_spec_merges_into_the_named_host():
    spec = pb.build_spec(export={'wsus': {'languages': ['en', 'de']}}, import_={'wsus': {'replica': True, 'upstream': 'hq'}})
    hosts = {entry['name']: entry for entry in spec['hosts']}
    assert hosts[pb.EXPORT]['wsus'] == {'languages': ['en', 'de']} and hosts[pb.EXPORT]['catalog'] == pb.DEFAULT_CATALOG
    assert hosts[pb.IMPORT]['wsus'] == {'replica': True, 'upstream': 'hq'}
    assert pb.default_spec() == pb.build_spec()
    with pytest.raises(ValueError, match='no host wsus-connected'):
        pb.build_spec({'hosts': [{'name': 'other', 'role': 'export'}]}, export={'wsus': {}})
