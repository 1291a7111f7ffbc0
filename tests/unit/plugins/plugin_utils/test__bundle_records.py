"""The sealed record (``_bundle_records``): what a bundle's manifests were when sealed, for a no-op run that reads none."""
from __future__ import annotations

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _bundle_records, _signing

DIGEST = 'ab' * 32
HISTORY = {'destination': 'plant-a', 'bundle_id': '3c1d5b5e-0000-4000-8000-000000000001', 'path': 'E:\\airgap\\plant-a-000001'}
KEY = _signing.load_key({'key_id': 'site-key', 'algorithm': 'hmac-sha256', 'key': 'q7Vt2kLx9PzR4mWc8NbJ3hYs6GdF1aEu5TiO0rKv'}, 'sign')


def record(**changes):
    built = _bundle_records.build_sealed_record(destination='plant-a', bundle_id=HISTORY['bundle_id'], path=HISTORY['path'],
                                                files=[['volume-01\\manifest.json', DIGEST, 1234]],
                                                facts={'bundle_id': HISTORY['bundle_id'], 'sequence': 1, 'volumes': [{'files': 3}]})
    built.update(changes)
    return built


def test_a_record_for_the_bundle_in_the_history_reads_back_as_written():
    written = record()
    written['signature'] = _signing.sign(_bundle_records.sealed_signed_bytes(written), KEY)
    parsed = _bundle_records.parse_sealed_record(_bundle_records.record_bytes(written), 'x.json', HISTORY)
    assert parsed == written
    _signing.verify(_bundle_records.sealed_signed_bytes(parsed), parsed['signature'], [KEY])


def test_the_signature_covers_the_facts_and_the_hashes():
    written = record()
    written['signature'] = _signing.sign(_bundle_records.sealed_signed_bytes(written), KEY)
    altered = dict(written, files=[['volume-01\\manifest.json', 'cd' * 32, 1234]])
    with pytest.raises(_signing.SignatureError):
        _signing.verify(_bundle_records.sealed_signed_bytes(altered), altered['signature'], [KEY])


def test_a_record_for_another_bundle_or_a_damaged_one_is_not_used():
    data = _bundle_records.record_bytes(record())
    assert _bundle_records.parse_sealed_record(data, 'x.json', dict(HISTORY, bundle_id='another')) is None
    assert _bundle_records.parse_sealed_record(data, 'x.json', dict(HISTORY, path='E:\\airgap\\plant-a-000002')) is None
    assert _bundle_records.parse_sealed_record(data[:-10], 'x.json', HISTORY) is None
    for damaged in (record(files=[]), record(files=[['volume-01\\manifest.json', 'not a digest', 1]]), record(files=[['m', DIGEST, True]]),
                    record(facts=[]), record(schema='airgap.wsus.export-history/1')):
        assert _bundle_records.parse_sealed_record(_bundle_records.record_bytes(damaged), 'x.json', HISTORY) is None, damaged
    extra = dict(record(), extra=1)
    assert _bundle_records.parse_sealed_record(_bundle_records.record_bytes(extra), 'x.json', HISTORY) is None


def test_export_and_import_records_lie_apart_from_the_import_record():
    export = _bundle_records.export_sealed_path('C:\\ProgramData\\airgap.wsus', 'plant-a')
    imported = _bundle_records.import_sealed_path('C:\\ProgramData\\airgap.wsus', 'plant-a')
    assert export == 'C:\\ProgramData\\airgap.wsus\\state\\exports\\plant-a.sealed.json'
    assert imported == 'C:\\ProgramData\\airgap.wsus\\state\\deployed\\plant-a.sealed.json'
    assert imported != _bundle_records.import_record_path('C:\\ProgramData\\airgap.wsus', 'plant-a')
