"""The approvals section of bundle manifests: built from the document, validated on both sides, verified as a volume-1 file."""
from __future__ import annotations

import hashlib
import json

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _approvals, _bundle_approvals, _bundle_verify, _manifest
from ansible_collections.airgap.wsus.plugins.plugin_utils._manifest import ManifestError

SETTINGS = {'express_files': False, 'all_languages': False, 'languages': ['en'], 'deferred_download': False, 'host_binaries_on_mu': False}
UPDATE_A = '11111111-2222-4333-8444-555555555555'
UPDATE_B = '66666666-7777-4888-8999-AAAAAAAAAAAA'


def document_bytes() -> bytes:
    doc = {'schema': _approvals.SCHEMA, 'created': '2026-11-25T12:00:00Z', 'source': {'server_id': 's', 'name': 'WSUS-CONNECTED'},
           'groups': ['All Computers', 'All Computers/Servers', 'All Computers/Servers/Web'],
           'updates': [[UPDATE_A, 3, 'KB5030214', 'A'], [UPDATE_B, 1, None, 'B']],
           'approvals': [[UPDATE_A, 'All Computers/Servers/Web', 'install', '2027-01-15T18:00:00Z']],
           'declines': [UPDATE_B]}
    return _manifest.canonical_bytes(doc)


def manifests(approvals, volumes=2):
    return _manifest.build_manifests(
        bundle_id='b-1', created='2026-11-25T12:00:00Z', source={'server_id': 's', 'name': 'wsus-connected', 'wsus_version': '10'},
        settings=SETTINGS, destination='plant-a', sequence=1, base='full', basis={'kind': 'full', 'reason': 'first'},
        package={'path': 'metadata/export.xml.gz', 'size': 10, 'sha256': 'a' * 64, 'volume': volumes},
        volumes=[[] for _index in range(volumes)], approvals=approvals)


def test_the_section_describes_the_document_bytes_and_counts():
    data = document_bytes()
    section = _bundle_approvals.section(data)
    assert section == {'path': 'approvals/approvals.json', 'size': len(data), 'sha256': hashlib.sha256(data).hexdigest(),
                       'counts': {'groups': 3, 'updates': 2, 'approvals': 1, 'declines': 1}}


def test_a_file_that_is_not_an_approvals_document_is_refused_when_the_bundle_is_built():
    with pytest.raises(_approvals.ApprovalsError, match='not an approvals document'):
        _bundle_approvals.section(b'{"schema": "airgap.wsus.receipt/1"}')


def test_every_volume_records_the_section_and_only_volume_1_holds_the_document():
    section = _bundle_approvals.section(document_bytes())
    first, second = manifests(section)
    assert first['approvals'] == second['approvals'] == section
    assert _bundle_approvals.on_volume(first) and not _bundle_approvals.on_volume(second)
    expected = _bundle_approvals.expected(first)
    assert [(e.path, e.size, e.sha256, e.sha1, e.volume) for e in expected] == [
        ('approvals/approvals.json', section['size'], section['sha256'], None, 'volume 1 of 2')]
    assert expected[0].relpath() == 'approvals\\approvals.json', 'relative to the volume folder, not to WsusContent'
    assert _bundle_approvals.expected(second) == []
    assert _bundle_approvals.host_path('E:\\airgap\\plant-a-000001\\volume-01', section) == \
        'E:\\airgap\\plant-a-000001\\volume-01\\approvals\\approvals.json'


def test_a_bundle_without_approvals_still_parses_and_expects_no_document():
    doc = manifests(None, volumes=1)[0]
    parsed, _unverifiable = _manifest.parse_manifest(_manifest.canonical_bytes(doc))
    assert parsed['approvals'] is None and _bundle_approvals.expected(parsed) == []


def test_an_altered_document_is_a_verification_problem():
    section = _bundle_approvals.section(document_bytes())
    expected = _bundle_approvals.expected(manifests(section, volumes=1)[0])
    altered = document_bytes().replace(b'"install"', b'"uninstall"')
    observed = [{'exists': True, 'size': len(altered), 'sha256': hashlib.sha256(altered).hexdigest(), 'sha1': None}]
    problems = _bundle_verify.compare(expected, observed, check_hashes=True)
    assert [(p['path'], p['problem']) for p in problems] == [('approvals/approvals.json', f'size is {len(altered)} bytes, the manifest says '
                                                                                          f'{section["size"]}')]
    missing = _bundle_verify.compare(expected, [{'exists': False}], check_hashes=True)
    assert missing[0]['problem'] == 'missing'


@pytest.mark.parametrize('mutate, fragment', [
    (lambda a: a.update(path='metadata/approvals.json'), 'must lie in the volume\'s approvals folder'),
    (lambda a: a.update(path='approvals'), 'must lie in the volume\'s approvals folder'),
    (lambda a: a.update(path='approvals/../../x.json'), 'tampering'),
    (lambda a: a.update(path='approvals\\approvals.json'), 'backslash'),
    (lambda a: a.update(size=0), 'approvals.size'),
    (lambda a: a.update(size=True), 'approvals.size'),
    (lambda a: a.update(sha256='A' * 64), 'approvals.sha256'),
    (lambda a: a.update(extra=1), 'unknown keys extra'),
    (lambda a: a.pop('counts'), 'lacks counts'),
    (lambda a: a['counts'].pop('declines'), 'approvals.counts lacks declines'),
    (lambda a: a['counts'].update(approvals=-1), 'approvals.counts.approvals'),
    (lambda a: a.clear() or a.update(x=[1]), 'approvals lacks'),
])
def test_a_malformed_section_is_refused_naming_the_field(mutate, fragment):
    doc = json.loads(_manifest.canonical_bytes(manifests(_bundle_approvals.section(document_bytes()), volumes=1)[0]))
    mutate(doc['approvals'])
    with pytest.raises(ManifestError, match=fragment):
        _manifest.parse_manifest(json.dumps(doc).encode())


@pytest.mark.parametrize('value', [[], ['approvals.json'], 'approvals.json', 1])
def test_a_section_that_is_neither_null_nor_the_object_is_refused(value):
    doc = json.loads(_manifest.canonical_bytes(manifests(None, volumes=1)[0]))
    doc['approvals'] = value
    with pytest.raises(ManifestError, match=r'approvals must be null or an object \{path, size, sha256, counts\}'):
        _manifest.parse_manifest(json.dumps(doc).encode())


def test_volumes_that_disagree_on_the_approvals_are_not_one_bundle():
    section = _bundle_approvals.section(document_bytes())
    first, second = manifests(section)
    second = dict(second, approvals=dict(section, sha256='b' * 64))
    with pytest.raises(ManifestError, match='disagree on approvals'):
        _manifest.check_volume_set([first, second])


def test_the_space_estimate_covers_the_files_their_folder_and_records():
    assert _bundle_approvals.space(1, None, 4096) == 4096 + 4096 + 1024
    assert _bundle_approvals.space(8193, 150, 4096) == 4096 + 3 * 4096 + 1024 + 4096 + 1024
