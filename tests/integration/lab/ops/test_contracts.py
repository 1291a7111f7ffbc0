"""Each shipped host script and its Python twin keep the same contract.

For every ``plugins/plugin_utils/powershell/*.ps1`` (the bootstrap aside): a twin exists (the
job runner's is ``ops.jobs``, started by job_start), with the header's operation, the same
inputs (names, order and optionality) and output keys; the script's ``param()`` block
declares exactly the header's inputs, mandatory exactly when not marked ``?``; and every twin,
run through the emulated bootstrap, answers with exactly its declared output keys.
"""
from __future__ import annotations

import base64
import typing as t

import pytest

from ansible_collections.airgap.wsus.tests.lab import spec as spec_mod
from ansible_collections.airgap.wsus.tests.lab import ops
from ansible_collections.airgap.wsus.tests.lab.ops import jobs, scripts

NOT_TWINNED = {'job_runner': jobs}     # emulated by ops.jobs, launched by job_start; never sent through the bootstrap
SHIPPED = scripts.names()


def test_scripts_are_shipped() -> None:
    assert scripts.get(scripts.BOOTSTRAP) is not None, 'bootstrap.ps1 is missing from plugins/plugin_utils/powershell'
    assert SHIPPED, 'no host scripts in plugins/plugin_utils/powershell'


def test_every_script_has_a_twin_and_every_twin_a_script() -> None:
    twins = ops.twins()
    assert sorted(set(SHIPPED) - set(NOT_TWINNED)) == sorted(twins), (
        'scripts without twins: %s; twins without scripts: %s'
        % (sorted(set(SHIPPED) - set(NOT_TWINNED) - set(twins)), sorted(set(twins) - set(SHIPPED))))
    assert set(NOT_TWINNED) <= set(SHIPPED)


@pytest.mark.parametrize('name', SHIPPED)
def test_header_matches_the_file_name(name: str) -> None:
    script = scripts.get(name)
    assert script.text.startswith(scripts.HEADER_MARKER + '\n') or script.text.startswith(scripts.HEADER_MARKER + '\r\n')
    assert script.operation == name


@pytest.mark.parametrize('name', sorted(set(SHIPPED) - set(NOT_TWINNED)))
def test_twin_declares_the_scripts_contract(name: str) -> None:
    script = scripts.get(name)
    twin = ops.twins()[name]
    assert twin.OPERATION == script.operation
    declared = tuple((item.rstrip('?'), item.endswith('?')) for item in twin.INPUT)
    assert declared == script.inputs, '%s: twin INPUT %s, header %s' % (name, twin.INPUT, script.inputs)
    assert tuple(twin.OUTPUT) == script.outputs


@pytest.mark.parametrize('name', SHIPPED)
def test_param_block_declares_exactly_the_header_inputs(name: str) -> None:
    script = scripts.get(name)
    parsed = scripts.params_by_tree_sitter(script.text)
    assert parsed is not None, 'tree-sitter-powershell is needed for this test (tests/requirements)'
    params, _binding = parsed
    assert [p.name for p in params] == [n for n, _optional in script.inputs], name
    for param, (_name, optional) in zip(params, script.inputs):
        assert param.mandatory is not optional, '%s: -%s is %smandatory but the header marks it %s' % (
            name, param.name, '' if param.mandatory else 'not ', 'optional' if optional else 'required')
    assert scripts.params_by_scanner(script.text) == parsed, 'the fallback parser reads %s differently' % name


def _job_params(call: t.Any) -> t.Dict[str, t.Any]:
    del call
    return {'JobRoot': 'C:\\ProgramData\\airgap', 'JobId': '00000000000000a1',
            'Steps': [{'name': 'echo', 'file': 'C:\\Windows\\System32\\HOSTNAME.EXE', 'arguments': '',
                       'max_success_code': 0}],
            'Runner': scripts.get('job_runner').data.decode('utf-8')}


SAMPLES: t.Dict[str, t.Callable[[t.Any], t.Dict[str, t.Any]]] = {
    'path_info': lambda call: {'Paths': ['C:\\Windows', 'C:\\nope']},
    'dir_list': lambda call: {'Path': 'C:\\Windows'},
    'file_hash': lambda call: {'Paths': ['C:\\Windows\\System32\\Robocopy.exe'], 'Algorithms': ['sha1', 'sha256']},
    'content_inventory': lambda call: {'Root': 'C:\\Windows\\System32', 'Algorithms': ['sha256']},
    'content_delta': lambda call: {'Root': 'C:\\Windows\\System32', 'Held': ['C:\\nope.inventory'], 'Include': ['a/b.cab']},
    'digest_write': lambda call: {'Path': 'C:\\ProgramData\\x.inventory', 'Root': 'C:\\Windows', 'Digests': ['00' * 20]},
    'file_read': lambda call: {'Path': 'C:\\Windows\\System32\\Robocopy.exe'},
    'file_write': lambda call: {'Path': 'C:\\ProgramData\\x.txt', 'ContentB64': base64.b64encode(b'x').decode()},
    'file_copy': lambda call: {'Source': 'C:\\Windows\\System32\\Robocopy.exe', 'Destination': 'C:\\ProgramData\\r.exe'},
    'job_start': _job_params,
    'job_poll': lambda call: {'JobRoot': 'C:\\ProgramData\\airgap', 'JobId': '00000000000000a1', 'TailSteps': 'all'},
    'job_cancel': lambda call: {'JobRoot': 'C:\\ProgramData\\airgap', 'JobId': '00000000000000a1'},
    'server_state': lambda call: {},
    'config_set': lambda call: {'DownloadExpressPackages': True},
    'susdb_query': lambda call: {'Queries': [{'name': 'n', 'sql': 'SELECT COUNT(*) AS n FROM dbo.tbUpdate', 'params': []}]},
    'approvals_read': lambda call: {'Updates': 'all'},
    'approvals_apply': lambda call: {'Groups': [{'key': 'All Computers', 'id': 'A0A08746-4DBE-4A37-9ADF-9E7652C0B421'},
                                                {'key': 'All Computers/Lab', 'name': 'Lab', 'parent': 'All Computers'}]},
}


@pytest.fixture(name='wsus_host')
def wsus_host_fixture(make_host: t.Any) -> t.Any:
    """A host with the WSUS role, for the twins that need it."""
    from ansible_collections.airgap.wsus.tests.lab.wsus.server import attach_wsus  # pylint: disable=import-outside-toplevel
    entry = spec_mod.normalize({'hosts': [{'name': 'wsus1', 'role': 'export', 'catalog': {'updates': 2, 'files': 2}}],
                                'media': {'transfer': {}}})['hosts'][0]
    host = make_host(**{k: v for k, v in entry.items() if k not in ('name', 'drives')})
    attach_wsus(host, entry)
    yield host
    close = getattr(host.wsus, 'close', None)
    if close is not None:
        close()


@pytest.mark.parametrize('name', sorted(set(SHIPPED) - set(NOT_TWINNED)))
def test_each_twin_answers_with_exactly_its_output_keys(name: str, call: t.Any, wsus_host: t.Any) -> None:
    assert name in SAMPLES, 'add sample parameters for %s to SAMPLES' % name
    answer = call(name, SAMPLES[name](call), target=wsus_host)
    assert answer.error is None and answer.rc == 0, answer
    assert list(answer.result) == list(ops.twins()[name].OUTPUT)
