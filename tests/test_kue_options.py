"""Kue's job options on RQ: priority, attempts, backoff, delay, ttl, remove.

Each option runs on fakeredis and on a real Redis, with the processors'
rules on a worker in the test's own thread; delay, attempts, backoff, ttl
and priority also run on real processor processes (tools/kue_options.py).
Times come from the events stream: an entry's id is its time in ms.
"""
import importlib
import math
import signal
import sys
import time

import pytest
import redis
from rq import Queue
from rq.defaults import DEFAULT_RESULT_TTL
from rq.job import Job
from rq.serializers import JSONSerializer

from helpers import NotListening, Script, wait_until
from queuing import kue, options, scheduling, workers
from queuing.events import events_key
from queuing.worker import KueWorker
from tools import kue_options

QUEUE = kue_options.QUEUE_NAME
RUN_JOB = "tools.kue_options.run_job"
UNAVAILABLE = "Service unavailable"


class BurstWorker(NotListening, KueWorker):
    """The processors' rules on a worker that runs in the test's thread."""

    job_functions = frozenset({RUN_JOB})


@pytest.fixture
def queue(connection):
    """Return the examples' JSON RQ queue on the backend under test."""
    return kue.queue_for(QUEUE, connection)


def create(queue, name: str, **options) -> Job:
    """Create the example job NAME; "fail" and "seconds" go in its data."""
    data = {"name": name}
    for key in ("fail", "seconds"):
        if key in options:
            data[key] = options.pop(key)
    return kue.create_job(queue, kue_options.run_job, data, **options)


def burst(queue) -> None:
    """Run every job waiting in QUEUE, in this thread."""
    BurstWorker([queue], connection=queue.connection,
                serializer=JSONSerializer).work(burst=True,
                                                logging_level="ERROR")


def timeline(connection) -> list[tuple[int, str, str, str]]:
    """Return every event of the queue: (ms, job id, event, value)."""
    return [(int(entry_id.split(b"-")[0]), fields[b"job"].decode(),
             fields[b"event"].decode(), fields[b"value"].decode())
            for entry_id, fields in connection.xrange(events_key(QUEUE))]


def events(connection, job_id: str) -> list[tuple[str, str]]:
    """Return the events of JOB_ID so far: (event, value)."""
    return [(event, value) for _, job, event, value in timeline(connection)
            if job == job_id]


def times(connection, job_id: str, event: str) -> list[int]:
    """Return when JOB_ID's EVENT was recorded, in ms, each time."""
    return [ms for ms, job, name, _ in timeline(connection)
            if job == job_id and name == event]


def promote(queue) -> list[str]:
    """Run RQ's scheduler on QUEUE once; return the ids it queued."""
    registry = queue.scheduled_job_registry
    before = registry.get_job_ids()
    promotion = scheduling.Promotion(queue)
    promotion.run_if_due()
    promotion.close()
    return [job_id for job_id in before if job_id not in set(
        registry.get_job_ids())]


def due(queue, job_id: str) -> float:
    """Return when JOB_ID is due, in ms, as its scheduled registry says."""
    return queue.connection.zscore(queue.scheduled_job_registry.key,
                                   job_id) * 1000


def promote_when_due(queue, job_id: str, timeout: float = 10) -> float:
    """Promote QUEUE until JOB_ID goes into it; return when, in s."""
    wait_until(lambda: job_id in promote(queue), timeout=timeout,
               message=f"job {job_id} to be promoted")
    return time.time()


# priority

def test_a_higher_priority_job_queued_later_runs_first(queue, capsys):
    levels = ["normal", "low", "normal", "critical", "high", "medium",
              "critical", "low"]
    jobs = [create(queue, f"{level} {number}", priority=level)
            for number, level in enumerate(levels, start=1)]
    order = ["critical 4", "critical 7", "high 5", "medium 6", "normal 1",
             "normal 3", "low 2", "low 8"]
    by_name = {job.args[0]["name"]: job.id for job in jobs}
    assert queue.get_job_ids() == [by_name[name] for name in order]
    burst(queue)
    assert capsys.readouterr().out == "".join(
        f"Ran {name} (try 1)\n" for name in order)


def test_ordinary_jobs_keep_rqs_order_and_store_no_priority(queue):
    jobs = [create(queue, f"job {number}") for number in range(3)]
    assert queue.get_job_ids() == [job.id for job in jobs] == ["1", "2", "3"]
    assert not queue.connection.exists(scheduling.priorities_key(QUEUE))
    assert [job.get_meta(refresh=True) for job in jobs] == [{}, {}, {}]


def test_default_options_make_the_job_of_before(queue):
    job = create(queue, "plain")
    job = Job.fetch(job.id, connection=queue.connection,
                    serializer=JSONSerializer)
    # RQ's default timeout and result ttl; a failure is kept a day.
    assert (job.meta, job.retries_left, job.retry_intervals, job.timeout,
            job.result_ttl, job.failure_ttl, job.get_status()) == (
        {}, None, None, Queue.DEFAULT_TIMEOUT, None, options.FAILED_KEPT,
        "queued")
    assert job.get_result_ttl(DEFAULT_RESULT_TTL) == options.FINISHED_KEPT


def test_an_ended_jobs_priority_is_forgotten(queue):
    done = create(queue, "done", priority="high")
    failed = create(queue, "failed", priority="low", fail=1)
    key = scheduling.priorities_key(QUEUE)
    assert queue.connection.hgetall(key) == {b"1": b"-10", b"2": b"10"}
    burst(queue)
    assert [done.get_status(refresh=True), failed.get_status(refresh=True)
            ] == ["finished", "failed"]
    assert queue.connection.hgetall(key) == {}


def test_the_priorities_of_vanished_jobs_are_swept(queue):
    gone = create(queue, "gone", priority="high")
    kept = create(queue, "kept", priority="low")
    gone.delete()
    scheduling.sweep(queue)
    assert queue.connection.hgetall(scheduling.priorities_key(QUEUE)) == {
        kept.id.encode(): b"10"}


# attempts

def test_a_job_is_tried_until_it_works_within_its_attempts(
        connection, queue, capsys):
    job = create(queue, "flaky", attempts=3, fail=2)
    burst(queue)
    assert list(kue.job_events(connection, QUEUE, [job.id])) == [
        kue.JobEvent(job.id, "progress", "0"),
        kue.JobEvent(job.id, "failed attempt", f"1: {UNAVAILABLE}"),
        kue.JobEvent(job.id, "progress", "0"),
        kue.JobEvent(job.id, "failed attempt", f"2: {UNAVAILABLE}"),
        kue.JobEvent(job.id, "progress", "0"),
        kue.JobEvent(job.id, "complete", "")]
    assert capsys.readouterr().out == "Ran flaky (try 3)\n"
    assert job.get_status(refresh=True) == "finished"


def test_only_the_last_failed_try_is_failed(connection, queue):
    job = create(queue, "hopeless", attempts=2, fail=5)
    burst(queue)
    assert events(connection, job.id) == [
        ("progress", "0"), ("failed attempt", f"1: {UNAVAILABLE}"),
        ("progress", "0"), ("failed", UNAVAILABLE)]
    assert job.get_status(refresh=True) == "failed"


def test_one_attempt_means_one_try(connection, queue):
    job = create(queue, "once", fail=1)
    burst(queue)
    assert events(connection, job.id) == [
        ("progress", "0"), ("failed", UNAVAILABLE)]


def test_a_failed_attempt_event_reads_as_its_number_and_error():
    event = kue.JobEvent("5", "failed attempt", "12: Error: a: b")
    assert kue.failed_attempt(event) == (12, "Error: a: b")


@pytest.mark.parametrize("script", ["7-job_creator", "8-job"])
def test_the_task_scripts_print_nothing_for_a_failed_attempt(script, capsys):
    module = importlib.import_module(script)
    module.print_event(kue.JobEvent("3", "failed attempt", "1: Boom"))
    assert capsys.readouterr().out == ""


def test_a_job_watcher_hears_failed_attempts_and_the_end(connection, queue):
    seen = []
    watcher = kue.JobWatcher(queue, on_event=seen.append)
    try:
        job = watcher.create(RUN_JOB, {"name": "w", "fail": 1}, attempts=2)
        burst(queue)
        wait_until(lambda: len(seen) == 4, message="four events")
    finally:
        watcher.close()
    assert [(event.event, event.value) for event in seen] == [
        ("progress", "0"), ("failed attempt", f"1: {UNAVAILABLE}"),
        ("progress", "0"), ("complete", "")]
    assert job.id not in watcher.job_ids


# backoff

@pytest.mark.parametrize("kind, waits", [
    ("fixed", [300, 300]), ("exponential", [300, 600])])
def test_each_retry_waits_its_backoff(connection, queue, kind, waits):
    job = create(queue, "backoff", attempts=3, fail=2,
                 backoff={"type": kind, "delay": 300})
    assert job.retry_intervals == [wait / 1000 for wait in waits]
    for _ in waits:
        burst(queue)
        assert (job.get_status(refresh=True), queue.count) == (
            "scheduled", 0)
        promote_when_due(queue, job.id)
    burst(queue)
    assert job.get_status(refresh=True) == "finished"
    starts = times(connection, job.id, "progress")
    failures = times(connection, job.id, "failed attempt")
    gaps = [start - failure for failure, start in zip(failures, starts[1:])]
    # Never early; late by up to a second, as RQ's scheduler takes the jobs
    # due by the current whole second (Kue's promoter looked every second),
    # give or take the time a burst worker takes to start.
    assert all(wait <= gap < wait + 1250 for gap, wait in zip(gaps, waits)), (
        f"gaps {gaps} ms, backoffs {waits} ms")


def test_a_retry_is_due_its_backoff_after_its_failed_attempt_event(
        connection, queue):
    job = create(queue, "counted", attempts=2, fail=1,
                 backoff={"type": "fixed", "delay": 300})
    burst(queue)
    assert events(connection, job.id) == [
        ("progress", "0"), ("failed attempt", f"1: {UNAVAILABLE}")]
    [failed] = times(connection, job.id, "failed attempt")
    assert 300 <= due(queue, job.id) - failed < 400


def test_a_retry_is_not_promoted_before_its_backoff(queue):
    job = create(queue, "patient", attempts=2, fail=1,
                 backoff={"type": "fixed", "delay": 60_000})
    burst(queue)
    assert promote(queue) == []
    assert job.get_status(refresh=True) == "scheduled"
    assert 59_000 < due(queue, job.id) - time.time() * 1000 <= 60_000


def test_backoff_true_is_a_fixed_backoff_of_the_jobs_delay(queue):
    job = create(queue, "kue", attempts=3, delay=200, backoff=True)
    assert job.retry_intervals == [0.2, 0.2]
    assert job.meta["backoff"] == {"type": "fixed", "delay": 200}


def test_without_backoff_a_retry_is_queued_at_once(queue):
    job = create(queue, "eager", attempts=2, fail=1)
    assert job.retry_intervals == [0]


# delay

def test_a_delayed_job_waits_until_its_delay_has_passed(connection, queue):
    created = time.time()
    job = create(queue, "later", delay=400)
    assert (job.get_status(), queue.count) == ("scheduled", 0)
    registry = queue.scheduled_job_registry
    assert registry.get_job_ids() == [job.id]
    assert promote(queue) == []
    promoted = promote_when_due(queue, job.id)
    assert promoted - created >= 0.4
    assert (job.get_status(refresh=True), queue.get_job_ids()) == (
        "queued", [job.id])
    burst(queue)
    started, = times(connection, job.id, "progress")
    assert started >= math.floor(created * 1000) + 400
    assert job.get_status(refresh=True) == "finished"


def test_a_delayed_job_goes_to_the_back_whatever_its_priority(queue):
    waiting = [create(queue, f"normal {number}") for number in range(2)]
    urgent = create(queue, "urgent", delay=50, priority="critical")
    promote_when_due(queue, urgent.id)
    # RQ's scheduler queues the jobs it moves at the back (see the README).
    assert queue.get_job_ids() == [job.id for job in waiting] + [urgent.id]


def test_a_background_worker_runs_delayed_jobs(connection, queue):
    worker = workers.BackgroundWorker(queue, kue_options.run_job)
    worker.start()
    try:
        created = time.time()
        job = create(queue, "later", delay=300)
        wait_until(lambda: job.get_status(refresh=True) == "finished",
                   message="the delayed job to finish")
    finally:
        worker.close()
    started, = times(connection, job.id, "progress")
    assert started >= math.floor(created * 1000) + 300


# ttl

def test_a_job_past_its_ttl_fails_and_the_worker_goes_on(connection, queue):
    slow = create(queue, "slow", seconds=3, ttl=1000)
    quick = create(queue, "quick", ttl=1000)
    burst(queue)
    assert events(connection, slow.id) == [
        ("progress", "0"), ("failed", "Job exceeded its ttl of 1000 ms")]
    assert events(connection, quick.id) == [
        ("progress", "0"), ("complete", "")]
    started, = times(connection, slow.id, "progress")
    failed, = times(connection, slow.id, "failed")
    # The ttl's timer starts just before the job writes its first progress
    # event: a few ms before "started" (seen: 4 ms, under load).
    assert 1000 - 50 <= failed - started < 1500


def test_a_ttl_is_rounded_up_to_rqs_whole_seconds(queue):
    job = create(queue, "rounded", ttl=1500)
    assert (job.timeout, job.meta) == (2, {"ttl": 1500})


def test_a_timeout_without_a_ttl_keeps_rqs_message(connection, queue):
    job = create(queue, "slow", seconds=3)
    job.timeout = 1
    job.save()
    burst(queue)
    event, message = events(connection, job.id)[-1]
    # RQ's TimerDeathPenalty rewrites this message class-wide, so that
    # its number depends on the tests that ran before.
    assert (event, message.startswith("Task exceeded maximum timeout")) == (
        "failed", True), message


# remove_on_complete

def test_a_job_removed_on_complete_leaves_nothing_in_redis(
        connection, queue):
    kept = create(queue, "kept")
    removed = create(queue, "removed", remove_on_complete=True,
                     priority="high", attempts=2, fail=1)
    burst(queue)
    assert kue_options.traces(connection, kept.id) == [
        f"rq:finished:{QUEUE}", f"rq:job:{kept.id}",
        f"rq:results:{kept.id}"]
    assert kue_options.traces(connection, removed.id) == []
    # Its events stay in the queue's stream, for its creator to read.
    assert list(kue.job_events(connection, QUEUE, [removed.id]))[-1] == (
        kue.JobEvent(removed.id, "complete", ""))


def test_a_job_removed_on_complete_is_kept_when_it_fails(connection, queue):
    job = create(queue, "failing", remove_on_complete=True, fail=1)
    burst(queue)
    assert kue_options.traces(connection, job.id) == [
        f"rq:failed:{QUEUE}", f"rq:job:{job.id}", f"rq:results:{job.id}"]


def test_events_written_just_before_a_job_vanished_are_read(
        connection, queue, monkeypatch):
    job = create(queue, "vanishing")
    fetch = Job.fetch.__func__

    def vanish(cls: type, job_id: str, *args, **kwargs) -> Job:
        """Complete and delete the job right as the reader looks at it."""
        if job_id == job.id and Job.exists(job_id, connection=connection):
            kue.emit(job, "complete")
            job.delete()
        return fetch(cls, job_id, *args, **kwargs)

    monkeypatch.setattr(Job, "fetch", classmethod(vanish))
    assert list(kue.job_events(connection, QUEUE, [job.id], block=50)) == [
        kue.JobEvent(job.id, "complete", "")]


# bad values

BAD_OPTIONS = [
    ({"priority": "urgent"}, "Unknown priority 'urgent': use one of low, "
     "normal, medium, high, critical"),
    ({"priority": -10}, "Unknown priority -10: use one of low, normal, "
     "medium, high, critical"),
    ({"attempts": 0}, "attempts must be a whole number, 1 or more, not 0"),
    ({"attempts": 2.5}, "attempts must be a whole number, 1 or more, not "
     "2.5"),
    ({"attempts": True}, "attempts must be a whole number, 1 or more, not "
     "True"),
    ({"delay": -1}, "delay must be a number of ms, 0 or more, not -1"),
    ({"delay": "500"}, "delay must be a number of ms, 0 or more, not '500'"),
    ({"delay": math.inf}, "delay must be a number of ms, 0 or more, not inf"),
    ({"ttl": 0}, "ttl must be a number of ms above 0, not 0"),
    ({"ttl": -100}, "ttl must be a number of ms above 0, not -100"),
    ({"remove_on_complete": "yes"}, "remove_on_complete must be True or "
     "False, not 'yes'"),
    ({"backoff": "yes"}, "backoff must be True or {'type': 'fixed' or "
     "'exponential', 'delay': ms}, not 'yes'"),
    ({"backoff": {"delay": 100}}, "backoff must be True or {'type': 'fixed' "
     "or 'exponential', 'delay': ms}, not {'delay': 100}"),
    ({"backoff": {"type": "linear"}}, "backoff must be True or {'type': "
     "'fixed' or 'exponential', 'delay': ms}, not {'type': 'linear'}"),
    ({"backoff": {"type": "fixed", "delay": -1}}, "backoff must be True or "
     "{'type': 'fixed' or 'exponential', 'delay': ms}, not {'type': "
     "'fixed', 'delay': -1}"),
    ({"backoff": {"type": "fixed", "maxDelay": 1}}, "backoff must be True "
     "or {'type': 'fixed' or 'exponential', 'delay': ms}, not {'type': "
     "'fixed', 'maxDelay': 1}"),
]


@pytest.mark.parametrize("options, message", BAD_OPTIONS,
                         ids=[str(options) for options, _ in BAD_OPTIONS])
def test_a_bad_option_is_refused_before_anything_is_written(
        connection, queue, options, message):
    with pytest.raises(ValueError) as error:
        kue.create_job(queue, RUN_JOB, {"name": "bad"}, **options)
    assert str(error.value) == message
    assert connection.keys("*") == []


def test_a_job_watcher_refuses_a_bad_option_before_taking_an_id(
        connection, queue):
    watcher = kue.JobWatcher(queue, on_event=print)
    with pytest.raises(ValueError):
        watcher.create(RUN_JOB, {"name": "bad"}, attempts=0)
    assert connection.keys("*") == []
    assert watcher.thread is None


# real processors: python -m tools.kue_options process

@pytest.fixture
def processor(real_redis):
    """Start the examples' processor; yield a bytes client on its Redis."""
    connection = redis.Redis.from_url(real_redis)
    script = Script("kue_options", real_redis, command=[
        sys.executable, "-m", "tools.kue_options", "process"])
    try:
        wait_until(lambda: connection.scard(f"rq:workers:{QUEUE}") == 1,
                   message="the processor's worker")
        yield script, connection
    finally:
        script.kill()
        connection.close()


def stop(script: Script) -> tuple[int, str, str]:
    """Press Ctrl-C on SCRIPT; return its status, stdout and stderr."""
    return script.stop(signal.SIGINT, group=True, timeout=10)


def test_the_processor_starts_a_delayed_job_on_time(processor):
    script, connection = processor
    queue = kue.queue_for(QUEUE, connection)
    created = time.time()
    now = create(queue, "now")
    later = create(queue, "later", delay=500)
    list(kue.job_events(connection, QUEUE, [now.id, later.id]))
    assert events(connection, later.id) == [
        ("progress", "0"), ("complete", "")]
    started, = times(connection, later.id, "progress")
    # RQ's pool checks once a second, and RQ's scheduler takes the jobs due
    # by the whole second: up to two seconds late on a quiet machine (more
    # under load), never early.
    assert 500 <= started - math.floor(created * 1000) < 4500
    assert stop(script) == (0, "Ran now (try 1)\nRan later (try 1)\n", "")


def test_the_processor_tries_again_after_each_backoff(processor):
    script, connection = processor
    queue = kue.queue_for(QUEUE, connection)
    job = create(queue, "flaky", attempts=3, fail=2,
                 backoff={"type": "exponential", "delay": 250})
    list(kue.job_events(connection, QUEUE, [job.id]))
    assert events(connection, job.id) == [
        ("progress", "0"), ("failed attempt", f"1: {UNAVAILABLE}"),
        ("progress", "0"), ("failed attempt", f"2: {UNAVAILABLE}"),
        ("progress", "0"), ("complete", "")]
    starts = times(connection, job.id, "progress")
    failures = times(connection, job.id, "failed attempt")
    gaps = [start - failure for failure, start in zip(failures, starts[1:])]
    # Never early; late by the pool's rounds, as for a delay (above): 2.3 s
    # seen under load in CI.
    assert 250 <= gaps[0] < 4250 and 500 <= gaps[1] < 4500, gaps
    assert stop(script) == (0, "Ran flaky (try 3)\n", "")


def test_the_processor_retries_at_once_without_backoff(processor):
    script, connection = processor
    queue = kue.queue_for(QUEUE, connection)
    job = create(queue, "hopeless", attempts=3, fail=5)
    list(kue.job_events(connection, QUEUE, [job.id]))
    assert [event for event, _ in events(connection, job.id)] == [
        "progress", "failed attempt", "progress", "failed attempt",
        "progress", "failed"]
    assert stop(script) == (0, "", "")


def test_the_processor_fails_a_job_past_its_ttl_and_goes_on(processor):
    script, connection = processor
    queue = kue.queue_for(QUEUE, connection)
    slow = create(queue, "slow", seconds=5, ttl=1000)
    quick = create(queue, "quick")
    list(kue.job_events(connection, QUEUE, [slow.id, quick.id]))
    assert events(connection, slow.id) == [
        ("progress", "0"), ("failed", "Job exceeded its ttl of 1000 ms")]
    assert events(connection, quick.id)[-1] == ("complete", "")
    assert stop(script) == (0, "Ran quick (try 1)\n", "")


def test_the_processor_runs_waiting_jobs_by_priority(processor):
    script, connection = processor
    queue = kue.queue_for(QUEUE, connection)
    busy = create(queue, "busy", seconds=0.5)
    wait_until(lambda: busy.get_status(refresh=True) == "started",
               message="the busy job to start")
    jobs = [create(queue, level, priority=level)
            for level in ("low", "normal", "high", "critical")]
    list(kue.job_events(connection, QUEUE, [job.id for job in jobs]))
    assert stop(script)[1] == ("Ran busy (try 1)\nRan critical (try 1)\n"
                               "Ran high (try 1)\nRan normal (try 1)\n"
                               "Ran low (try 1)\n")


def test_a_processor_with_delayed_jobs_stops_at_once_on_ctrl_c(processor):
    script, connection = processor
    queue = kue.queue_for(QUEUE, connection)
    job = create(queue, "much later", delay=60_000)
    began = time.monotonic()
    assert stop(script) == (0, "", "")
    assert time.monotonic() - began < 5
    assert job.get_status(refresh=True) == "scheduled"
