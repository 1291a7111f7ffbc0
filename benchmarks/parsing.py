"""Parsing a robocopy log of a million lines, next to ``wc -l`` on the same file.

The log comes from ``tests/unit/plugins/plugin_utils/bench_robocopy_parse.py`` (per-file lines
as without ``/NFL``, a retried error every 10,000 lines, the summary table, CRLF line ends);
the parser is ``_robocopy.parse_log_file``, what the modules run on a job's log. Both are timed
``repeat`` times in turn and the medians compared (``wc -l`` includes starting its process).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
import typing as t


def measure(lines: int, repeat: int, say: t.Callable[[str], None]) -> dict:
    from ansible_collections.airgap.wsus.plugins.plugin_utils import _robocopy  # pylint: disable=import-outside-toplevel
    from ansible_collections.airgap.wsus.tests.unit.plugins.plugin_utils import bench_robocopy_parse  # pylint: disable=import-outside-toplevel

    wc_times, parse_times = [], []
    with tempfile.TemporaryDirectory(prefix='airgap-bench-') as scratch:
        path = os.path.join(scratch, 'robocopy.log')
        bench_robocopy_parse.write_log(path, lines)
        size = os.path.getsize(path)
        log = None
        for _index in range(repeat):
            began = time.perf_counter()
            subprocess.run(['wc', '-l', path], check=True, capture_output=True)
            wc_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            log = _robocopy.parse_log_file(path)
            parse_times.append(time.perf_counter() - began)
    wc, parse = statistics.median(wc_times), statistics.median(parse_times)
    say(f'  robocopy log: {lines} lines, parse {parse * 1000:.1f} ms, wc -l {wc * 1000:.1f} ms (medians of {repeat})')
    summary = log.summary.files if log is not None and log.summary else None
    return {'lines': lines, 'bytes': size, 'parse_seconds': parse, 'wc_seconds': wc, 'ratio': parse / wc,
            'errors_found': len(log.errors) if log is not None else None, 'summary_files': summary}
