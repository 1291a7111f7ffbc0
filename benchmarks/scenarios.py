"""The measured scenarios on the emulated lab: round trips at several scales, bytes on the medium, and an interrupted copy.

Each function starts its own lab(s) under ``work_dir``, runs whole cycles through the
collection's playbooks (:mod:`cycles`), and returns plain data for :mod:`report`.
"""
from __future__ import annotations

import os
import statistics
import threading
import typing as t

from ansible_collections.airgap.wsus.benchmarks.cycles import EXPORT, IMPORT, CycleLab, Run, Scale

KIB = 1024
MIB = 1024 * 1024

# Round trips: one small lab, one with 50x the content files, one with 25x the updates. The news
# before the measured cycle is the same on the axis a lab grows: 50 new content files on the
# files axis (2 updates of 25 files in the files lab, 100 updates of 0.5 in the base lab), 100
# new updates on the updates axis.
SCALES = {
    'base': Scale('base', updates=2000, files=1000, new_updates=100),
    'files': Scale('files', updates=2000, files=50000, new_updates=2),
    'updates': Scale('updates', updates=50000, files=1000, new_updates=100),
}
QUICK_SCALES = {
    'base': Scale('base', updates=400, files=200, new_updates=20),
    'files': Scale('files', updates=400, files=4000, new_updates=2),
    'updates': Scale('updates', updates=4000, files=200, new_updates=20),
}
# Bytes: content files of megabytes, as in a real WsusContent (hundreds of gigabytes in tens of
# thousands of files: several megabytes a file on average), so the bundle's own files (manifest,
# signatures, approvals document: about 130 bytes a file carried and 200 bytes an approved or
# declined update of the catalog) weigh what they weigh next to real content. With the lab's
# default sizes (hundreds of bytes to a few hundred kilobytes) they would weigh far more than on
# any site; docs/performance.md gives the overhead as a formula, for any content size.
BYTES_SCALE = Scale('bytes', updates=1000, files=200, new_updates=100, file_size_min=1 * MIB, file_size_max=8 * MIB)
QUICK_BYTES_SCALE = Scale('bytes', updates=200, files=80, new_updates=40, file_size_min=512 * KIB, file_size_max=4 * MIB)
# Interruption: a medium slow enough that the copy takes seconds, so a drop lands in the middle of it.
INTERRUPT_SCALE = Scale('interrupt', updates=400, files=100, new_updates=0, file_size_min=128 * KIB, file_size_max=512 * KIB)
INTERRUPT_SPEED = 8 * MIB


def run_summary(run: Run) -> dict:
    """What the report keeps of one playbook run."""
    operations = {name: {key: int(value) for key, value in counts.items()} for name, counts in run.operations.items()}
    return {'seconds': round(run.seconds, 2), 'changed': run.changed, 'requests': run.requests, 'winrm_bytes': run.winrm_bytes,
            'bytes_in': int(run.counters.get('bytes_in') or 0), 'bytes_out': int(run.counters.get('bytes_out') or 0),
            'commands': int(run.counters.get('commands') or 0), 'operations': operations}


def cycle_summary(export: Run, imported: Run) -> dict:
    return {'export': run_summary(export), 'import': run_summary(imported),
            'seconds': round(export.seconds + imported.seconds, 2), 'changed': export.changed + imported.changed}


def roundtrips(scale: Scale, work_dir: str, collections_path: str, repeat: int, say: t.Callable[[str], None]) -> dict:
    """A first (full) cycle, news upstream, the measured incremental cycle, then ``repeat`` reruns with nothing new."""
    lab = CycleLab(scale, os.path.join(work_dir, scale.name), collections_path)
    with lab:
        files = len(lab.content(EXPORT))
        say(f'  {scale.name}: lab up in {lab.start_seconds:.1f} s ({scale.updates} updates, {files} content files)')
        first = cycle_summary(*lab.cycle('first'))
        lab.check_in_step()
        say(f'  {scale.name}: first cycle (full bundle) {first["seconds"]:.0f} s')
        arrived = lab.upstream_news()
        incremental = cycle_summary(*lab.cycle('incremental'))
        lab.check_in_step()
        say(f'  {scale.name}: incremental cycle ({scale.new_updates} new updates, {arrived} new files) {incremental["seconds"]:.0f} s')
        lab.synchronized_earlier()
        reruns = [cycle_summary(*lab.cycle(f'rerun{index + 1}')) for index in range(repeat)]
        say(f'  {scale.name}: reruns ' + ', '.join(f'{r["seconds"]:.1f} s' for r in reruns))
    return {'scale': {'name': scale.name, 'updates': scale.updates, 'files': files, 'new_updates': scale.new_updates,
                      'new_files': arrived},
            'start_seconds': round(lab.start_seconds, 2), 'first': first, 'incremental': incremental, 'reruns': reruns,
            'rerun_seconds_median': round(statistics.median(r['seconds'] for r in reruns), 2),
            'rerun_changed': max(r['changed'] for r in reruns)}


def medium_bytes(scale: Scale, work_dir: str, collections_path: str, say: t.Callable[[str], None]) -> dict:
    """Bytes the incremental cycle writes to the medium, next to the bytes of content the import server lacks."""
    lab = CycleLab(scale, os.path.join(work_dir, scale.name), collections_path)
    with lab:
        lab.cycle('first')
        lab.check_in_step()
        lab.upstream_news()
        exported, imported = lab.content(EXPORT), lab.content(IMPORT)
        lacking = sum(size for path, size in exported.items() if path not in imported)
        package = os.path.getsize(lab.lab.hosts[EXPORT].host.fs.real_path('D:\\WSUS\\airgap-wsus-export.xml.gz'))
        before = lab.medium_written()
        export = lab.run('export', 'incremental')
        written = lab.medium_written() - before
        # The package is exported again only when the metadata changed; the news changed it.
        package = os.path.getsize(lab.lab.hosts[EXPORT].host.fs.real_path('D:\\WSUS\\airgap-wsus-export.xml.gz'))
        lab.run('import', 'incremental')
        lab.check_in_step()
    content_total = sum(exported.values())
    say(f'  bytes: {len(exported) - len(imported)} files ({lacking} bytes) lacking; the bundle wrote {written} bytes to the medium')
    return {'scale': {'name': scale.name, 'updates': scale.updates, 'files': len(exported), 'new_files': len(exported) - len(imported)},
            'lacking_bytes': lacking, 'medium_bytes': written, 'package_bytes': package, 'content_bytes': content_total,
            'bundle_ratio': (written - package) / lacking if lacking else None,
            'bundle_ratio_with_package': written / lacking if lacking else None,
            'manual_ratio': content_total / lacking if lacking else None,
            'manual_ratio_with_package': (content_total + package) / lacking if lacking else None,
            'export_seconds': round(export.seconds, 2)}


def _export_with_drop(lab: CycleLab, content_bytes: int, drop: bool) -> dict:
    """A first export onto a slow medium; with ``drop``, the export host's connections drop once half the content is on it."""
    host = lab.lab.hosts[EXPORT]
    host.host.faults.slow_drive('E:', INTERRUPT_SPEED)
    before = lab.medium_written()
    state = {'dropped_at': None}
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.05):
            done = lab.medium_written() - before
            if done >= content_bytes // 2:
                # The next requests find the connection closed, as when a network link or the WinRM service drops.
                host.server.faults.drop_next(3)
                state['dropped_at'] = done
                return

    watcher = threading.Thread(target=watch, daemon=True) if drop else None
    if watcher is not None:
        watcher.start()
    try:
        run = lab.run('export', 'interrupted' if drop else 'reference')
    finally:
        stop.set()
        if watcher is not None:
            watcher.join()
        host.host.faults.slow_drive('E:', None)
    dropped = int(run.counters.get('dropped') or 0)
    return {'written': lab.medium_written() - before, 'seconds': round(run.seconds, 2), 'dropped_at': state['dropped_at'],
            'dropped_requests': dropped, 'requests': run.requests}


def interruption(work_dir: str, collections_path: str, say: t.Callable[[str], None], scale: Scale = INTERRUPT_SCALE) -> dict:
    """The same export twice, side by side: once undisturbed, once with its connection dropped half-way through the copy.

    Bytes copied again are what the interrupted run wrote to the medium beyond the undisturbed one.
    """
    results = {}
    content = 0
    for name, drop in (('reference', False), ('interrupted', True)):
        lab = CycleLab(scale, os.path.join(work_dir, f'{scale.name}-{name}'), collections_path)
        with lab:
            content = sum(lab.content(EXPORT).values())
            results[name] = _export_with_drop(lab, content, drop)
            lab.run('import', name)
            lab.check_in_step()
    again = max(0, results['interrupted']['written'] - results['reference']['written'])
    say(f'  interruption: dropped at {results["interrupted"]["dropped_at"]} of {content} content bytes; '
        f'{results["interrupted"]["dropped_requests"]} requests dropped; {again} bytes copied again')
    if results['interrupted']['dropped_at'] is None or not results['interrupted']['dropped_requests']:
        raise RuntimeError('the interruption scenario never dropped a connection during the copy: the copy was faster than the '
                           'watcher; lower INTERRUPT_SPEED')
    return {'content_bytes': content, 'copied_again': again, 'ratio': again / content if content else None, **results}
