"""The messages of the failures the fault matrix injects name the cause and the fix, and fail the task the right way.

- Credentials the host refuses fail the task (a role's rescue records the step and writes its
  report) instead of marking the host unreachable: in a ``no_log`` task Ansible shows nothing of
  an unreachable result, not even its message.
- A failed WsusUtil run says what to do before quoting its (long) log.
- A job cancelled at its timeout says how to finish the work.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleConnectionFailure
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError

from ansible_collections.airgap.wsus.plugins.plugin_utils import _action, _host_script, _jobs, _metadata, _wsusutil


class Connection:
    """A connection whose every command raises ``error``; ``remote_user`` as the winrm plugin's option."""

    transport = 'winrm'

    def __init__(self, error):
        self._shell = SimpleNamespace(tmpdir=None, SHELL_FAMILY='powershell')
        self.error = error

    def exec_command(self, cmd, in_data=None, sudoable=True):
        raise self.error

    def reset(self):
        pass

    def get_option(self, name):
        assert name == 'remote_user'
        return 'CORP\\wsus-admin'


class Read(_action.AirgapWsusAction):
    ARGUMENT_SPEC = {}

    def execute(self, args, task_vars):
        runner = self.host_runner(retry=_host_script.RetryPolicy(timeout=0.01, initial_delay=0.001))
        return runner.run_retrying('server_state')


def run(error):
    task = SimpleNamespace(args={}, async_val=0, check_mode=False, action='airgap.wsus.read', diff=False)
    action = Read(task, Connection(error), SimpleNamespace(remote_addr='wsus02.plant-a'), None, None, None)
    action._load_name = 'airgap.wsus.read'  # pylint: disable=protected-access
    return action.run(task_vars={})


@pytest.mark.parametrize('error', [
    AnsibleConnectionFailure('ntlm: the specified credentials were rejected by the server'),
    InvalidCredentialsError('the specified credentials were rejected by the server'),
    WinRMTransportError('http', 401, 'Bad HTTP response returned from server. Code 401'),
], ids=['ansible-connect', 'pywinrm-open-shell', 'transport-401'])
def test_refused_credentials_fail_the_task_naming_the_account_and_the_fix(error):
    result = run(error)
    assert result.get('failed') is True and not result.get('unreachable')
    assert result['msg'].startswith('wsus02.plant-a refused the credentials of the account CORP\\wsus-admin')
    assert 'Check ansible_user and ansible_password' in result['msg'] and 'run again' in result['msg']


def test_a_dropped_connection_still_marks_the_host_unreachable():
    result = run(AnsibleConnectionFailure('winrm connection error: connection reset'))
    assert result.get('unreachable') is True and 'kept failing' in result['msg']


def test_an_untrusted_certificate_fails_at_once_naming_the_fix():
    error = AnsibleConnectionFailure('ssl: HTTPSConnectionPool(host=wsus02.plant-a, port=5986): [SSL: CERTIFICATE_VERIFY_FAILED] '
                                     'certificate verify failed: self-signed certificate')
    result = run(error)
    assert result.get('unreachable') is True and 'kept failing' not in result['msg']
    assert "does not trust the host's certificate" in result['msg'] and 'ansible_winrm_ca_trust_path' in result['msg']


def test_an_unexpected_error_is_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        run(ZeroDivisionError('a bug'))


@pytest.mark.parametrize('exc, expected', [
    (AnsibleConnectionFailure('basic: the specified credentials were rejected by the server'), True),
    (InvalidCredentialsError('x'), True),
    (WinRMTransportError('http', 401, 'unauthorized'), True),
    (WinRMTransportError('http', 500, 'error'), False),
    (AnsibleConnectionFailure('winrm connection error'), False),
    (ValueError('credentials'), False),
])
def test_credentials_rejected_classification(exc, expected):
    assert _host_script.credentials_rejected(exc) is expected


@pytest.mark.parametrize('operation, fix', [
    ('export', 'the previous package stays as it was until an export succeeds'),
    ('import', 'the content stays in place and WsusUtil imports the whole package again'),
])
def test_a_failed_wsusutil_run_says_what_to_do_before_its_log(operation, fix):
    assessment = _wsusutil.assess_output(1, 'Fatal error: SqlException: Timeout expired.')
    log = '\n'.join(f'line {n}' for n in range(50))
    message = _metadata.run_failure(operation, assessment, 'D:\\WSUS\\wsusutil.log', log, '')
    assert message.startswith(f'WsusUtil {operation} failed: ') and 'Fix the cause the log names' in message
    assert message.index(fix) < message.index('End of its log')


def test_a_job_cancelled_at_its_timeout_says_how_to_finish():
    result = _jobs.JobResult(job_id='0123456789abcdef', job_dir='C:\\j', kind='robocopy', state='cancelled', attached=False, steps=[],
                             elapsed=3.0, polls=2, timed_out=True)
    assert result.summary() == ('robocopy job 0123456789abcdef did not finish within the timeout and was cancelled; raise timeout '
                                '(0 means no limit) and run the task again')
    assert json.dumps(result.to_dict())
