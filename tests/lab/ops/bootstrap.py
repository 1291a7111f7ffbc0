"""What ``bootstrap.ps1`` does on a real host, done against an emulated one.

It reads the first non-empty stdin line as ``{"name", "script", "params"}``, refuses a script
that is not byte for byte one of the collection's (the lab runs nothing else: that is a
loud failure, never a guess), runs the script's twin with the parameters bound as PowerShell
binds a splat, and answers like the real bootstrap: the last stdout line is
``AIRGAP-WSUS-RESULT:<json>`` with exit code 0, or ``AIRGAP-WSUS-ERROR:{"message", "type",
"script", "line", "category"}`` with exit code 1. The JSON is what ``ConvertTo-Json
-Compress`` writes (Windows PowerShell 5.1 escapes ``< > & '``), then every non-ASCII
character becomes ``\\uXXXX``.
"""
from __future__ import annotations

import json
import re
import traceback
import typing as t

from . import Invocation, LabContractError, dispatch, error_record, scripts, twins

RESULT_TAG = 'AIRGAP-WSUS-RESULT:'
ERROR_TAG = 'AIRGAP-WSUS-ERROR:'
_JSS_ESCAPES = {'<': '\\u003c', '>': '\\u003e', '&': '\\u0026', "'": '\\u0027'}


def to_json(value: t.Any) -> str:
    """``ConvertTo-Json -Compress`` as Windows PowerShell 5.1 writes it, then ASCII-escaped."""
    text = json.dumps(value, separators=(',', ':'), ensure_ascii=True, allow_nan=False)
    return re.sub(r"[<>&']", lambda m: _JSS_ESCAPES[m.group(0)], text)


def _bootstrap_line(needle: str) -> int:
    boot = scripts.get(scripts.BOOTSTRAP)
    if boot is None:
        return 0
    for number, line in enumerate(scripts.normalize_command(boot.text).split('\n'), 1):
        if needle in line:
            return number
    return 0


def _codec(codepage: int) -> str:
    return 'utf-8' if codepage == 65001 else 'cp%d' % codepage


def run(proc: t.Any) -> int:
    """Run the bootstrap protocol in the emulated ``powershell.exe`` process ``proc``."""
    origin = 'bootstrap.ps1'
    try:
        text = proc.stdin.decode(_codec(proc.codepage), errors='replace')
        line = next((item for item in text.splitlines() if item), None)
        if line is None:
            raise _HostError("Cannot bind argument to parameter 'InputObject' because it is null.",
                             'System.Management.Automation.ParameterBindingValidationException', 'InvalidData',
                             _bootstrap_line('ConvertFrom-Json'))
        try:
            payload = json.loads(line)
        except ValueError as exc:
            raise _HostError('Invalid JSON primitive: %s.' % line[:40], 'System.ArgumentException', 'NotSpecified',
                             _bootstrap_line('ConvertFrom-Json')) from exc
        if not isinstance(payload, dict):
            payload = {}
        origin = ('' if payload.get('name') is None else str(payload.get('name'))) + '.ps1'
        params = payload.get('params') if isinstance(payload.get('params'), dict) else {}
        script_text = payload.get('script')
        script = scripts.find_by_text(script_text if isinstance(script_text, str) else '')
        if script is None or script.operation not in twins():
            return _not_emulated(proc, origin, script_text)
        ctx = Invocation(username=proc.username, cwd=proc.cwd, process=proc, operation=script.operation or '')
        result = dispatch(proc.host, script.operation or '', params, ctx, script)
        proc.write(RESULT_TAG + to_json(result) + '\n')
        return 0
    except Exception as exc:  # pylint: disable=broad-except
        record = error_record(exc, origin)
        if record is None or isinstance(exc, LabContractError):
            # A bug in a twin: make it impossible to miss, and keep the protocol's framing.
            proc.error('The airgap.wsus lab failed while emulating %s (a bug in tests/lab, not in the caller):\n%s'
                       % (origin, traceback.format_exc()))
            record = {'message': 'lab emulation of %s crashed: %s: %s' % (origin, type(exc).__name__, exc),
                      'type': 'AirgapWsusLab.EmulationError', 'script': origin, 'line': 0, 'category': 'NotSpecified'}
        proc.write(ERROR_TAG + to_json(record) + '\n')
        return 1


class _HostError(Exception):
    """An error the bootstrap itself throws (before any script runs)."""

    def __init__(self, message: str, type_name: str, category: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.type_name = type_name
        self.category = category
        self.line = line


def _not_emulated(proc: t.Any, origin: str, script_text: t.Any) -> int:
    text = script_text if isinstance(script_text, str) else ''
    head = '\n'.join('    ' + line for line in text.splitlines()[:6]) or '    (empty)'
    shipped = ', '.join(sorted(twins()))
    message = ('the airgap.wsus lab runs only the collection\'s own host scripts, byte for byte; the script sent as %s '
               'is not one of them (shipped: %s). It begins:\n%s' % (origin, shipped, head))
    proc.error(message + '\nSend scripts with plugins/plugin_utils/_host_script.py, which reads them from '
               'plugins/plugin_utils/powershell, or add a twin under tests/lab/ops.\n')
    record = {'message': message, 'type': 'AirgapWsusLab.ScriptNotEmulated', 'script': origin, 'line': 0,
              'category': 'NotImplemented'}
    proc.write(ERROR_TAG + to_json(record) + '\n')
    return 1
