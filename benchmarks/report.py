"""The results table: each figure, its goal, what was measured, and the comparison measured in the same run.

:func:`rows` turns the scenarios' data into rows; :func:`text_table` and :func:`markdown_table`
print them (the Markdown one is what docs/performance.md quotes).
"""
from __future__ import annotations

import dataclasses
import typing as t

ROUND_TRIP_TOLERANCE = 0.10
BYTES_RATIO_GOAL = 1.01
NOOP_SECONDS_GOAL = 20.0
COPIED_AGAIN_GOAL = 0.05
CONTROLLER_SECONDS_GOAL = 10.0
CONTROLLER_MB_GOAL = 1024
PARSE_RATIO_GOAL = 2.0


@dataclasses.dataclass
class Row:
    """One line of the table; ``met`` is None for a figure reported without a goal."""

    figure: str
    goal: str
    measured: str
    comparison: str
    met: t.Optional[bool]


def _mb(value: float) -> str:
    return f'{value / 1e6:,.1f} MB'


def _deviation(value: float, reference: float) -> float:
    return (value - reference) / reference if reference else 0.0


def _within(value: float, reference: float) -> bool:
    return abs(_deviation(value, reference)) <= ROUND_TRIP_TOLERANCE


def bytes_rows(data: dict) -> list:
    lacking = data['lacking_bytes']
    ours, manual = data['bundle_ratio'], data['manual_ratio']
    return [
        Row('Bytes to the medium / bytes the import server lacks, incremental cycle on a receipt',
            f'<= {BYTES_RATIO_GOAL}', f'{ours:.4f} ({_mb(data["medium_bytes"] - data["package_bytes"])} for {_mb(lacking)})',
            f'manual full copy: {manual:.1f} ({_mb(data["content_bytes"])}); {manual / ours:.0f}x less', ours <= BYTES_RATIO_GOAL),
        Row('  same, the WsusUtil package included (both procedures carry it)', 'report',
            f'{data["bundle_ratio_with_package"]:.3f} (package {_mb(data["package_bytes"])})',
            f'manual full copy: {data["manual_ratio_with_package"]:.1f}', None),
    ]


def _axis_rows(scales: dict, axis: str, label: str) -> list:
    base, other = scales.get('base'), scales.get(axis)
    if base is None or other is None:
        return []
    rows = []
    where = (f'{base["scale"]["files"]:,} vs {other["scale"]["files"]:,} content files' if axis == 'files'
             else f'{base["scale"]["updates"]:,} vs {other["scale"]["updates"]:,} updates')
    for phase, name in (('incremental', 'export + import cycle'), ('rerun', 'rerun with nothing new')):
        for side in ('export', 'import'):
            first = base['incremental'][side] if phase == 'incremental' else base['reruns'][0][side]
            second = other['incremental'][side] if phase == 'incremental' else other['reruns'][0][side]
            deviation = _deviation(second['requests'], first['requests'])
            rows.append(Row(f'WinRM requests, {name}, {side} host ({label})', f'same +-{ROUND_TRIP_TOLERANCE:.0%} ({where})',
                            f'{first["requests"]} -> {second["requests"]} ({deviation:+.1%})',
                            f'bytes {_mb(first["bytes_in"] + first["bytes_out"])} -> {_mb(second["bytes_in"] + second["bytes_out"])}',
                            _within(second['requests'], first['requests'])))
    return rows


def roundtrip_rows(scales: dict) -> list:
    rows = _axis_rows(scales, 'files', 'files axis') + _axis_rows(scales, 'updates', 'updates axis')
    for name, data in scales.items():
        first = data['first']
        rows.append(Row(f'  first cycle (full bundle), {name} lab: requests export / import', 'report',
                        f'{first["export"]["requests"]} / {first["import"]["requests"]}',
                        f'bytes {_mb(first["export"]["winrm_bytes"])} / {_mb(first["import"]["winrm_bytes"])}', None))
    return rows


def noop_rows(scales: dict) -> list:
    rows = []
    for name, data in scales.items():
        seconds = data['rerun_seconds_median']
        runs = ', '.join(f'{run["seconds"]:.1f}' for run in data['reruns'])
        changed = data['rerun_changed']
        rows.append(Row(f'No-op rerun, controller wall time (export + import), {name} lab '
                        f'({data["scale"]["updates"]:,} updates, {data["scale"]["files"]:,} files)',
                        f'< {NOOP_SECONDS_GOAL:.0f} s, changed: false', f'{seconds:.1f} s median ({runs}); changed {changed}',
                        f'{seconds / NOOP_SECONDS_GOAL:.0%} of the goal; incremental cycle {data["incremental"]["seconds"]:.1f} s',
                        seconds < NOOP_SECONDS_GOAL and changed == 0))
        rows.append(Row(f'  lab start, {name} lab', 'report', f'{data["start_seconds"]:.1f} s', '', None))
    return rows


def interruption_rows(data: dict) -> list:
    ratio = data['ratio']
    return [Row('Bytes copied again after a connection drop at 50% of the copy', f'<= {COPIED_AGAIN_GOAL:.0%} of the total',
                f'{ratio:.2%} ({data["copied_again"]:,} of {data["content_bytes"]:,} bytes)',
                f'undisturbed run wrote {data["reference"]["written"]:,}, interrupted {data["interrupted"]["written"]:,}; '
                f'{data["interrupted"]["dropped_requests"]} requests dropped', ratio <= COPIED_AGAIN_GOAL)]


def controller_rows(steps: list, files: int) -> list:
    rows = []
    for step in steps:
        ok = step['seconds'] < CONTROLLER_SECONDS_GOAL and step['max_peak_mb'] < CONTROLLER_MB_GOAL
        rows.append(Row(f'Controller, {files:,} files: {step["description"]}',
                        f'< {CONTROLLER_SECONDS_GOAL:.0f} s, < {CONTROLLER_MB_GOAL} MB',
                        f'{step["seconds"]:.2f} s ({step["cpu_seconds"]:.2f} s CPU), peak {step["max_peak_mb"]} MB',
                        f'{step["above_input_mb"]} MB above its input ({step["input_mb"]} MB: {step["input"]})', ok))
    return rows


def parsing_rows(data: dict) -> list:
    return [Row(f'Robocopy log parse, {data["lines"]:,} lines ({_mb(data["bytes"])})', f'<= {PARSE_RATIO_GOAL:.0f}x wc -l',
                f'{data["parse_seconds"] * 1000:.1f} ms', f'wc -l {data["wc_seconds"] * 1000:.1f} ms: {data["ratio"]:.2f}x',
                data['ratio'] <= PARSE_RATIO_GOAL)]


def rows(results: dict) -> list:
    table = []
    if 'bytes' in results:
        table += bytes_rows(results['bytes'])
    if 'roundtrips' in results:
        table += roundtrip_rows(results['roundtrips'])
        table += noop_rows(results['roundtrips'])
    if 'interruption' in results:
        table += interruption_rows(results['interruption'])
    if 'controller' in results:
        table += controller_rows(results['controller'], results.get('controller_files', 0))
    if 'parsing' in results:
        table += parsing_rows(results['parsing'])
    return table


def _verdict(row: Row) -> str:
    return '' if row.met is None else ('met' if row.met else 'MISSED')


def text_table(table: list) -> str:
    headers = ('figure', 'goal', 'measured', 'comparison (same run)', '')
    cells = [headers] + [(r.figure, r.goal, r.measured, r.comparison, _verdict(r)) for r in table]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ['  '.join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, '  '.join('-' * width for width in widths))
    return '\n'.join(lines)


def markdown_table(table: list) -> str:
    lines = ['| figure | goal | measured | comparison (same run) | |', '|---|---|---|---|---|']
    for row in table:
        cells = (row.figure, row.goal, row.measured, row.comparison, _verdict(row))
        lines.append('| ' + ' | '.join(cell.replace('|', '\\|') for cell in cells) + ' |')
    return '\n'.join(lines)


def operations_table(run: dict, top: int = 12) -> str:
    """The traffic of one playbook run per host-script operation (Markdown), heaviest first."""
    lines = ['| operation | calls | requests | Send | Receive | stdin sent | responses |', '|---|---|---|---|---|---|---|']
    ordered = sorted(run['operations'].items(), key=lambda item: -item[1].get('requests', 0))
    for name, counts in ordered[:top]:
        lines.append(f'| `{name}` | {counts.get("calls", 0)} | {counts.get("requests", 0)} | {counts.get("Send", 0)} | '
                     f'{counts.get("Receive", 0)} | {_mb(counts.get("stdin_bytes", 0))} | {_mb(counts.get("response_bytes", 0))} |')
    return '\n'.join(lines)
