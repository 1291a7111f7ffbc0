"""airgap.wsus.bundle on the lab: export host, import host and the shared medium (E: on both).

The full cycle (metadata exported, bundle built, deployed, metadata imported, receipt written,
next cycle), incremental bundles built on the receipt, bundles that must be refused before the
import server changes, replays, out-of-order bundles, a bundle split into volumes, and check
mode whose plan matches the run that follows.
"""
from __future__ import annotations

import json
import os
import shutil
from types import SimpleNamespace

from ansible_collections.airgap.wsus.plugins.plugin_utils import _manifest, _signing

KEY = {'key_id': 'site-key-2026', 'algorithm': 'hmac-sha256', 'key': 'q7Vt2kLx9PzR4mWc8NbJ3hYs6GdF1aEu5TiO0rKv'}
PACKAGE = 'D:\\airgap\\export.xml.gz'
DEST = 'plant-a'
WORK_DIR = 'C:\\ProgramData\\airgap.wsus'


# build_task's path is the transfer root; each bundle gets its own folder under it.
TRANSFER = 'E:\\plant-a'
B1, B2, B3 = (f'{TRANSFER}\\plant-a-00000{n}' for n in (1, 2, 3))


def export_metadata_task(name='Export metadata'):
    return {'name': name, 'airgap.wsus.metadata': {'state': 'exported', 'package': PACKAGE, 'poll_interval': 1}}


def build_task(path, name='Build', **options):
    args = {'state': 'built', 'path': path, 'destination': DEST, 'package': PACKAGE, 'signing_key': '{{ key }}',
            'verify_keys': ['{{ key }}'], 'poll_interval': 1}
    args.update(options)
    return {'name': name, 'airgap.wsus.bundle': args}


def import_task(state, name, path=None, **options):
    args = {'state': state, 'destination': DEST, 'verify_keys': ['{{ key }}'], 'poll_interval': 1}
    if path is not None:
        args['path'] = path
    args.update(options)
    return {'name': name, 'airgap.wsus.bundle': args}


def receipt_task(bundle, name='Receipt', path='E:\\plant-a\\receipts', **options):
    args = {'path': path, 'bundle': bundle, 'destination': DEST, 'signing_key': '{{ key }}', 'verify_keys': ['{{ key }}']}
    args.update(options)
    return {'name': name, 'airgap.wsus.receipt': args}


def metadata_import_task(name='Import metadata'):
    return {'name': name, 'airgap.wsus.metadata': {'state': 'imported', 'package': '{{ deployed.package_path }}', 'poll_interval': 1}}


def play(host, tasks):
    return {'hosts': host, 'gather_facts': False, 'tasks': tasks}


def run(lab, plays, **kwargs):
    return lab.run_playbook(plays, extra_vars={'key': KEY}, **kwargs)


def prepare(lab):
    """The package's folder on the export host."""
    lab.export.host.fs.mkdir('D:\\airgap')


def import_cycle(lab, bundle, **kwargs):
    """Deploy ``bundle`` (a bundle folder or a transfer root) on the import host, import its metadata and write the receipt."""
    deploy = import_task('deployed', 'Deploy', bundle)
    deploy['register'] = 'deployed'
    return run(lab, [play('wsus-disconnected', [deploy, metadata_import_task(), receipt_task('{{ deployed.bundle_path }}')])], **kwargs)


def new_upstream_content(lab, updates=5):
    """New updates appear upstream and the export server downloads their files."""
    wsus = lab.wsus('wsus-connected')
    wsus.synchronize(new_updates=updates)
    wsus.finish_downloads()


def content(lab, name):
    """``{relative path: size}`` of a host's WsusContent."""
    return dict(lab.wsus(name).content.iter_files())


def medium_files(lab, windows_path):
    """``{path relative to windows_path: size}`` of the files under a folder of the medium."""
    root = lab.sandbox_path('wsus-connected', windows_path)
    found = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            full = os.path.join(folder, name)
            found[os.path.relpath(full, root).replace(os.sep, '\\')] = os.path.getsize(full)
    return found


def import_server_state(lab):
    """What must not change when a bundle is refused: the catalog, WsusContent and the verified records."""
    verified = lab.sandbox_path('wsus-disconnected', WORK_DIR + '\\state\\verified')
    return (lab.wsus('wsus-disconnected').update_ids(), content(lab, 'wsus-disconnected'),
            sorted(os.listdir(verified)) if os.path.isdir(verified) else [])


def test_full_cycle_then_incremental_bundle_on_the_receipt(wsus_lab):
    prepare(wsus_lab)
    first = B1
    plan = run(wsus_lab, [play('wsus-connected', [export_metadata_task(), dict(build_task(TRANSFER, 'Plan'), check_mode=True)])])
    planned = plan.result('Plan')
    assert planned['changed'] is True and planned['bundle_id'] is None
    assert not os.path.exists(wsus_lab.sandbox_path('wsus-connected', first)), 'check mode wrote to the medium'

    built = run(wsus_lab, [play('wsus-connected', [export_metadata_task(), build_task(TRANSFER)])], verbosity=3)
    assert KEY['key'] not in built.everything
    result = built.result('Build')
    assert result['changed'] is True and result['base'] == 'full' and result['sequence'] == 1 and result['bundle_path'] == first
    for key in ('files', 'bytes', 'volumes', 'medium_bytes_needed', 'import_bytes_needed'):
        assert result['plan'][key] == planned['plan'][key], key
    exported = content(wsus_lab, 'wsus-connected')
    assert result['plan']['files'] == len(exported) and result['plan']['bytes'] == sum(exported.values())
    on_medium = medium_files(wsus_lab, first + '\\volume-01\\WsusContent')
    assert on_medium == exported

    again = run(wsus_lab, [play('wsus-connected', [build_task(TRANSFER, 'Again')])]).result('Again')
    assert again['changed'] is False and again['bundle_id'] == result['bundle_id'] and again['bundle_path'] == first

    # The import side is given the transfer root and finds the bundle it has not imported.
    cycle = import_cycle(wsus_lab, TRANSFER, verbosity=3)
    assert KEY['key'] not in cycle.everything
    assert cycle.result('Deploy')['changed'] is True and cycle.result('Deploy')['problems'] == []
    assert cycle.result('Import metadata')['changed'] is True
    receipt = cycle.result('Receipt')
    assert receipt['last_sequence'] == 1 and receipt['inventory_count'] == len(exported)
    assert content(wsus_lab, 'wsus-disconnected') == exported
    assert len(wsus_lab.wsus('wsus-disconnected').update_ids()) == len(wsus_lab.wsus('wsus-connected').update_ids())

    # New updates appear upstream; the export server downloads their files.
    export_wsus = wsus_lab.wsus('wsus-connected')
    export_wsus.synchronize(new_updates=40)
    export_wsus.finish_downloads()
    new_files = {path: size for path, size in content(wsus_lab, 'wsus-connected').items() if path not in exported}
    assert new_files, 'the lab produced no new content'

    second = B2
    tasks = [export_metadata_task(), dict(build_task(TRANSFER, 'Plan', receipts=['E:\\plant-a\\receipts']), check_mode=True)]
    planned = run(wsus_lab, [play('wsus-connected', tasks)]).result('Plan')
    tasks[1] = build_task(TRANSFER, 'Build', receipts=['E:\\plant-a\\receipts'])
    result = run(wsus_lab, [play('wsus-connected', tasks)]).result('Build')
    assert result['sequence'] == 2 and result['base'] == 1
    assert result['plan']['basis']['kind'] == 'receipt' and result['plan']['basis']['receipt_id'] == receipt['receipt_id']
    for key in ('files', 'bytes', 'volumes', 'medium_bytes_needed', 'import_bytes_needed'):
        assert result['plan'][key] == planned['plan'][key], key
    on_medium = medium_files(wsus_lab, second + '\\volume-01\\WsusContent')
    assert on_medium == new_files
    assert result['plan']['bytes'] == sum(new_files.values()) and result['copy']['bytes']['copied'] >= sum(new_files.values())

    cycle = import_cycle(wsus_lab, TRANSFER)
    assert cycle.result('Deploy')['bundle_path'] == second
    assert cycle.result('Deploy')['would_copy'] == {'files': len(new_files), 'bytes': sum(new_files.values())}
    assert cycle.result('Receipt')['last_sequence'] == 2
    assert content(wsus_lab, 'wsus-disconnected') == content(wsus_lab, 'wsus-connected')


def build_first_bundle(lab, path=TRANSFER, **options):
    prepare(lab)
    return run(lab, [play('wsus-connected', [export_metadata_task(), build_task(path, **options)])]).result('Build')


def copy_bundle(lab, source, target):
    """Copy a bundle folder on the medium (the real files behind it)."""
    real = lab.sandbox_path('wsus-connected', source)
    shutil.copytree(real, lab.sandbox_path('wsus-connected', target))
    return lab.sandbox_path('wsus-connected', target)


def refused(lab, path, expected):
    """Verify and deploy ``path`` on the import host; both must fail naming ``expected`` and change nothing."""
    before = import_server_state(lab)
    outcome = run(lab, [play('wsus-disconnected', [dict(import_task('verified', 'Verify', path), ignore_errors=True),
                                                   dict(import_task('deployed', 'Deploy', path), ignore_errors=True)])])
    for task in ('Verify', 'Deploy'):
        assert outcome.status(task) == 'failed', task
        assert expected in outcome.result(task)['msg'], outcome.result(task)['msg']
    assert import_server_state(lab) == before
    return outcome


def test_altered_unsigned_and_unsafe_bundles_are_refused_before_the_import_server_changes(wsus_lab):
    build_first_bundle(wsus_lab)

    real = copy_bundle(wsus_lab, B1, 'E:\\t\\file')
    manifest = json.loads(open(os.path.join(real, 'volume-01', 'manifest.json'), encoding='ascii').read())
    victim = manifest['files'][0][0]
    target = os.path.join(real, 'volume-01', 'WsusContent', *victim.split('/'))
    with open(target, 'r+b') as handle:
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 0xFF]))
    result = refused(wsus_lab, 'E:\\t\\file', 'failed verification').result('Verify')
    assert {'path': victim, 'volume': 'volume 1 of 1', 'problem': 'sha256 differs', 'folder': 'E:\\t\\file\\volume-01'} in result['problems']

    real = copy_bundle(wsus_lab, B1, 'E:\\t\\manifest')
    path = os.path.join(real, 'volume-01', 'manifest.json')
    altered = json.loads(open(path, encoding='ascii').read())
    altered['files'][0][2] = '0' * 64
    with open(path, 'wb') as handle:
        handle.write(_manifest.canonical_bytes(altered))
    refused(wsus_lab, 'E:\\t\\manifest', 'the signature does not match')

    real = copy_bundle(wsus_lab, B1, 'E:\\t\\unsigned')
    os.unlink(os.path.join(real, 'volume-01', 'manifest.json.sig'))
    refused(wsus_lab, 'E:\\t\\unsigned', 'not signed')

    real = copy_bundle(wsus_lab, B1, 'E:\\t\\traversal')
    path = os.path.join(real, 'volume-01', 'manifest.json')
    crafted = json.loads(open(path, encoding='ascii').read())
    crafted['files'].append(['../x', 4, 'a' * 64])
    crafted['totals']['volume_files'] += 1
    crafted['totals']['files'] += 1
    crafted['totals']['volume_bytes'] += 4
    crafted['totals']['bytes'] += 4
    data = _manifest.canonical_bytes(crafted)
    with open(path, 'wb') as handle:
        handle.write(data)
    with open(path + '.sig', 'wb') as handle:
        handle.write(_signing.signature_bytes(_signing.sign(data, KEY)))
    refused(wsus_lab, 'E:\\t\\traversal', 'refused as tampering')

    # The original, untouched, still deploys.
    assert import_cycle(wsus_lab, B1).result('Deploy')['problems'] == []


def test_replayed_bundle_is_a_noop_and_an_out_of_order_one_is_refused(wsus_lab):
    build_first_bundle(wsus_lab)
    import_cycle(wsus_lab, B1)
    replay = run(wsus_lab, [play('wsus-disconnected', [import_task('deployed', 'Replay', B1)])])
    result = replay.result('Replay')
    assert result['already_imported'] is True and result['changed'] is False

    # Two bundles built without a receipt: 2 builds on 1, 3 on 2. Bundle 2 never reaches the import side.
    new_upstream_content(wsus_lab)
    built_2 = run(wsus_lab, [play('wsus-connected', [export_metadata_task(), build_task(TRANSFER, 'Build 2')])])
    new_upstream_content(wsus_lab)
    built_3 = run(wsus_lab, [play('wsus-connected', [export_metadata_task(), build_task(TRANSFER, 'Build 3')])])
    built = SimpleNamespace(result=lambda name: (built_2 if name == 'Build 2' else built_3).result(name))
    assert built.result('Build 2')['plan']['basis']['kind'] == 'previous_bundle' and built.result('Build 2')['base'] == 1
    assert built.result('Build 3')['base'] == 2
    before = import_server_state(wsus_lab)
    outcome = run(wsus_lab, [play('wsus-disconnected', [dict(import_task('deployed', 'Deploy 3', B3),
                                                             ignore_errors=True)])])
    message = outcome.result('Deploy 3')['msg']
    assert outcome.status('Deploy 3') == 'failed'
    assert 'sequence 2' in message and 'never arrived' in message and 'receipt (sequence 1)' in message
    assert import_server_state(wsus_lab) == before


def test_bundle_split_into_three_volumes_verified_one_by_one_then_deployed(wsus_lab):
    result = build_first_bundle(wsus_lab, 'E:\\plant-a\\split', volume_size='1150KB')
    path = result['bundle_path']
    assert path == 'E:\\plant-a\\split\\plant-a-000001'
    assert result['plan']['volumes'] == 3 and len(result['volumes']) == 3
    folders = [volume['folder'] for volume in result['volumes']]
    assert folders == [f'{path}\\volume-0{index}' for index in (1, 2, 3)]
    tasks = [import_task('verified', f'Verify {index}', volumes=[folder]) for index, folder in enumerate(folders, start=1)]
    checked = run(wsus_lab, [play('wsus-disconnected', tasks)])
    for index in (1, 2, 3):
        outcome = checked.result(f'Verify {index}')
        assert outcome['problems'] == [] and outcome['volumes'][0]['label'] == f'volume {index} of 3'
        assert outcome['volumes_missing'] == [f'volume {i} of 3' for i in (1, 2, 3) if i != index]
    cycle = import_cycle(wsus_lab, path)
    assert cycle.result('Deploy')['would_copy']['files'] == result['plan']['files']
    assert content(wsus_lab, 'wsus-disconnected') == content(wsus_lab, 'wsus-connected')


def test_an_interrupted_build_resumes_and_a_sealed_but_unrecorded_one_is_adopted(wsus_lab):
    first = build_first_bundle(wsus_lab)
    path = first['bundle_path']
    records = [wsus_lab.sandbox_path('wsus-connected', f'{WORK_DIR}\\state\\exports\\{name}') for name in ('plant-a.json', 'plant-a.sent.json')]
    volume = wsus_lab.sandbox_path('wsus-connected', path + '\\volume-01')

    # Stopped after sealing, before recording: the sealed bundle is recorded as it is.
    for record in records:
        os.unlink(record)
    adopted = run(wsus_lab, [play('wsus-connected', [build_task(TRANSFER, 'Again')])]).result('Again')
    assert adopted['changed'] is True and adopted['bundle_id'] == first['bundle_id'] and 'recorded it' in adopted['msg']
    assert all(os.path.exists(record) for record in records)

    # Stopped before sealing: the copies resume (robocopy skips what is there) and the bundle is sealed.
    for name in ('manifest.json', 'manifest.json.sig'):
        os.unlink(os.path.join(volume, name))
    for record in records:
        os.unlink(record)
    resumed = run(wsus_lab, [play('wsus-connected', [build_task(TRANSFER, 'Resume')])]).result('Resume')
    assert resumed['changed'] is True and resumed['sequence'] == 1 and resumed['bundle_id'] != first['bundle_id']
    assert resumed['copy']['files']['copied'] == 0 and resumed['copy']['files']['skipped'] == first['plan']['files'] + 1
    assert import_cycle(wsus_lab, path).result('Deploy')['bundle_id'] == resumed['bundle_id']
