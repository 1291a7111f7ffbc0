"""The collection's own SUSDB queries (plugins/plugin_utils/sql) against the lab's SUSDB.

They run through the ``susdb_query`` twin, as the on-host executor sends them, and agree with
what the server's API reports.
"""
from __future__ import annotations

import glob
import os
import re

import pytest

from ansible_collections.airgap.wsus.tests.lab.ops import Invocation, dispatch

SQL_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'plugin_utils', 'sql')
QUERIES = sorted(glob.glob(os.path.join(SQL_DIR, '*.sql')))


def _read(path):
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    return dict(re.findall(r'^-- (name|parameters|columns): *(.*)$', text, re.M)), text


@pytest.fixture(scope='module')
def host(module_wsus_hosts):
    return module_wsus_hosts.add('wsus-connected', 'export', wsus={'deferred_download': True, 'languages': ['en']},
                                 catalog={'seed': 'sql', 'updates': 40, 'files': 120, 'eula_ratio': 0.5, 'pending_updates': 2})


def _run(host, *paths, params=()):
    queries = []
    for path in paths:
        header, text = _read(path)
        queries.append({'name': header['name'], 'sql': text, 'params': list(params)})
    return dispatch(host, 'susdb_query', {'Queries': queries}, Invocation('Administrator'))['results']


@pytest.mark.skipif(not QUERIES, reason='the collection ships no SQL yet')
@pytest.mark.parametrize('path', QUERIES, ids=os.path.basename)
def test_query_runs_with_its_declared_columns(host, path):
    header, _text = _read(path)
    count = 0 if header.get('parameters', 'none').strip() == 'none' else len(header['parameters'].split(','))
    result = _run(host, path, params=[host.wsus.update_ids()[0]] * count)[header['name']]
    assert result['columns'] == [c.strip() for c in header['columns'].split(',')]
    assert result['rows'], f'{header["name"]} returns rows on a catalog with approvals, EULAs and pending downloads'


@pytest.mark.skipif(not os.path.exists(os.path.join(SQL_DIR, 'update_counts.sql')), reason='no update_counts.sql yet')
def test_counts_and_eulas_agree_with_the_server(host):
    results = _run(host, os.path.join(SQL_DIR, 'update_counts.sql'), os.path.join(SQL_DIR, 'approved_eula_files.sql'))
    counts = dict(zip(results['update_counts']['columns'], results['update_counts']['rows'][0]))
    status = host.wsus.get_status()
    assert (counts['Updates'], counts['Declined'], counts['Approved']) == (
        status['UpdateCount'], status['DeclinedUpdateCount'], status['ApprovedUpdateCount'])
    assert counts['ApprovedNotPresent'] == 2 == status['UpdatesNeedingFilesCount'], 'deferred download: only approved updates need files'
    assert counts['ApprovedUntracked'] == 0
    eulas = [dict(zip(results['approved_eula_files']['columns'], row)) for row in results['approved_eula_files']['rows']]
    assert eulas and all(e['IsEula'] is True and e['FileName'].endswith('.txt') and e['ActualState'] == 1 for e in eulas)
    assert all(e['FileName'].startswith(e['FileDigest']) for e in eulas)
