"""Option specs shared by the collection's modules, matched by ``plugins/doc_fragments``.

A module's spec is ``merge_specs(own_options, SUSDB_SPEC, job_spec(...))``; its
``DOCUMENTATION`` extends ``airgap.wsus.susdb`` and ``airgap.wsus.job`` accordingly. The unit
test helper ``tests/unit/plugins/plugin_utils/doc_argspec.py`` checks that the two agree.
"""
from __future__ import annotations

import copy

from ._errors import UsageError

DEFAULT_WORK_DIR = 'C:\\ProgramData\\airgap.wsus'
DEFAULT_TIMEOUT = 86400
DEFAULT_POLL_INTERVAL = 30

SUSDB_OPTIONS = {
    'via': {'type': 'str', 'choices': ['auto', 'controller', 'host'], 'default': 'auto'},
    'connection_string': {'type': 'str', 'no_log': True},
    'server': {'type': 'str'},
    'port': {'type': 'int'},
    'database': {'type': 'str'},
    'driver': {'type': 'str', 'default': 'ODBC Driver 18 for SQL Server'},
    'username': {'type': 'str'},
    'password': {'type': 'str', 'no_log': True},
    'encrypt': {'type': 'bool', 'default': True},
    'trust_server_certificate': {'type': 'bool', 'default': False},
    'timeout': {'type': 'int', 'default': 30},
}

SUSDB_SPEC = {
    'susdb': {
        'type': 'dict',
        'options': SUSDB_OPTIONS,
        'mutually_exclusive': [['connection_string', 'server'], ['connection_string', 'username'],
                               ['connection_string', 'password'], ['connection_string', 'port']],
        'required_together': [['username', 'password']],
    },
}

ON_TIMEOUT_CHOICES = ['cancel', 'leave']


def job_spec(on_timeout_default: str = 'cancel', timeout_default: int = DEFAULT_TIMEOUT) -> dict:
    """Options of modules that run detached jobs (``work_dir``, ``timeout``, ``poll_interval``, ``on_timeout``).

    A module whose job must not be killed half-way (WsusUtil import) passes
    ``on_timeout_default='leave'`` and documents that default in its own ``on_timeout`` entry.
    """
    if on_timeout_default not in ON_TIMEOUT_CHOICES:
        raise UsageError(f'on_timeout default must be one of {ON_TIMEOUT_CHOICES}')
    return {
        'work_dir': {'type': 'str', 'default': DEFAULT_WORK_DIR},
        'timeout': {'type': 'int', 'default': timeout_default},
        'poll_interval': {'type': 'int', 'default': DEFAULT_POLL_INTERVAL},
        'on_timeout': {'type': 'str', 'choices': list(ON_TIMEOUT_CHOICES), 'default': on_timeout_default},
    }


JOB_SPEC = job_spec()


def merge_specs(*specs: dict) -> dict:
    """Merge option specs; an option defined twice is a bug and raises :class:`UsageError`."""
    merged: dict = {}
    for spec in specs:
        for name, option in spec.items():
            if name in merged:
                raise UsageError(f'option {name} is defined twice')
            merged[name] = copy.deepcopy(option)
    return merged


def check_job_values(args: dict) -> list[str]:
    """Return errors for job option values the spec's types cannot express (ranges)."""
    errors = []
    timeout = args.get('timeout')
    if timeout is not None and timeout < 0:
        errors.append('timeout must be 0 (no limit) or a number of seconds')
    interval = args.get('poll_interval')
    if interval is not None and not 1 <= interval <= 3600:
        errors.append('poll_interval must be between 1 and 3600 seconds')
    return errors
