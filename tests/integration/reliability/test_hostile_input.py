"""Hostile values in path-like and name-like options, and in every manifest field, sent to the lab.

Each value either arrives at the host verbatim (the twin of the host script gets exactly that
string as a parameter, and its effect is on exactly that path), or is refused with an error that
names the option. Nothing is ever code on the host: every command the host receives is the same
fixed bootstrap, every script it is given is byte for byte a shipped one, and a value never leaves
the JSON parameters it travels in.

The actions run in this process over Ansible's winrm plugin (``inprocess.py``), so a property can
try dozens of values in seconds. Examples are derandomized (the same every run) so CI is stable.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import shutil
import typing as t

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.airgap.wsus.plugins.plugin_utils import _bundle_records, _manifest, _signing, _winpath
from ansible_collections.airgap.wsus.tests.integration import playbook as pb
from ansible_collections.airgap.wsus.tests.integration.reliability import reliability_helpers as rel
from ansible_collections.airgap.wsus.tests.integration.reliability.inprocess import InProcessHost
from ansible_collections.airgap.wsus.tests.lab.ops import scripts

# Fragments that mean something to PowerShell, cmd.exe, robocopy, SQL or the Windows path parser. Windows accepts the
# first list in file names (so values made of them must arrive verbatim); the second it refuses or reads specially
# (so values holding them must be refused before anything is sent).
ALLOWED = ["'", '$(', ')', '$(Remove-Item C:\\ -Recurse)', '`', '`n', ';', '&', '&&', '%PATH%', '^', '$env:TEMP', '@(', '{', '}', '[',
           ']', '#', '--', "'; DROP TABLE tbUpdate; --", ',', '=', '+', '!', '~', 'e\u0301', '\u00e9', '\u4e2d\u6587', '\u202e',
           '\U0001F600', '-x', '/MIR', 'PROGRA~1']
REFUSED = ['"', '|', '\n', '\r\n', '\0', '<', '>', '*', '?', ':', '::$DATA', '..', '\\\\?\\', 'CON', 'nul.txt', 'com1.txt', 'x.', 'x ',
           '\t', '\\\\srv\\share']
SAFE_NAME = st.lists(st.one_of(st.sampled_from(ALLOWED), st.text(alphabet='abcXYZ019 _-.', min_size=1, max_size=4)),
                     min_size=1, max_size=5).map(''.join).filter(lambda n: n.strip(' .') == n)
NAME = st.one_of(SAFE_NAME, st.lists(st.one_of(st.sampled_from(ALLOWED + REFUSED), st.text(min_size=1, max_size=6)), min_size=1,
                                     max_size=6).map(''.join))
LONG = st.integers(min_value=200, max_value=400).map(lambda n: 'L' * n)
EXAMPLES = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
KEY = rel.HMAC_KEY


@pytest.fixture(name='host')
def host_fixture(wsus_lab: pb.WsusLab) -> t.Iterator[InProcessHost]:
    host = InProcessHost(wsus_lab.import_)
    try:
        yield host
    finally:
        host.close()


def only_shipped_code(host: InProcessHost, mark: int) -> None:
    """Every command since ``mark`` is the one fixed bootstrap command line, given a shipped script to run.

    So no value ever reached a command line, and the host ran nothing but the collection's scripts.
    """
    received = host.received_since(mark)
    lines = {line for line, _payload in received}
    assert len(lines) <= 1, 'the command line changed with the parameters'
    for line in lines:
        encoded = line.rsplit(' ', 1)[1]
        assert scripts.is_bootstrap(base64.b64decode(encoded).decode('utf-16-le'))
    for _line, payload in received:
        assert scripts.find_by_text(payload['script']) is not None, f'{payload["name"]}: not a shipped script'
    ran = {p.name.lower() for p in host.handle.host.processes.all()}
    assert ran <= {'powershell.exe', 'robocopy.exe', 'wsusutil.exe'}, ran


def refused(result: dict, option: str) -> None:
    assert result.get('failed') and not result.get('unreachable'), result
    assert option in result['msg'] and 'internal error' not in result['msg'], result['msg']


def expected_path(value: str, what: str) -> t.Optional[str]:
    try:
        return _winpath.normalize(value, what)
    except _winpath.WinPathError:
        return None


counter = itertools.count()


# --------------------------------------------------------------------------- paths

# A value whose folder exists nowhere yet: each example writes somewhere new, so examples never see each other's files.
FRESH = st.one_of(NAME.map(lambda n: f'{n}\\approvals.json'), NAME, LONG.map(lambda n: f'{n}\\a.json')).map(
    lambda tail: f'D:\\hostile{next(counter)}\\{tail}')


@given(value=st.one_of(st.text(max_size=40), FRESH))
@EXAMPLES
def _approvals_path(host: InProcessHost, value: str) -> None:
    mark = host.mark()
    result = host.run('approvals', {'state': 'exported', 'path': value, 'allow_unsigned': True})
    only_shipped_code(host, mark)
    expected = expected_path(value, 'path')
    writes = host.calls(mark, 'file_write')
    event('refused on the controller' if expected is None or not _winpath.basename(expected) else 'sent to the host')
    if expected is None or not _winpath.basename(expected):
        refused(result, 'path')
        assert writes == [], 'a refused path reached the host'
        return
    fs = host.handle.host.fs
    if result.get('failed'):
        # A path Windows cannot write (a drive the host lacks, a folder in the way): the host's own error, about that path.
        assert result['host_error']['operation'] in ('file_write', 'file_read'), result
        assert _winpath.root_of(expected) in result['msg'], result['msg']
        return
    assert result['path'] == expected
    if writes:
        # The document at exactly that path (and any companion file named after it, beside it).
        document = [w for w in writes if w['Path'] == expected]
        assert len(document) == 1 and all(w['Path'].startswith(expected) for w in writes), [w['Path'] for w in writes]
        assert fs.read_bytes(expected) == base64.b64decode(document[0]['ContentB64'])
    else:
        # An arbitrary string that happened to name a file an earlier example wrote: the same document, left alone.
        assert result['changed'] is False and fs.exists(expected)


def test_approvals_path_arrives_verbatim_or_is_refused(host: InProcessHost) -> None:
    _approvals_path(host)  # pylint: disable=no-value-for-parameter


@given(package=st.one_of(st.text(max_size=30), NAME.map(lambda n: f'D:\\WSUS\\{n}.xml.gz')),
       log=st.one_of(st.none(), NAME.map(lambda n: f'D:\\WSUS\\{n}.log')),
       work_dir=st.one_of(st.none(), NAME.map(lambda n: f'C:\\{n}')))
@EXAMPLES
def _metadata_paths(host: InProcessHost, package: str, log: t.Optional[str], work_dir: t.Optional[str]) -> None:
    mark = host.mark()
    args = {'state': 'exported', 'package': package}
    if log is not None:
        args['log_path'] = log
    if work_dir is not None:
        args['work_dir'] = work_dir
    result = host.run('metadata', args, check_mode=True)
    only_shipped_code(host, mark)
    infos = host.calls(mark, 'path_info')
    event('sent to the host' if infos else 'refused on the controller')
    if not infos:
        assert result.get('failed') and 'internal error' not in result['msg'], result
        assert any(option in result['msg'] for option in ('package', 'log_path', 'work_dir')), result['msg']
        return
    normal = _winpath.normalize(package, 'package')
    assert infos[0]['Paths'][0] == normal and infos[0]['Paths'][2] == _winpath.parent(normal), infos[0]['Paths']
    if result.get('failed'):
        # The host answered about exactly that path: its folder is not there.
        assert f'the folder of the package, {_winpath.parent(normal)}, does not exist' in result['msg'], result['msg']
        return
    assert result['package'] == normal
    if log is not None:
        assert result['log_path'] == _winpath.normalize(log, 'log_path')
    reads = [call['Path'] for call in host.calls(mark, 'file_read')]
    if work_dir is not None:
        assert all(_winpath.is_within(path, _winpath.normalize(work_dir)) for path in reads), reads


def test_metadata_paths_arrive_verbatim_or_are_refused(host: InProcessHost) -> None:
    host.handle.host.fs.write_bytes('D:\\WSUS\\placeholder.txt', b'x')
    _metadata_paths(host)  # pylint: disable=no-value-for-parameter


@given(volumes=st.lists(st.one_of(st.text(max_size=20), FRESH), min_size=1, max_size=3))
@EXAMPLES
def _volume_folders(host: InProcessHost, volumes: list) -> None:
    mark = host.mark()
    result = host.run('bundle', {'state': 'verified', 'volumes': volumes, 'destination': rel.DESTINATION, 'verify_keys': [KEY]})
    only_shipped_code(host, mark)
    assert result.get('failed') and 'internal error' not in result['msg'], result
    expected = [expected_path(value, f'volumes[{index}]') for index, value in enumerate(volumes)]
    infos = host.calls(mark, 'path_info')
    if None in expected:
        event('refused on the controller')
        assert f'volumes[{expected.index(None)}]' in result['msg'] and infos == [], result['msg']
        return
    event('sent to the host')
    assert infos[0]['Paths'] == expected
    fs = host.handle.host.fs
    absent = [path for path in expected if not (fs.exists(path) and fs.is_dir(path))]
    if absent:
        assert f'the volume folder {absent[0]} does not exist on the host' in result['msg'], result['msg']
    else:
        assert f'{expected[0]} has no manifest.json' in result['msg'], result['msg']


def test_volume_folders_arrive_verbatim_or_are_refused(host: InProcessHost) -> None:
    _volume_folders(host)  # pylint: disable=no-value-for-parameter


# --------------------------------------------------------------------------- names

@given(destination=st.one_of(st.text(max_size=20), NAME, st.from_regex(r'\A[A-Za-z0-9][A-Za-z0-9._-]{0,20}\Z')))
@EXAMPLES
def _destination(host: InProcessHost, destination: str) -> None:
    mark = host.mark()
    result = host.run('bundle', {'state': 'verified', 'path': rel.TRANSFER, 'destination': destination, 'verify_keys': [KEY]})
    only_shipped_code(host, mark)
    assert result.get('failed') and 'internal error' not in result['msg'], result
    try:
        record = _bundle_records.import_record_path(rel.WORK_DIR, _bundle_records.check_destination(destination))
    except (_bundle_records.RecordError, _manifest.ManifestError):
        event('refused on the controller')
        assert 'destination' in result['msg'] and host.received_since(mark) == [], result['msg']
        return
    event('sent to the host')
    assert [call['Path'] for call in host.calls(mark, 'file_read')] == [record]
    assert [call['Path'] for call in host.calls(mark, 'dir_list')] == [rel.TRANSFER]
    assert f'no bundle folder for destination {destination}' in result['msg'], result['msg']


def test_destination_arrives_verbatim_or_is_refused(host: InProcessHost) -> None:
    host.handle.host.fs.mkdir(rel.TRANSFER)
    _destination(host)  # pylint: disable=no-value-for-parameter


@given(database=st.one_of(NAME, st.text(min_size=1, max_size=20)))
@EXAMPLES
def _susdb_database(host: InProcessHost, database: str) -> None:
    mark = host.mark()
    result = host.run('server_info', {'susdb': {'via': 'host', 'database': database}})
    only_shipped_code(host, mark)
    queries = host.calls(mark, 'susdb_query')
    assert queries and all(call['Database'] == database for call in queries)
    # The lab's SUSDB is named SUSDB: any other name is a database the server does not have, named verbatim.
    if database.lower() == 'susdb':
        assert not result.get('failed')
    else:
        assert result.get('failed') and f'Cannot open database "{database}"' in result['msg'], result.get('msg')
    assert host.handle.host.wsus.update_ids() == [], 'the import server\'s catalog changed'


def test_susdb_database_is_a_bound_parameter(host: InProcessHost) -> None:
    _susdb_database(host)  # pylint: disable=no-value-for-parameter


# --------------------------------------------------------------------------- manifests

def _sealed(lab: pb.WsusLab, folder: str, manifest: t.Any) -> str:
    """Write ``manifest`` (any JSON value) signed into volume-01 of a new bundle folder on the medium; return the bundle's path."""
    volume = os.path.join(lab.sandbox_path(pb.IMPORT, folder), 'volume-01')
    os.makedirs(volume, exist_ok=True)
    data = json.dumps(manifest, sort_keys=True, separators=(',', ':'), ensure_ascii=True).encode('ascii') + b'\n'
    with open(os.path.join(volume, 'manifest.json'), 'wb') as handle:
        handle.write(data)
    with open(os.path.join(volume, 'manifest.json.sig'), 'wb') as handle:
        handle.write(_signing.signature_bytes(_signing.sign(data, KEY)))
    lab.import_.host.fs.invalidate_usage()
    return folder


def _fields(value: t.Any, prefix: tuple = ()) -> list:
    """Every path (tuple of keys and indexes) to a value inside ``value``."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _fields(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _fields(item, prefix + (index,))
    return found


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | NAME
                           | st.text(max_size=10), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=6)


@given(data=st.data())
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
def _manifest_fields(lab: pb.WsusLab, host: InProcessHost, template: dict, data: st.DataObject) -> None:
    manifest = json.loads(json.dumps(template))
    path = data.draw(st.sampled_from(_fields(manifest)), label='field')
    value = data.draw(JSON_VALUES, label='value')
    parent = manifest
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    folder = _sealed(lab, f'E:\\fields\\f{next(counter)}', manifest)
    before = rel.import_state(lab)
    mark = host.mark()
    result = host.run('bundle', {'state': 'deployed', 'path': folder, 'destination': rel.DESTINATION, 'verify_keys': [KEY]})
    only_shipped_code(host, mark)
    assert 'internal error' not in result.get('msg', ''), result['msg']
    event('refused' if result.get('failed') else 'accepted')
    if result.get('failed'):
        assert result['msg'].startswith(('bundle refused', 'bundle ')), result['msg']
    # Whatever a manifest says, nothing lands outside WsusContent and nothing is imported from a forgery.
    after = rel.import_state(lab)
    assert after['catalog'] == before['catalog']
    assert set(after['content']) <= set(before['content']) | {p for p, _s, _d in template['files']}
    for call in host.calls(mark, 'file_hash') + host.calls(mark, 'path_info'):
        assert all(_winpath.is_within(p, folder) or _winpath.is_within(p, rel.CONTENT) or _winpath.is_within(p, rel.WORK_DIR)
                   for p in call['Paths']), call['Paths']


def test_every_manifest_field_is_validated_before_use(wsus_lab: pb.WsusLab, bundles: t.Any, host: InProcessHost) -> None:
    bundles.put(wsus_lab, 'plant-a-000001')
    with open(os.path.join(bundles.path('plant-a-000001'), 'volume-01', 'manifest.json'), encoding='ascii') as handle:
        template = json.load(handle)
    _manifest_fields(wsus_lab, host, template)  # pylint: disable=no-value-for-parameter


@pytest.mark.parametrize('evil', ['../../../Windows/evil.dll', '//srv/share/evil.cab', '0A/x.cab:evil', '0A/x.cab::$DATA', 'C:/evil.cab',
                                  '0A/CON', '0A/com1.txt', '0A/evil.', '0A/evil ', '\\\\?\\C:\\evil.cab'])
def test_a_signed_manifest_with_an_unsafe_path_is_refused_as_tampering(wsus_lab: pb.WsusLab, bundles: t.Any, host: InProcessHost,
                                                                       evil: str) -> None:
    bundles.put(wsus_lab, 'plant-a-000001')
    with open(os.path.join(bundles.path('plant-a-000001'), 'volume-01', 'manifest.json'), encoding='ascii') as handle:
        manifest = json.load(handle)
    manifest['files'].append([evil, 4, hashlib.sha256(b'evil').hexdigest()])
    for key in ('volume_files', 'files'):
        manifest['totals'][key] += 1
    for key in ('volume_bytes', 'bytes'):
        manifest['totals'][key] += 4
    source = os.path.join(bundles.path('plant-a-000001'), 'volume-01', 'WsusContent')
    folder = 'E:\\crafted'
    shutil.copytree(source, os.path.join(wsus_lab.sandbox_path(pb.IMPORT, folder), 'volume-01', 'WsusContent'))
    _sealed(wsus_lab, folder, manifest)
    before = rel.import_state(wsus_lab)
    for state in ('verified', 'deployed'):
        result = host.run('bundle', {'state': state, 'path': folder, 'destination': rel.DESTINATION, 'verify_keys': [KEY]})
        assert result.get('failed') and 'refused as tampering' in result['msg'], result
    assert rel.import_state(wsus_lab) == before
    assert rel.robocopy_copies(wsus_lab, pb.IMPORT) == []


# --------------------------------------------------------------------------- names that look like flags, through robocopy

FLAG_LIKE = ['-x.cab', 'MIR', '-MIR', '/MIR.cab', "it's.cab", '$(calc).cab', '`t`.cab', 'semi;colon.cab', 'amp&er.cab', '%PATH%.cab',
             'caret^.cab', 'pipe|.cab']


def test_flag_like_names_reach_robocopy_as_names(wsus_lab: pb.WsusLab) -> None:
    lab = wsus_lab
    fs = lab.export.host.fs
    src, dest = 'D:\\src -x\\$(x)', 'E:\\-MIR\\-x dir'
    host = InProcessHost(lab.export)
    try:
        wanted = [name for name in FLAG_LIKE if expected_path('D:\\x\\' + name, 'x') and '/' not in name]
        for name in wanted:
            fs.write_bytes(f'{src}\\{name}', name.encode('utf-8'), make_parents=True)
        fs.write_bytes(f'{src}\\other.cab', b'not listed')
        refused_result = host.run('content_sync', {'src': src, 'dest': dest, 'files': ['/MIR'], 'poll_interval': 1})
        refused(refused_result, 'files[0]')
        mark = host.mark()
        result = host.run('content_sync', {'src': src, 'dest': dest, 'files': wanted, 'poll_interval': 1})
        only_shipped_code(host, mark)
    finally:
        host.close()
    assert not result.get('failed'), result['msg']
    normal_dest = _winpath.normalize(dest)
    copied = {name: fs.read_bytes(f'{normal_dest}\\{name}') for name in wanted}
    assert copied == {name: name.encode('utf-8') for name in wanted}
    assert not fs.exists(f'{normal_dest}\\other.cab'), 'robocopy copied a file that was not listed'
    from ansible_collections.airgap.wsus.tests.lab.windows.cmdline import command_line_to_argv  # pylint: disable=import-outside-toplevel
    for line in rel.robocopy_copies(lab, pb.EXPORT):
        argv = command_line_to_argv(line)
        assert argv[1:3] == [_winpath.normalize(src), normal_dest], argv
        assert not any(name in argv for name in wanted) and '/MIR' not in argv and '/PURGE' not in argv
