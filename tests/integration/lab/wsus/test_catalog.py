"""The generated catalog and the content folder: names, folders, determinism, filtering."""
from __future__ import annotations

import hashlib
import os

from ansible_collections.airgap.wsus.tests.lab.wsus import catalog as cat
from ansible_collections.airgap.wsus.tests.lab.wsus import constants as C


def _disk(server):
    """{name: (folder, bytes)} of every file in the server's WsusContent."""
    out = {}
    for folder, _dirs, names in os.walk(server.content.root):
        for name in names:
            with open(os.path.join(folder, name), 'rb') as handle:
                out[name] = (os.path.basename(folder), handle.read())
    return out


def _files(server):
    """{FileName: (is_eula, patching_type, language)} of every file in the catalog metadata."""
    return {name: (bool(eula), patching, lang) for name, eula, patching, lang in server.db.query(
        'SELECT f.FileName, f.IsEula, MAX(fr.PatchingType), li.Language FROM tbFile f JOIN labRevisionFile fr ON fr.FileDigest = f.FileDigest '
        'JOIN labFileInfo li ON li.FileDigest = f.FileDigest GROUP BY f.FileName')}


def test_content_files_are_named_by_sha1_in_last_byte_folders(wsus_server):
    server = wsus_server(catalog={'seed': 'names', 'updates': 20, 'files': 60}, settings={'languages': 'all', 'download_express_packages': True})
    disk = _disk(server)
    assert disk, 'an export server without deferred download has its files'
    for name, (folder, data) in disk.items():
        stem, ext = name.split('.', 1)
        assert stem == hashlib.sha1(data).hexdigest().upper()
        assert folder == stem[-2:] and folder == '%02X' % hashlib.sha1(data).digest()[-1]
        assert ext in ('cab', 'exe', 'msu', 'psf', 'txt')
    sizes = [len(data) for _folder, data in disk.values() if not _folder.startswith('.')]
    assert max(sizes) <= 3000, 'default sizes stay small so tests are fast'


def test_catalog_is_deterministic_per_seed(wsus_server):
    first = wsus_server(catalog={'seed': 'same', 'updates': 15})
    second = wsus_server(catalog={'seed': 'same', 'updates': 15})
    other = wsus_server(catalog={'seed': 'different', 'updates': 15})
    assert first.update_ids() == second.update_ids()
    assert _disk(first) == _disk(second)
    assert set(first.update_ids()).isdisjoint(other.update_ids())


def test_file_references_match_the_requested_count():
    options = cat.CatalogOptions(seed='count', updates=400, files=100)
    updates = list(cat.generate(options))
    assert sum(len(u.files) for u in updates) == 100
    assert sum(cat.file_count(options, i) for i in range(400, 800)) == 100, 'growing keeps the ratio'


def test_express_files_only_on_disk_when_express_is_on(wsus_server):
    spec = {'seed': 'express', 'updates': 30, 'files': 120, 'eula_ratio': 0, 'declined_ratio': 0}
    off = wsus_server(catalog=spec, settings={'languages': 'all'})
    on = wsus_server(catalog=spec, settings={'languages': 'all', 'download_express_packages': True})
    meta = _files(off)
    express = {name for name, (_e, patching, _l) in meta.items() if patching == C.PATCHING_EXPRESS}
    assert express and all(name.endswith('.psf') for name in express), 'the catalog has express files'
    assert express.isdisjoint(_disk(off)), 'express off: metadata only, no .psf on disk'
    assert express <= set(_disk(on))


def test_language_files_only_for_enabled_languages(wsus_server):
    spec = {'seed': 'langs', 'updates': 30, 'files': 150, 'languages': ['en', 'de', 'ja'], 'declined_ratio': 0}
    server = wsus_server(catalog=spec, settings={'languages': ['en']})
    meta = _files(server)
    on_disk = set(_disk(server))
    by_lang = {lang: {n for n, (_e, _p, lng) in meta.items() if lng == lang} for lang in ('en', 'de', 'ja')}
    assert all(by_lang.values())
    assert by_lang['en'] <= on_disk
    assert by_lang['de'].isdisjoint(on_disk) and by_lang['ja'].isdisjoint(on_disk)
    everything = wsus_server(catalog=spec, settings={'languages': 'all'})
    assert by_lang['de'] | by_lang['ja'] <= set(_disk(everything))


def test_eulas_are_txt_files_shared_per_product(wsus_server):
    server = wsus_server(catalog={'seed': 'eula', 'updates': 40, 'files': 160, 'eula_ratio': 0.5})
    eulas = {name for name, (is_eula, _p, _l) in _files(server).items() if is_eula}
    assert eulas and all(name.endswith('.txt') for name in eulas)
    assert eulas <= set(_disk(server))
    references = server.db.scalar('SELECT COUNT(*) FROM tbEulaProperty e JOIN tbFile f ON f.FileDigest = e.EulaFileDigest WHERE f.IsEula = 1')
    assert references > len(eulas), 'several updates share one EULA file, linked as SUSDB links EULAs'
    assert server.db.scalar('SELECT COUNT(*) FROM tbFileForRevision fr JOIN tbFile f ON f.FileDigest = fr.FileDigest WHERE f.IsEula = 1') == 0
    text = _disk(server)[sorted(eulas)[0]][1].decode('utf-8')
    assert text.startswith('MICROSOFT SOFTWARE LICENSE TERMS')


def test_new_updates_appear_upstream(wsus_server):
    grown = wsus_server(catalog={'seed': 'grow', 'updates': 12})
    stats = grown.synchronize(new_updates=6)
    assert stats['new_updates'] == 6
    reference = wsus_server(catalog={'seed': 'grow', 'updates': 18})
    assert grown.update_ids() == reference.update_ids()
    grown.finish_downloads()
    assert _disk(grown) == _disk(reference)
    assert grown.get_status()['UpdatesNeedingFilesCount'] == 0


def test_approvals_use_target_groups_including_builtins(wsus_server):
    server = wsus_server(catalog={'seed': 'groups', 'updates': 30, 'approved_ratio': 1.0, 'declined_ratio': 0})
    groups = dict(server.db.query('SELECT TargetGroupID, Name FROM tbTargetGroup'))
    assert groups[C.ALL_COMPUTERS] == 'All Computers' and groups[C.UNASSIGNED_COMPUTERS] == 'Unassigned Computers'
    approved_groups = {r[0] for r in server.db.query('SELECT DISTINCT TargetGroupID FROM tbDeployment')}
    assert C.ALL_COMPUTERS in approved_groups and len(approved_groups) > 1
    assert approved_groups <= set(groups)
