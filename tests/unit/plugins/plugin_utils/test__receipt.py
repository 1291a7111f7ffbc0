"""Unit tests for receipts: build, parse, sign, choose the newest."""
from __future__ import annotations

import hashlib
import json

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _delta, _receipt, _signing
from ansible_collections.airgap.wsus.plugins.plugin_utils._manifest import ManifestError

SETTINGS = {'express_files': False, 'all_languages': False, 'languages': ['de', 'en'], 'deferred_download': False, 'host_binaries_on_mu': False}
KEY = {'key_id': 'site-key-2026', 'algorithm': 'hmac-sha256', 'key': 'r' * 40}


def sha1_of(n):
    return hashlib.sha1(str(n).encode()).digest()


def path_of(n):
    hexed = sha1_of(n).hex().upper()
    return f'{hexed[-2:]}/{hexed}.cab'


def make(last=4, created='2026-11-26T08:00:00Z', destination='plant-a', receipt_id=None, inventory=None, missing=(), **extra):
    return _receipt.build_receipt(receipt_id=receipt_id or f'r-{last}', created=created, destination=destination,
                                  import_server={'server_id': 'srv-1', 'name': 'wsus-dc'}, last_sequence=last, bundle_id=f'b-{last}',
                                  package_sha256='c' * 64, settings=SETTINGS,
                                  inventory=[sha1_of(n) for n in range(10)] if inventory is None else inventory, missing=missing, **extra)


def candidate(receipt, name=None, key=None, signed=True):
    data = _receipt.receipt_bytes(receipt)
    signature = _signing.signature_bytes(_signing.sign(data, key or KEY)) if signed else None
    return {'name': name or f'receipt-{receipt["last_sequence"]}.json', 'data': data, 'signature': signature}


def test_build_encodes_the_inventory_and_normalizes_missing():
    receipt = make(missing=[path_of(3).replace('/', '\\'), path_of(1)])
    assert receipt['schema'] == 'airgap.wsus.receipt/1'
    assert receipt['inventory']['encoding'] == 'sha1-sorted-base64' and receipt['inventory']['count'] == 10
    assert receipt['missing'] == sorted([path_of(1), path_of(3)])


def test_build_accepts_an_encoded_inventory():
    inventory = _delta.encode_inventory([sha1_of(1)])
    assert make(inventory=inventory)['inventory'] == inventory


def test_round_trip_through_bytes():
    receipt = make()
    data = _receipt.receipt_bytes(receipt)
    assert data.endswith(b'\n') and _receipt.parse_receipt(data) == receipt


def test_receipt_basis_feeds_the_delta():
    receipt = make(inventory=[sha1_of(1), sha1_of(2)], missing=[path_of(2)])
    basis = _receipt.receipt_basis(receipt, 'because')
    assert basis['kind'] == 'receipt' and basis['receipt_id'] == 'r-4' and basis['reason'] == 'because'
    delta = _delta.compute_delta([(path_of(n), 5) for n in (1, 2, 3)], basis)
    assert sorted(path for path, _size in delta['files']) == sorted([path_of(2), path_of(3)])


@pytest.mark.parametrize('mutate, fragment', [
    (lambda d: d.update(schema='airgap.wsus.receipt/9'), 'same airgap.wsus version'),
    (lambda d: d.update(schema='airgap.wsus.bundle/1'), 'not a receipt'),
    (lambda d: d.pop('inventory'), 'lacks inventory'),
    (lambda d: d.update(last_sequence=0), 'last_sequence'),
    (lambda d: d.update(destination='a/b'), 'destination'),
    (lambda d: d.update(package_sha256='x'), 'package_sha256'),
    (lambda d: d['settings'].pop('languages'), 'settings'),
    (lambda d: d['inventory'].update(count=3), 'damaged or altered'),
    (lambda d: d.update(missing=['../../boot.ini']), 'tampering'),
    (lambda d: d.update(missing='all'), 'missing must be a list'),
    (lambda d: d['import_server'].update(extra=1), 'unknown keys extra'),
])
def test_bad_receipts_name_the_field(mutate, fragment):
    doc = json.loads(_receipt.receipt_bytes(make()))
    mutate(doc)
    with pytest.raises(ManifestError, match=fragment):
        _receipt.parse_receipt(json.dumps(doc).encode())


def test_receipt_nesting_is_bounded():
    with pytest.raises(ManifestError, match='deeper than 3'):
        _receipt.parse_receipt(b'{"missing": [[[[]]]]}')


def test_receipt_size_is_bounded():
    with pytest.raises(ManifestError, match='over the limit'):
        _receipt.parse_receipt(_receipt.receipt_bytes(make()), max_bytes=100)


def test_choose_newest_by_sequence():
    result = _receipt.choose_newest([candidate(make(3)), candidate(make(5)), candidate(make(4))], 'plant-a', keys=[KEY])
    assert result['receipt']['last_sequence'] == 5 and result['name'] == 'receipt-5.json'
    assert result['signed'] and result['key_id'] == 'site-key-2026' and result['rejected'] == [] and result['warnings'] == []


def test_choose_newest_breaks_ties_by_creation_time():
    older = candidate(make(5, created='2026-11-26T08:00:00Z', receipt_id='first'), name='first.json')
    newer = candidate(make(5, created='2026-11-27T08:00:00Z', receipt_id='second'), name='second.json')
    assert _receipt.choose_newest([newer, older], 'plant-a', keys=[KEY])['name'] == 'second.json'


def test_choose_newest_rejects_bad_candidates_with_reasons():
    tampered = candidate(make(9))
    tampered['data'] = tampered['data'].replace(b'"last_sequence":9', b'"last_sequence":10')
    other_destination = candidate(make(8, destination='plant-b'))
    unsigned = candidate(make(7), signed=False)
    garbage = {'name': 'junk.json', 'data': b'not json', 'signature': None}
    good = candidate(make(4))
    result = _receipt.choose_newest([tampered, other_destination, unsigned, garbage, good], 'plant-a', keys=[KEY])
    assert result['receipt']['last_sequence'] == 4
    reasons = {entry['name']: entry['reason'] for entry in result['rejected']}
    assert 'altered' in reasons['receipt-9.json']
    assert 'plant-b' in reasons['receipt-8.json']
    assert 'not signed' in reasons['receipt-7.json']
    assert 'junk.json' in reasons
    assert KEY['key'] not in json.dumps(result['rejected'])


def test_choose_newest_allow_unsigned_warns():
    result = _receipt.choose_newest([candidate(make(7), signed=False), candidate(make(4))], 'plant-a', keys=[KEY], allow_unsigned=True)
    assert result['receipt']['last_sequence'] == 7 and result['signed'] is False
    assert result['warnings'][0].startswith('UNVERIFIED receipt receipt-7.json')


def test_choose_newest_with_nothing_valid():
    result = _receipt.choose_newest([{'name': 'junk', 'data': b'{}', 'signature': None}], 'plant-a', keys=[KEY], allow_unsigned=True)
    assert result['receipt'] is None and result['rejected'][0]['name'] == 'junk'
    assert _receipt.choose_newest([], 'plant-a')['receipt'] is None


def test_ed25519_signed_receipts():
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ed25519  # pylint: disable=import-outside-toplevel
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    public = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    signed = candidate(make(6), key={'key_id': 'dc-2026', 'algorithm': 'ed25519', 'key': pem})
    result = _receipt.choose_newest([signed], 'plant-a', keys=[{'key_id': 'dc-2026', 'algorithm': 'ed25519', 'key': public}])
    assert result['receipt']['last_sequence'] == 6 and result['key_id'] == 'dc-2026'


def test_unreadable_and_oversized_candidates_are_set_aside():
    big = candidate(make(9))
    result = _receipt.choose_newest([{'name': 'gone.json', 'data': None}, big, candidate(make(3, inventory=[]))], 'plant-a', keys=[KEY],
                                    max_bytes=len(big['data']) - 1)
    assert result['receipt']['last_sequence'] == 3
    assert result['rejected'] == [{'name': 'gone.json', 'reason': 'it could not be read'},
                                  {'name': 'receipt-9.json', 'reason': f'it is over the limit of {len(big["data"]) - 1} bytes'}]


def test_a_receipt_with_a_digest_file_vouches_for_it_and_bases_the_delta_on_it():
    data = b''.join(sorted(sha1_of(n) for n in range(3)))
    inventory = _delta.file_inventory(count=3, file='receipt-4.inventory', size=60, sha256=hashlib.sha256(data).hexdigest())
    receipt = _receipt.parse_receipt(_receipt.receipt_bytes(make(inventory=inventory, missing=[path_of(9)])))
    assert receipt['inventory'] == inventory
    assert _receipt.inventory_path('E:\\airgap\\receipts\\plant-a\\receipt-4.json', receipt) == 'E:\\airgap\\receipts\\plant-a\\receipt-4.inventory'
    basis = _receipt.receipt_basis(receipt, 'newest receipt', 'E:\\airgap\\receipts\\plant-a\\receipt-4.json')
    assert (basis['kind'], basis['digests'], basis['receipt_id'], basis['missing']) == ('receipt', None, 'r-4', [path_of(9)])
    assert basis['path'] == 'E:\\airgap\\receipts\\plant-a\\receipt-4.inventory' and basis['inventory'] == inventory
    with pytest.raises(ManifestError, match='take 60 bytes'):
        make(inventory=dict(inventory, size=61))
    assert _receipt.inventory_path('receipt-4.json', make()) is None
