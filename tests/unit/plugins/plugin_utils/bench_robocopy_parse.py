#!/usr/bin/env python
"""Benchmark: parse a 1,000,000-line robocopy log and compare with ``wc -l`` on the same file.

Not a test (pytest does not collect ``bench_*`` files). Run from the repository root:

    python tests/unit/plugins/plugin_utils/bench_robocopy_parse.py [--lines N] [--runs N]

The target is a parse at least half as fast as ``wc -l``: ``parse_time <= 2 * wc_time``.
The log has per-file lines (as without /NFL), a retried error every 10,000 lines, and the
summary table, CRLF line ends, like a real robocopy log.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, '..', '..', '..')))  # tests/ for conftest's import shim
import conftest  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.airgap.wsus.plugins.plugin_utils import _robocopy  # noqa: E402  pylint: disable=wrong-import-position

HEADER = (
    '-------------------------------------------------------------------------------\r\n'
    '   ROBOCOPY     ::     Robust File Copy for Windows\r\n'
    '-------------------------------------------------------------------------------\r\n\r\n'
    '  Started : Tuesday, March 5, 2024 10:15:32 AM\r\n'
    '   Source : C:\\WSUS\\WsusContent\\\r\n     Dest : E:\\bundle\\WsusContent\\\r\n\r\n'
    '    Files : *.*\r\n\r\n  Options : *.* /S /E /DCOPY:DA /COPY:DAT /J /NP /BYTES /MT:8 /R:2 /W:5\r\n\r\n'
    '------------------------------------------------------------------------------\r\n\r\n'
)
FOOTER = (
    '\r\n------------------------------------------------------------------------------\r\n\r\n'
    '               Total    Copied   Skipped  Mismatch    FAILED    Extras\r\n'
    '    Dirs :       257       257         0         0         0         0\r\n'
    '   Files :    999000    998990         0         0        10         0\r\n'
    '   Bytes : 99999999999 99999000000       0         0    999999         0\r\n'
    '   Times :   1:00:05   0:59:04                       0:00:00   0:00:00\r\n'
    '   Ended : Tuesday, March 5, 2024 11:15:37 AM\r\n'
)


assert conftest.COLLECTIONS_PATH in sys.path  # the shim makes ansible_collections importable


def write_log(path: str, lines: int) -> None:
    with open(path, 'wb') as handle:
        handle.write(HEADER.encode('ascii'))
        chunk = []
        for i in range(lines):
            if i % 10000 == 5000:
                name = f'C:\\WSUS\\WsusContent\\{i % 256:02X}\\{i:038X}{i % 256:02X}.cab'
                chunk.append(f'2024/03/05 10:15:33 ERROR 32 (0x00000020) Copying File {name}\r\n'
                             'The process cannot access the file because it is being used by another process.\r\n')
            else:
                chunk.append(f'\t    New File  \t\t  {i * 7919 % 99999999:>10}\t{i:038X}{i % 256:02X}.cab\r\n')
            if len(chunk) >= 10000:
                handle.write(''.join(chunk).encode('ascii'))
                chunk = []
        handle.write(''.join(chunk).encode('ascii'))
        handle.write(FOOTER.encode('ascii'))


def best_of(runs: int, func) -> float:
    best = float('inf')
    for _run in range(runs):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--lines', type=int, default=1_000_000)
    parser.add_argument('--runs', type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'robocopy.log')
        write_log(path, args.lines)
        size = os.path.getsize(path)
        wc = best_of(args.runs, lambda: subprocess.run(['wc', '-l', path], check=True, capture_output=True))
        result = {}
        parse = best_of(args.runs, lambda: result.setdefault('log', _robocopy.parse_log_file(path)))
        log = _robocopy.parse_log_file(path)
        print(f'log: {args.lines:,} lines, {size / 1e6:.1f} MB')
        print(f'wc -l:          {wc * 1000:8.1f} ms (best of {args.runs}, includes process start)')
        print(f'parse_log_file: {parse * 1000:8.1f} ms (best of {args.runs})')
        print(f'ratio parse/wc: {parse / wc:.2f} (target <= 2.00)')
        print(f'found: {len(log.errors)} distinct errors, summary files={log.summary.files if log.summary else None}')
        return 0 if parse <= 2 * wc else 1


if __name__ == '__main__':
    sys.exit(main())
