"""Secrets stay out of messages."""
from __future__ import annotations

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import (
    REDACTED, HostScriptError, MissingLibraryError, connection_string_secrets, redact, redact_connection_string)


def test_redact_replaces_every_secret_longest_first():
    assert redact('pw=abc123 and abc', ['abc', 'abc123', None, '']) == f'pw={REDACTED} and {REDACTED}'
    assert redact('', ['x']) == ''
    assert redact('nothing here', []) == 'nothing here'


@pytest.mark.parametrize('given, expected', [
    ('DRIVER={ODBC Driver 18};SERVER=db;UID=u;PWD=s3cret;', f'DRIVER={{ODBC Driver 18}};SERVER=db;UID=u;PWD={REDACTED};'),
    ('Server=db; Password = {a;b}}c} ;Database=SUSDB', f'Server=db; Password ={REDACTED};Database=SUSDB'),
    ('server=db;pwd=x', f'server=db;pwd={REDACTED}'),
    ('Server=db;Access Token=tok;', f'Server=db;Access Token={REDACTED};'),
    ('Server=db;Trusted_Connection=yes', 'Server=db;Trusted_Connection=yes'),
])
def test_connection_string_redaction(given, expected):
    assert redact_connection_string(given) == expected


def test_connection_string_secrets_include_unbraced_form():
    assert connection_string_secrets('Server=db;PWD={a;b}}c}') == ['{a;b}}c}', 'a;b}c']


def test_missing_library_message_is_ansibles():
    error = MissingLibraryError('pyodbc', 'to query SUSDB')
    assert 'Failed to import the required Python library (pyodbc)' in str(error)
    assert 'This is required to query SUSDB.' in str(error)


def test_host_script_error_facts():
    error = HostScriptError('boom', kind='protocol', operation='x', rc=1, stderr='err')
    assert str(error) == 'boom'
    assert error.to_result() == {'host_error': {'kind': 'protocol', 'operation': 'x', 'type': '', 'script': '', 'line': None,
                                                'category': '', 'rc': 1, 'stderr': 'err'}}
