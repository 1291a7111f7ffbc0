"""Test-only callback: write every task result, per host, as JSON to ``$LAB_RESULTS_FILE``."""
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'lab_results'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.results = []

    def _record(self, status, result):
        host = getattr(result, 'host', None) or result._host
        task = getattr(result, 'task', None) or result._task
        data = getattr(result, 'result', None)
        if data is None:
            data = result._result
        self.results.append({'host': host.get_name(), 'task': task.get_name(), 'status': status, 'result': data})

    def v2_runner_on_ok(self, result):
        self._record('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record('failed', result)

    def v2_runner_on_unreachable(self, result):
        self._record('unreachable', result)

    def v2_playbook_on_stats(self, stats):
        with open(os.environ['LAB_RESULTS_FILE'], 'w', encoding='utf-8') as handle:
            json.dump(self.results, handle, default=str)
