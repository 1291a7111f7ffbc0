"""``airgap.wsus.receipt`` against a fake import host (the one of ``test_bundle.py``, plus inventories and writes)."""
from __future__ import annotations

import base64
import hashlib
import json
from types import SimpleNamespace

from ansible_collections.airgap.wsus.plugins.action import receipt
from ansible_collections.airgap.wsus.plugins.plugin_utils import _bundle_records, _delta, _receipt, _signing, _winpath
from ansible_collections.airgap.wsus.tests.unit.plugins.action.test_bundle import FILES, KEY, ROOT, WORK_DIR, FakeHost, make_bundle

CONTENT = 'D:\\WSUS\\WsusContent'
RECEIPTS = 'E:\\plant-a\\receipts'
PACKAGE = b'<ExportPackage/>'


class ImportHost(FakeHost):
    def op_digest_write(self, params):
        prefix = _winpath.fold(params['Root']).rstrip('\\') + '\\'
        files = [path[len(prefix):] for key, (path, data) in sorted(self.files.items()) if key.startswith(prefix)]
        data = b''.join(sorted(_delta.digests_of_paths(files)))
        changed = False
        if params.get('Path'):
            changed = self.get(params['Path']) != data
            self.put(params['Path'], data)
        return {'path': params.get('Path'), 'root_exists': bool(files), 'changed': changed, 'count': len(data) // 20, 'size': len(data),
                'sha256': hashlib.sha256(data).hexdigest(), 'sources': [], 'files': len(files), 'errors': []}

    def op_file_write(self, params):
        data = base64.b64decode(params['ContentB64'])
        changed = self.get(params['Path']) != data
        self.put(params['Path'], data)
        return {'path': params['Path'], 'changed': changed, 'size': len(data)}


def imported(*sha256s):
    doc = {'schema': 'airgap.wsus.imports/1', 'entries': {sha: {'imported_at': '2026-11-25T12:00:00Z'} for sha in sha256s}}
    return json.dumps(doc).encode()


def host_after_import(**bundle_options):
    host = ImportHost(make_bundle(FILES, **bundle_options))
    for path, data in FILES:
        host.put(CONTENT + '\\' + path.replace('/', '\\'), data)
    host.put(WORK_DIR + '\\state\\imports.json', imported(hashlib.sha256(PACKAGE).hexdigest()))
    return host


def run_receipt(host, check_mode=False, **args):
    options = {'path': RECEIPTS, 'bundle': ROOT, 'destination': 'plant-a', 'signing_key': KEY, 'verify_keys': [KEY]}
    options.update(args)
    task = SimpleNamespace(args=options, async_val=0, check_mode=check_mode, action='airgap.wsus.receipt', diff=False)
    action = receipt.ActionModule(task, host, SimpleNamespace(remote_addr='wsus-disconnected'), None, None, None)
    action._load_name = 'airgap.wsus.receipt'
    return action.run(task_vars={})


def test_writes_a_signed_receipt_of_what_the_server_holds_and_records_the_import():
    host = host_after_import()
    result = run_receipt(host, missing=['0A\\' + 'A' * 38 + '0A.cab'])
    assert result['changed'] is True and result['last_sequence'] == 1 and result['missing_count'] == 1
    data = host.get(RECEIPTS + '\\receipt-1.json')
    _signing.verify(data, host.get(RECEIPTS + '\\receipt-1.json.sig'), [KEY])
    doc = _receipt.parse_receipt(data)
    # The inventory is a digest file beside the receipt, which the receipt vouches for by its SHA-256.
    digests = b''.join(sorted(_delta.digests_of_paths(p for p, _d in FILES)))
    assert host.get(RECEIPTS + '\\receipt-1.inventory') == digests
    assert doc['inventory'] == {'encoding': 'sha1-sorted-file', 'count': len(digests) // 20, 'file': 'receipt-1.inventory',
                                'size': len(digests), 'sha256': hashlib.sha256(digests).hexdigest()}
    assert doc['missing'] == ['0A/' + 'A' * 38 + '0A.cab'] and doc['bundle_id'] == 'b-1'
    record = _bundle_records.parse_import_record(host.get(WORK_DIR + '\\state\\imports\\plant-a.json'), 'x')
    assert (record['last_sequence'], record['bundle_id'], record['receipt_id']) == (1, 'b-1', result['receipt_id'])

    again = run_receipt(host, missing=['0A/' + 'A' * 38 + '0A.cab'])
    assert again['changed'] is False and again['receipt_id'] == result['receipt_id']
    host.files.pop(_winpath.fold(CONTENT + '\\' + FILES[0][0].replace('/', '\\')))
    changed = run_receipt(host, missing=['0A/' + 'A' * 38 + '0A.cab'])
    assert changed['changed'] is True and changed['inventory_count'] == len(FILES) - 2


def test_check_mode_builds_the_receipt_and_writes_nothing():
    host = host_after_import()
    result = run_receipt(host, check_mode=True)
    assert result['changed'] is True and result['inventory_count'] == len(FILES) - 1
    assert 'file_write' not in host.calls and host.get(RECEIPTS + '\\receipt-1.inventory') is None


def test_refuses_before_the_metadata_is_imported_and_for_an_older_bundle():
    host = host_after_import()
    host.put(WORK_DIR + '\\state\\imports.json', imported('f' * 64))
    assert 'was not imported on this server' in run_receipt(host)['msg']
    host = host_after_import(sequence=2, base=1, bundle_id='b-2')
    record = _bundle_records.build_import_record(destination='plant-a', last_sequence=3, bundle_id='b-3', receipt_id='r',
                                                 package_sha256='a' * 64, created='2026-11-25T12:00:00Z')
    host.put(WORK_DIR + '\\state\\imports\\plant-a.json', _bundle_records.record_bytes(record))
    assert 'older than what this server has' in run_receipt(host)['msg']
    assert 'file_write' not in host.calls


def test_an_unsigned_receipt_needs_allow_unsigned_and_says_so():
    host = host_after_import()
    assert 'signing_key is required' in run_receipt(host, signing_key=None)['msg']
    result = run_receipt(host, signing_key=None, allow_unsigned=True)
    assert result['changed'] is True and result['warnings'][0].startswith('UNVERIFIED receipt')
    assert host.get(RECEIPTS + '\\receipt-1.json.sig') is None


def test_same_receipt_ignores_only_the_id_and_the_time():
    base = {'destination': 'd', 'import_server': {}, 'last_sequence': 1, 'bundle_id': 'b', 'package_sha256': 'a' * 64, 'settings': {},
            'inventory': {'count': 0}, 'missing': [], 'receipt_id': 'r1', 'created': '2026-11-25T12:00:00Z'}
    assert receipt.same_receipt(base, dict(base, receipt_id='r2', created='2026-11-26T12:00:00Z'))
    assert not receipt.same_receipt(base, dict(base, missing=['x']))
