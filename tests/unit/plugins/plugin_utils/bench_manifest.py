"""Benchmark: a bundle manifest with a million file entries (not a test; run by hand).

    cd <collection root> && /tmp/v/bin/python tests/unit/plugins/plugin_utils/bench_manifest.py [--files N]

The export side runs in this process: receipt inventory, delta, packing into 25GB volumes,
building and validating the manifests, canonical bytes, signing. The import side then runs in
a fresh process that holds nothing but the manifest bytes, so its peak memory is what an
import of such a bundle needs: verify the signature, parse and validate, check the volume set.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time


def _load_collection():
    """Import the plugin_utils modules, putting the checkout on sys.path through tests/conftest.py when needed."""
    try:
        importlib.import_module('ansible_collections.airgap.wsus.plugins.plugin_utils._manifest')
    except ImportError:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'conftest.py')
        spec = importlib.util.spec_from_file_location('airgap_wsus_conftest', path)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    return [importlib.import_module(f'ansible_collections.airgap.wsus.plugins.plugin_utils.{name}')
            for name in ('_delta', '_manifest', '_receipt', '_signing', '_volumes')]


_delta, _manifest, _receipt, _signing, _volumes = _load_collection()

SETTINGS = {'express_files': False, 'all_languages': False, 'languages': ['de', 'en'], 'deferred_download': False, 'host_binaries_on_mu': False}
_PEAKS = []
KEY = {'key_id': 'bench', 'algorithm': 'hmac-sha256', 'key': 'k' * 48}


def _status_mb(field):
    """A memory figure of this process from /proc/self/status, in MB."""
    with open('/proc/self/status', encoding='ascii') as handle:
        for line in handle:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb():
    """Current resident memory of this process in MB."""
    return _status_mb('VmRSS')


def _peak_mb():
    """Peak resident memory of this process in MB (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    return _status_mb('VmHWM')


def _reset_peak():
    """Reset this process's peak-memory mark (Linux: writing 5 to clear_refs), so each step's own peak shows."""
    try:
        with open('/proc/self/clear_refs', 'w', encoding='ascii') as handle:
            handle.write('5')
    except OSError:
        pass


def _step(label, func, *args, **kwargs):
    """Run one step; print its wall and CPU time (CPU time is steadier on a busy machine) and the memory it needed above what was in use."""
    _reset_peak()
    before = _rss_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    result = func(*args, **kwargs)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = _peak_mb()
    _PEAKS.append(peak)
    print(f'  {label:<46} {elapsed:6.2f} s wall {cpu:6.2f} s cpu {peak - before:+6.0f} MB peak', flush=True)
    return result


def _synthetic(count):
    """Return ``count`` content entries ``(relpath, size, sha256)`` that look like WsusContent."""
    entries = []
    for number in range(count):
        seed = number.to_bytes(8, 'big')
        sha1 = hashlib.sha1(seed).hexdigest().upper()
        entries.append((f'{sha1[-2:]}/{sha1}.cab', 1000 + (number * 7919) % 5_000_000, hashlib.sha256(seed).hexdigest()))
    return entries


def export_side(count, out_path):
    """Run and time the export side; write the single-volume manifest and its signature to ``out_path``(.sig)."""
    print(f'export side, {count} files (this process)')
    entries = _step('synthesize the input (not measured code)', _synthetic, count)
    sha256_of = {path: digest for path, _size, digest in entries}
    held = _delta.digests_of_paths(path for path, _size, _digest in entries[: count // 2])
    inventory = _step('receipt inventory: encode half the files', _delta.encode_inventory, held)
    digests = _step('receipt inventory: decode', _delta.decode_inventory, inventory)
    del held
    baseline = _rss_mb()
    basis = {'kind': 'receipt', 'digests': digests, 'missing': [], 'reason': 'bench'}
    delta = _step('delta against the receipt', _delta.compute_delta, ((p, s) for p, s, _d in entries), basis)
    full = _step('delta, full', _delta.compute_delta, ((p, s) for p, s, _d in entries), None)
    packing = _step('pack the full delta into 25GB volumes', _volumes.pack, full['files'], 25_000_000_000, package_size=2_000_000_000)
    header = {'bundle_id': '3c1d5b5e-0000-4000-8000-000000000001', 'created': '2026-11-25T12:00:00Z',
              'source': {'server_id': 'x', 'name': 'wsus-connected', 'wsus_version': '10.0.17763.1'}, 'settings': SETTINGS,
              'destination': 'plant-a', 'sequence': 2, 'base': 'full', 'basis': {'kind': 'full', 'reason': 'bench'},
              'package': {'path': 'metadata/export.xml.gz', 'size': 2_000_000_000, 'sha256': '0' * 64, 'volume': 1}}
    one_volume = [[(path, size, sha256_of[path]) for path, size in full['files']]]
    manifests = _step('build + validate, one volume', _manifest.build_manifests, volumes=one_volume, **header)
    data = _step('canonical bytes', _manifest.canonical_bytes, manifests[0])
    signature = _step('sign (hmac-sha256)', _signing.sign, data, KEY)
    del manifests, one_volume
    volumes = [[(path, size, sha256_of[path]) for path, size in volume['files']] for volume in packing['volumes']]
    header['package'] = dict(header['package'], volume=packing['package_volume'])
    split = _step(f'build + validate, {len(volumes)} volumes', _manifest.build_manifests, volumes=volumes, **header)
    _step(f'canonical bytes, {len(volumes)} volumes', lambda: [_manifest.canonical_bytes(doc) for doc in split])
    with open(out_path, 'wb') as handle:
        handle.write(data)
    with open(out_path + '.sig', 'wb') as handle:
        handle.write(_signing.signature_bytes(signature))
    print(f'  {"delta files / full files / volumes":<46} {delta["count"]} / {full["count"]} / {packing["count"]}')
    print(f'  {"manifest size":<46} {len(data) / 1e6:7.1f} MB')
    print(f'  {"resident memory at the end, input included":<46} {_rss_mb():7.0f} MB (input and inventory alone: {baseline:.0f} MB)')


def import_side(path):
    """Run and time the import side on a manifest file, in a process that holds nothing else."""
    print('import side (a fresh process)')
    _reset_peak()
    start_rss = _rss_mb()
    with open(path, 'rb') as handle:
        data = handle.read()
    with open(path + '.sig', 'rb') as handle:
        signature = handle.read()
    _step('verify the signature', _signing.verify, data, signature, [KEY])
    parsed, _unverifiable = _step('parse + validate (bytes to a checked dict)', _manifest.parse_manifest, data)
    _step('volume-set check', _manifest.check_volume_set, [parsed])
    print(f'  {"peak resident memory of the whole process":<46} {max(_PEAKS):7.0f} MB (at start: {start_rss:.0f} MB, '
          f'manifest bytes: {len(data) / 1e6:.0f} MB)')


def main():
    """Run the export side here and the import side in a child process."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--files', type=int, default=1_000_000)
    parser.add_argument('--import-from', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.import_from:
        import_side(args.import_from)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'manifest.json')
        export_side(args.files, path)
        subprocess.run([sys.executable, os.path.abspath(__file__), '--import-from', path], check=True)


if __name__ == '__main__':
    main()
