"""Eight import servers at once from one controller (``forks = 8``), each importing the same bundle from its own medium.

All eight run the import role in one play. Two of them meet a fault: one's WsusUtil import fails,
another's medium carries a damaged file. Each host's outcome is its own: those two stop at their
step with their own message and state, and the six others import the whole bundle as if alone.
"""
from __future__ import annotations

import json
import os

from ansible_collections.airgap.wsus.tests.integration.reliability import reliability_helpers as rel

HOSTS = [f'wsus-plant{index}' for index in range(1, 9)]
BUNDLE = 'plant-a-000001'
WSUSUTIL_FAILS, MEDIUM_DAMAGED = HOSTS[2], HOSTS[5]


def spec() -> dict:
    return {'media': {f'stick{index}': {'size': '8 GiB', 'free': '8 GiB'} for index in range(1, 9)},
            'hosts': [{'name': name, 'role': 'import', 'catalog': {'seed': 1, 'updates': 0, 'files': 0},
                       'drives': {'E:': {'medium': f'stick{index}'}}} for index, name in enumerate(HOSTS, start=1)]}


def test_eight_import_servers_at_once_each_with_its_own_outcome(wsus_lab_factory, bundles) -> None:
    lab = wsus_lab_factory(spec())
    for name in HOSTS:
        bundles.put(lab, BUNDLE, host=name)
    lab.hosts[WSUSUTIL_FAILS].host.faults.set('wsusutil_exit_code', {'import': 1})
    volume = lab.sandbox_path(MEDIUM_DAMAGED, rel.TRANSFER + f'\\{BUNDLE}\\volume-01')
    with open(os.path.join(volume, 'manifest.json'), encoding='ascii') as handle:
        victim = json.load(handle)['files'][0][0]
    with open(os.path.join(volume, 'WsusContent', *victim.split('/')), 'r+b') as handle:
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 0xFF]))

    run = rel.run_import(lab, expect_failure=True, env={'ANSIBLE_FORKS': '8'})

    wanted, catalog = bundles.content(BUNDLE), bundles.catalogs[BUNDLE]
    for name in HOSTS:
        report = rel.report(lab, 'import', name)
        state = rel.import_state(lab, name)
        if name == WSUSUTIL_FAILS:
            rel.assert_stopped(run, 'import', '6. Metadata import', 'WsusUtil import failed', host=name)
            assert state['content'] == wanted and state['catalog'] < catalog
        elif name == MEDIUM_DAMAGED:
            rel.assert_stopped(run, 'import', '1. Verify bundle', victim, 'sha256 differs', host=name)
            assert state == {'catalog': set(), 'content': {}, 'records': {}}
        else:
            assert report['status'] == 'succeeded', (name, report['failed_step'])
            assert state['catalog'] == catalog and state['content'] == wanted, name
            assert report['receipt']['last_sequence'] == 1
    # Each host ran its own copy and its own import: no host's work landed on another.
    for name in HOSTS:
        copies, imports = rel.robocopy_copies(lab, name), rel.wsusutil_runs(lab, name, 'import')
        assert len(copies) == (0 if name == MEDIUM_DAMAGED else 1) and len(imports) == (0 if name == MEDIUM_DAMAGED else 1), name
