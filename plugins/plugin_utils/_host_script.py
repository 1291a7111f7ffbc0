"""Run the collection's PowerShell host scripts over the task host's own connection.

Protocol (docs/architecture.md, "Host-side script protocol"): the fixed text of
``powershell/bootstrap.ps1`` is the command, ``connection.exec_command(bootstrap,
in_data=payload)``; the payload is one ASCII JSON line ``{"name", "script", "params"}``. The
connection plugin (``winrm`` or ``psrp``) wraps the command itself. The bootstrap answers with
a last stdout line ``AIRGAP-WSUS-RESULT:<json>`` (exit 0) or ``AIRGAP-WSUS-ERROR:<json>``
(exit 1). So the command line never changes, whatever the parameters, and no parameter is
ever part of PowerShell source text.

Parameters are checked against the script's header before anything is sent: an unknown or
missing parameter is a bug in the caller (:class:`UsageError`), not a host failure.

Connections drop (WinRM idle timeouts, a restarted WinRM service, a flaky network).
:meth:`HostScriptRunner.run_retrying` resets the connection and retries with backoff, until a
deadline, for the operations in :data:`IDEMPOTENT_OPERATIONS` only; anything else runs once.
Parameter values are never logged or put in messages.
"""
from __future__ import annotations

import json
import os
import pkgutil
import re
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from ansible.errors import AnsibleConnectionFailure, AnsibleError

from ._errors import HostScriptError, HostUnreachableError, UsageError, redact

try:
    import requests.exceptions as _requests_exceptions
except ImportError:  # pragma: no cover - requests comes with pywinrm and pypsrp
    _requests_exceptions = None

_CERTIFICATE_FAILURE_RE = re.compile(r'CERTIFICATE_VERIFY_FAILED|certificate verify failed|WRONG_VERSION_NUMBER|SSLCertVerificationError')
_REQUESTS_DROPPED = () if _requests_exceptions is None else (
    _requests_exceptions.ConnectionError, _requests_exceptions.Timeout, _requests_exceptions.ChunkedEncodingError)

try:
    import winrm.exceptions as _winrm_exceptions
except ImportError:
    _winrm_exceptions = None

try:
    import pypsrp.exceptions as _psrp_exceptions
except ImportError:
    _psrp_exceptions = None

RESULT_PREFIX = 'AIRGAP-WSUS-RESULT:'
ERROR_PREFIX = 'AIRGAP-WSUS-ERROR:'
HEADER_MARKER = '# airgap.wsus host script'
BOOTSTRAP = 'bootstrap'
# The detached worker is written to disk by job_start and run by PowerShell itself, never
# through the bootstrap.
NOT_BOOTSTRAPPED = frozenset(['job_runner'])
# Operations that can be sent again after a dropped connection without changing the outcome:
# reads, polls, job_start (idempotent by job id: a second call re-attaches), job_cancel
# (killing twice is killing once), digest_write and file_copy (atomic, and the same inputs give
# the same bytes) and file_write (atomic; the same content twice is unchanged,
# but then reports changed: false, so a caller that reports changes checks
# HostScriptRunner.last_attempts or compares before writing). config_set is not retried: its
# before/after report would be wrong after a Save() whose answer was lost.
IDEMPOTENT_OPERATIONS = frozenset([
    'server_state', 'susdb_query', 'path_info', 'dir_list', 'file_hash', 'content_inventory', 'content_delta', 'file_read',
    'file_write', 'file_copy', 'digest_write', 'job_start', 'job_poll', 'job_cancel', 'approvals_read',
])
EXCERPT_CHARS = 2000
_NAME_RE = re.compile(r'^[a-z][a-z0-9_]*$')
_PARAM_RE = re.compile(r'^[A-Z][A-Za-z0-9]*$')
_OUTPUT_RE = re.compile(r'^[a-z][a-z0-9_]*$')
# WS-Management faults that mean the shell or session is gone and a new one will work:
# 0x8033805B shell not found (WinRM restarted, idle timeout), 0x80338029 operation timed out
# on the server side of a receive, 0x803381A6 operations quota (Ansible normally recovers).
_RECOVERABLE_WSMAN_CODES = frozenset([0x8033805B, 0x80338029, 0x803381A6])
_CONNECTION_MESSAGES = ('the connection attempt timed out', 'winrm send_input failed', 'connection aborted',
                        'connection reset', 'connection refused', 'broken pipe', 'max retries exceeded')


@dataclass(frozen=True)
class ScriptParam:
    """A ``param()`` name from a script header; ``optional`` when the header marks it ``?``."""

    name: str
    optional: bool


@dataclass(frozen=True)
class HostScript:
    """A host script: its text and the contract its header declares."""

    name: str
    text: str
    inputs: tuple
    outputs: tuple

    def check_params(self, params: Mapping | None) -> dict:
        """Return the parameters to send, after checking them against the header.

        ``None`` values are dropped (the script's default applies). Raises
        :class:`UsageError` naming unknown, missing or unserialisable parameters.
        """
        params = dict(params or {})
        known = {p.name for p in self.inputs}
        unknown = sorted(set(params) - known)
        if unknown:
            raise UsageError(f'host script {self.name} has no parameter(s) {", ".join(unknown)}; '
                             f'it takes {", ".join(sorted(known)) or "none"}')
        sent = {k: v for k, v in params.items() if v is not None}
        missing = [p.name for p in self.inputs if not p.optional and p.name not in sent]
        if missing:
            raise UsageError(f'host script {self.name} needs parameter(s) {", ".join(missing)}')
        for key, value in sent.items():
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise UsageError(f'parameter {key} of host script {self.name} is not JSON data: {exc}') from None
        return sent


def parse_header(name: str, text: str) -> HostScript:
    """Parse the ``# key: value`` header at the top of host script ``name``.

    Raises :class:`UsageError` when the header is missing, malformed or names another
    operation: a broken header is a packaging bug.
    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != HEADER_MARKER:
        raise UsageError(f'{name}.ps1 does not start with "{HEADER_MARKER}"')
    fields: dict[str, str] = {}
    for line in lines[1:]:
        match = re.match(r'^#\s*([a-z_]+):\s*(.*?)\s*$', line)
        if not match:
            break
        key, value = match.groups()
        if key in fields:
            raise UsageError(f'{name}.ps1 header repeats "{key}"')
        fields[key] = value
    for key in ('operation', 'input', 'output'):
        if key not in fields:
            raise UsageError(f'{name}.ps1 header lacks "# {key}:"')
    if fields['operation'] != name:
        raise UsageError(f'{name}.ps1 declares operation {fields["operation"]!r}; it must equal the file name')
    inputs = []
    for item in _split_list(fields['input']):
        optional = item.endswith('?')
        pname = item.rstrip('?')
        if not _PARAM_RE.match(pname):
            raise UsageError(f'{name}.ps1 header input {item!r} is not a PowerShell parameter name')
        inputs.append(ScriptParam(pname, optional))
    outputs = _split_list(fields['output'])
    for item in outputs:
        if not _OUTPUT_RE.match(item):
            raise UsageError(f'{name}.ps1 header output {item!r} is not a snake_case key')
    return HostScript(name=name, text=text, inputs=tuple(inputs), outputs=tuple(outputs))


def _split_list(value: str) -> list[str]:
    value = value.strip()
    if not value or value in ('-', '\u2014', '(none)'):
        return []
    return [part.strip() for part in value.split(',') if part.strip()]


def _script_dir() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), 'powershell')


def _read_text(file_name: str) -> str:
    path = os.path.join(_script_dir(), file_name)
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except OSError:
        # A collection loaded through a loader without real files still serves package data.
        try:
            data = pkgutil.get_data(__package__, f'powershell/{file_name}') if __package__ else None
        except OSError:
            data = None
        if data is None:
            raise UsageError(f'the collection is incomplete: {file_name} is missing from plugins/plugin_utils/powershell') from None
    return data.decode('utf-8')


def list_scripts() -> list[str]:
    """Return the names of all host scripts shipped with the collection (without ``.ps1``)."""
    return sorted(f[:-4] for f in os.listdir(_script_dir()) if f.endswith('.ps1') and f[:-4] != BOOTSTRAP)


@lru_cache(maxsize=None)
def load_script(name: str) -> HostScript:
    """Return host script ``name`` with its parsed header."""
    if not _NAME_RE.match(name or '') or name == BOOTSTRAP:
        raise UsageError(f'{name!r} is not a host script name')
    return parse_header(name, _read_text(f'{name}.ps1'))


@lru_cache(maxsize=None)
def bootstrap_text() -> str:
    """Return the bootstrap command text (the same for every call)."""
    return _read_text(f'{BOOTSTRAP}.ps1')


def build_payload(script: HostScript, params: Mapping | None = None) -> bytes:
    """Return the stdin payload for ``script``: one ASCII JSON line and a newline."""
    if script.name in NOT_BOOTSTRAPPED:
        raise UsageError(f'{script.name} is not run through the bootstrap')
    sent = script.check_params(params)
    line = json.dumps({'name': script.name, 'script': script.text, 'params': sent},
                      ensure_ascii=True, allow_nan=False, separators=(',', ':'))
    return (line + '\n').encode('ascii')


def _text(data) -> str:
    if data is None:
        return ''
    if isinstance(data, bytes):
        return data.decode('utf-8', 'replace')
    return str(data)


def _stderr_text(stderr) -> str:
    raw = stderr if isinstance(stderr, bytes) else _text(stderr).encode('utf-8')
    if b'#< CLIXML' in raw:
        try:
            from ansible.plugins.shell.powershell import _replace_stderr_clixml  # pylint: disable=import-outside-toplevel
            raw = _replace_stderr_clixml(raw)
        except ImportError:  # ansible-core < 2.17 has only the whole-stream parser
            from ansible.plugins.shell.powershell import _parse_clixml  # pylint: disable=import-outside-toplevel
            try:
                raw = _parse_clixml(raw[raw.find(b'#< CLIXML'):])
            except Exception:  # pylint: disable=broad-except
                pass
    return raw.decode('utf-8', 'replace')


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else '...' + text[-limit:]


def parse_response(operation: str, rc: int | None, stdout, stderr, secrets=()) -> dict:
    """Return the result object from a bootstrap run, or raise :class:`HostScriptError`.

    The framed line is looked for from the end; other stdout lines (a profile's or a
    ``Write-Host``'s output) are ignored. ``secrets`` are redacted from every excerpt.
    """
    out = _text(stdout)
    frame = None
    for line in reversed(out.splitlines()):
        line = line.strip()
        if line.startswith(RESULT_PREFIX) or line.startswith(ERROR_PREFIX):
            frame = line
            break
    err = _stderr_text(stderr)
    err_excerpt = redact(_excerpt(err), secrets)
    if frame is None:
        hint = ('Check that Windows PowerShell 5.1 runs for this account on the host '
                '(powershell.exe -NoProfile -Command $PSVersionTable) and that nothing (a profile, an '
                'antivirus) blocks it.')
        detail = f' PowerShell said: {err_excerpt}' if err_excerpt else ''
        raise HostScriptError(f'host script {operation} returned no result (exit code {rc}).{detail} {hint}',
                              kind='protocol', operation=operation, rc=rc, stderr=err_excerpt,
                              stdout=redact(_excerpt(out), secrets))
    is_error = frame.startswith(ERROR_PREFIX)
    body = frame[len(ERROR_PREFIX if is_error else RESULT_PREFIX):]
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise HostScriptError(f'host script {operation} answered with unreadable JSON ({exc}); the output was probably cut off',
                              kind='protocol', operation=operation, rc=rc, stderr=err_excerpt,
                              stdout=redact(_excerpt(out), secrets)) from None
    if is_error:
        if not isinstance(data, dict):
            data = {'message': str(data)}
        message = redact(str(data.get('message') or 'unknown error'), secrets)
        script = str(data.get('script') or f'{operation}.ps1')
        line = data.get('line') if isinstance(data.get('line'), int) else None
        where = f'{script} line {line}' if line else script
        raise HostScriptError(f'host script {operation} failed: {message} ({data.get("type") or "error"} at {where})',
                              kind='script', operation=operation, error_type=str(data.get('type') or ''),
                              script=script, line=line, category=str(data.get('category') or ''), rc=rc,
                              stderr=err_excerpt)
    return data


def check_outputs(script: HostScript, result) -> dict:
    """Raise :class:`HostScriptError` unless ``result`` is an object with every declared output key."""
    if not isinstance(result, dict):
        raise HostScriptError(f'host script {script.name} returned {type(result).__name__}, not an object',
                              kind='protocol', operation=script.name)
    missing = [key for key in script.outputs if key not in result]
    if missing:
        raise HostScriptError(f'host script {script.name} returned no {", ".join(missing)}: the script and the '
                              'collection are out of step (reinstall the collection)', kind='protocol', operation=script.name)
    return result


def _secret_values(params: Mapping | None) -> list[str]:
    values: list[str] = []

    def _walk(value) -> None:
        if isinstance(value, str):
            if len(value) >= 3:
                values.append(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                _walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                _walk(item)

    _walk(dict(params or {}))
    return values


def run(connection, name: str, params: Mapping | None = None, sensitive: bool = False) -> dict:
    """Run host script ``name`` once over ``connection`` and return its result object.

    ``sensitive`` redacts every string parameter value from error messages and excerpts.
    """
    script = load_script(name)
    payload = build_payload(script, params)
    rc, stdout, stderr = connection.exec_command(bootstrap_text(), in_data=payload, sudoable=False)
    secrets = _secret_values(params) if sensitive else ()
    return check_outputs(script, parse_response(name, rc, stdout, stderr, secrets))


def _exception_chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_connection_error(exc: BaseException) -> bool:
    """Return whether ``exc`` means the connection dropped (so a reset and a retry may work).

    Ansible's ``winrm`` plugin raises ``AnsibleConnectionFailure`` for connect errors and HTTP
    timeouts but lets ``requests`` connection errors, pywinrm transport errors and WS-Management
    faults through; ``psrp`` wraps some in ``AnsibleConnectionFailure`` too. Credentials that
    are rejected (HTTP 401) are not a dropped connection: retrying cannot help. Nor is a
    certificate the controller does not trust: ``requests`` raises it as a ``ConnectionError``
    too, but it fails the same way for as long as the retry window lasts.
    """
    if certificate_rejected(exc):
        return False
    for item in _exception_chain(exc):
        if isinstance(item, HostScriptError):
            return False
        if isinstance(item, AnsibleConnectionFailure):
            return 'credentials were rejected' not in str(item)
        if _requests_exceptions is not None and isinstance(item, _REQUESTS_DROPPED):
            return True
        for module in (_winrm_exceptions, _psrp_exceptions):
            if module is None:
                continue
            fault = getattr(module, 'WSManFaultError', None)
            if fault is not None and isinstance(item, fault):
                code = getattr(item, 'wmierror_code', None) or getattr(item, 'code', None)
                try:
                    return int(code) in _RECOVERABLE_WSMAN_CODES
                except (TypeError, ValueError):
                    return False
            transport = getattr(module, 'WinRMTransportError', None)
            if transport is not None and isinstance(item, transport):
                return getattr(item, 'code', None) != 401
            timeout = getattr(module, 'WinRMOperationTimeoutError', None)
            if timeout is not None and isinstance(item, timeout):
                return True
        if isinstance(item, (ConnectionError, TimeoutError)):
            return True
        if isinstance(item, AnsibleError) and any(m in str(item).lower() for m in _CONNECTION_MESSAGES):
            return True
    return False


def certificate_rejected(exc: BaseException) -> bool:
    """Return whether ``exc`` means the controller refused the host's HTTPS certificate (or its TLS handshake)."""
    for item in _exception_chain(exc):
        if isinstance(item, ssl.SSLCertVerificationError):
            return True
        if _CERTIFICATE_FAILURE_RE.search(str(item)):
            return True
    return False


def credentials_rejected(exc: BaseException) -> bool:
    """Return whether ``exc`` means the host refused the account's credentials (HTTP 401).

    Ansible's ``winrm`` plugin says so in an ``AnsibleConnectionFailure`` when it connects;
    pywinrm raises ``InvalidCredentialsError`` (or a 401 transport error) when a password
    changes while a shell is open; pypsrp raises ``AuthenticationError``. Retrying cannot help,
    and the host itself is up.
    """
    for item in _exception_chain(exc):
        if 'credentials were rejected' in str(item):
            return True
        psrp_auth = getattr(_psrp_exceptions, 'AuthenticationError', None) if _psrp_exceptions is not None else None
        if psrp_auth is not None and isinstance(item, psrp_auth):
            return True
        if _winrm_exceptions is not None:
            invalid = getattr(_winrm_exceptions, 'InvalidCredentialsError', None)
            if invalid is not None and isinstance(item, invalid):
                return True
            transport = getattr(_winrm_exceptions, 'WinRMTransportError', None)
            if transport is not None and isinstance(item, transport) and getattr(item, 'code', None) == 401:
                return True
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to retry an idempotent call over a dropping connection."""

    timeout: float = 600.0
    initial_delay: float = 2.0
    factor: float = 2.0
    max_delay: float = 30.0

    def delays(self):
        """Yield the waits between attempts: ``initial_delay`` growing by ``factor`` up to ``max_delay``."""
        delay = self.initial_delay
        while True:
            yield delay
            delay = min(self.max_delay, delay * self.factor)


class HostScriptRunner:
    """Runs host scripts over one connection; the I/O edge every other helper goes through.

    ``log`` receives human-readable notes (retries); pass ``display.vv`` from an action
    plugin. ``sleep`` and ``clock`` are injectable for tests.
    """

    def __init__(self, connection, log: Callable[[str], None] | None = None, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.connection = connection
        self.log = log or (lambda message: None)
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.calls = 0
        self.reconnects = 0
        # Attempts the last run_retrying() needed; above 1, an earlier attempt may have acted.
        self.last_attempts = 0

    def run(self, name: str, params: Mapping | None = None, sensitive: bool = False) -> dict:
        """Run ``name`` once. Connection errors propagate unchanged."""
        self.calls += 1
        return run(self.connection, name, params, sensitive=sensitive)

    def run_retrying(self, name: str, params: Mapping | None = None, sensitive: bool = False,
                     deadline: float | None = None) -> dict:
        """Run idempotent operation ``name``, resetting the connection and retrying when it drops.

        Retries stop at ``deadline`` (a ``clock()`` value) or after the policy's timeout,
        whichever comes first; then :class:`HostUnreachableError` is raised. Script errors are
        never retried.
        """
        if name not in IDEMPOTENT_OPERATIONS:
            raise UsageError(f'host script {name} is not idempotent and must not be retried; call run()')
        script = load_script(name)
        script.check_params(params)  # a usage error must not turn into retries
        start = self.clock()
        limit = start + self.retry.timeout
        if deadline is not None:
            limit = min(limit, deadline)
        attempts = 0
        delays = self.retry.delays()
        while True:
            attempts += 1
            self.last_attempts = attempts
            try:
                return self.run(name, params, sensitive=sensitive)
            except Exception as exc:  # pylint: disable=broad-except
                if not is_connection_error(exc):
                    raise
                delay = next(delays)
                now = self.clock()
                if now + delay > limit:
                    raise HostUnreachableError(
                        f'the connection to the host kept failing for {int(now - start)} s while running {name} '
                        f'({attempts} attempt(s)); last error: {_short(exc)}. Check that the host is up and WinRM '
                        'answers, then run the task again (detached jobs keep running and are re-attached).',
                        attempts=attempts, last_error=_short(exc)) from exc
                self.log(f'connection lost during {name} ({_short(exc)}); reconnecting in {delay:g} s')
                self.sleep(delay)
                self._reset()

    def _reset(self) -> None:
        self.reconnects += 1
        try:
            self.connection.reset()
        except Exception as exc:  # pylint: disable=broad-except
            # The host may still be down; the next attempt fails the same way and is retried.
            self.log(f'reconnect failed: {_short(exc)}')


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) <= 300 else first[:300] + '...'
