"""Retry back-offs are waited for in real time, even when nothing else is running."""

import json
import time

from devhost.history import EventType


def test_a_retry_waits_its_back_off_before_the_next_attempt(thread_runtime, tmp_path):
    job = {"counter": str(tmp_path / "attempts"), "failures": 2, "attempts": 3}
    started = time.perf_counter()
    instance_id = thread_runtime.start_new("with_retry", json.dumps(job))
    status = thread_runtime.wait(instance_id, 15)
    elapsed = time.perf_counter() - started
    assert status["output"] == "ok after 3 attempts"
    assert elapsed >= 2 * 0.05  # two back-offs of 50 ms (sample_app.with_retry), nothing else in flight
    history = thread_runtime.get_status(instance_id, show_history=True)["historyEvents"]
    fired = [e for e in history if e["EventType"] == EventType.TIMER_FIRED]
    created = {e["EventId"]: e for e in history if e["EventType"] == EventType.TIMER_CREATED}
    assert len(fired) == 2 and all(e["FireAt"] == created[e["TimerId"]]["FireAt"] for e in fired)
