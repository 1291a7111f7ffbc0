"""Controller-side work on a million content files: time and peak memory of each step, each in a process of its own.

The steps are the pure code the modules run on the controller (``plugins/plugin_utils``):

- ``pack``: ``_volumes.pack`` of a full bundle into 25 GB volumes;
- ``build``: ``_manifest.build_manifests`` of one volume, its canonical bytes and their HMAC;
- ``verify``: the import side's signature check and ``_manifest.parse_manifest`` of those bytes;
- ``delta``: ``_delta.compute_delta`` of the export listing against a receipt that holds half of it
  (the controller's share when a receipt of an earlier version carries its digests inline; with
  a digest-file receipt the host leaves the held files out first, see docs/bundle.md);
- ``merge``: ``_delta.record_after_bundle`` and ``encode_inventory``, the receipt inventory merged
  with what the bundle sent (again the inline form; digest files are merged on the host).

Each step runs in a fresh interpreter that first builds its input (synthetic WsusContent entries
from ``tests/unit/plugins/plugin_utils/bench_manifest.py``), so its peak memory is the step's own:
reported as the process's peak and as the part above the input it was given.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import typing as t

STEPS = ('pack', 'build', 'verify', 'delta', 'merge')
DESCRIPTIONS = {
    'pack': 'volume packing, 25 GB volumes',
    'build': 'manifest build + canonical bytes + HMAC',
    'verify': 'manifest signature + parse + validate',
    'delta': 'delta against a receipt (inline digests)',
    'merge': 'receipt inventory merge + encode',
}


def _status_mb(field: str) -> float:
    with open('/proc/self/status', encoding='ascii') as handle:
        for line in handle:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Start the peak-memory mark afresh (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        with open('/proc/self/clear_refs', 'w', encoding='ascii') as handle:
            handle.write('5')
    except OSError:
        pass


def _inputs(step: str, files: int, scratch: str) -> t.Tuple[t.Callable[[], t.Any], str]:
    """The step's input, built before the clock starts, and the function to time."""
    from ansible_collections.airgap.wsus.plugins.plugin_utils import _delta, _manifest, _signing, _volumes  # pylint: disable=import-outside-toplevel
    from ansible_collections.airgap.wsus.tests.unit.plugins.plugin_utils import bench_manifest  # pylint: disable=import-outside-toplevel

    header = {'bundle_id': '3c1d5b5e-0000-4000-8000-000000000001', 'created': '2026-11-25T12:00:00Z',
              'source': {'server_id': 'x', 'name': 'wsus-connected', 'wsus_version': '10.0.17763.1'}, 'settings': bench_manifest.SETTINGS,
              'destination': 'plant-a', 'sequence': 2, 'base': 'full', 'basis': {'kind': 'full', 'reason': 'bench'},
              'package': {'path': 'metadata/export.xml.gz', 'size': 2_000_000_000, 'sha256': '0' * 64, 'volume': 1}}
    manifest_path = os.path.join(scratch, 'manifest.json')
    if step == 'verify':
        with open(manifest_path, 'rb') as handle:
            data = handle.read()
        with open(manifest_path + '.sig', 'rb') as handle:
            signature = handle.read()

        def verify() -> t.Any:
            _signing.verify(data, signature, [bench_manifest.KEY])
            parsed, _unverifiable = _manifest.parse_manifest(data)
            return _manifest.check_volume_set([parsed])
        return verify, f'{len(data) / 1e6:.0f} MB manifest'
    entries = bench_manifest._synthetic(files)  # pylint: disable=protected-access
    if step == 'pack':
        listing = [(path, size) for path, size, _digest in entries]
        del entries
        return lambda: _volumes.pack(listing, 25_000_000_000, package_size=2_000_000_000), f'{files} files'
    if step == 'build':
        def build() -> t.Any:
            manifests = _manifest.build_manifests(volumes=[entries], **header)
            data = _manifest.canonical_bytes(manifests[0])
            signature = _signing.signature_bytes(_signing.sign(data, bench_manifest.KEY))
            del manifests
            with open(manifest_path, 'wb') as handle:
                handle.write(data)
            with open(manifest_path + '.sig', 'wb') as handle:
                handle.write(signature)
            return len(data)
        return build, f'{files} entries'
    held = _delta.digests_of_paths(path for path, _size, _digest in entries[: files // 2])
    listing = [(path, size) for path, size, _digest in entries]
    del entries
    if step == 'delta':
        basis = {'kind': 'receipt', 'digests': frozenset(held), 'missing': [], 'reason': 'bench'}
        del held
        return lambda: _delta.compute_delta(listing, basis), f'{files} files, {files // 2} held'
    sent = listing[files // 2:]
    del listing

    def merge() -> t.Any:
        return _delta.encode_inventory(_delta.record_after_bundle(held, sent))['count']
    return merge, f'{files // 2} held + {len(sent)} sent'


def child(step: str, files: int, scratch: str) -> dict:
    """Run one step in this process and measure it (called in a fresh interpreter by :func:`measure`)."""
    func, described = _inputs(step, files, scratch)
    baseline = _status_mb('VmRSS')
    _reset_peak()
    began, cpu = time.perf_counter(), time.process_time()
    func()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak = _status_mb('VmHWM')
    return {'step': step, 'input': described, 'seconds': round(seconds, 2), 'cpu_seconds': round(cpu, 2),
            'peak_mb': round(peak), 'above_input_mb': round(max(0.0, peak - baseline)), 'input_mb': round(baseline)}


def measure(files: int, repeat: int, entry: str, say: t.Callable[[str], None]) -> list:
    """Every step ``repeat`` times, each in a fresh ``python entry --controller-step``; the median run of each."""
    results = []
    with tempfile.TemporaryDirectory(prefix='airgap-bench-') as scratch:
        for step in STEPS:
            runs = []
            for _index in range(repeat):
                proc = subprocess.run([sys.executable, entry, '--controller-step', step, '--files', str(files), '--scratch', scratch],
                                      capture_output=True, text=True, check=False)
                if proc.returncode != 0:
                    raise RuntimeError(f'controller step {step} failed:\n{proc.stderr[-3000:]}')
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            runs.sort(key=lambda item: item['seconds'])
            middle = dict(runs[len(runs) // 2])
            middle['runs'] = [item['seconds'] for item in runs]
            middle['max_peak_mb'] = max(item['peak_mb'] for item in runs)
            middle['description'] = DESCRIPTIONS[step]
            say(f'  controller {step}: {middle["seconds"]:.2f} s (median of {repeat}), peak {middle["max_peak_mb"]} MB')
            results.append(middle)
    return results
