"""Exceptions shared by the collection's controller-side code, and secret redaction.

Every error a user can see names its cause and, where there is one, the fix. Action plugins
(see ``_action.py``) turn these exceptions into failed task results; nothing here talks to a
host.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = '********'


class AirgapWsusError(Exception):
    """Base class: a failure whose message is fit to show to the user as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(AirgapWsusError, ValueError):
    """A programming error in the collection: a call that breaks a documented contract.

    Raised, for example, when a host script is called with a parameter its header does not
    declare. Users should never see it; when they do, it is a bug to report.
    """


class HostScriptError(AirgapWsusError):
    """A host script failed, or its answer could not be read.

    ``kind`` is ``script`` when the script threw (the bootstrap sent ``AIRGAP-WSUS-ERROR``),
    ``protocol`` when the output had no readable result line (PowerShell could not start, the
    answer was cut, ...). ``error_type``, ``script``, ``line`` and ``category`` come from the
    PowerShell error record; ``rc`` is the process exit code; ``stderr`` and ``stdout`` are
    excerpts (never the parameters, which the script never echoes).
    """

    def __init__(self, message: str, *, kind: str = 'script', operation: str = '', error_type: str = '',
                 script: str = '', line: int | None = None, category: str = '', rc: int | None = None,
                 stderr: str = '', stdout: str = '') -> None:
        super().__init__(message)
        self.kind = kind
        self.operation = operation
        self.error_type = error_type
        self.script = script
        self.line = line
        self.category = category
        self.rc = rc
        self.stderr = stderr
        self.stdout = stdout

    def to_result(self) -> dict:
        """Return the facts of this error as task-result keys (no message)."""
        return {
            'host_error': {
                'kind': self.kind,
                'operation': self.operation,
                'type': self.error_type,
                'script': self.script,
                'line': self.line,
                'category': self.category,
                'rc': self.rc,
                'stderr': self.stderr,
            }
        }


class HostUnreachableError(AirgapWsusError):
    """The connection to the host kept failing until the retry deadline passed."""

    def __init__(self, message: str, *, attempts: int = 0, last_error: str = '') -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_error = last_error


class MissingLibraryError(AirgapWsusError):
    """A Python library the controller needs is not installed.

    The message is Ansible's ``missing_required_lib`` text, so it reads like every other
    module's, plus the reason.
    """

    def __init__(self, library: str, reason: str, url: str | None = None) -> None:
        # Imported here: module_utils.basic is heavy and only needed on this path.
        from ansible.module_utils.basic import missing_required_lib  # pylint: disable=import-outside-toplevel

        super().__init__(missing_required_lib(library, reason=reason, url=url))
        self.library = library


class JobError(AirgapWsusError):
    """A detached job could not be started, polled or cancelled."""


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Return ``text`` with every occurrence of each non-empty secret replaced.

    Longer secrets are replaced first, so a secret that contains another is not half-masked.
    """
    if not text:
        return text
    values = sorted({s for s in secrets if isinstance(s, str) and s}, key=len, reverse=True)
    for value in values:
        text = text.replace(value, REDACTED)
    return text


# Keys whose values are secrets in ODBC / ADO.NET connection strings. Matching is
# case-insensitive and ignores spaces around the key, as the drivers do.
_SECRET_KEYS = ('pwd', 'password', 'accesstoken', 'access token', 'clientsecret', 'client secret')
_CONNSTR_PAIR = re.compile(r'(?P<key>[^;=]+)=(?P<value>\s*\{(?:[^}]|\}\})*\}\s*|[^;]*)')


def redact_connection_string(connection_string: str) -> str:
    """Return ``connection_string`` with the values of password-like keys replaced.

    Braced values (``PWD={a;b}}c}``) are recognised as one value, as ODBC parses them.
    """
    if not connection_string:
        return connection_string

    def _replace(match: re.Match) -> str:
        key = match.group('key')
        if key.strip().lower() in _SECRET_KEYS:
            return f'{key}={REDACTED}'
        return match.group(0)

    return _CONNSTR_PAIR.sub(_replace, connection_string)


def connection_string_secrets(connection_string: str) -> list[str]:
    """Return the secret values found in ``connection_string`` (braced and unbraced forms)."""
    found = []
    for match in _CONNSTR_PAIR.finditer(connection_string or ''):
        if match.group('key').strip().lower() in _SECRET_KEYS:
            value = match.group('value').strip()
            if value:
                found.append(value)
                if value.startswith('{') and value.endswith('}'):
                    found.append(value[1:-1].replace('}}', '}'))
    return [v for v in found if v]
