"""The lab's WS-Management server as real pywinrm sees it."""
from __future__ import annotations

import time
import uuid

import pytest
import requests
import xmltodict
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError, WinRMTransportError, WSManFaultError

TRANSPORTS = [
    pytest.param({'transport': 'basic', 'scheme': 'http'}, id='basic-http'),
    pytest.param({'transport': 'ntlm', 'scheme': 'http'}, id='ntlm-http-encrypted'),
    pytest.param({'transport': 'ntlm', 'scheme': 'https'}, id='ntlm-https'),
    pytest.param({'transport': 'basic', 'scheme': 'https'}, id='basic-https'),
]


def run(protocol, shell_id, command, args=(), stdin=None, skip_cmd_shell=False):
    command_id = protocol.run_command(shell_id, command, args, skip_cmd_shell=skip_cmd_shell)
    if stdin is not None:
        protocol.send_command_input(shell_id, command_id, stdin, end=True)
    out, err, rc = protocol.get_command_output(shell_id, command_id)
    protocol.cleanup_command(shell_id, command_id)
    return out, err, rc


@pytest.mark.parametrize('settings', TRANSPORTS)
def test_commands_and_stdin_over_each_transport(fake_host, settings):
    handle = fake_host(**settings)
    protocol = handle.protocol()
    shell_id = protocol.open_shell(codepage=65001)
    assert run(protocol, shell_id, 'echo', ['hello']) == (b'hello\r\n', b'', 0)
    assert run(protocol, shell_id, 'findstr', ['"^"'], stdin=b'line 1\r\nline 2\r\n') == (b'line 1\r\nline 2\r\n', b'', 0)
    assert run(protocol, shell_id, 'nosuchtool') == (
        b'', b"'nosuchtool' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", 1)
    protocol.close_shell(shell_id)

    counters = handle.server.counters.snapshot()
    assert counters['commands'] == 3
    assert counters['shells_created'] == counters['shells_deleted'] == 1
    assert counters['actions']['Send'] == 1
    assert handle.host.closed_shells[-1] == shell_id.upper()   # (the first one is the start-up probe's)
    # Over HTTP, NTLM seals every SOAP message; otherwise nothing is sealed.
    sealed = settings == {'transport': 'ntlm', 'scheme': 'http'}
    assert (counters['encrypted_requests'] > 0) is sealed
    assert (protocol.transport.encryption is not None) is sealed


@pytest.mark.parametrize('transport', ['basic', 'ntlm'])
def test_wrong_password_is_http_401(fake_host, transport):
    handle = fake_host(transport=transport)
    protocol = handle.protocol(password='not-the-password')
    with pytest.raises(InvalidCredentialsError, match='credentials were rejected'):
        protocol.open_shell()
    assert handle.server.counters['auth_failures'] >= 1
    assert handle.server.counters['shells_created'] == 0


def test_ntlm_accepts_local_account_spellings(fake_host):
    handle = fake_host(transport='ntlm')
    for user in ('Administrator', '.\\Administrator', 'WSUS1\\administrator'):
        protocol = handle.protocol(username=user, password=handle.password)
        shell_id = protocol.open_shell()
        assert run(protocol, shell_id, 'whoami') == (b'wsus1\\administrator\r\n', b'', 0)
        protocol.close_shell(shell_id)
    other_domain = handle.protocol(username='CORP\\Administrator', password=handle.password)
    with pytest.raises(InvalidCredentialsError):
        other_domain.open_shell()


def test_unencrypted_ntlm_over_http_is_refused_like_allow_unencrypted_false(fake_host):
    handle = fake_host(transport='ntlm', scheme='http')
    protocol = handle.protocol(message_encryption='never')
    with pytest.raises(InvalidCredentialsError):
        protocol.open_shell()


def test_unknown_shell_is_invalid_selectors_fault(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol()
    bogus = str(uuid.uuid4()).upper()
    with pytest.raises(WSManFaultError) as info:
        protocol.run_command(bogus, 'echo', ['x'])
    assert info.value.code == 500
    assert info.value.fault_subcode == 'w:InvalidSelectors'
    assert info.value.wsman_fault_code == 2150858843
    assert 'ShellId %s failed because the shell was not found' % bogus in info.value.reason


def test_command_line_over_8191_characters_fails_like_cmd_exe_while_stdin_carries_it(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    data = 'x' * 9000
    assert run(protocol, shell_id, 'echo', [data]) == (b'', b'The command line is too long.\r\n', 1)
    assert not [call[1] for call in handle.host.calls if call[1].startswith('echo')]   # cmd.exe never ran it
    assert run(protocol, shell_id, 'findstr', ['"^"'], stdin=data.encode()) == (data.encode(), b'', 0)
    # The limit is cmd.exe's: exactly 8,191 characters still run, and a program started
    # without cmd.exe (WINRS_SKIP_CMD_SHELL) receives the long line.
    assert run(protocol, shell_id, 'echo', ['y' * (8191 - len('echo '))])[2] == 0
    assert run(protocol, shell_id, 'echo', [data], skip_cmd_shell=True) == (data.encode() + b'\r\n', b'', 0)


def test_receive_times_out_while_the_command_runs_then_completes(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol(operation_timeout_sec=1, read_timeout_sec=5)
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, 'timeout', ['/t', '1.5', '/nobreak'])
    with pytest.raises(WinRMOperationTimeoutError):
        protocol.get_command_output_raw(shell_id, command_id)
    assert protocol.get_command_output(shell_id, command_id) == (b'', b'', 0)
    assert handle.server.counters['faults'] >= 1


def test_operations_quota_faults_0x803381A6_until_the_shell_is_closed(fake_host):
    handle = fake_host(transport='basic', winrm={'max_concurrent_operations_per_user': 3})
    protocol = handle.protocol()
    first = protocol.open_shell()
    for dummy in range(3):
        assert run(protocol, first, 'echo', ['ok'])[2] == 0
    with pytest.raises(WSManFaultError) as info:
        protocol.run_command(first, 'echo', ['one too many'])
    assert info.value.wmierror_code == 0x803381A6
    assert info.value.fault_subcode == 'w:InternalError'
    assert 'maximum number of 3 concurrent operations' in info.value.reason
    # The quota is per user: a second shell does not help while the first stays open...
    second = protocol.open_shell()
    with pytest.raises(WSManFaultError):
        protocol.run_command(second, 'echo', ['still too many'])
    # ...closing the shell gives its operations back, which is what Ansible's plugin relies on.
    protocol.close_shell(first)
    assert run(protocol, second, 'echo', ['ok again']) == (b'ok again\r\n', b'', 0)


def test_injected_quota_fault_hits_the_next_command_only(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    handle.server.faults.exceed_quota(1)
    with pytest.raises(WSManFaultError) as info:
        protocol.run_command(shell_id, 'echo', ['x'])
    assert info.value.wmierror_code == 0x803381A6
    assert run(protocol, shell_id, 'echo', ['x']) == (b'x\r\n', b'', 0)


def test_shells_per_user_quota(fake_host):
    handle = fake_host(transport='basic', winrm={'max_shells_per_user': 2})
    protocol = handle.protocol()
    protocol.open_shell()
    protocol.open_shell()
    with pytest.raises(WSManFaultError) as info:
        protocol.open_shell()
    assert info.value.wmierror_code == 0x803381A5
    assert 'maximum number of 2 concurrent shells' in info.value.reason


def test_request_over_max_envelope_size_is_http_413(fake_host):
    handle = fake_host(transport='ntlm')          # the limit applies to the unsealed envelope
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, 'findstr', ['"^"'])
    with pytest.raises(WinRMTransportError) as info:
        protocol.send_command_input(shell_id, command_id, b'a' * 400_000)       # ~534 KB of base64
    assert info.value.code == 413
    # Stdin in pieces under 500 KB works, which is how Ansible streams it (200,000 bytes a Send).
    protocol.send_command_input(shell_id, command_id, b'a' * 300_000)
    protocol.send_command_input(shell_id, command_id, b'b' * 300_000, end=True)
    out, dummy, rc = protocol.get_command_output(shell_id, command_id)
    assert (out, rc) == (b'a' * 300_000 + b'b' * 300_000, 0)
    # The output came back in several Receives, each within the client's MaxEnvelopeSize.
    assert handle.server.counters.snapshot()['actions']['Receive'] >= 5


@pytest.mark.parametrize('codepage, expected', [
    (437, 'h\u00e9llo \u00fc ? ?'.encode('cp437')),
    (65001, 'h\u00e9llo \u00fc \u2603 \u0151'.encode('utf-8')),
])
def test_output_is_encoded_in_the_shell_code_page(fake_host, codepage, expected):
    handle = fake_host(transport='basic')
    protocol = handle.protocol()
    shell_id = protocol.open_shell(codepage=codepage)
    out, dummy, rc = run(protocol, shell_id, 'echo', ['h\u00e9llo \u00fc \u2603 \u0151'])
    assert (out, rc) == (expected + b'\r\n', 0)
    assert handle.host.calls[-1][0].codepage == codepage


def test_unknown_code_page_is_refused_at_create(fake_host):
    handle = fake_host(transport='basic')
    with pytest.raises(WSManFaultError) as info:
        handle.protocol().open_shell(codepage=99999)
    assert info.value.fault_subcode == 'w:InvalidOptions'
    assert 'WINRS_CODEPAGE=99999' in info.value.reason


def test_shell_environment_working_directory_and_defaults(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol()
    shell_id = protocol.open_shell(env_vars={'STAGE': 'transfer'}, working_directory='D:\\WSUS')
    assert run(protocol, shell_id, 'echo', ['%STAGE%']) == (b'transfer\r\n', b'', 0)
    assert run(protocol, shell_id, 'cd') == (b'D:\\WSUS\r\n', b'', 0)
    default_shell = protocol.open_shell()
    assert run(protocol, default_shell, 'cd') == (b'C:\\Users\\Administrator\r\n', b'', 0)
    ctx = handle.host.calls[-1][0]
    assert (ctx.username, ctx.codepage, ctx.shell_id, ctx.client_address) == (
        'Administrator', 437, default_shell.upper(), '127.0.0.1')


def test_idle_shell_is_closed_and_the_host_told(fake_host):
    handle = fake_host(transport='basic', winrm={'idle_timeout': 0.2})
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    time.sleep(0.5)
    with pytest.raises(WSManFaultError) as info:
        protocol.run_command(shell_id, 'echo', ['late'])
    assert info.value.wsman_fault_code == 2150858843
    assert handle.host.closed_shells[-1] == shell_id.upper()
    assert handle.server.counters['shells_timed_out'] == 1


def test_ctrl_c_ends_a_running_command(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol(operation_timeout_sec=1, read_timeout_sec=5)
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, 'timeout', ['/t', '30', '/nobreak'])
    with pytest.raises(WinRMOperationTimeoutError):
        protocol.get_command_output_raw(shell_id, command_id)    # the command has started
    message = {'env:Envelope': protocol.build_wsman_header(
        action='http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal',
        resource_uri='http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd', shell_id=shell_id)}
    message['env:Envelope']['env:Body'] = {'rsp:Signal': {
        '@CommandId': command_id, 'rsp:Code': 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c'}}
    protocol.send_message(xmltodict.unparse(message))
    started = time.monotonic()
    assert protocol.get_command_output(shell_id, command_id) == (b'', b'', 0xC000013A)   # STATUS_CONTROL_C_EXIT
    assert time.monotonic() - started < 1


def test_unknown_command_id_is_a_fault(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    with pytest.raises(WSManFaultError) as info:
        protocol.get_command_output_raw(shell_id, str(uuid.uuid4()).upper())
    assert info.value.fault_subcode == 'w:InvalidParameter'


def test_another_users_shell_is_invisible(fake_host):
    handle = fake_host(transport='basic')
    admin = handle.protocol()
    shell_id = admin.open_shell()
    operator = handle.protocol(username='operator')
    with pytest.raises(WSManFaultError) as info:
        operator.run_command(shell_id, 'echo', ['x'])
    assert info.value.fault_subcode == 'w:InvalidSelectors'


def test_exit_codes_are_reported_as_unsigned_32_bit(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    assert run(protocol, shell_id, 'exit', ['/b', '-1'])[2] == 4294967295
    assert run(protocol, shell_id, 'exit', ['/b', '16'])[2] == 16


# -- dropped connections --------------------------------------------------------------------
def test_drop_at_nth_request_loses_only_that_request(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    handle.server.faults.drop_at_request(4)
    # Requests 1-3: Command, Receive, Signal of the first command; request 4: the next Command.
    assert run(protocol, shell_id, 'echo', ['before'])[0] == b'before\r\n'
    with pytest.raises(requests.exceptions.ConnectionError, match='Connection aborted'):
        run(protocol, shell_id, 'echo', ['dropped'])
    assert run(protocol, shell_id, 'echo', ['after']) == (b'after\r\n', b'', 0)
    assert handle.server.counters['dropped'] == 1


def test_drop_next_and_lost_response(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    handle.server.faults.drop_next(2)
    for dummy in range(2):
        with pytest.raises(requests.exceptions.ConnectionError):
            protocol.run_command(shell_id, 'echo', ['lost request'])
    assert handle.server.counters['commands'] == 0          # nothing reached the shell
    handle.server.faults.drop_next(1, lose='response')
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol.run_command(shell_id, 'echo', ['lost response'])
    assert handle.server.counters['commands'] == 1          # the host acted; the client never learnt it
    assert handle.server.counters['dropped'] == 3


def test_drop_while_a_detached_process_runs(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    handle.server.faults.drop_while_process('robocopy.exe')
    assert run(protocol, shell_id, 'echo', ['idle'])[2] == 0
    handle.host.processes.add('Robocopy.exe')
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol.run_command(shell_id, 'echo', ['during copy'])
    handle.host.processes.clear()
    assert run(protocol, shell_id, 'echo', ['after copy'])[2] == 0


def test_ntlm_session_does_not_survive_a_dropped_connection(fake_host):
    """A sealed message is bound to its connection's NTLM session. After a drop, pywinrm
    re-authenticates on a new connection but resends the body sealed with the old session,
    which the server cannot unseal: HTTP 400 (the case Ansible's winrm plugin tolerates when
    cleaning up). The client must build a new connection, as Ansible's ``reset()`` does."""
    handle = fake_host(transport='ntlm', scheme='http')
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    handle.server.faults.drop_next(1)
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol.run_command(shell_id, 'echo', ['x'])
    with pytest.raises(WinRMTransportError) as info:
        protocol.run_command(shell_id, 'echo', ['x'])
    assert info.value.code == 400
    fresh = handle.protocol()
    assert run(fresh, shell_id, 'echo', ['reconnected']) == (b'reconnected\r\n', b'', 0)


def test_rejected_password_is_temporary(fake_host):
    handle = fake_host(transport='basic')
    protocol = handle.protocol()
    shell_id = protocol.open_shell()
    handle.server.faults.reject_password(2)
    for dummy in range(2):
        with pytest.raises(InvalidCredentialsError):
            protocol.run_command(shell_id, 'echo', ['x'])
    assert run(protocol, shell_id, 'echo', ['x'])[2] == 0


def test_raw_soap_without_client_library(fake_host):
    """Hand-written requests get Windows-shaped answers: RelatesTo, fault action, 405 on GET."""
    handle = fake_host(transport='basic')
    auth = (handle.username, handle.password)
    response = requests.post(handle.endpoint, data=b'<not xml', auth=auth,
                             headers={'Content-Type': 'application/soap+xml;charset=UTF-8'}, timeout=5)
    assert response.status_code == 500
    assert b'w:SchemaValidationError' in response.content
    assert requests.get(handle.endpoint, auth=auth, timeout=5).status_code == 405
    assert requests.post(handle.endpoint.replace('/wsman', '/other'), auth=auth, timeout=5).status_code == 404
