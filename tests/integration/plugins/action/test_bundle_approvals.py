"""``airgap.wsus.bundle`` with ``approvals`` on the lab: the document travels in volume 1, vouched for by the manifests.

A document that is not there fails the build with the fix; a carried document is verified with the
rest of the bundle, so one altered on the medium refuses the bundle before the import server
changes; deployed, its path on the medium is what ``airgap.wsus.approvals state=applied`` reads.
"""
from __future__ import annotations

import hashlib
import json
import os

from ansible_collections.airgap.wsus.tests.integration.plugins.action import test_bundle as tb

DOC = 'D:\\airgap\\approvals.json'
IN_BUNDLE = tb.B1 + '\\volume-01\\approvals\\approvals.json'


def export_approvals_task():
    return {'name': 'Export approvals', 'airgap.wsus.approvals': {'state': 'exported', 'path': DOC, 'signing_key': '{{ key }}'}}


def test_the_approvals_document_travels_verified_and_an_altered_one_refuses_the_bundle(wsus_lab):
    tb.prepare(wsus_lab)
    missing = tb.run(wsus_lab, [tb.play('wsus-connected', [tb.export_metadata_task(),
                                                           dict(tb.build_task(tb.TRANSFER, approvals=DOC), ignore_errors=True)])])
    assert missing.status('Build') == 'failed'
    assert f'the approvals document {DOC} does not exist on the host' in missing.result('Build')['msg']
    assert 'airgap.wsus.approvals state=exported' in missing.result('Build')['msg']

    built = tb.run(wsus_lab, [tb.play('wsus-connected', [export_approvals_task(), tb.build_task(tb.TRANSFER, approvals=DOC)])])
    exported, result = built.result('Export approvals'), built.result('Build')
    assert result['approvals_path'] == IN_BUNDLE
    assert result['approvals'] == {'path': 'approvals/approvals.json', 'size': exported['size'], 'sha256': exported['sha256'],
                                   'counts': exported['counts']}
    real = wsus_lab.sandbox_path('wsus-connected', IN_BUNDLE)
    with open(real, 'rb') as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == exported['sha256']
    assert os.path.exists(real + '.sig')
    with open(wsus_lab.sandbox_path('wsus-connected', tb.B1 + '\\volume-01\\manifest.json'), 'rb') as handle:
        assert json.loads(handle.read())['approvals'] == result['approvals']

    # An approvals document altered on the medium refuses the whole bundle, before anything changes.
    with open(real, 'rb') as handle:
        original = handle.read()
    with open(real, 'wb') as handle:
        handle.write(original.replace(b'"install"', b'"uninsta"', 1))
    tb.refused(wsus_lab, tb.B1, 'approvals/approvals.json (volume 1 of 1): sha256 differs')
    with open(real, 'wb') as handle:
        handle.write(original)

    deploy = tb.import_task('deployed', 'Deploy', tb.B1)
    deploy['register'] = 'deployed'
    apply = {'name': 'Apply', 'airgap.wsus.approvals': {'state': 'applied', 'path': '{{ deployed.approvals_path }}', 'verify_keys': ['{{ key }}']}}
    cycle = tb.run(wsus_lab, [tb.play('wsus-disconnected', [deploy, tb.metadata_import_task(), apply])])
    assert cycle.result('Deploy')['approvals_path'] == IN_BUNDLE and cycle.result('Deploy')['approvals'] == result['approvals']
    applied = cycle.result('Apply')
    assert applied['document']['sha256'] == exported['sha256'] and applied['counts']['approvals_set'] == exported['counts']['approvals']
