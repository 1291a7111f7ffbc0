"""Shared option specs agree with their documentation fragments; the checking helper works."""
from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.airgap.wsus.plugins.plugin_utils import _argspec
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import UsageError
from ansible_collections.airgap.wsus.tests.unit.plugins.plugin_utils.doc_argspec import assert_doc_matches_spec, compare, documented_options

MODULE_DOC = r'''
module: demo
short_description: demo
description: [demo]
options:
  path:
    description: [a path]
    type: str
    required: true
extends_documentation_fragment:
  - airgap.wsus.susdb
  - airgap.wsus.job
'''


def test_fragments_match_the_shared_specs():
    spec = _argspec.merge_specs({'path': {'type': 'str', 'required': True}}, _argspec.SUSDB_SPEC, _argspec.JOB_SPEC)
    assert_doc_matches_spec(MODULE_DOC, spec)


def test_module_can_override_a_fragment_default():
    doc = MODULE_DOC + '''
'''
    doc = doc.replace('options:\n', 'options:\n  on_timeout:\n    default: leave\n')
    spec = _argspec.merge_specs({'path': {'type': 'str', 'required': True}}, _argspec.SUSDB_SPEC,
                                _argspec.job_spec(on_timeout_default='leave'))
    assert documented_options(doc)['on_timeout']['choices'] == ['cancel', 'leave']
    assert_doc_matches_spec(doc, spec)
    with pytest.raises(AssertionError, match='on_timeout: default'):
        assert_doc_matches_spec(MODULE_DOC, spec)


def test_helper_reports_every_difference():
    spec = _argspec.merge_specs(_argspec.SUSDB_SPEC, _argspec.JOB_SPEC, {'extra': {'type': 'int'}})
    spec['susdb']['options']['port'] = {'type': 'str'}
    problems = compare(documented_options(MODULE_DOC), spec)
    assert 'path: documented but not in the argument spec' in problems
    assert 'extra: in the argument spec but not documented' in problems
    assert "susdb.port: type is 'int' in the documentation but 'str' in the spec" in problems


def test_specs_validate_as_ansible_does():
    spec = _argspec.merge_specs(_argspec.SUSDB_SPEC, _argspec.JOB_SPEC)
    result = ArgumentSpecValidator(spec).validate({'susdb': {'server': 'sql01', 'username': 'u', 'password': 'pw'}})
    assert result.error_messages == []
    params = result.validated_parameters
    assert params['susdb']['via'] == 'auto' and params['susdb']['encrypt'] is True
    assert params['work_dir'] == 'C:\\ProgramData\\airgap.wsus' and params['on_timeout'] == 'cancel'
    assert 'pw' in result._no_log_values
    bad = ArgumentSpecValidator(spec).validate({'susdb': {'connection_string': 'x', 'server': 'y'}})
    assert 'mutually exclusive' in ' '.join(bad.error_messages)
    assert ArgumentSpecValidator(spec).validate({'susdb': {'username': 'u'}}).error_messages
    assert ArgumentSpecValidator(spec).validate({}).validated_parameters['susdb'] is None


def test_merge_and_ranges():
    with pytest.raises(UsageError, match='defined twice'):
        _argspec.merge_specs(_argspec.JOB_SPEC, {'timeout': {'type': 'int'}})
    with pytest.raises(UsageError):
        _argspec.job_spec(on_timeout_default='explode')
    assert _argspec.check_job_values({'timeout': -1, 'poll_interval': 0}) == [
        'timeout must be 0 (no limit) or a number of seconds', 'poll_interval must be between 1 and 3600 seconds']
    assert _argspec.check_job_values({'timeout': 0, 'poll_interval': 30}) == []
