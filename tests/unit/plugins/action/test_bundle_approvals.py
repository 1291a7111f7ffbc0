"""``airgap.wsus.bundle`` on the import side with an approvals document: verified with the rest, its path returned.

The fake host of ``test_bundle`` answers the host scripts from an in-memory file system.
"""
from __future__ import annotations

import hashlib

from ansible_collections.airgap.wsus.plugins.plugin_utils import _approvals, _bundle_approvals, _manifest, _signing
from ansible_collections.airgap.wsus.tests.unit.plugins.action import test_bundle as tb

UPDATE = '11111111-2222-4333-8444-555555555555'
DOCUMENT = _manifest.canonical_bytes({
    'schema': _approvals.SCHEMA, 'created': '2026-11-25T12:00:00Z', 'source': {'server_id': 's', 'name': 'WSUS-CONNECTED'},
    'groups': ['All Computers', 'All Computers/Servers'], 'updates': [[UPDATE, 2, 'KB5030214', 'An update']],
    'approvals': [[UPDATE, 'All Computers/Servers', 'install', None]], 'declines': []})
IN_VOLUME_1 = tb.ROOT + '\\volume-01\\approvals\\approvals.json'


def bundle_with_approvals(volumes=2) -> dict:
    """A sealed, signed bundle under ``tb.ROOT`` whose manifests describe DOCUMENT, held by volume 1."""
    files = tb.FILES[:4]
    per_volume = [[] for _index in range(volumes)]
    for index, (path, data) in enumerate(files):
        per_volume[index % volumes].append((path, len(data), hashlib.sha256(data).hexdigest()))
    package = b'<ExportPackage/>'
    manifests = _manifest.build_manifests(
        bundle_id='b-1', created='2026-11-25T12:00:00Z', source={'server_id': 's', 'name': 'wsus-connected', 'wsus_version': '10'},
        settings=tb.SETTINGS, destination='plant-a', sequence=1, base='full', basis={'kind': 'full', 'reason': 'test'},
        package={'path': 'metadata/export.xml.gz', 'size': len(package), 'sha256': hashlib.sha256(package).hexdigest(), 'volume': volumes},
        volumes=per_volume, approvals=_bundle_approvals.section(DOCUMENT))
    disk = {}
    by_path = dict(files)
    for index, manifest in enumerate(manifests, start=1):
        folder = f'{tb.ROOT}\\{_manifest.volume_folder(index)}'
        data = _manifest.canonical_bytes(manifest)
        disk[f'{folder}\\manifest.json'] = data
        disk[f'{folder}\\manifest.json.sig'] = _signing.signature_bytes(_signing.sign(data, tb.KEY))
        for path, _size, _digest in manifest['files']:
            disk[f'{folder}\\WsusContent\\' + path.replace('/', '\\')] = by_path[path]
    disk[f'{tb.ROOT}\\{_manifest.volume_folder(volumes)}\\metadata\\export.xml.gz'] = package
    disk[IN_VOLUME_1] = DOCUMENT
    disk[IN_VOLUME_1 + '.sig'] = _signing.signature_bytes(_signing.sign(DOCUMENT, tb.KEY))
    return disk


def test_the_document_is_verified_with_the_bundle_and_its_path_returned():
    host = tb.FakeHost(bundle_with_approvals())
    result = tb.verify(host)
    assert not result.get('failed'), result['msg']
    assert result['approvals_path'] == IN_VOLUME_1
    assert result['approvals'] == {'path': 'approvals/approvals.json', 'size': len(DOCUMENT), 'sha256': hashlib.sha256(DOCUMENT).hexdigest(),
                                   'counts': {'groups': 2, 'updates': 1, 'approvals': 1, 'declines': 0}}
    assert host.calls.count('file_hash') == 2, 'the document is hashed in volume 1\'s one call'


def test_an_altered_or_missing_document_fails_verification_by_path():
    disk = bundle_with_approvals()
    disk[IN_VOLUME_1] = DOCUMENT.replace(b'"install"', b'"uninsta"')
    result = tb.verify(tb.FakeHost(disk))
    assert result['failed'] is True
    assert [(p['path'], p['volume'], p['problem']) for p in result['problems']] == [('approvals/approvals.json', 'volume 1 of 2', 'sha256 differs')]
    assert 'approvals/approvals.json (volume 1 of 2): sha256 differs' in result['msg']
    del disk[IN_VOLUME_1]
    result = tb.verify(tb.FakeHost(disk))
    assert [(p['path'], p['problem']) for p in result['problems']] == [('approvals/approvals.json', 'missing')]


def test_without_volume_1_the_document_is_not_checked_and_its_path_is_null():
    host = tb.FakeHost(bundle_with_approvals())
    result = tb.verify(host, path=None, volumes=[tb.ROOT + '\\volume-02'])
    assert not result.get('failed'), result['msg']
    assert result['approvals_path'] is None and result['approvals']['counts']['approvals'] == 1


def test_a_bundle_without_approvals_returns_null_for_both():
    result = tb.verify(tb.FakeHost(tb.make_bundle(tb.FILES)))
    assert not result.get('failed') and result['approvals'] is None and result['approvals_path'] is None


def test_approvals_is_an_option_of_state_built_only():
    result = tb.verify(tb.FakeHost(bundle_with_approvals()), approvals='D:\\WSUS\\airgap-wsus-approvals.json')
    assert result['failed'] is True and 'approvals is for state=built only' in result['msg']
