"""airgap.wsus.bundle with nothing new: answered from the sealed records, without reading the manifests.

A manifest lists every file of its volume, so reading it back costs bytes and WinRM requests
that grow with the number of files. ``state: built`` with nothing new, and ``verified`` or
``deployed`` given the bundle imported last, hash the manifests on the host and, when they are
the bytes sealed (export) or verified (import), return what the manifests would have said.
"""
from __future__ import annotations

import json
import os

from ansible_collections.airgap.wsus.tests.lab import ops as lab_ops
from ansible_collections.airgap.wsus.tests.integration.plugins.action.test_bundle import (
    B1, DEST, KEY, TRANSFER, WORK_DIR, build_first_bundle, build_task, import_cycle, import_task, play, run)

SEALED = f'{WORK_DIR}\\state\\exports\\{DEST}.sealed.json'
IMPORTED = f'{WORK_DIR}\\state\\deployed\\{DEST}.sealed.json'
OTHER_KEY = dict(KEY, key='Zb4nR8sW1qLx7TfK3mVc9HyJ2uPd6GeA0oNi5rEt')


def files_read(monkeypatch) -> list:
    """The paths every ``file_read`` on any lab host reads from now on."""
    module = lab_ops.twins()['file_read']
    original = module.run
    paths: list = []

    def run_and_note(host, params, ctx):
        paths.append(str(params['Path']))
        return original(host, params, ctx)

    monkeypatch.setattr(module, 'run', run_and_note)
    return paths


def rebuild(lab, name, **options):
    return run(lab, [play('wsus-connected', [build_task(TRANSFER, name, **options)])]).result(name)


def test_a_rerun_with_nothing_new_answers_from_the_sealed_record_and_says_what_the_manifests_say(wsus_lab, monkeypatch):
    first = build_first_bundle(wsus_lab)
    assert os.path.exists(wsus_lab.sandbox_path('wsus-connected', SEALED))
    with open(wsus_lab.sandbox_path('wsus-connected', SEALED), encoding='ascii') as handle:
        record = json.load(handle)
    assert record['bundle_id'] == first['bundle_id'] and record['signature']['key_id'] == KEY['key_id']

    read = files_read(monkeypatch)
    quick = rebuild(wsus_lab, 'Again')
    assert quick['changed'] is False and quick['bundle_id'] == first['bundle_id'] and quick['bundle_path'] == B1
    assert not [path for path in read if path.lower().endswith('manifest.json')], read

    # Without the record, the manifests are read, verified and parsed: the answer is the same.
    os.remove(wsus_lab.sandbox_path('wsus-connected', SEALED))
    del read[:]
    slow = rebuild(wsus_lab, 'From the manifests')
    assert [path for path in read if path.lower().endswith('manifest.json')]
    for key in ('bundle_id', 'sequence', 'base', 'settings', 'volumes', 'package_path', 'package_sha256', 'approvals', 'approvals_path',
                'plan', 'changed', 'bundle_path', 'msg'):
        assert quick[key] == slow[key], key
    assert first['plan']['files'] == quick['plan']['files'] and first['plan']['bytes'] == quick['plan']['bytes']


def test_an_altered_manifest_or_another_signing_key_is_not_taken_on_the_record_s_word(wsus_lab):
    build_first_bundle(wsus_lab)
    # Another signing key: the record's signature does not verify, the manifests are read and refused, as before.
    refused = run(wsus_lab, [play('wsus-connected', [dict(build_task(TRANSFER, 'Other key', signing_key=OTHER_KEY, verify_keys=[OTHER_KEY]),
                                                          ignore_errors=True)])]).result('Other key')
    assert 'cannot trust' in refused['msg'] and 'bundle_id' not in refused

    # A manifest altered on the medium no longer has the sealed hash: it is read, and its signature refuses it.
    manifest = wsus_lab.sandbox_path('wsus-connected', B1 + '\\volume-01\\manifest.json')
    with open(manifest, 'rb') as handle:
        data = handle.read()
    with open(manifest, 'wb') as handle:
        handle.write(data.replace(b'"sequence":1', b'"sequence":7'))
    refused = run(wsus_lab, [play('wsus-connected', [dict(build_task(TRANSFER, 'Altered'), ignore_errors=True)])]).result('Altered')
    assert 'cannot trust' in refused['msg'] and 'bundle_id' not in refused


def verify(lab, name, path=TRANSFER, **options):
    return run(lab, [play('wsus-disconnected', [dict(import_task('verified', name, path, **options), ignore_errors=True)])]).result(name)


def test_the_bundle_imported_last_is_reported_imported_without_reading_its_manifests(wsus_lab, monkeypatch):
    build_first_bundle(wsus_lab)
    import_cycle(wsus_lab, TRANSFER)
    assert os.path.exists(wsus_lab.sandbox_path('wsus-disconnected', IMPORTED))

    read = files_read(monkeypatch)
    quick = verify(wsus_lab, 'Again')
    assert quick['already_imported'] is True and quick['changed'] is False and quick['bundle_path'] == B1
    assert not [path for path in read if path.lower().endswith('manifest.json')], read

    os.remove(wsus_lab.sandbox_path('wsus-disconnected', IMPORTED))
    del read[:]
    slow = verify(wsus_lab, 'From the manifests')
    assert [path for path in read if path.lower().endswith('manifest.json')]
    for key in ('bundle_id', 'sequence', 'base', 'settings', 'volumes', 'package_path', 'package_sha256', 'approvals', 'approvals_path',
                'signed', 'problems', 'already_imported', 'changed', 'bundle_path', 'msg'):
        assert quick[key] == slow[key], key


def test_an_imported_bundle_altered_since_is_read_and_refused(wsus_lab):
    build_first_bundle(wsus_lab)
    import_cycle(wsus_lab, TRANSFER)
    signature = wsus_lab.sandbox_path('wsus-disconnected', B1 + '\\volume-01\\manifest.json.sig')
    with open(signature, 'rb') as handle:
        data = handle.read()
    with open(signature, 'wb') as handle:
        handle.write(data.replace(b'"signature":"', b'"signature":"AAAA'))
    refused = verify(wsus_lab, 'Altered')
    assert 'already_imported' not in refused and 'refused' in refused['msg']


def test_an_imported_bundle_checked_with_a_wrong_key_is_read_and_refused(wsus_lab, monkeypatch):
    # The record proves the bytes; only a key that verified them then may skip reading them.
    build_first_bundle(wsus_lab)
    import_cycle(wsus_lab, TRANSFER)
    read = files_read(monkeypatch)
    refused = verify(wsus_lab, 'Wrong key', verify_keys=[OTHER_KEY])
    assert 'already_imported' not in refused and refused['msg'].startswith('bundle refused') and 'different key' in refused['msg']
    assert [path for path in read if path.lower().endswith('manifest.json')]
    with open(wsus_lab.sandbox_path('wsus-disconnected', IMPORTED), 'rb') as handle:
        record = handle.read()
    assert KEY['key'].encode() not in record and OTHER_KEY['key'].encode() not in record
