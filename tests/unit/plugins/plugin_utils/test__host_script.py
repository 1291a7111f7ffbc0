"""Host scripts: headers, param() blocks, PowerShell syntax, payload framing and the runner."""
from __future__ import annotations

import json
import re

import pytest
import requests
import tree_sitter_powershell
from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.shell.powershell import ShellModule
from tree_sitter import Language, Parser
from winrm.exceptions import WinRMTransportError, WSManFaultError

from ansible_collections.airgap.wsus.plugins.plugin_utils import _host_script as hs
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import HostScriptError, HostUnreachableError, UsageError

PARSER = Parser(Language(tree_sitter_powershell.language()))
SCRIPTS = hs.list_scripts()
ARCHITECTURE = hs.os.path.join(hs._script_dir(), '..', '..', '..', 'docs', 'architecture.md')


def syntax_errors(text: str) -> list:
    source = text.encode('utf-8')
    tree = PARSER.parse(source)
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == 'ERROR' or node.is_missing:
            found.append((node.start_point[0] + 1, source[node.start_byte:node.end_byte][:60]))
        stack.extend(node.children)
    return found


def top_params(text: str) -> list:
    """(name, mandatory) of the script's own param() block, read by tree-sitter."""
    source = text.encode('utf-8')
    root = PARSER.parse(source).root_node
    block = next((c for c in root.children if c.type == 'param_block'), None)
    assert block is not None, 'no top-level param() block'
    params = []
    stack = list(block.children)
    while stack:
        node = stack.pop(0)
        if node.type == 'script_parameter':
            name = next(c for c in node.children if c.type == 'variable')
            attrs = ''.join(source[c.start_byte:c.end_byte].decode() for c in node.children if c.type == 'attribute_list')
            params.append((source[name.start_byte:name.end_byte].decode()[1:],
                           bool(re.search(r'Mandatory\s*=\s*\$true', attrs, re.I))))
        elif node.type != 'script_block':
            stack[:0] = list(node.children)
    return params


def test_every_retried_operation_is_a_shipped_script():
    assert sorted(hs.IDEMPOTENT_OPERATIONS - set(SCRIPTS)) == []


@pytest.mark.parametrize('name', SCRIPTS + ['bootstrap'])
def test_scripts_parse_without_errors(name):
    text = hs._read_text(f'{name}.ps1')
    assert syntax_errors(text) == []
    assert text.isascii(), 'scripts are ASCII so they travel unchanged whatever the code page'
    assert '\t' not in text


def test_syntax_check_catches_real_errors():
    assert syntax_errors('param([string]$a)\nif ($a) { Write-Output $a\n')
    assert syntax_errors("param()\n$x = 'unterminated\n")
    assert syntax_errors('param()\n$x = (1 + 2\n')


@pytest.mark.parametrize('name', SCRIPTS)
def test_header_matches_param_block(name):
    script = hs.load_script(name)
    params = top_params(script.text)
    assert [p[0] for p in params] == [p.name for p in script.inputs]
    for (pname, mandatory), declared in zip(params, script.inputs):
        assert mandatory is not declared.optional, f'{pname}: "?" in the header must match Mandatory in param()'
    assert 'Set-StrictMode -Version 2.0' in script.text
    assert "$ErrorActionPreference = 'Stop'" in script.text


@pytest.mark.parametrize('name', [s for s in SCRIPTS if s != 'job_runner'])
def test_scripts_return_their_declared_outputs(name):
    # Every declared key is set as a result-table entry somewhere below the header.
    script = hs.load_script(name)
    body = script.text.split('\n\n', 1)[1]
    for key in script.outputs:
        assert re.search(rf'(?m)^\s*{key}\s*=|[{{;]\s*{key}\s*=', body), f'{name} never sets {key}'


def test_contract_table_matches_headers():
    with open(ARCHITECTURE, encoding='utf-8') as handle:
        doc = handle.read()
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) == 4 and re.fullmatch(r'`[a-z_]+`', cells[0]):
            rows[cells[0].strip('`')] = cells
    assert sorted(rows) == SCRIPTS
    for name, cells in rows.items():
        script = hs.load_script(name)
        inputs = re.findall(r'`([A-Z][A-Za-z0-9]*\??)`', re.sub(r'\([^()]*\)', '', cells[2]))
        assert inputs == [p.name + ('?' if p.optional else '') for p in script.inputs], name
        if name != 'job_runner':
            outputs = re.findall(r'`([a-z][a-z0-9_]*)`', re.sub(r'\((?:[^()]|\([^()]*\))*\)', '', cells[3]))
            assert outputs == list(script.outputs), name


def test_header_parsing_rules():
    good = '# airgap.wsus host script\n# operation: demo\n# input: Path, MaxBytes?\n# output: path, size\n\n# note: not header\nparam()'
    script = hs.parse_header('demo', good)
    assert script.inputs == (hs.ScriptParam('Path', False), hs.ScriptParam('MaxBytes', True))
    assert script.outputs == ('path', 'size')
    for bad in ('param()', good.replace('operation: demo', 'operation: other'), good.replace('# output: path, size\n', ''),
                good.replace('Path,', 'bad-name,'), good.replace('path, size', 'Path')):
        with pytest.raises(UsageError):
            hs.parse_header('demo', bad)


# --------------------------------------------------------------------------- bootstrap

def test_bootstrap_command_line_stays_short():
    encoded = ShellModule()._encode_script(hs.bootstrap_text(), strict_mode=False, preserve_rc=False)
    assert encoded.startswith('PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand ')
    # cmd.exe's limit is 8,191; keep half of it free for whatever wraps the command.
    assert len(encoded) < 5000, len(encoded)


def test_bootstrap_survives_line_stripping():
    text = hs.bootstrap_text()
    stripped = '\n'.join(line.strip() for line in text.splitlines() if line.strip())
    assert syntax_errors(stripped) == []
    assert '@"' not in text and "@'" not in text, 'here-strings break when lines are stripped'
    assert not any(line.rstrip().endswith('`') for line in text.splitlines()), 'no line continuations'
    for needle in ('$input', 'ParseInput', 'ConvertTo-Json -InputObject $out[0] -Depth 20 -Compress',
                   'AIRGAP-WSUS-RESULT:', 'AIRGAP-WSUS-ERROR:', 'exit 1', '\\u{0:x4}'):
        assert needle in text


# --------------------------------------------------------------------------- payload and answers

def test_payload_is_one_ascii_json_line():
    script = hs.load_script('path_info')
    payload = hs.build_payload(script, {'Paths': ['C:\\caf\u00e9\n"x"', 'D:\\\u4e2d']})
    assert payload.endswith(b'\n') and payload.count(b'\n') == 1
    payload.decode('ascii')
    data = json.loads(payload)
    assert list(data) == ['name', 'script', 'params']
    assert data['name'] == 'path_info' and data['script'] == script.text
    assert data['params'] == {'Paths': ['C:\\caf\u00e9\n"x"', 'D:\\\u4e2d']}


def test_params_are_checked_against_the_header():
    poll = hs.load_script('job_poll')
    assert poll.check_params({'JobRoot': 'C:\\j', 'JobId': 'a' * 16, 'SpacePath': None}) == {'JobRoot': 'C:\\j', 'JobId': 'a' * 16}
    with pytest.raises(UsageError, match='has no parameter'):
        poll.check_params({'JobRoot': 'C:\\j', 'JobId': 'x', 'Bogus': 1})
    with pytest.raises(UsageError, match='needs parameter'):
        poll.check_params({'JobRoot': 'C:\\j'})
    with pytest.raises(UsageError, match='not JSON'):
        poll.check_params({'JobRoot': object(), 'JobId': 'x'})
    with pytest.raises(UsageError, match='not run through the bootstrap'):
        hs.build_payload(hs.load_script('job_runner'), {'JobDir': 'C:\\x'})
    with pytest.raises(UsageError):
        hs.load_script('bootstrap')
    with pytest.raises(UsageError):
        hs.load_script('../x')


def test_result_found_among_other_output():
    out = b'profile says hi\r\nAIRGAP-WSUS-RESULT:{"paths":[]}\r\n'
    assert hs.parse_response('path_info', 0, out, b'') == {'paths': []}


def test_error_frame_becomes_host_script_error():
    record = {'message': 'Access to the path is denied.', 'type': 'System.UnauthorizedAccessException',
              'script': 'file_write.ps1', 'line': 42, 'category': 'NotSpecified'}
    with pytest.raises(HostScriptError) as info:
        hs.parse_response('file_write', 1, ('AIRGAP-WSUS-ERROR:' + json.dumps(record)).encode(), b'')
    error = info.value
    assert error.kind == 'script' and error.line == 42 and error.error_type == 'System.UnauthorizedAccessException'
    assert 'file_write.ps1 line 42' in error.message and 'Access to the path is denied.' in error.message
    assert error.to_result()['host_error']['category'] == 'NotSpecified'


def test_missing_frame_is_a_protocol_error_with_decoded_clixml():
    clixml = (b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
              b'<S S="Error">Program \'powershell.exe\' failed to run_x000D__x000A_</S></Objs>')
    with pytest.raises(HostScriptError) as info:
        hs.parse_response('server_state', 1, b'', clixml)
    assert info.value.kind == 'protocol' and info.value.rc == 1
    assert "Program 'powershell.exe' failed to run" in info.value.stderr
    assert '<Objs' not in info.value.message
    assert 'PowerShell 5.1' in info.value.message


def test_cut_json_is_a_protocol_error():
    with pytest.raises(HostScriptError, match='unreadable JSON') as info:
        hs.parse_response('server_state', 0, b'AIRGAP-WSUS-RESULT:{"computer_na', b'')
    assert info.value.kind == 'protocol'


def test_secrets_are_redacted_from_errors():
    record = {'message': 'Cannot find path C:\\secret-folder\\x', 'type': 'X', 'script': 'a.ps1', 'line': 1, 'category': 'c'}
    with pytest.raises(HostScriptError) as info:
        hs.parse_response('file_read', 1, ('AIRGAP-WSUS-ERROR:' + json.dumps(record)).encode(),
                          b'oops C:\\secret-folder\\x', secrets=['C:\\secret-folder\\x'])
    assert 'secret-folder' not in info.value.message and 'secret-folder' not in info.value.stderr


def test_outputs_are_checked():
    script = hs.load_script('file_read')
    with pytest.raises(HostScriptError, match='out of step'):
        hs.check_outputs(script, {'path': 'x', 'exists': False})
    with pytest.raises(HostScriptError, match='not an object'):
        hs.check_outputs(script, [1])


# --------------------------------------------------------------------------- through a fake connection

class FakeConnection:
    """Records exec_command calls and answers like the bootstrap, from canned results."""

    def __init__(self, answers=None, failures=()):
        self.calls = []
        self.answers = answers or {}
        self.failures = list(failures)
        self.resets = 0

    def exec_command(self, cmd, in_data=None, sudoable=True):
        self.calls.append((cmd, in_data, sudoable))
        if self.failures:
            raise self.failures.pop(0)
        payload = json.loads(in_data)
        answer = self.answers[payload['name']]
        if callable(answer):
            answer = answer(payload['params'])
        return 0, b'AIRGAP-WSUS-RESULT:' + json.dumps(answer).encode() + b'\r\n', b''

    def reset(self):
        self.resets += 1


FILE_READ = {'path': 'C:\\x', 'exists': True, 'size': 3, 'content_b64': 'YWJj'}


def test_command_line_is_constant_and_params_travel_as_data():
    conn = FakeConnection({'file_read': lambda params: dict(FILE_READ, path=params['Path'])})
    evil = ['C:\\a', "C:\\'; Remove-Item C:\\ -Recurse; '", 'C:\\$(calc)', 'C:\\`"x', 'C:\\\u00e9\r\nexit 1']
    for path in evil:
        assert hs.run(conn, 'file_read', {'Path': path})['path'] == path
    commands = {cmd for cmd, _data, _sudo in conn.calls}
    assert commands == {hs.bootstrap_text()}
    for (_cmd, data, sudoable), path in zip(conn.calls, evil):
        assert sudoable is False
        assert json.loads(data)['params'] == {'Path': path}
        assert path not in hs.bootstrap_text()


def _runner(conn, clock_start=0.0):
    now = [clock_start]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    runner = hs.HostScriptRunner(conn, retry=hs.RetryPolicy(timeout=60, initial_delay=2, factor=2, max_delay=10),
                                 sleep=sleep, clock=lambda: now[0])
    return runner, sleeps


def test_retrying_resets_and_backs_off():
    conn = FakeConnection({'file_read': FILE_READ},
                          failures=[AnsibleConnectionFailure('winrm connection error: read timed out'),
                                    requests.exceptions.ConnectionError('Connection reset by peer')])
    runner, sleeps = _runner(conn)
    assert runner.run_retrying('file_read', {'Path': 'C:\\x'}) == FILE_READ
    assert sleeps == [2, 4] and conn.resets == 2 and len(conn.calls) == 3
    assert runner.last_attempts == 3


def test_retrying_gives_up_at_the_deadline():
    conn = FakeConnection({'file_read': FILE_READ}, failures=[ConnectionResetError('reset')] * 50)
    runner, sleeps = _runner(conn)
    with pytest.raises(HostUnreachableError, match='kept failing') as info:
        runner.run_retrying('file_read', {'Path': 'C:\\x'})
    assert sum(sleeps) <= 60 and info.value.attempts == len(conn.calls) > 3
    conn = FakeConnection({'file_read': FILE_READ}, failures=[ConnectionResetError('reset')] * 50)
    runner, sleeps = _runner(conn)
    with pytest.raises(HostUnreachableError):
        runner.run_retrying('file_read', {'Path': 'C:\\x'}, deadline=5)
    assert sum(sleeps) <= 5


def test_script_errors_and_usage_errors_are_not_retried():
    conn = FakeConnection(failures=[HostScriptError('boom')])
    runner, sleeps = _runner(conn)
    with pytest.raises(HostScriptError):
        runner.run_retrying('file_read', {'Path': 'C:\\x'})
    assert sleeps == [] and len(conn.calls) == 1
    with pytest.raises(UsageError, match='not idempotent'):
        runner.run_retrying('config_set', {})
    with pytest.raises(UsageError):
        runner.run_retrying('file_read', {})
    assert len(conn.calls) == 1


def test_non_idempotent_calls_run_once_even_when_the_connection_drops():
    conn = FakeConnection(failures=[AnsibleConnectionFailure('gone')])
    runner, _sleeps = _runner(conn)
    with pytest.raises(AnsibleConnectionFailure):
        runner.run('config_set', {'DownloadExpressPackages': True})
    assert len(conn.calls) == 1 and conn.resets == 0


def test_failed_reset_is_survived():
    class Flaky(FakeConnection):
        def reset(self):
            super().reset()
            raise AnsibleConnectionFailure('still down')

    conn = Flaky({'file_read': FILE_READ}, failures=[AnsibleConnectionFailure('down')])
    runner, _sleeps = _runner(conn)
    assert runner.run_retrying('file_read', {'Path': 'C:\\x'}) == FILE_READ


@pytest.mark.parametrize('exc, expected', [
    (AnsibleConnectionFailure('winrm connection error'), True),
    (AnsibleConnectionFailure('ntlm: the specified credentials were rejected by the server'), False),
    (requests.exceptions.ConnectionError('refused'), True),
    (requests.exceptions.ReadTimeout('slow'), True),
    (WinRMTransportError('http', 500, 'Bad HTTP response returned from server. Code 500'), True),
    (WinRMTransportError('http', 401, 'unauthorized'), False),
    (WSManFaultError(500, 'fault', 'shell not found', 'x', wmierror_code=0x8033805B), True),
    (WSManFaultError(500, 'fault', 'access denied', 'x', wmierror_code=5), False),
    (AnsibleError('the connection attempt timed out'), True),
    (AnsibleError('winrm send_input failed; \nstdout: \nstderr '), True),
    (AnsibleError('something else'), False),
    (ConnectionResetError(104, 'reset'), True),
    (ValueError('x'), False),
    (HostScriptError('x'), False),
])
def test_connection_error_classification(exc, expected):
    assert hs.is_connection_error(exc) is expected


@pytest.mark.parametrize('exc', [
    requests.exceptions.SSLError('HTTPSConnectionPool(host=wsus01, port=5986): Max retries exceeded (Caused by SSLError(SSLCertVerificationError('
                                 '1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate")))'),
    AnsibleConnectionFailure('ssl: HTTPSConnectionPool(host=wsus01, port=5986): [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'),
    requests.exceptions.SSLError('[SSL: WRONG_VERSION_NUMBER] wrong version number (an HTTP listener on the HTTPS port)'),
])
def test_an_untrusted_certificate_is_not_retried(exc):
    # requests' SSLError is a ConnectionError: without this, a certificate problem would be retried for ten minutes.
    assert hs.certificate_rejected(exc)
    assert hs.is_connection_error(exc) is False


def test_wrapped_connection_error_is_recognised():
    try:
        try:
            raise requests.exceptions.ConnectionError('reset')
        except requests.exceptions.ConnectionError as inner:
            raise RuntimeError('wrapper') from inner
    except RuntimeError as outer:
        assert hs.is_connection_error(outer)
