"""``airgap.wsus.bundle``: its records, its verification rules, its planning helpers, and the import-side flow
(``state: verified``) against a fake host that answers the host scripts from an in-memory file system."""
from __future__ import annotations

import base64
import hashlib
import json
from types import SimpleNamespace

import pytest

from ansible_collections.airgap.wsus.plugins.action import bundle
from ansible_collections.airgap.wsus.plugins.plugin_utils import (_bundle_records, _bundle_verify, _delta, _manifest, _signing, _volumes,
                                                                  _winpath)

KEY = {'key_id': 'site-key-2026', 'algorithm': 'hmac-sha256', 'key': 'q7Vt2kLx9PzR4mWc8NbJ3hYs6GdF1aEu5TiO0rKv'}
SETTINGS = {'express_files': False, 'all_languages': False, 'languages': ['en'], 'deferred_download': False, 'host_binaries_on_mu': False}
ROOT = 'E:\\plant-a\\bundle-0001'
WORK_DIR = 'C:\\ProgramData\\airgap.wsus'


def content_file(data: bytes, ext: str = 'cab') -> tuple:
    sha1 = hashlib.sha1(data).hexdigest().upper()
    return f'{sha1[-2:]}/{sha1}.{ext}', data


def make_bundle(files, volumes=1, sequence=1, base='full', destination='plant-a', key='default', bundle_id='b-1', package=b'<ExportPackage/>'):
    """``{windows path: bytes}`` of a sealed bundle under ROOT, its files spread round-robin over ``volumes`` (``key=None``: unsigned)."""
    key = KEY if key == 'default' else key
    per_volume = [[] for _index in range(volumes)]
    for index, (path, data) in enumerate(files):
        per_volume[index % volumes].append((path, len(data), hashlib.sha256(data).hexdigest()))
    basis = {'kind': 'full', 'reason': 'test'} if base == 'full' else {'kind': 'previous_bundle', 'reason': 'test'}
    manifests = _manifest.build_manifests(
        bundle_id=bundle_id, created='2026-11-25T12:00:00Z', source={'server_id': 's', 'name': 'wsus-connected', 'wsus_version': '10'},
        settings=SETTINGS, destination=destination, sequence=sequence, base=base, basis=basis,
        package={'path': 'metadata/export.xml.gz', 'size': len(package), 'sha256': hashlib.sha256(package).hexdigest(), 'volume': volumes},
        volumes=per_volume)
    disk = {}
    by_path = dict(files)
    for index, manifest in enumerate(manifests, start=1):
        folder = f'{ROOT}\\{_manifest.volume_folder(index)}'
        data = _manifest.canonical_bytes(manifest)
        disk[f'{folder}\\manifest.json'] = data
        if key is not None:
            disk[f'{folder}\\manifest.json.sig'] = _signing.signature_bytes(_signing.sign(data, key))
        for path, _size, _digest in manifest['files']:
            disk[f'{folder}\\WsusContent\\' + path.replace('/', '\\')] = by_path[path]
    disk[f'{ROOT}\\{_manifest.volume_folder(volumes)}\\metadata\\export.xml.gz'] = package
    return disk


class FakeHost:
    """A connection whose host answers file_read, path_info, file_hash and server_state from ``files``."""

    transport = 'winrm'
    _shell = SimpleNamespace(tmpdir=None, SHELL_FAMILY='powershell')

    def __init__(self, files=None):
        self.files = {_winpath.fold(k): (k, v) for k, v in (files or {}).items()}
        self.calls = []

    def put(self, path, data):
        self.files[_winpath.fold(path)] = (path, data)

    def get(self, path):
        entry = self.files.get(_winpath.fold(path))
        return entry[1] if entry else None

    def is_dir(self, path):
        prefix = _winpath.fold(path).rstrip('\\') + '\\'
        return any(key.startswith(prefix) for key in self.files)

    def exec_command(self, cmd, in_data=None, sudoable=True):
        payload = json.loads(in_data)
        name, params = payload['name'], payload['params']
        self.calls.append(name)
        answer = getattr(self, 'op_' + name)(params)
        return 0, b'AIRGAP-WSUS-RESULT:' + json.dumps(answer).encode(), b''

    def reset(self):
        pass

    def op_file_read(self, params):
        data = self.get(params['Path'])
        if data is None:
            return {'path': params['Path'], 'exists': False, 'size': None, 'content_b64': None}
        cut = data[:params.get('MaxBytes', 1 << 20)]
        return {'path': params['Path'], 'exists': True, 'size': len(data), 'content_b64': base64.b64encode(cut).decode()}

    def op_path_info(self, params):
        out = []
        for path in params['Paths']:
            data = self.get(path)
            out.append({'path': path, 'exists': data is not None or self.is_dir(path), 'is_dir': data is None and self.is_dir(path),
                        'size': len(data) if data is not None else None, 'free_bytes': 10 ** 12, 'total_bytes': 10 ** 12,
                        'file_system': 'NTFS', 'drive_type': 'fixed'})
        return {'paths': out}

    def op_dir_list(self, params):
        prefix = _winpath.fold(params['Path']).rstrip('\\') + '\\'
        children = {}
        for key, (path, data) in self.files.items():
            if key.startswith(prefix):
                rest = path[len(prefix):]
                name, _sep, deeper = rest.partition('\\')
                children[name] = [name, bool(deeper), None if deeper else len(data)]
        return {'path': params['Path'], 'exists': bool(children), 'entries': sorted(children.values())}

    def op_server_state(self, params):
        del params
        return {'computer_name': 'WSUS-DISCONNECTED', 'account': {}, 'registry': {'installed': True, 'content_dir': 'D:\\WSUS'},
                'service': {}, 'subscription': {}, 'content_drive': {}, 'status': {},
                'config': {'available': True, 'server_id': 'i', 'version': '10', 'download_express_packages': False,
                           'all_update_languages_enabled': False, 'enabled_update_languages': ['en'],
                           'download_update_binaries_as_needed': False, 'host_binaries_on_microsoft_update': False,
                           'local_content_cache_path': 'D:\\WSUS\\WsusContent'}}

    def op_file_hash(self, params):
        out = []
        for path in params['Paths']:
            data = self.get(path)
            if data is None:
                out.append({'path': path, 'exists': False, 'size': None, 'sha1': None, 'sha256': None})
            else:
                out.append({'path': path, 'exists': True, 'size': len(data), 'sha1': hashlib.sha1(data).hexdigest().upper(),
                            'sha256': hashlib.sha256(data).hexdigest().upper()})
        return {'files': out}


def run_action(connection, check_mode=False, **args):
    task = SimpleNamespace(args=args, async_val=0, check_mode=check_mode, action='airgap.wsus.bundle', diff=False)
    action = bundle.ActionModule(task, connection, SimpleNamespace(remote_addr='wsus-disconnected'), None, None, None)
    action._load_name = 'airgap.wsus.bundle'
    return action.run(task_vars={})


def verify(connection, **args):
    options = {'state': 'verified', 'path': ROOT, 'destination': 'plant-a', 'verify_keys': [KEY]}
    options.update(args)
    return run_action(connection, **{k: v for k, v in options.items() if v is not None})


FILES = [content_file(bytes([n]) * (100 + n)) for n in range(6)] + [('anonymousCheckFile.txt', b'check')]


# --------------------------------------------------------------------------- state: verified

def test_a_sound_bundle_verifies_with_one_hash_call_per_volume():
    host = FakeHost(make_bundle(FILES, volumes=3))
    result = verify(host)
    assert not result.get('failed'), result['msg']
    assert result['problems'] == [] and result['signed'] is True and result['already_imported'] is False
    assert [v['label'] for v in result['volumes']] == ['volume 1 of 3', 'volume 2 of 3', 'volume 3 of 3']
    assert result['package_path'] == ROOT + '\\volume-03\\metadata\\export.xml.gz'
    assert host.calls.count('file_hash') == 3
    assert host.calls.count('path_info') == 1


def test_altered_content_is_reported_by_path_and_volume():
    disk = make_bundle(FILES, volumes=2)
    host = FakeHost(disk)
    target = FILES[1][0]
    folder = ROOT + '\\volume-02'
    host.put(folder + '\\WsusContent\\' + target.replace('/', '\\'), b'\x00' * len(FILES[1][1]))
    host.files.pop(_winpath.fold(ROOT + '\\volume-01\\WsusContent\\' + FILES[0][0].replace('/', '\\')))
    result = verify(host)
    assert result['failed'] is True
    assert {'path': target, 'volume': 'volume 2 of 2', 'problem': 'sha256 differs', 'folder': folder} in result['problems']
    assert {'path': FILES[0][0], 'volume': 'volume 1 of 2', 'problem': 'missing', 'folder': ROOT + '\\volume-01'} in result['problems']


def test_a_file_whose_name_is_not_its_sha1_is_caught_even_when_the_manifest_agrees():
    data = b'payload'
    wrong = 'AA/' + 'B' * 38 + 'AA.cab'
    host = FakeHost(make_bundle([(wrong, data)]))
    result = verify(host)
    assert result['problems'] == [{'path': wrong, 'volume': 'volume 1 of 1', 'problem': 'sha1 differs from its name',
                                   'folder': ROOT + '\\volume-01'}]


def test_presence_and_size_only_without_verify_hashes():
    host = FakeHost(make_bundle(FILES))
    host.put(ROOT + '\\volume-01\\WsusContent\\' + FILES[2][0].replace('/', '\\'), b'\x01' * len(FILES[2][1]))
    host.put(ROOT + '\\volume-01\\WsusContent\\' + FILES[3][0].replace('/', '\\'), b'short')
    result = verify(host, verify_hashes=False)
    assert 'file_hash' not in host.calls
    assert [p['problem'] for p in result['problems']] == [f'size is 5 bytes, the manifest says {len(FILES[3][1])}']


def test_an_altered_manifest_is_refused_before_any_file_is_looked_at():
    host = FakeHost(make_bundle(FILES))
    path = ROOT + '\\volume-01\\manifest.json'
    doc = json.loads(host.get(path))
    doc['files'][0][1] += 1
    host.put(path, _manifest.canonical_bytes(doc))
    result = verify(host)
    assert result['failed'] is True and 'the signature does not match' in result['msg']
    assert 'file_hash' not in host.calls


def test_unsigned_bundles_are_refused_unless_allowed_and_then_flagged():
    host = FakeHost(make_bundle(FILES, key=None))
    assert 'not signed' in verify(host)['msg']
    result = verify(host, allow_unsigned=True, verify_keys=[])
    assert result['signed'] is False and result['problems'] == []
    assert any(w.startswith('UNVERIFIED manifest') for w in result['warnings'])


def test_a_bad_signature_is_refused_even_with_allow_unsigned():
    other = dict(KEY, key='x' * 40)
    host = FakeHost(make_bundle(FILES, key=other))
    assert 'the signature does not match' in verify(host, allow_unsigned=True)['msg']


def test_a_signed_manifest_that_leaves_wsuscontent_is_refused_as_tampering():
    host = FakeHost(make_bundle(FILES))
    path = ROOT + '\\volume-01\\manifest.json'
    doc = json.loads(host.get(path))
    doc['files'].append(['../x', 1, 'a' * 64])
    for key in ('volume_files', 'files'):
        doc['totals'][key] += 1
    for key in ('volume_bytes', 'bytes'):
        doc['totals'][key] += 1
    data = _manifest.canonical_bytes(doc)
    host.put(path, data)
    host.put(path + '.sig', _signing.signature_bytes(_signing.sign(data, KEY)))
    result = verify(host)
    assert result['failed'] is True and 'refused as tampering' in result['msg']
    assert 'file_hash' not in host.calls


def test_a_missing_volume_is_named_and_volumes_can_be_checked_one_at_a_time():
    disk = make_bundle(FILES, volumes=3)
    disk = {k: v for k, v in disk.items() if '\\volume-02\\' not in k}
    host = FakeHost(disk)
    assert 'volume 2 of 3 (volume-02) is missing' in verify(host)['msg']
    result = verify(host, path=None, volumes=[ROOT + '\\volume-03'])
    assert result['problems'] == [] and result['volumes_missing'] == ['volume 1 of 3', 'volume 2 of 3']
    deployed = run_action(host, state='deployed', volumes=[ROOT + '\\volume-03'], destination='plant-a', verify_keys=[KEY])
    assert deployed['failed'] is True and 'volume 1 of 3 (volume-01)' in deployed['msg']


def import_record(sequence, bundle_id):
    record = _bundle_records.build_import_record(destination='plant-a', last_sequence=sequence, bundle_id=bundle_id, receipt_id='r-1',
                                                 package_sha256='a' * 64, created='2026-11-25T12:00:00Z')
    return _bundle_records.record_bytes(record)


def test_a_replayed_bundle_is_a_noop_without_hashing():
    host = FakeHost(make_bundle(FILES, bundle_id='b-1'))
    host.put(WORK_DIR + '\\state\\imports\\plant-a.json', import_record(1, 'b-1'))
    result = verify(host)
    assert result['already_imported'] is True and result['changed'] is False
    assert 'file_hash' not in host.calls


def test_an_incremental_bundle_whose_base_never_arrived_is_refused_with_the_way_out():
    host = FakeHost(make_bundle(FILES, sequence=3, base=2, bundle_id='b-3'))
    host.put(WORK_DIR + '\\state\\imports\\plant-a.json', import_record(1, 'b-1'))
    message = verify(host)['msg']
    assert 'sequence 2' in message and 'never arrived' in message and 'receipt (sequence 1)' in message
    assert 'file_hash' not in host.calls


def test_a_bundle_for_another_destination_is_refused():
    host = FakeHost(make_bundle(FILES, destination='plant-b'))
    message = verify(host)['msg']
    assert 'plant-b' in message and 'plant-a' in message


def test_options_are_checked_before_any_round_trip():
    host = FakeHost()
    assert 'verify_keys is required' in verify(host, verify_keys=[])['msg']
    assert 'package is for state=built only' in verify(host, package='D:\\x\\export.xml.gz')['msg']
    assert 'cannot name a file on Windows' in verify(host, destination='con')['msg']
    short = dict(KEY, key='short')
    assert 'at least 32 bytes' in verify(host, verify_keys=[short])['msg']
    assert short['key'] not in verify(host, verify_keys=[short])['msg']
    built = run_action(host, state='built', path=ROOT, destination='plant-a', package='D:\\x\\export.xml.gz')
    assert 'signing_key is required' in built['msg']
    # A plan may leave the package out; a build never does.
    pending = run_action(host, state='built', path=ROOT, destination='plant-a', package='D:\\x\\export.xml.gz', package_pending=True,
                         signing_key=KEY)
    assert pending['failed'] and pending['msg'].startswith('package_pending is for check mode only')
    assert 'package_pending is for state=built only' in verify(host, package_pending=True)['msg']
    assert host.calls == []


# --------------------------------------------------------------------------- verification rules

def test_compare_reports_each_kind_of_problem():
    expected = [_bundle_verify.Expected('0A/' + 'A' * 38 + '0A.cab', 3, 'ab' * 32, 'A' * 38 + '0A', 'volume 1 of 1'),
                _bundle_verify.Expected('x.txt', 3, 'cd' * 32, None, 'volume 1 of 1')]
    seen = [{'exists': True, 'size': 3, 'sha256': 'AB' * 32, 'sha1': 'B' * 40}, {'exists': True, 'size': 3, 'error': 'locked'}]
    assert [p['problem'] for p in _bundle_verify.compare(expected, seen, True)] == ['sha1 differs from its name', 'could not be read: locked']
    assert _bundle_verify.compare(expected, seen[:1], False) == [_bundle_verify.problem(expected[1], 'missing')]


def test_observed_from_listing_matches_names_case_insensitively():
    expected = _bundle_verify.expected_files(_manifest.build_manifests(
        bundle_id='b', created='2026-11-25T12:00:00Z', source={'server_id': '', 'name': '', 'wsus_version': ''}, settings=SETTINGS,
        destination='d', sequence=1, base='full', basis={'kind': 'full', 'reason': 'r'},
        package={'path': 'metadata/export.xml.gz', 'size': 5, 'sha256': 'e' * 64, 'volume': 1},
        volumes=[[('0A/' + 'A' * 38 + '0A.cab', 7, 'f' * 64)]])[0])
    listing = [['wsuscontent\\0a\\' + ('A' * 38 + '0A.cab').lower(), 7], ['METADATA\\export.xml.gz', 4]]
    assert _bundle_verify.observed_from_listing(expected, listing) == [{'exists': True, 'size': 7}, {'exists': True, 'size': 4}]


def test_check_volumes_refuses_volumes_of_different_bundles_even_when_partial():
    one = _manifest.parse_manifest(make_bundle(FILES, volumes=3, bundle_id='b-1')[ROOT + '\\volume-01\\manifest.json'])[0]
    two = _manifest.parse_manifest(make_bundle(FILES, volumes=3, bundle_id='b-2')[ROOT + '\\volume-02\\manifest.json'])[0]
    with pytest.raises(_manifest.ManifestError, match='disagree on bundle_id'):
        _bundle_verify.check_volumes([one, two], ['a', 'b'], require_all=False)
    with pytest.raises(_manifest.ManifestError, match='both volume 1 of 3'):
        _bundle_verify.check_volumes([one, one], ['a', 'b'], require_all=False)


# --------------------------------------------------------------------------- records

def test_records_round_trip_and_refuse_damage():
    history = _bundle_records.build_export_history(destination='plant-a', sequence=4, bundle_id='b-4', created='2026-11-25T12:00:00Z',
                                                   package_sha256='a' * 64, base=3, basis='receipt', files=2, size=9, path=ROOT)
    path = _bundle_records.export_history_path(WORK_DIR, 'plant-a')
    assert path == WORK_DIR + '\\state\\exports\\plant-a.json'
    parsed = _bundle_records.parse_export_history(_bundle_records.record_bytes(history), path, 'plant-a')
    assert (parsed['last_sequence'], parsed['bundle_id']) == (4, 'b-4')
    with pytest.raises(_bundle_records.RecordError, match='not plant-b'):
        _bundle_records.parse_export_history(_bundle_records.record_bytes(history), path, 'plant-b')
    with pytest.raises(_bundle_records.RecordError, match=r'plant-a\.json'):
        _bundle_records.parse_export_history(b'{"schema": "airgap.wsus.export-history/1"', path, 'plant-a')

    digests = _delta.digests_of_paths([FILES[0][0], FILES[1][0]])
    sent = _bundle_records.build_sent_record(destination='plant-a', sequence=4, bundle_id='b-4', digests=digests)
    inventory = _bundle_records.parse_sent_record(_bundle_records.record_bytes(sent), 'x', history)
    assert _delta.decode_inventory(inventory) == frozenset(digests)
    stale = _bundle_records.build_sent_record(destination='plant-a', sequence=3, bundle_id='b-3', digests=digests)
    assert _bundle_records.parse_sent_record(_bundle_records.record_bytes(stale), 'x', history) is None
    # What this version writes: the digests stay in a digest file the export host wrote beside the record.
    assert _bundle_records.export_sent_inventory_path(WORK_DIR, 'plant-a') == WORK_DIR + '\\state\\exports\\plant-a.sent.inventory'
    on_file = _delta.file_inventory(count=2, file=_bundle_records.export_sent_inventory_name('plant-a'), size=40, sha256='b' * 64)
    sent = _bundle_records.build_sent_record(destination='plant-a', sequence=4, bundle_id='b-4', inventory=on_file)
    assert _bundle_records.parse_sent_record(_bundle_records.record_bytes(sent), 'x', history) == on_file
    with pytest.raises(_bundle_records.RecordError, match='take 40 bytes'):
        _bundle_records.parse_sent_record(_bundle_records.record_bytes(dict(sent, inventory=dict(on_file, size=39))), 'x', history)

    with pytest.raises(_bundle_records.RecordError):
        _bundle_records.verified_record_path(WORK_DIR, 'A' * 64)


# --------------------------------------------------------------------------- planning

def test_plan_numbers_come_from_the_delta_and_the_packing():
    files = [(path, len(data)) for path, data in FILES]
    packing = _volumes.pack(files, None, 100)
    delta = _delta.compute_delta(list(files), None)
    plan = bundle.plan_result({'kind': 'full', 'reason': 'r'}, delta, packing)
    assert plan['files'] == len(FILES) and plan['bytes'] == sum(s for _p, s in files)
    assert plan['medium_bytes_needed'] == packing['allocated']
    assert plan['import_bytes_needed'] == 4096 * len(FILES)


def test_a_sealed_bundle_plan_reproduces_the_packing_estimate():
    disk = make_bundle(FILES, volumes=2)
    volumes = [bundle.Volume(ROOT, _manifest.parse_manifest(disk[f'{ROOT}\\volume-0{i}\\manifest.json'])[0], [], True) for i in (1, 2)]
    expected = sum(_volumes.volume_usage([(p, s) for p, s, _d in v.manifest['files']],
                                         v.manifest['package']['size'] if v.manifest['package']['volume'] == v.manifest['volume']['index'] else None)
                   for v in volumes)
    plan = bundle.plan_from_manifests(volumes)
    assert plan['medium_bytes_needed'] == expected and plan['files'] == len(FILES) and plan['volumes'] == 2


def test_same_plan_compares_sequence_base_package_and_files():
    disk = make_bundle(FILES)
    manifest = _manifest.parse_manifest(disk[ROOT + '\\volume-01\\manifest.json'])[0]
    volumes = [bundle.Volume(ROOT, manifest, [], True)]
    summary = _manifest.check_volume_set([manifest])
    delta = {'files': [(p.upper() if '/' not in p else p, len(d)) for p, d in FILES]}
    sha = summary['package']['sha256']
    assert bundle.same_plan(summary, volumes, 1, 'full', sha, delta)
    assert not bundle.same_plan(summary, volumes, 2, 'full', sha, delta)
    assert not bundle.same_plan(summary, volumes, 1, 'full', 'b' * 64, delta)
    assert not bundle.same_plan(summary, volumes, 1, 'full', sha, {'files': delta['files'][1:]})


def test_receipts_are_read_newest_first_by_the_sequence_in_their_name():
    from ansible_collections.airgap.wsus.plugins.plugin_utils import _host_script, _receipt  # pylint: disable=import-outside-toplevel

    assert [bundle.receipt_number(p) for p in ('E:\\r\\receipt-12.json', 'E:\\r\\receipt-3.JSON', 'E:\\r\\notes.json',
                                               'E:\\r\\receipt-x.json')] == [12, 3, None, None]
    host = FakeHost()
    for sequence in range(1, 31):
        receipt = _receipt.build_receipt(receipt_id=f'r-{sequence}', created='2026-11-25T12:00:00Z', destination='plant-a',
                                         import_server={'server_id': 'i', 'name': 'wsus-disconnected'}, last_sequence=sequence,
                                         bundle_id=f'b-{sequence}', package_sha256='a' * 64, settings=SETTINGS, inventory=[])
        data = _receipt.receipt_bytes(receipt)
        host.put(f'E:\\r\\receipt-{sequence}.json', data)
        host.put(f'E:\\r\\receipt-{sequence}.json.sig', _signing.signature_bytes(_signing.sign(data, KEY)))
    host.put('E:\\r\\notes.json', b'{}')
    builder = bundle.Builder.__new__(bundle.Builder)
    builder.runner, builder.destination, builder.warnings = _host_script.HostScriptRunner(host), 'plant-a', []
    builder.args = {'receipts': ['E:\\r'], 'allow_unsigned': False}
    keys = [_signing.load_key(KEY)]
    candidates = builder.read_receipts(keys)
    # The newest valid one and the file not named as the import side names receipts; not the 29 older ones.
    assert [c['name'] for c in candidates] == ['E:\\r\\receipt-30.json', 'E:\\r\\notes.json']
    assert host.calls.count('file_read') == 4
    assert _receipt.choose_newest(candidates, 'plant-a', keys=keys)['receipt']['last_sequence'] == 30
    # A newest file that is not valid (its signature fails) is set aside, and the next one is read.
    host.put('E:\\r\\receipt-30.json.sig', b'{"algorithm": "hmac-sha256", "key_id": "site-key-2026", "signature": "AAAA"}')
    names = [c['name'] for c in builder.read_receipts(keys)]
    assert names == ['E:\\r\\receipt-30.json', 'E:\\r\\receipt-29.json', 'E:\\r\\notes.json']


def test_present_bytes_counts_only_planned_files_of_the_planned_size():
    files = [(path, len(data)) for path, data in FILES[:2]]
    packing = _volumes.pack(files, None, 10)
    listing = [['volume-01\\WsusContent\\' + files[0][0].replace('/', '\\'), files[0][1]],
               ['volume-01\\WsusContent\\' + files[1][0].replace('/', '\\'), files[1][1] - 1],
               ['volume-01\\stale.bin', 5000]]
    assert bundle.present_bytes(listing, packing) == files[0][1]


# --------------------------------------------------------------------------- finding the bundle under a transfer root

def moved(disk: dict, folder: str) -> dict:
    return {folder + key[len(ROOT):]: data for key, data in disk.items()}


def test_a_transfer_root_yields_the_next_bundle_not_yet_imported():
    disk = moved(make_bundle(FILES, sequence=1, bundle_id='b-1'), 'E:\\transfer\\plant-a-000001')
    disk.update(moved(make_bundle(FILES, sequence=2, base=1, bundle_id='b-2'), 'E:\\transfer\\plant-a-000002'))
    disk.update(moved(make_bundle(FILES, sequence=3, base=2, bundle_id='b-3'), 'E:\\transfer\\plant-a-000003'))
    host = FakeHost(disk)
    host.put(WORK_DIR + '\\state\\imports\\plant-a.json', import_record(1, 'b-1'))
    result = verify(host, path='E:\\transfer')
    assert not result.get('failed'), result['msg']
    assert result['bundle_id'] == 'b-2' and result['bundle_path'] == 'E:\\transfer\\plant-a-000002'
    assert any('plant-a-000003' in warning for warning in result['warnings'])


def test_a_transfer_root_whose_bundles_were_all_imported_is_a_noop():
    host = FakeHost(moved(make_bundle(FILES, sequence=1, bundle_id='b-1'), 'E:\\transfer\\plant-a-000001'))
    host.put(WORK_DIR + '\\state\\imports\\plant-a.json', import_record(1, 'b-1'))
    result = verify(host, path='E:\\transfer')
    assert result['already_imported'] is True and result['changed'] is False


def test_a_transfer_root_without_a_bundle_for_the_destination_says_so():
    host = FakeHost(moved(make_bundle(FILES, destination='plant-b'), 'E:\\transfer\\plant-b-000001'))
    result = verify(host, path='E:\\transfer')
    assert result['failed'] and 'no bundle folder for destination plant-a' in result['msg']


def test_a_single_volume_folder_can_be_given_as_path():
    host = FakeHost(make_bundle(FILES, volumes=2))
    result = verify(host, path=ROOT + '\\volume-02')
    assert not result.get('failed'), result['msg']
    assert [v['label'] for v in result['volumes']] == ['volume 2 of 2'] and result['volumes_missing'] == ['volume 1 of 2']
