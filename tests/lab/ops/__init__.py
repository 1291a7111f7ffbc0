"""Python twins of the collection's host scripts, and the dispatcher that runs them.

Each module here that defines ``OPERATION`` is the twin of
``plugins/plugin_utils/powershell/<OPERATION>.ps1``::

    OPERATION = 'path_info'
    INPUT = ('Paths',)                    # the header's input list; '?' marks optional ones
    OUTPUT = ('paths',)                   # the header's output keys
    def run(host, params, ctx) -> dict    # params: bound as PowerShell binds them

Adding a twin is adding a module: :func:`twins` discovers them by name. The contract tests
(``tests/integration/lab/ops/test_contracts.py``) keep each twin in step with its script.

:func:`dispatch` binds the parameters the way PowerShell binds a splatted hashtable to the
script's ``param()`` block (:mod:`.binding`), runs the twin, and checks that it answered with
exactly the declared output keys. A twin reports the errors the real script would throw by
raising :class:`HostScriptError`; WSUS API errors (with a ``type_name``) and Win32 errors that
escape a twin are reported the way PowerShell would show them.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import threading
import typing as t

from . import scripts

_NOT_TWINS = frozenset(['scripts', 'binding', 'bootstrap', 'jobs'])


class HostScriptError(Exception):
    """An error the real script would end with (``throw``, or a .NET exception it lets through).

    Becomes the bootstrap's ``AIRGAP-WSUS-ERROR:{message, type, script, line, category}``.
    """

    def __init__(self, message: str, type_name: str = 'System.Management.Automation.RuntimeException',
                 category: str = 'OperationStopped', line: int = 0, script: t.Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.type_name = type_name
        self.category = category
        self.line = line
        self.script = script

    @classmethod
    def thrown(cls, operation: str, needle: str, message: str) -> 'HostScriptError':
        """``throw "message"`` at the line of the script that contains ``needle``."""
        return cls(message, line=scripts.line_of(operation, needle))

    @classmethod
    def method(cls, operation: str, needle: str, method: str, nargs: int, inner: str) -> 'HostScriptError':
        """A .NET method (or ``New-Object`` constructor) that threw, as PowerShell wraps it."""
        return cls(method_message(method, nargs, inner), 'System.Management.Automation.MethodInvocationException',
                   'NotSpecified', scripts.line_of(operation, needle))

    @classmethod
    def drive_not_found(cls, operation: str, needle: str, letter: str) -> 'HostScriptError':
        """What ``Join-Path`` says about a drive that does not exist."""
        return cls("Cannot find drive. A drive with the name '%s' does not exist." % letter,
                   'System.Management.Automation.DriveNotFoundException', 'ObjectNotFound',
                   scripts.line_of(operation, needle))


class LabContractError(RuntimeError):
    """A twin broke its own contract (wrong output keys): a bug in the lab, never in the caller."""


def method_message(method: str, nargs: int, inner: str) -> str:
    """PowerShell's wording for an exception thrown by a .NET method it called."""
    return 'Exception calling "%s" with "%d" argument(s): "%s"' % (method, nargs, inner)


@dataclasses.dataclass
class Invocation:
    """Who runs a host script, and from where (the ``ctx`` twins receive)."""

    username: str
    cwd: t.Any = None
    process: t.Any = None
    operation: str = ''


_TWINS: t.Dict[str, t.Any] = {}
_TWINS_LOCK = threading.Lock()


def twins() -> t.Dict[str, t.Any]:
    """operation -> twin module, for every module of this package that defines ``OPERATION``."""
    with _TWINS_LOCK:
        if not _TWINS:
            for info in pkgutil.iter_modules(__path__):
                if info.name.startswith('_') or info.name in _NOT_TWINS:
                    continue
                module = importlib.import_module('%s.%s' % (__name__, info.name))
                operation = getattr(module, 'OPERATION', None)
                if operation:
                    _TWINS[operation] = module
        return dict(_TWINS)


def dispatch(host: t.Any, operation: str, params: t.Mapping[str, t.Any], ctx: Invocation,
             script: t.Optional[scripts.Script] = None) -> t.Dict[str, t.Any]:
    """Run the twin of ``operation`` with ``params`` bound as PowerShell would bind them."""
    from .binding import bind  # pylint: disable=import-outside-toplevel  # binding needs HostScriptError
    module = twins().get(operation)
    if module is None:
        raise LabContractError('the lab has no twin for host script operation %r; add tests/lab/ops/%s.py'
                               % (operation, operation))
    script = script or scripts.get(operation)
    if script is None:
        raise LabContractError('%s.ps1 is not shipped; the lab only runs the collection\'s own scripts' % operation)
    bound = bind(script, params)
    result = module.run(host, bound, ctx)
    check_output(module, result)
    return result


def check_output(module: t.Any, result: t.Any) -> None:
    """Raise :class:`LabContractError` unless ``result`` has exactly the twin's declared keys."""
    if not isinstance(result, dict):
        raise LabContractError('twin %s returned %s, not a dict' % (module.OPERATION, type(result).__name__))
    declared = set(module.OUTPUT)
    if set(result) != declared:
        raise LabContractError('twin %s returned keys %s; its contract declares %s'
                               % (module.OPERATION, sorted(result), sorted(declared)))


def error_record(exc: BaseException, script_name: str) -> t.Optional[t.Dict[str, t.Any]]:
    """The bootstrap's error object for an exception a twin raised, or None for a lab bug."""
    from ..windows.errors import WinError  # pylint: disable=import-outside-toplevel
    if isinstance(exc, HostScriptError):
        return {'message': exc.message, 'type': exc.type_name, 'script': exc.script or script_name,
                'line': exc.line, 'category': exc.category}
    if isinstance(exc, WinError):
        return {'message': exc.dotnet_message, 'type': exc.dotnet_type, 'script': script_name,
                'line': 0, 'category': 'NotSpecified'}
    type_name = getattr(exc, 'type_name', None)
    if type_name:
        return {'message': getattr(exc, 'message', None) or str(exc), 'type': type_name, 'script': script_name,
                'line': int(getattr(exc, 'line', 0) or 0), 'category': getattr(exc, 'category', None) or 'NotSpecified'}
    return None
