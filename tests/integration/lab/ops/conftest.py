"""Fixtures for the host-script twins: ``call(name, params)`` runs a shipped script through the
emulated ``powershell.exe`` exactly as the collection sends it (bootstrap on the command line,
payload on stdin) and returns the decoded answer."""
from __future__ import annotations

import base64
import dataclasses
import json
import typing as t

import pytest

from ansible_collections.airgap.wsus.tests.lab.ops import scripts
from ansible_collections.airgap.wsus.tests.lab.windows.testing import (
    host_fixture, make_host_fixture, run_fixture, shell_context)

__all__ = ['host_fixture', 'make_host_fixture', 'run_fixture', 'call_fixture', 'send_fixture']


def bootstrap_command() -> str:
    """What Ansible's winrm plugin sends: the normalized bootstrap as -EncodedCommand."""
    text = scripts.normalize_command(scripts.get(scripts.BOOTSTRAP).text)
    return ('PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand '
            + base64.b64encode(text.encode('utf-16-le')).decode('ascii'))


@dataclasses.dataclass
class Answer:
    rc: int
    stdout: str
    stderr: str
    result: t.Optional[t.Dict[str, t.Any]] = None
    error: t.Optional[t.Dict[str, t.Any]] = None


def parse(rc: int, stdout: t.Any, stderr: t.Any) -> Answer:
    out = stdout.decode('utf-8') if isinstance(stdout, bytes) else stdout
    err = stderr.decode('utf-8') if isinstance(stderr, bytes) else stderr
    answer = Answer(rc, out, err)
    last = out.rstrip('\r\n').split('\r\n')[-1] if out else ''
    if last.startswith('AIRGAP-WSUS-RESULT:'):
        answer.result = json.loads(last[len('AIRGAP-WSUS-RESULT:'):])
    elif last.startswith('AIRGAP-WSUS-ERROR:'):
        answer.error = json.loads(last[len('AIRGAP-WSUS-ERROR:'):])
    return answer


@pytest.fixture(name='call')
def call_fixture(host: t.Any) -> t.Callable[..., Answer]:
    """``call(name, params, script=None, username='Administrator')``."""
    def caller(name: str, params: t.Optional[t.Mapping[str, t.Any]] = None, script: t.Optional[str] = None,
               username: str = 'Administrator', target: t.Any = None) -> Answer:
        text = script if script is not None else scripts.get(name).data.decode('utf-8')
        payload = json.dumps({'name': name, 'script': text, 'params': dict(params or {})}, ensure_ascii=True) + '\n'
        result = (target or host).run_command(shell_context(username=username), bootstrap_command(),
                                              payload.encode('ascii'))
        return parse(result.exit_code, result.stdout, result.stderr)
    return caller


@pytest.fixture(name='send')
def send_fixture(host: t.Any) -> t.Callable[[bytes], Answer]:
    """``send(stdin)``: the bootstrap command with raw stdin bytes (for protocol errors)."""
    def sender(stdin: bytes) -> Answer:
        result = host.run_command(shell_context(), bootstrap_command(), stdin)
        return parse(result.exit_code, result.stdout, result.stderr)
    return sender
