"""``airgap.wsus.content_verify`` on the lab: missing and damaged content named by path, fetched, verified (issue 7's acceptance).

Both hosts know the same catalog with every update's files downloaded (deferred download off);
the import host approves every update, so its content is complete until a test damages it.
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.airgap.wsus.tests.integration.playbook import EXPORT, IMPORT
from ansible_collections.airgap.wsus.tests.lab.wsus import constants as C
from ansible_collections.airgap.wsus.tests.lab.wsus import targeting

CONTENT = 'D:\\WSUS\\WsusContent'
FIX = 'E:\\plant-a\\fix\\WsusContent'
CATALOG = {'seed': 1, 'updates': 200, 'files': 60}


def start(factory, **wsus):
    """A lab whose import host approves every update of the catalog it shares with the export host."""
    lab = factory(export={'wsus': {'deferred_download': False}},
                  import_={'catalog': dict(CATALOG), 'wsus': dict({'deferred_download': False}, **wsus)})
    server = lab.wsus(IMPORT)
    for update_id in server.update_ids():
        targeting.approve(server, update_id, C.ALL_COMPUTERS, 'Install')
    return lab


@pytest.fixture(name='lab')
def lab_fixture(wsus_lab_factory):
    return start(wsus_lab_factory)


def needed(lab):
    """``{relative path with /: size}`` of the files the import server wants for its approved updates."""
    rows = lab.wsus(IMPORT).db.query('SELECT f.FileName, f.Size FROM tbFileOnServer fs JOIN tbFile f ON f.FileDigest = fs.FileDigest '
                                     'WHERE fs.DesiredState = 1')
    return {f'{name.split(".")[0][-2:]}/{name}': size for name, size in rows}


def real(lab, relpath, host=IMPORT):
    return lab.sandbox_path(host, CONTENT + '\\' + relpath.replace('/', '\\'))


def verify_task(name='Verify', **options):
    task = {'name': name, 'airgap.wsus.content_verify': dict({'poll_interval': 1}, **options), 'register': 'verify'}
    return dict(task, ignore_errors=True)


def play(host, *tasks):
    return {'hosts': host, 'gather_facts': False, 'tasks': list(tasks)}


def test_three_deleted_files_are_named_fetched_and_verified(lab):
    files = needed(lab)
    assert len(files) >= 10
    complete = lab.run_playbook([play(IMPORT, verify_task('Complete'))]).result('Complete')
    assert complete['changed'] is False and complete.get('failed') is not True
    assert complete['approved_files'] == len(files) == complete['present_files'] and complete['files'] == []

    gone = sorted(files)[1::7][:3]
    for relpath in gone:
        os.unlink(real(lab, relpath))
    fetch = {'name': 'Fetch on the export side', 'airgap.wsus.content_sync': {
        'src': CONTENT, 'dest': FIX, 'files': "{{ hostvars['wsus-disconnected'].verify.files }}", 'poll_interval': 1}}
    copy_in = {'name': 'Copy in', 'airgap.wsus.content_sync': {'src': FIX, 'dest': CONTENT, 'files': '{{ verify.files }}', 'poll_interval': 1}}
    fix = [play(IMPORT, verify_task()), play(EXPORT, fetch), play(IMPORT, copy_in, verify_task('Verify again', reset=True, hash=True))]
    run = lab.run_playbook(fix, verbosity=1)
    broken = run.result('Verify')
    assert run.status('Verify') == 'failed' and broken['changed'] is False
    assert broken['missing_files'] == [{'path': path, 'size': files[path]} for path in gone]
    assert broken['files'] == gone and broken['corrupt_files'] == [] and broken['missing_bytes'] == sum(files[p] for p in gone)
    assert all(path in broken['msg'] for path in gone) and 'content_sync' in broken['msg']
    assert run.result('Copy in')['changed'] is True
    fixed = run.result('Verify again')
    assert run.status('Verify again') == 'ok' and fixed['files'] == [] and fixed['hashed'] is True
    assert fixed['changed'] is True and fixed['reset']['ran'] is True and fixed['reset']['settled'] is True
    assert fixed['reset']['not_ready_files'] == 0


def test_damage_that_keeps_the_size_needs_hash_and_the_reset_settles_on_what_is_missing(wsus_lab_factory):
    # WsusUtil reset returns at once and WSUS checks its files for a few seconds afterwards (200 updates at 15 s per 1,000).
    lab = start(wsus_lab_factory, runtime_scale=15)
    files = needed(lab)
    damaged, deleted = sorted(files)[2], sorted(files)[5]
    with open(real(lab, damaged), 'r+b') as handle:
        handle.seek(files[damaged] // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    os.unlink(real(lab, deleted))
    run = lab.run_playbook([play(IMPORT, verify_task('Sizes only', fail_on_missing=False), verify_task('Hashed', hash=True, reset=True),
                                 dict(verify_task('Check mode', reset=True), check_mode=True))], verbosity=1)
    sizes = run.result('Sizes only')
    assert run.status('Sizes only') == 'ok' and sizes['files'] == [deleted] and sizes['corrupt_files'] == []
    assert any('counts 1 of the missing' in w for w in sizes.get('warnings', [])), 'WSUS still believes the deleted file is there'
    hashed = run.result('Hashed')
    assert run.status('Hashed') == 'failed' and hashed['files'] == sorted([damaged, deleted])
    assert hashed['corrupt_files'] == [{'path': damaged, 'size': files[damaged], 'actual_size': files[damaged], 'reason': 'sha1'}]
    assert hashed['reset']['settled'] is True and hashed['reset']['not_ready_files'] == 2 and hashed['reset']['waited'] > 0
    assert 'WSUS is checking its content after the reset: 0 approved file(s) not ready' in run.stdout
    states = lab.wsus(IMPORT).file_states()
    assert states[damaged.split('/')[1]][1] != 1 and states[deleted.split('/')[1]][1] != 1, 'after the reset WSUS counts both as not present'
    check = run.result('Check mode')
    assert check['reset'] == {'ran': False} and any('check mode' in w for w in check['warnings'])
