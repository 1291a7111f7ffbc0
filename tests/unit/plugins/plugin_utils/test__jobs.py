"""Detached jobs: pure logic (ids, backoff, progress, poll interpretation) and the driver loop
against a fake host whose jobs advance with a fake clock."""
from __future__ import annotations

import base64

import pytest

from ansible_collections.airgap.wsus.plugins.plugin_utils import _jobs as j
from ansible_collections.airgap.wsus.plugins.plugin_utils._errors import JobError, UsageError


def test_job_id_is_stable_and_canonical():
    a = j.job_id_for('copy', {'src': 'C:\\WSUS', 'dest': 'E:\\b', 'opts': {'x': 1, 'y': [1, 2]}})
    b = j.job_id_for('copy', {'opts': {'y': [1, 2], 'x': 1}, 'dest': 'E:\\b', 'src': 'C:\\WSUS'})
    assert a == b and len(a) == 16 and int(a, 16) >= 0 and a == a.lower()
    assert j.job_id_for('copy', {'src': 'C:\\WSUS', 'dest': 'E:\\c', 'opts': {'x': 1, 'y': [1, 2]}}) != a
    assert j.job_id_for('export', {'src': 'C:\\WSUS', 'dest': 'E:\\b', 'opts': {'x': 1, 'y': [1, 2]}}) != a
    with pytest.raises(UsageError):
        j.job_id_for('', {})


def test_backoff_grows_to_the_cap_and_resets():
    backoff = j.BackoffSchedule(initial=2, factor=1.5, cap=10)
    assert [backoff.next() for _step in range(7)] == [2, 3, 4.5, 6.75, 10, 10, 10]
    backoff.reset()
    assert backoff.next() == 2
    assert j.BackoffSchedule(initial=5, cap=1).next() == 1
    with pytest.raises(UsageError):
        j.BackoffSchedule(initial=0)


def test_progress_from_free_space():
    est = j.ProgressEstimator(total_bytes=1000, baseline_free=5000, window=100)
    first = est.update(0, 5000)
    assert first.percent == 0.0 and first.eta is None
    p = est.update(10, 4900)
    assert p.done_bytes == 100 and p.percent == 10.0 and p.rate == 10 and p.eta == 90
    # Another process freeing space never makes progress negative; overshoot is clamped.
    assert est.update(20, 6000).done_bytes == 0
    assert est.update(30, 3000).percent == 100.0
    assert j.ProgressEstimator(None).update(5, 100).percent is None
    assert j.ProgressEstimator(1000, 100).update(5, None).done_bytes is None


def test_progress_rate_follows_recent_window():
    est = j.ProgressEstimator(total_bytes=10_000, baseline_free=10_000, window=60)
    for t in range(0, 601, 30):
        free = 10_000 - min(t, 300) * 10   # copies 10 B/s for 5 minutes, then stalls
        p = est.update(t, free)
    assert p.rate == 0 and p.eta is None and p.percent == 30.0


POLL = {
    'state': 'running', 'now': '2024-03-05T10:20:00.000Z', 'free_bytes': 123, 'started_at': '2024-03-05T10:15:00.000Z',
    'ended_at': None, 'error': None, 'collected': False,
    'steps': [
        {'name': 'copy', 'state': 'exited', 'exit_code': 1, 'max_success_code': 7, 'pid': 10,
         'started_at': '2024-03-05T10:15:00.000Z', 'ended_at': '2024-03-05T10:16:30.500Z', 'log_tail': 'x'},
        {'name': 'export', 'state': 'running', 'exit_code': None, 'max_success_code': 0, 'pid': 11,
         'started_at': '2024-03-05T10:16:31.000Z', 'ended_at': None},
        {'name': 'verify', 'state': 'pending', 'exit_code': None, 'max_success_code': 0},
    ],
}


def test_interpret_poll():
    status = j.interpret_poll(POLL)
    assert not status.ended and status.free_bytes == 123
    assert status.steps[0].duration == 90.5 and status.steps[0].succeeded
    assert status.steps[1].duration == 209.0  # running: measured to the host's "now"
    assert status.current_step() == (1, status.steps[1])
    with pytest.raises(JobError, match='unknown state'):
        j.interpret_poll(dict(POLL, state='weird'))


def test_formatting():
    info = j.ProgressInfo('abcd', 'copy', 754, 'running', 0, 2, 'robocopy', j.Progress(4_500_000_000, 10_000_000_000, 45.0, 1e6, 5500))
    assert j.format_progress(info) == 'copy job abcd: step 1/2 robocopy, running, 12m34s elapsed, 45.0% (4.5 GB of 10.0 GB), ETA 1h31m'
    assert j.format_duration(None) == '?' and j.format_duration(59.6) == '1m00s'
    assert j.format_bytes(999) == '999 B'


# --------------------------------------------------------------------------- the driver

class FakeHost:
    """A host whose jobs advance with the test's clock, answering like the job_* scripts."""

    def __init__(self, durations, exit_codes=None, free=10_000, rate=10):
        self.durations = durations
        self.exit_codes = exit_codes or [0] * len(durations)
        self.now = 0.0
        self.jobs = {}
        self.calls = []
        self.free, self.rate = free, rate
        self.lose_next = False

    def sleep(self, seconds):
        assert seconds >= 0
        self.now += seconds

    def clock(self):
        return self.now

    def _state(self, job):
        if job['cancelled'] is not None:
            return 'cancelled'
        if job['lost']:
            return 'lost'
        return 'exited' if self.now - job['start'] >= sum(self.durations) else 'running'

    def run_retrying(self, name, params, deadline=None):
        self.calls.append((name, dict(params)))
        job = self.jobs.get(params['JobId'])
        if name == 'job_start':
            assert params['Runner'].startswith('# airgap.wsus host script\n# operation: job_runner')
            if job and (self._state(job) == 'running' or not job['collected']):
                return {'job_id': params['JobId'], 'job_dir': 'C:\\j\\jobs\\' + params['JobId'], 'state': self._state(job),
                        'attached': True, 'pid': 1, 'started_at': 'x'}
            self.jobs[params['JobId']] = {'start': self.now, 'collected': False, 'cancelled': None, 'lost': self.lose_next}
            self.lose_next = False
            return {'job_id': params['JobId'], 'job_dir': 'C:\\j\\jobs\\' + params['JobId'], 'state': 'running',
                    'attached': False, 'pid': 1, 'started_at': 'x'}
        if name == 'job_cancel':
            if self._state(job) == 'running':
                job['cancelled'] = self.now
            return {'state': self._state(job), 'killed': [1]}
        assert name == 'job_poll'
        state = self._state(job)
        elapsed = (job['cancelled'] if job['cancelled'] is not None else self.now) - job['start']
        steps, t = [], 0.0
        for index, duration in enumerate(self.durations):
            if elapsed >= t + duration and state != 'lost':
                steps.append({'name': f's{index}', 'state': 'exited', 'exit_code': self.exit_codes[index], 'max_success_code': 0,
                              'log_tail': f'log {index}' if params['TailSteps'] == 'all' else None})
            elif elapsed >= t and state in ('running', 'lost'):
                steps.append({'name': f's{index}', 'state': 'running' if state == 'running' else 'lost', 'exit_code': None,
                              'max_success_code': 0, 'log_tail': 'partial'})
            elif elapsed >= t and state == 'cancelled':
                steps.append({'name': f's{index}', 'state': 'cancelled', 'exit_code': None, 'max_success_code': 0, 'log_tail': 'cut'})
            else:
                steps.append({'name': f's{index}', 'state': 'pending' if state == 'running' else 'skipped', 'exit_code': None,
                              'max_success_code': 0})
            t += duration
        if params.get('Collect') and state != 'running':
            job['collected'] = True
        return {'state': state, 'steps': steps, 'free_bytes': self.free - int(elapsed * self.rate) if 'SpacePath' in params else None,
                'now': None, 'started_at': 'a', 'ended_at': None if state == 'running' else 'b', 'error': None,
                'collected': job['collected']}


def _spec(steps=3):
    return j.JobSpec(job_root='C:\\j', job_id='0123456789abcdef', kind='copy',
                     steps=[j.JobStep(f's{i}', 'C:\\Windows\\System32\\Robocopy.exe', 'a b', 7, 'C:\\j\\x.log') for i in range(steps)],
                     files={'copy_000.rcj': b'/IF\r\n\tx.cab\r\n'})


def _driver(host):
    notes = []
    return j.JobDriver(host, clock=host.clock, sleep=host.sleep, log=notes.append), notes


def test_start_params():
    params = _spec().start_params()
    assert params['Steps'][0] == {'name': 's0', 'file': 'C:\\Windows\\System32\\Robocopy.exe', 'arguments': 'a b',
                                  'max_success_code': 7, 'log': 'C:\\j\\x.log'}
    assert base64.b64decode(params['Files'][0]['content_b64']) == b'/IF\r\n\tx.cab\r\n'
    with pytest.raises(UsageError):
        j.JobSpec('C:\\j', 'x', []).start_params()


def test_short_job_finishes_with_few_polls():
    host = FakeHost([1, 2, 3])
    driver, _notes = _driver(host)
    result = driver.run(_spec(), timeout=600)
    assert result.state == 'exited' and result.succeeded and not result.attached
    assert result.polls <= 6 and result.elapsed < 12
    assert [s.log_tail for s in result.steps] == ['log 0', 'log 1', 'log 2']  # a final poll fetched every tail
    assert host.jobs['0123456789abcdef']['collected']
    assert 'finished in' in result.summary()


def test_long_job_costs_a_poll_per_interval():
    host = FakeHost([3 * 3600])
    driver, _notes = _driver(host)
    result = driver.run(_spec(1), timeout=None, poll_interval=30)
    assert result.succeeded
    assert 3 * 3600 / 30 <= result.polls <= 3 * 3600 / 30 + 10
    intervals = [c for c in host.calls if c[0] == 'job_poll']
    assert all(c[1]['Collect'] for c in intervals)


def test_timeout_cancels_by_default():
    host = FakeHost([100, 100])
    driver, notes = _driver(host)
    result = driver.run(_spec(2), timeout=50)
    assert result.timed_out and result.state == 'cancelled' and not result.succeeded
    assert ('job_cancel', {'JobRoot': 'C:\\j', 'JobId': '0123456789abcdef'}) in host.calls
    assert 49 <= result.elapsed <= 51
    assert 'cancelled' in result.summary() and any('cancelling' in n for n in notes)


def test_timeout_can_leave_the_job_running_and_a_rerun_reattaches():
    host = FakeHost([100])
    driver, _notes = _driver(host)
    first = driver.run(_spec(1), timeout=30, on_timeout='leave')
    assert first.timed_out and first.left_running and first.state == 'running'
    assert not any(c[0] == 'job_cancel' for c in host.calls)
    assert 'left running' in first.summary()
    second = driver.run(_spec(1), timeout=600)
    assert second.attached and second.succeeded and not second.timed_out
    assert sum(1 for c in host.calls if c[0] == 'job_start') == 2 and len(host.jobs) == 1


def test_ended_but_uncollected_job_is_reattached_at_once():
    host = FakeHost([5])
    driver, _notes = _driver(host)
    host.run_retrying('job_start', _spec(1).start_params())
    host.now = 100   # the controller that started it lost its connection long ago
    result = driver.run(_spec(1), timeout=60)
    assert result.attached and result.succeeded and result.polls == 1 and result.elapsed == 0


def test_collected_job_starts_anew():
    host = FakeHost([5])
    driver, _notes = _driver(host)
    driver.run(_spec(1), timeout=60)
    result = driver.run(_spec(1), timeout=60)
    assert not result.attached and result.succeeded


def test_lost_runner_is_restarted():
    host = FakeHost([5])
    host.lose_next = True
    host.run_retrying('job_start', _spec(1).start_params())
    driver, notes = _driver(host)
    result = driver.run(_spec(1), timeout=60)
    assert result.restarted_lost and result.succeeded
    assert any('lost' in n for n in notes)


def test_lost_runner_can_be_reported_instead():
    host = FakeHost([5])
    host.lose_next = True
    host.run_retrying('job_start', _spec(1).start_params())
    driver, _notes = _driver(host)
    result = driver.run(_spec(1), timeout=60, restart_lost=False)
    assert result.state == 'lost' and not result.succeeded and 'lost its runner' in result.summary()


def test_failed_step_is_named():
    host = FakeHost([1, 1], exit_codes=[0, 8])
    driver, _notes = _driver(host)
    result = driver.run(_spec(2), timeout=60)
    assert not result.succeeded
    assert [s.name for s in result.failed_steps()] == ['s1']
    assert 'step s1 failed (exit code 8)' in result.summary()
    assert result.to_dict()['steps'][1]['exit_code'] == 8


def test_progress_callback_sees_percent_and_eta():
    host = FakeHost([100], free=10_000, rate=10)
    driver, _notes = _driver(host)
    seen = []
    driver.run(_spec(1), timeout=600, progress=seen.append, space_path='E:\\', total_bytes=1000, baseline_free_bytes=10_000)
    assert seen and all(isinstance(i, j.ProgressInfo) for i in seen)
    middle = [i for i in seen if i.state == 'running' and i.elapsed > 20][0]
    assert 0 < middle.progress.percent < 100 and middle.progress.eta is not None
    assert abs(middle.progress.eta - (100 - middle.elapsed)) < 2
    assert all(c[1].get('SpacePath') == 'E:\\' for c in host.calls if c[0] == 'job_poll' and c[1]['TailSteps'] == 'active')


def test_bad_arguments():
    driver, _notes = _driver(FakeHost([1]))
    with pytest.raises(UsageError):
        driver.run(_spec(1), on_timeout='explode')
    with pytest.raises(UsageError):
        driver.run(_spec(1), timeout=0)


def test_vanished_job_is_an_error():
    host = FakeHost([10])
    original = host.run_retrying

    def run(name, params, deadline=None):
        answer = original(name, params, deadline)
        if name == 'job_poll':
            return {'state': 'missing', 'steps': [], 'free_bytes': None, 'now': None, 'started_at': None, 'ended_at': None,
                    'error': None, 'collected': False}
        return answer

    host.run_retrying = run
    driver, _notes = _driver(host)
    with pytest.raises(JobError, match='disappeared'):
        driver.run(_spec(1), timeout=60)
