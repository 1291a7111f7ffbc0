"""Manifests and receipts that are huge, deeply nested or not JSON fail cleanly, in bounded memory and time.

The import side reads these before it can trust them. Each case is measured: Python's own
allocations with ``tracemalloc`` for the cheap refusals (they must not grow with the document),
and, for the million-entry manifest, the peak resident memory (``VmHWM``) of a fresh Python
process that holds nothing but the manifest bytes, as an import does.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import tracemalloc

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _manifest, _receipt

MIB = 1024 * 1024


def peak_allocation(function, *args, **kwargs) -> tuple:
    """``(exception or result, peak bytes Python allocated while running)``."""
    tracemalloc.start()
    try:
        try:
            outcome = function(*args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except  # the caller asserts on it
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize('parse', [_manifest.parse_manifest, _receipt.parse_receipt], ids=['manifest', 'receipt'])
def test_a_document_over_the_size_limit_is_refused_before_it_is_read(parse):
    data = b"[" + b"1," * MIB + b"1]"
    outcome, peak = peak_allocation(parse, data, max_bytes=MIB)
    assert isinstance(outcome, _manifest.ManifestError) and 'over the limit of 1048576 bytes' in str(outcome)
    assert peak < 64 * 1024, f'{peak} bytes allocated to refuse it'


@pytest.mark.parametrize('parse', [_manifest.parse_manifest, _receipt.parse_receipt], ids=['manifest', 'receipt'])
@pytest.mark.parametrize('shape', ['arrays', 'objects', 'mixed'])
def test_deep_nesting_is_refused_without_recursion_in_memory_proportional_to_the_bytes(parse, shape):
    depth = 2_000_000
    opening, closing = {'arrays': (b'[', b']'), 'objects': (b'{"a":', b'}'), 'mixed': (b'[{"a":', b'}]')}[shape]
    data = opening * depth + b'1' + closing * depth
    start = time.monotonic()
    outcome, peak = peak_allocation(parse, data)
    assert isinstance(outcome, _manifest.ManifestError) and ('deeper than' in str(outcome) or 'nests' in str(outcome)), outcome
    assert peak < 4 * len(data) and time.monotonic() - start < 10
    assert len(str(outcome)) < 500, 'the message quotes the document'


@pytest.mark.parametrize('data, fragment', [
    (os.urandom(4 * MIB), 'not'),                                      # random bytes: not UTF-8 or not JSON
    (b'\xef\xbb\xbf' + b' ' * MIB + b'{}', 'not'),                     # a BOM, then a document
    (b'{"a": "' + b'x' * (8 * MIB) + b'"', 'not valid JSON'),          # cut short inside a long string
    (b'[' + b'1,' * (2 * MIB) + b'1]', 'must be a JSON object'),       # valid JSON, wrong type, large
    (b'{"schema": "airgap.wsus.bundle/1", "schema": "x"}', 'duplicate key'),
])
def test_damaged_or_foreign_bytes_fail_cleanly(data, fragment):
    outcome, peak = peak_allocation(_manifest.parse_manifest, data)
    assert isinstance(outcome, _manifest.ManifestError) and fragment in str(outcome), outcome
    assert len(str(outcome)) < 500, 'the message quotes the document'
    assert peak < 40 * len(data) + MIB


MILLION = textwrap.dedent('''
    import hashlib, json, sys, time
    from ansible_collections.airgap.wsus.plugins.plugin_utils import _manifest

    def status(field):
        with open('/proc/self/status') as handle:
            return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(field + ':'))

    count = int(sys.argv[1])
    names = ['%02X/%s.cab' % (n % 256, hashlib.sha1(str(n).encode()).hexdigest().upper()[:38] + '%02X' % (n % 256)) for n in range(count)]
    entries = ','.join('["%s",%d,"%s"]' % (name, 1000 + n, 'ab' * 32) for n, name in enumerate(names))
    del names
    bad = sys.argv[2]
    if bad:
        entries += ',["%s",1,"%s"]' % (bad, 'cd' * 32)
        count += 1
    text = ('{"approvals":null,"base":"full","basis":{"kind":"full","reason":"first"},"bundle_id":"b-1","created":"2026-11-25T12:00:00Z",'
            '"destination":"plant-a","files":[' + entries + '],"package":{"path":"metadata/export.xml.gz","sha256":"' + 'a' * 64
            + '","size":10,"volume":1},"schema":"airgap.wsus.bundle/1","sequence":1,"settings":{"all_languages":false,'
            '"deferred_download":false,"express_files":false,"host_binaries_on_mu":false,"languages":["en"]},'
            '"source":{"name":"wsus","server_id":"s","wsus_version":"10.0"},"totals":{"bytes":%d,"files":%d,"volume_bytes":%d,'
            '"volume_files":%d},"volume":{"count":1,"index":1,"label":"volume 1 of 1"}}\\n')
    total = sum(1000 + n for n in range(int(sys.argv[1]))) + (1 if bad else 0)
    data = (text % (total, count, total, count)).encode('ascii')
    del entries, text
    before, start = status('VmRSS'), time.monotonic()
    try:
        _manifest.parse_manifest(data)
        outcome = 'parsed'
    except _manifest.ManifestError as exc:
        outcome = str(exc)
    print(json.dumps({'outcome': outcome, 'bytes': len(data), 'growth': status('VmHWM') - before, 'seconds': time.monotonic() - start}))
''')


def run_million(bad: str = '') -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [sys.path[0], *sys.path])))
    proc = subprocess.run([sys.executable, '-c', MILLION, '1000000', bad], capture_output=True, text=True, check=False, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_million_entry_manifest_with_one_unsafe_path_at_its_end_fails_cleanly_in_bounded_memory():
    # The parse reads the whole document (about 127 MB) and refuses it at the last entry, naming it.
    result = run_million(bad='../../Windows/System32/evil.dll')
    assert result['bytes'] > 100 * MIB
    assert 'files[1000000]' in result['outcome'] and 'tampering' in result['outcome'], result['outcome'][:300]
    assert len(result['outcome']) < 500
    # Generous: Python objects for a million entries take several hundred MB; the bound catches a blow-up, not noise.
    assert result['growth'] < 1536 * MIB, f'{result["growth"] / MIB:.0f} MiB'
