"""The file twins and the bootstrap protocol, run as the collection runs them (bootstrap command,
payload on stdin)."""
from __future__ import annotations

import base64
import hashlib

from ansible_collections.airgap.wsus.tests.lab.ops import scripts

GIB = 1024 ** 3


def test_answer_framing_is_the_bootstraps(call) -> None:
    answer = call('path_info', {'Paths': ['C:\\Windows\\Ünïcødé\\<&\'>']})
    assert answer.rc == 0
    line = answer.stdout.rstrip('\r\n').split('\r\n')[-1]
    assert line.startswith('AIRGAP-WSUS-RESULT:{"paths":[{"path":"C:\\\\Windows\\\\\\u00dcn\\u00efc\\u00f8d\\u00e9\\\\'
                           '\\u003c\\u0026\\u0027\\u003e",')
    assert line.isascii() and answer.stdout.endswith('\r\n')
    assert answer.result['paths'][0]['path'] == 'C:\\Windows\\Ünïcødé\\<&\'>'


def test_path_info(call, host, make_host) -> None:
    host.fs.write_bytes('D:\\data\\f.bin', b'x' * 1234, make_parents=True)
    other = make_host('files', shares=[{'name': 'drop', 'path': 'D:\\drop'}])
    del other
    paths = ['D:\\DATA\\f.bin', 'd:/data', 'D:\\data\\missing\\deeper', 'Q:\\nowhere', 'relative.txt', 'C:\\a|b',
             '\\\\files\\drop', '\\\\files\\nosuch\\x', '']
    result = call('path_info', {'Paths': paths}).result['paths']
    by_path = {entry['path']: entry for entry in result}
    assert [e['path'] for e in result] == paths
    f = by_path['D:\\DATA\\f.bin']
    assert (f['exists'], f['is_dir'], f['size'], f['file_system'], f['drive_type'], f['total_bytes']) == \
        (True, False, 1234, 'NTFS', 'fixed', 500 * GIB)
    assert f['free_bytes'] == host.fs.volume_info('D:').free_bytes
    assert (by_path['d:/data']['exists'], by_path['d:/data']['is_dir'], by_path['d:/data']['size']) == (True, True, None)
    missing = by_path['D:\\data\\missing\\deeper']
    assert not missing['exists'] and missing['free_bytes'] == f['free_bytes']       # space to plan with
    assert by_path['Q:\\nowhere']['drive_type'] == 'norootdirectory' and by_path['Q:\\nowhere']['free_bytes'] is None
    assert by_path['relative.txt']['drive_type'] is None
    assert by_path['C:\\a|b']['exists'] is False and by_path['C:\\a|b']['drive_type'] == 'fixed'
    assert by_path['\\\\files\\drop']['exists'] and by_path['\\\\files\\drop']['drive_type'] == 'network'
    assert by_path['\\\\files\\nosuch\\x']['drive_type'] is None
    assert call('path_info', {'Paths': []}).result == {'paths': []}


def test_file_hash(call, host) -> None:
    host.fs.write_bytes('D:\\h\\a.cab', b'abc', make_parents=True)
    host.fs.write_bytes('D:\\h\\locked.cab', b'x')
    host.faults.lock_file('D:\\h\\locked.cab')
    files = call('file_hash', {'Paths': ['D:\\h\\a.cab', 'D:\\h\\none.cab', 'D:\\h', 'D:\\h\\locked.cab'],
                               'Algorithms': ['SHA256', 'sha1', 'sha256']}).result['files']
    assert files[0] == {'path': 'D:\\h\\a.cab', 'exists': True, 'size': 3,
                        'sha256': hashlib.sha256(b'abc').hexdigest().upper(), 'sha1': hashlib.sha1(b'abc').hexdigest().upper()}
    assert files[1] == {'path': 'D:\\h\\none.cab', 'exists': False, 'size': None, 'sha256': None, 'sha1': None}
    assert files[2]['error'] == 'the path is a folder, not a file' and files[2]['exists'] is False
    assert files[3]['exists'] is True and files[3]['sha1'] is None
    assert files[3]['error'] == ('Exception calling ".ctor" with "6" argument(s): "The process cannot access the file '
                                 '\'D:\\h\\locked.cab\' because it is being used by another process."')
    error = call('file_hash', {'Paths': ['D:\\h\\a.cab'], 'Algorithms': ['md5']}).error
    assert error == {'message': "unsupported hash algorithm 'md5': use sha1 or sha256",
                     'type': 'System.Management.Automation.RuntimeException', 'script': 'file_hash.ps1',
                     'line': scripts.line_of('file_hash', 'unsupported hash algorithm'), 'category': 'OperationStopped'}
    assert error['line'] > 0


def test_content_inventory(call, host) -> None:
    fs = host.fs
    for rel, data in (('0A\\B.cab', b'b'), ('0A\\a.cab', b'aa'), ('FF\\x.exe', b'xxx'), ('top.txt', b'tttt'),
                      ('0A\\sub\\deep.cab', b'd')):
        fs.write_bytes('D:\\WSUS\\WsusContent\\' + rel, data, make_parents=True)
    fs.mkdir('D:\\WSUS\\WsusContent\\denied')
    host.faults.deny_access('D:\\WSUS\\WsusContent\\denied')
    host.faults.lock_file('D:\\WSUS\\WsusContent\\FF\\x.exe')
    result = call('content_inventory', {'Root': 'd:\\wsus\\wsuscontent\\', 'Algorithms': ['sha1']}).result
    assert result['root'] == 'd:\\wsus\\wsuscontent' and result['exists'] is True
    assert [f[:2] for f in result['files']] == [['top.txt', 4], ['0A\\a.cab', 2], ['0A\\B.cab', 1],
                                                ['0A\\sub\\deep.cab', 1], ['FF\\x.exe', 3]]
    assert result['files'][0][2] == hashlib.sha1(b'tttt').hexdigest().upper()
    assert result['files'][4][2] is None
    assert (result['count'], result['bytes']) == (5, 11)
    assert [e['path'] for e in result['errors']] == ['d:\\wsus\\wsuscontent\\denied', 'd:\\wsus\\wsuscontent\\FF\\x.exe']
    assert result['errors'][0]['error'] == ('Exception calling "GetFileSystemInfos" with "0" argument(s): "Access to the '
                                            'path \'D:\\WSUS\\WsusContent\\denied\' is denied."')
    plain = call('content_inventory', {'Root': 'D:\\WSUS\\WsusContent'}).result
    assert all(len(f) == 2 for f in plain['files'])
    missing = call('content_inventory', {'Root': 'D:\\nothing'}).result
    assert missing == {'root': 'D:\\nothing', 'exists': False, 'files': [], 'count': 0, 'bytes': 0, 'errors': []}


def test_file_read(call, host) -> None:
    host.fs.write_bytes('C:\\ProgramData\\r.log', b'0123456789')
    result = call('file_read', {'Path': 'C:\\ProgramData\\r.log', 'MaxBytes': 4}).result
    assert result == {'path': 'C:\\ProgramData\\r.log', 'exists': True, 'size': 10,
                      'content_b64': base64.b64encode(b'0123').decode()}
    assert call('file_read', {'Path': 'C:\\ProgramData\\r.log'}).result['content_b64'] == base64.b64encode(b'0123456789').decode()
    missing = {'path': 'C:\\nope', 'exists': False, 'size': None, 'content_b64': None}
    assert call('file_read', {'Path': 'C:\\nope'}).result == missing


def test_file_write(call, host) -> None:
    content = base64.b64encode(b'manifest').decode()
    first = call('file_write', {'Path': 'E:\\bundle\\volume-01\\manifest.json', 'ContentB64': content}).result
    assert first == {'path': 'E:\\bundle\\volume-01\\manifest.json', 'changed': True, 'size': 8}
    assert host.fs.read_bytes('E:\\bundle\\volume-01\\manifest.json') == b'manifest'
    assert [e.name for e in host.fs.listdir('E:\\bundle\\volume-01')] == ['manifest.json']     # no temp file left
    again = call('file_write', {'Path': 'e:\\BUNDLE\\volume-01\\manifest.json', 'ContentB64': content}).result
    assert again['changed'] is False
    kept = call('file_write', {'Path': 'E:\\bundle\\volume-01\\manifest.json', 'ContentB64': 'eA==', 'Overwrite': False})
    assert kept.result['changed'] is False and host.fs.read_bytes('E:\\bundle\\volume-01\\manifest.json') == b'manifest'
    replaced = call('file_write', {'Path': 'E:\\bundle\\volume-01\\manifest.json', 'ContentB64': 'eA=='}).result
    assert replaced == {'path': 'E:\\bundle\\volume-01\\manifest.json', 'changed': True, 'size': 1}
    folder = call('file_write', {'Path': 'E:\\bundle', 'ContentB64': content}).error
    assert folder['message'] == 'cannot write E:\\bundle because it is a folder' and folder['line'] > 0
    assert call('file_write', {'Path': 'E:\\x', 'ContentB64': '!!'}).error['type'] == \
        'System.Management.Automation.MethodInvocationException'
    host.faults.disk_full_after('E', 0)
    full = call('file_write', {'Path': 'E:\\y', 'ContentB64': content}).error
    assert 'There is not enough space on the disk.' in full['message']
    assert not host.fs.exists('E:\\y')


def test_parameters_bind_as_powershell_binds_a_splat(call) -> None:
    ok = call('file_read', {'path': 'C:\\nope', 'max': 3})       # case-insensitive, unique prefix
    assert ok.result['path'] == 'C:\\nope'
    unknown = call('file_read', {'Path': 'C:\\x', 'Bogus': 1}).error
    assert unknown['message'] == "A parameter cannot be found that matches parameter name 'Bogus'."
    assert (unknown['type'], unknown['category'], unknown['script']) == (
        'System.Management.Automation.ParameterBindingException', 'InvalidArgument', 'file_read.ps1')
    missing = call('file_hash', {'Paths': []}).error
    assert missing['message'] == 'Cannot process command because of one or more missing mandatory parameters: Algorithms.'
    ambiguous = call('job_poll', {'JobRoot': 'C:\\x', 'JobId': '0123456789abcdef', 'Tail': 1}).error
    assert ambiguous['message'].startswith("Parameter cannot be processed because the parameter name 'Tail' is ambiguous.")
    assert 'Cannot convert value "System.String" to type "System.Boolean"' in \
        call('file_write', {'Path': 'C:\\x', 'ContentB64': '', 'Overwrite': 'no'}).error['message']
    assert 'does not belong to the set "active,all"' in \
        call('job_poll', {'JobRoot': 'C:\\x', 'JobId': '0123456789abcdef', 'TailSteps': 'some'}).error['message']
    assert call('file_read', {'Path': ''}).error['message'] == \
        "Cannot bind argument to parameter 'Path' because it is an empty string."


def test_values_are_data_never_code(call, host) -> None:
    hostile = ['$(Remove-Item -Recurse C:\\)', '`whoami`', "'; exit 0; '", '-Force', 'a"b', 'ünï']
    result = call('path_info', {'Paths': hostile}).result['paths']
    assert [e['path'] for e in result] == hostile and not any(e['exists'] for e in result)
    assert host.fs.exists('C:\\Windows\\System32')


def test_a_script_that_is_not_shipped_fails_loudly(call) -> None:
    original = scripts.get('path_info').data.decode('utf-8')
    answer = call('path_info', {'Paths': ['C:\\']}, script=original.replace('exists = $false', 'exists = $true'))
    assert answer.rc == 1
    assert answer.error['type'] == 'AirgapWsusLab.ScriptNotEmulated'
    assert '# airgap.wsus host script' in answer.error['message'] and 'path_info.ps1' in answer.error['message']
    assert 'runs only the collection' in answer.stderr
    runner = call('job_runner', {'JobDir': 'C:\\x'})
    assert runner.rc == 1 and runner.error['type'] == 'AirgapWsusLab.ScriptNotEmulated'


def test_bootstrap_errors_before_any_script(send) -> None:
    empty = send(b'')
    assert empty.rc == 1 and empty.error['script'] == 'bootstrap.ps1'
    assert empty.error['message'] == "Cannot bind argument to parameter 'InputObject' because it is null."
    garbage = send(b'{not json\n')
    assert garbage.rc == 1 and garbage.error['type'] == 'System.ArgumentException'
