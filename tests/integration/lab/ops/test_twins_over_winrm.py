"""Host scripts and detached jobs over real WS-Management (pywinrm against the lab)."""
from __future__ import annotations

import base64
import json
import time
import typing as t

from ansible_collections.airgap.wsus.tests.lab.ops import scripts

BOOTSTRAP_ARGS = ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Unrestricted', '-EncodedCommand',
                  base64.b64encode(scripts.normalize_command(scripts.get('bootstrap').text).encode('utf-16-le')).decode()]


def host_script(protocol: t.Any, name: str, params: t.Mapping[str, t.Any], codepage: int = 65001) -> t.Tuple[int, t.Any]:
    """One bootstrap call in a shell of its own, closed afterwards (as Ansible's winrm plugin does)."""
    shell_id = protocol.open_shell(codepage=codepage)
    try:
        command_id = protocol.run_command(shell_id, 'PowerShell', BOOTSTRAP_ARGS)
        payload = json.dumps({'name': name, 'script': scripts.get(name).data.decode('utf-8'), 'params': dict(params)},
                             ensure_ascii=True) + '\n'
        protocol.send_command_input(shell_id, command_id, payload.encode('ascii'), end=True)
        out, _err, rc = protocol.get_command_output(shell_id, command_id)
    finally:
        protocol.close_shell(shell_id)
    tag, _sep, body = out.decode('ascii').rstrip('\r\n').split('\r\n')[-1].partition(':')
    assert tag in ('AIRGAP-WSUS-RESULT', 'AIRGAP-WSUS-ERROR'), out
    return rc, json.loads(body)


def test_scripts_and_a_detached_job_over_winrm(lab_factory: t.Any) -> None:
    lab = lab_factory({'hosts': [{'name': 'wsus-connected', 'role': 'export', 'catalog': {'updates': 2, 'files': 3}}]})
    handle = lab.hosts['wsus-connected']
    protocol = handle.protocol()
    rc, info = host_script(protocol, 'path_info', {'Paths': ['D:\\WSUS\\WsusContent', 'E:\\\u00fcbertrag']}, codepage=437)
    assert rc == 0 and info['paths'][0]['is_dir'] and info['paths'][1]['path'] == 'E:\\\u00fcbertrag'
    assert info['paths'][1]['drive_type'] == 'removable' and info['paths'][1]['file_system'] == 'exFAT'

    job = {'JobRoot': 'C:\\ProgramData\\airgap.wsus', 'JobId': 'feedfacecafebeef',
           'Steps': [{'name': 'copy', 'file': 'C:\\Windows\\System32\\Robocopy.exe',
                      'arguments': 'D:\\WSUS\\WsusContent E:\\bundle\\WsusContent /E /NP /BYTES /R:0 /W:0',
                      'max_success_code': 7}],
           'Runner': scripts.get('job_runner').data.decode('utf-8')}
    rc, started = host_script(protocol, 'job_start', job)
    assert rc == 0 and started['attached'] is False
    # the shell that started the job is closed: the job goes on, and a new connection finds it
    deadline = time.monotonic() + 10
    while True:
        rc, polled = host_script(handle.protocol(), 'job_poll', {'JobRoot': job['JobRoot'], 'JobId': job['JobId']})
        if polled['state'] != 'running' or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert polled['state'] == 'exited' and polled['steps'][0]['exit_code'] in (0, 1)
    assert 'Files :' in polled['steps'][0]['log_tail']
    rc, inventory = host_script(protocol, 'content_inventory', {'Root': 'E:\\bundle\\WsusContent'})
    rc2, source = host_script(protocol, 'content_inventory', {'Root': 'D:\\WSUS\\WsusContent'})
    assert rc == rc2 == 0 and inventory['files'] == source['files']
