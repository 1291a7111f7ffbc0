# Copyright: airgap.wsus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inject a lab fault at the moment a named task starts: a fault "between steps" of a role.

The reliability tests start the lab's control endpoint (``tests/lab/control.py``) and run
ansible-playbook with this callback enabled and the environment below. When the first task
whose name ends with ``AIRGAP_FAULT_AT_TASK`` starts, before it sends anything to a host, the
callback posts ``AIRGAP_FAULT_BODY`` (a JSON object, as ``FaultPlan.apply`` takes it) for host
``AIRGAP_FAULT_HOST`` to the control endpoint, once.

- ``AIRGAP_CONTROL_PORT``, ``AIRGAP_CONTROL_TOKEN``: the endpoint (the token is never shown).
"""
from __future__ import annotations

import http.client
import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: airgap_fault_at_task
type: aggregate
short_description: inject a lab fault when a named task starts (airgap.wsus reliability tests)
description:
  - Posts a WinRM fault to the emulated lab's control endpoint when the first task whose name ends with
    AIRGAP_FAULT_AT_TASK starts.
requirements:
  - AIRGAP_FAULT_AT_TASK, AIRGAP_FAULT_HOST, AIRGAP_FAULT_BODY, AIRGAP_CONTROL_PORT and AIRGAP_CONTROL_TOKEN in the environment
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'airgap_fault_at_task'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._task = os.environ.get('AIRGAP_FAULT_AT_TASK') or ''
        self._done = not self._task

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._done or not task.get_name().endswith(self._task):
            return
        self._done = True
        connection = http.client.HTTPConnection('127.0.0.1', int(os.environ['AIRGAP_CONTROL_PORT']), timeout=10)
        try:
            body = os.environ.get('AIRGAP_FAULT_BODY') or '{}'
            connection.request('POST', f'/v1/hosts/{os.environ["AIRGAP_FAULT_HOST"]}/faults', body=body.encode('utf-8'),
                               headers={'X-Lab-Token': os.environ['AIRGAP_CONTROL_TOKEN'], 'Content-Type': 'application/json'})
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                raise RuntimeError(f'the lab refused the fault {json.loads(body)!r}: HTTP {answer.status}')
        finally:
            connection.close()
