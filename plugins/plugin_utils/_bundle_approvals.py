"""The approvals document a bundle carries (docs/bundle.md, "Approvals"). Pure: no I/O.

WsusUtil carries no approvals, so ``airgap.wsus.approvals state=exported`` writes them to a
signed ``approvals.json``. ``bundle state=built`` copies that document (and its ``.sig``) into
volume 1's ``approvals`` folder and describes it in the manifest's ``approvals`` section
(``{path, size, sha256, counts}``), so the signed manifests vouch for its bytes and the import
side checks it with the rest of the bundle, before anything changes.
"""
from __future__ import annotations

import hashlib

from ansible_collections.airgap.wsus.plugins.plugin_utils import _approvals, _manifest, _volumes, _winpath
from ansible_collections.airgap.wsus.plugins.plugin_utils._bundle_verify import Expected

VOLUME = 1
PATH = f'{_manifest.APPROVALS_FOLDER}/{_approvals.DOCUMENT_NAME}'
SIGNATURE_SUFFIX = _approvals.SIGNATURE_SUFFIX


def section(data: bytes) -> dict:
    """The manifest's ``approvals`` section for the document ``data``.

    The document is parsed and validated as the import side will, so a damaged or foreign file
    fails the build instead of the import. Raises ``_approvals.ApprovalsError``.
    """
    document = _approvals.parse_document(data)
    return _manifest.validate_approvals({'path': PATH, 'size': len(data), 'sha256': hashlib.sha256(data).hexdigest(),
                                         'counts': document.counts()})


def on_volume(manifest) -> bool:
    """Whether volume ``manifest`` holds the bundle's approvals document."""
    return manifest['approvals'] is not None and manifest['volume']['index'] == VOLUME


def expected(manifest) -> list:
    """The approvals document as a file volume ``manifest`` must hold (relative to the volume folder), or nothing."""
    if not on_volume(manifest):
        return []
    doc = manifest['approvals']
    return [Expected(doc['path'], doc['size'], doc['sha256'], None, manifest['volume']['label'], package=True)]


def host_path(volume_folder: str, doc) -> str:
    """Where the document ``doc`` (a manifest's section) lies under ``volume_folder`` on the host."""
    return _winpath.join(volume_folder, doc['path'].replace('/', '\\'))


def space(size: int, signature_size: int | None, cluster_size: int = _volumes.DEFAULT_CLUSTER_SIZE) -> int:
    """Room the document, its signature and their folder take on volume 1, estimated as ``_volumes`` estimates files."""
    used = cluster_size + -(-size // cluster_size) * cluster_size + _volumes.DEFAULT_PER_FILE_OVERHEAD
    if signature_size is not None:
        used += -(-signature_size // cluster_size) * cluster_size + _volumes.DEFAULT_PER_FILE_OVERHEAD
    return used
