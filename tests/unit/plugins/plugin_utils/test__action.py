"""The action-plugin base: validation, connection check, error conversion, secret scrubbing."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleConnectionFailure

from ansible_collections.airgap.wsus.plugins.plugin_utils import _action, _argspec, _host_script, _susdb
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import AirgapWsusError


class Connection:
    def __init__(self, transport='winrm', answer=None, error=None):
        self.transport = transport
        self._shell = SimpleNamespace(tmpdir=None, SHELL_FAMILY='powershell')
        self.answer = answer
        self.error = error
        self.sent = []

    def exec_command(self, cmd, in_data=None, sudoable=True):
        self.sent.append(json.loads(in_data))
        if self.error:
            raise self.error
        return self.answer

    def reset(self):
        pass


class Demo(_action.AirgapWsusAction):
    ARGUMENT_SPEC = _argspec.merge_specs({'path': {'type': 'str', 'required': True}}, _argspec.SUSDB_SPEC)

    def execute(self, args, task_vars):
        if args['path'] == 'C:\\leak':
            raise AirgapWsusError(f'could not log in with {args["susdb"]["password"]}')
        runner = self.host_runner(retry=_host_script.RetryPolicy(timeout=0.01, initial_delay=0.001))
        answer = runner.run_retrying('file_read', {'Path': args['path']})
        return {'changed': False, 'size': answer['size']}


def make(args, connection, check_mode=False):
    task = SimpleNamespace(args=args, async_val=0, check_mode=check_mode, action='airgap.wsus.demo', diff=False)
    action = Demo(task, connection, SimpleNamespace(remote_addr='wsus01'), None, None, None)
    action._load_name = 'airgap.wsus.demo'
    return action


OK = (0, b'AIRGAP-WSUS-RESULT:' + json.dumps({'path': 'C:\\x', 'exists': True, 'size': 3, 'content_b64': 'YWJj'}).encode(), b'')


def test_runs_with_validated_args():
    connection = Connection(answer=OK)
    result = make({'path': 'C:\\x'}, connection).run(task_vars={})
    assert result == {'changed': False, 'size': 3}
    assert connection.sent[0]['params'] == {'Path': 'C:\\x'}


def test_check_mode_is_supported():
    assert make({'path': 'C:\\x'}, Connection(answer=OK), check_mode=True).run(task_vars={})['size'] == 3


def test_invalid_options_fail_before_any_host_call():
    connection = Connection(answer=OK)
    result = make({'path': 'C:\\x', 'bogus': 1}, connection).run(task_vars={})
    assert result['failed'] and 'bogus' in result['msg'] and connection.sent == []


@pytest.mark.parametrize('transport', ['ssh', 'local', 'community.docker.docker'])
def test_non_windows_connections_are_refused(transport):
    result = make({'path': 'C:\\x'}, Connection(transport=transport, answer=OK)).run(task_vars={})
    assert result['failed'] and 'ansible.builtin.winrm' in result['msg'] and transport in result['msg']


def test_psrp_is_accepted():
    assert make({'path': 'C:\\x'}, Connection(transport='psrp', answer=OK)).run(task_vars={})['size'] == 3


def test_host_script_error_names_cause_and_fix():
    record = {'message': 'Access to the path is denied.', 'type': 'System.UnauthorizedAccessException',
              'script': 'file_read.ps1', 'line': 30, 'category': 'PermissionDenied'}
    answer = (1, ('AIRGAP-WSUS-ERROR:' + json.dumps(record)).encode(), b'')
    result = make({'path': 'C:\\x'}, Connection(answer=answer)).run(task_vars={})
    assert result['failed']
    assert 'Access to the path is denied.' in result['msg'] and 'local Administrators group' in result['msg']
    assert result['host_error']['line'] == 30 and result['host_error']['script'] == 'file_read.ps1'


def test_lost_connection_marks_host_unreachable():
    result = make({'path': 'C:\\x'}, Connection(error=AnsibleConnectionFailure('winrm connection error: timed out'))).run(task_vars={})
    assert result['unreachable'] and 'kept failing' in result['msg']


def test_no_log_values_are_scrubbed():
    result = make({'path': 'C:\\leak', 'susdb': {'server': 'db', 'username': 'u', 'password': 'Hunter2Secret'}},
                  Connection(answer=OK)).run(task_vars={})
    assert result['failed'] and 'Hunter2Secret' not in result['msg'] and '********' in result['msg']


def test_susdb_executor_choice():
    action = make({'path': 'C:\\x'}, Connection(answer=OK))
    assert isinstance(action.susdb_executor(None), _susdb.HostExecutor)
    assert isinstance(action.susdb_executor({'server': 'sql01', 'via': 'auto'}), _susdb.PyodbcExecutor)
    assert isinstance(action.susdb_executor({'server': 'sql01', 'via': 'host'}), _susdb.HostExecutor)
    with pytest.raises(AirgapWsusError, match='neither'):
        action.susdb_executor({'via': 'controller'})
    with pytest.raises(AirgapWsusError, match='Windows identity'):
        action.susdb_executor({'via': 'host', 'username': 'u', 'password': 'p'})


def test_job_timeout():
    assert _action.AirgapWsusAction.job_timeout({'timeout': 0}) is None
    assert _action.AirgapWsusAction.job_timeout({'timeout': 90}) == 90.0
