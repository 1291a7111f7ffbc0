"""The summary beside an approvals document, so that the modules that need its facts need not read it back. Pure: no I/O.

An approvals document holds a line per approval: 24,000 approvals make about 4 MB, which cost
some 40 WinRM requests each time they cross. ``airgap.wsus.approvals state: exported`` writes
``<document>.summary.json`` next to the document it writes (canonical bytes, like every
record)::

    {"schema": "airgap.wsus.approvals-summary/1", "sha256": "<of the document's bytes>", "size": 4123456,
     "created": "2026-11-25T12:00:00Z", "content_sha256": "<of its canonical bytes without created>",
     "counts": {"groups": 5, "updates": 24000, "approvals": 24000, "declines": 1200}}

- The next export builds the new document and compares content digests: when they agree
  and the document on the host still hashes to the summary's ``sha256``, its exact bytes are
  the new document with the summary's ``created``, rebuilt on the controller instead of read.
- ``bundle state: built`` takes the manifest's approvals section (size, SHA-256, counts) from
  the summary when the document on the host hashes to its ``sha256``, and copies the
  document on the host (``file_copy``).

The summary lies on the export host beside the document, as trusted as the export side's
other records: it only ever saves a read, since the document's bytes are always hashed on
the host first, and a summary that is missing, damaged or for other bytes is ignored.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ansible_collections.airgap.wsus.plugins.plugin_utils import _approvals, _manifest

SCHEMA = 'airgap.wsus.approvals-summary/1'
SUFFIX = '.summary.json'
MAX_BYTES = 64 * 1024
KEYS = ('schema', 'sha256', 'size', 'created', 'content_sha256', 'counts')


def path_for(document_path: str) -> str:
    """``<document>.summary.json``."""
    return document_path + SUFFIX


def content_sha256(doc: Mapping) -> str:
    """The SHA-256 of a document's canonical bytes without ``created``: equal for documents that say the same."""
    return hashlib.sha256(_manifest.canonical_bytes({key: value for key, value in doc.items() if key != 'created'})).hexdigest()


def build(doc: Mapping, data: bytes) -> dict:
    """The summary of document ``doc`` (a validated raw document) written as ``data``."""
    return {'schema': SCHEMA, 'sha256': hashlib.sha256(data).hexdigest(), 'size': len(data), 'created': doc['created'],
            'content_sha256': content_sha256(doc), 'counts': _approvals.validate_document(dict(doc)).counts()}


def summary_bytes(summary: Mapping) -> bytes:
    return _manifest.canonical_bytes(summary)


def parse(data: bytes | None) -> dict | None:
    """A summary read back, or ``None`` when there is none or it is not one (it is then ignored, never trusted)."""
    if not data or len(data) > MAX_BYTES:
        return None
    try:
        doc = _manifest.load_json(data, 'the approvals summary', max_bytes=MAX_BYTES, max_depth=2)
        if not isinstance(doc, dict) or doc.get('schema') != SCHEMA:
            return None
        _manifest.check_object(doc, 'the approvals summary', KEYS)
        _manifest.check_count(doc['size'], 'size', 1)
        _manifest.validate_timestamp(doc['created'])
        counts = _manifest.check_object(doc['counts'], 'counts', _manifest.APPROVALS_COUNTS)
        for key in _manifest.APPROVALS_COUNTS:
            _manifest.check_count(counts[key], f'counts.{key}')
    except _manifest.ManifestError:
        return None
    if not _manifest.is_sha256(doc['sha256']) or not _manifest.is_sha256(doc['content_sha256']):
        return None
    return doc


def describes(summary: Mapping | None, sha256: str | None, size: int | None) -> bool:
    """Whether ``summary`` is the summary of the bytes the host hashed (``sha256``, ``size``)."""
    return summary is not None and str(sha256 or '').lower() == summary['sha256'] and size == summary['size']


def rebuilt(summary: Mapping | None, doc: Mapping, sha256: str | None, size: int | None) -> bytes | None:
    """The exact bytes of the document on the host, rebuilt from the new document ``doc``, when they say the same thing.

    ``sha256`` and ``size`` are what the host reports for the document it holds. ``None``
    when the summary does not describe those bytes or the content differs: then read them.
    """
    if not describes(summary, sha256, size) or summary['content_sha256'] != content_sha256(doc):
        return None
    data = _manifest.canonical_bytes(dict(doc, created=summary['created']))
    return data if hashlib.sha256(data).hexdigest() == summary['sha256'] else None


def section(summary: Mapping) -> dict:
    """The manifest's approvals section for the document the summary describes."""
    return _manifest.validate_approvals({'path': f'{_manifest.APPROVALS_FOLDER}/{_approvals.DOCUMENT_NAME}', 'size': summary['size'],
                                         'sha256': summary['sha256'], 'counts': dict(summary['counts'])})
