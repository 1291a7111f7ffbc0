"""The export package format and what reading a damaged package reports."""
from __future__ import annotations

import gzip
import re

import pytest

from ansible_collections.airgap.wsus.tests.lab.wsus import package as pkg


@pytest.fixture
def exported(wsus_server):
    server = wsus_server(catalog={'seed': 'pkg', 'updates': 25, 'files': 75})
    updates = server.export_updates()
    return server, updates, pkg.build(server.package_header(len(updates)), updates)


def test_package_is_gzip_xml_with_metadata_only(exported):
    server, updates, data = exported
    xml = gzip.decompress(data).decode('utf-8')
    assert xml.startswith('<?xml') and '<ExportPackage ' in xml and xml.rstrip().endswith('</ExportPackage>')
    assert xml.count('<update ') == len(updates) == 25
    header, read_back = pkg.read(data)
    assert header.update_count == 25 and header.version == server.version
    assert [(u.update_id, u.revision) for u in read_back] == [(u.update_id.upper(), u.revision) for u in updates]
    files = {f.name: f for u in read_back for f in u.files}
    catalog_files = dict(server.db.query('SELECT FileName, Size FROM tbFile'))
    assert {name: f.size for name, f in files.items()} == catalog_files
    assert all(f.digest.hex().upper() == name.split('.')[0] for name, f in files.items())
    assert 'Deployment' not in xml and 'TargetGroup' not in xml, 'no approvals travel in a package'


def test_truncated_package_reports_the_unclosed_elements(exported):
    _server, updates, data = exported
    with pytest.raises(pkg.PackageError) as info:
        pkg.read(data[:len(data) * 6 // 10])
    message = str(info.value)
    assert re.fullmatch(r'Unexpected end of file has occurred\. The following elements are not closed: '
                        r'metadata, update, updates, ExportPackage\. Line \d+, position \d+\.', message), message
    assert 0 < len(info.value.partial) < len(updates), 'what was read before the cut is kept'


def test_empty_and_foreign_packages(exported):
    with pytest.raises(pkg.PackageError, match=r'^Root element is missing\.$'):
        pkg.read(b'')
    with pytest.raises(pkg.PackageError, match='The magic number in GZip header is not correct'):
        pkg.read(b'MSCF\x00\x00\x00\x00 not gzip')


def test_import_keeps_every_revision_and_marks_the_newest_latest(exported, wsus_server):
    _server, updates, _data = exported
    first = updates[0]
    newer = pkg.PackageUpdate(**{**first.__dict__, 'revision': first.revision + 1, 'title': first.title + ' (revised)'})
    importer = wsus_server(role='import', connected=False)
    importer.import_updates([first, newer] + updates[1:3])
    rows = importer.db.query('SELECT r.RevisionNumber, r.IsLatestRevision FROM tbRevision r JOIN tbUpdate u ON u.LocalUpdateID = r.LocalUpdateID '
                             'WHERE u.UpdateID = ? ORDER BY r.RevisionNumber', (first.update_id.upper(),))
    assert rows == [(first.revision, 0), (first.revision + 1, 1)]
    assert importer.db.scalar('SELECT DefaultTitle FROM vUpdate WHERE UpdateId = ?', (first.update_id,)).endswith('(revised)')
    again = importer.import_updates([first, newer])
    assert again['new_revisions'] == 0 and again['new_updates'] == 0, 'importing the same package twice changes nothing'
