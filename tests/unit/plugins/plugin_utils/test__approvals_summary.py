"""The summary beside an approvals document: what it vouches for, and that it never stands in for other bytes."""
from __future__ import annotations

import hashlib

from ansible_collections.airgap.wsus.plugins.plugin_utils import _approvals, _approvals_summary, _bundle_approvals, _manifest
from ansible_collections.airgap.wsus.tests.unit.plugins.plugin_utils.test__bundle_approvals import document_bytes


def test_the_summary_rebuilds_the_exact_bytes_of_an_unchanged_document():
    data = document_bytes()
    doc = _approvals.parse_document(data).raw
    summary = _approvals_summary.parse(_approvals_summary.summary_bytes(_approvals_summary.build(doc, data)))
    sha256 = hashlib.sha256(data).hexdigest().upper()
    assert _approvals_summary.describes(summary, sha256, len(data)) and _approvals_summary.path_for('D:\\a.json') == 'D:\\a.json.summary.json'
    newer = dict(doc, created='2031-01-01T00:00:00Z')
    assert _approvals_summary.rebuilt(summary, newer, sha256, len(data)) == data
    # The same section as reading the document gives, without reading it.
    assert _approvals_summary.section(summary) == _bundle_approvals.section(data)


def test_a_summary_never_stands_in_for_other_bytes_or_other_content():
    data = document_bytes()
    doc = _approvals.parse_document(data).raw
    summary = _approvals_summary.build(doc, data)
    sha256 = hashlib.sha256(data).hexdigest()
    assert not _approvals_summary.describes(summary, '0' * 64, len(data)) and not _approvals_summary.describes(summary, sha256, 1)
    assert not _approvals_summary.describes(None, sha256, len(data))
    changed = dict(doc, declines=doc['declines'] + ['FFFFFFFF-0000-4000-8000-000000000009'])
    assert _approvals_summary.rebuilt(summary, changed, sha256, len(data)) is None
    lying = dict(summary, created='2031-01-01T00:00:00Z')
    assert _approvals_summary.rebuilt(lying, doc, sha256, len(data)) is None, 'bytes that do not hash to the summary are never used'


def test_damaged_summaries_are_ignored():
    summary = _approvals_summary.build(_approvals.parse_document(document_bytes()).raw, document_bytes())
    for bad in (b'', b'{', b'[]', _manifest.canonical_bytes(dict(summary, schema='x')), _manifest.canonical_bytes(dict(summary, size=0)),
                _manifest.canonical_bytes(dict(summary, sha256='X' * 64)), _manifest.canonical_bytes(dict(summary, extra=1)),
                _manifest.canonical_bytes(dict(summary, counts={'groups': 1})), None, b' ' * (_approvals_summary.MAX_BYTES + 1)):
        assert _approvals_summary.parse(bad) is None, bad[:60] if bad else bad
