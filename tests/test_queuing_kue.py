"""queuing.kue: Kue's increasing ids and job events, on RQ."""

import pytest
import redis
from rq.job import Job
from rq.results import Result

from helpers import wait_until, work_burst
from queuing import events, kue, options
from queuing.events import events_key

QUEUE = "push_notification_code"
FUNCTION = "6-job_processor.process_notification"
DATA = {"phoneNumber": "4153518780",
        "message": "This is the code to verify your account"}


@pytest.fixture
def queue(connection):
    """Return a JSON RQ queue on the backend under test."""
    return kue.queue_for(QUEUE, connection)


def test_an_id_counter_reset_or_evicted_skips_the_ids_of_jobs_kept(
        connection, queue):
    kept = [kue.create_job(queue, FUNCTION, DATA) for _ in range(2)]
    connection.delete(kue.JOB_IDS_KEY)
    assert [job.id for job in kept] == ["1", "2"]
    assert kue.new_job_id(connection) == "3"


def test_job_ids_increase_like_kues(connection):
    assert [kue.new_job_id(connection) for _ in range(3)] == ["1", "2", "3"]


def test_creating_a_job_takes_two_round_trips(real_redis, monkeypatch):
    # Its id, then one transaction. A pipeline with redis-py's Script
    # objects asked Redis whether it had them, on a round trip of its own.
    # (A real server only: fakeredis sends nothing over a socket.)
    sent = []
    send = redis.connection.AbstractConnection.send_packed_command

    def note(connection, command, *args, **kwargs):
        """Note what is sent to Redis in one go, then send it."""
        sent.append(command)
        return send(connection, command, *args, **kwargs)

    with redis.Redis.from_url(real_redis) as connection:
        queue = kue.queue_for(QUEUE, connection)
        kue.create_job(queue, FUNCTION, DATA)  # connects; RQ asks the version
        monkeypatch.setattr(redis.connection.AbstractConnection,
                            "send_packed_command", note)
        kue.create_job(queue, FUNCTION, DATA, priority="high")
    assert len(sent) == 2, sent


def test_created_jobs_carry_the_kue_callbacks(queue):
    job = kue.create_job(queue, FUNCTION, DATA)
    assert (job.id, job.func_name, list(job.args)) == ("1", FUNCTION, [DATA])
    assert (job._success_callback_name, job._failure_callback_name,
            job._stopped_callback_name) == (
        "queuing.kue.on_complete", "queuing.kue.on_failed",
        "queuing.kue.on_stopped")


def test_a_job_is_plain_rq_with_kues_callbacks_and_a_days_failure_ttl(
        connection, queue):
    job = kue.create_job(queue, FUNCTION, DATA)
    again = Job.fetch(job.id, connection=connection,
                      serializer=queue.serializer)
    assert type(again) is Job
    assert (again.func_name, again.args, again.failure_ttl) == (
        FUNCTION, [DATA], options.FAILED_KEPT)
    assert again.description.startswith(
        f"{FUNCTION}({{'phoneNumber': '4153518780'")


def test_a_failure_is_an_rq_result_that_requeue_adds_to(connection, queue):
    job = kue.create_job(queue, "tools.kue_options.run_job",
                         {"name": "failing", "fail": 5})
    work_burst(queue)
    job = Job.fetch(job.id, connection=connection,
                    serializer=queue.serializer)
    latest = job.latest_result()
    assert (latest.type, latest.exc_string.splitlines()[-1]) == (
        Result.Type.FAILED, "RuntimeError: Service unavailable")
    # What rq requeue does: the job runs again and fails again.
    assert queue.failed_job_registry.requeue(job.id)
    work_burst(queue)
    assert [result.type for result in job.results()] == [
        Result.Type.FAILED, Result.Type.FAILED]


def test_events_of_a_job_that_ended_before_anyone_looked_are_all_read(
        connection, queue):
    since = kue.last_event_id(connection, queue.name)
    job = kue.create_job(queue, FUNCTION, DATA)
    work_burst(queue)
    events = list(kue.job_events(connection, queue.name, [job.id], since))
    assert events == [kue.JobEvent(job.id, "complete", "")]


def test_events_before_since_and_of_other_jobs_are_not_read(
        connection, queue):
    old = kue.create_job(queue, FUNCTION, DATA)
    work_burst(queue)
    since = kue.last_event_id(connection, queue.name)
    old.delete()  # so that waiting for it ends, with no event read
    mine = kue.create_job(queue, FUNCTION, DATA)
    kue.create_job(queue, FUNCTION, DATA)
    work_burst(queue)
    assert list(kue.job_events(connection, queue.name, [old.id, mine.id],
                               since, block=50)) == [
        kue.JobEvent(mine.id, "complete", "")]


def test_a_failed_job_reports_its_error_message(connection, queue):
    job = kue.create_job(queue, FUNCTION, {"message": "no phone number"})
    work_burst(queue)
    assert list(kue.job_events(connection, queue.name, [job.id])) == [
        kue.JobEvent(job.id, "failed", "'phoneNumber'")]


def test_a_failure_without_a_message_is_reported_by_its_class(
        connection, queue):
    job = kue.create_job(queue, FUNCTION, {})
    kue.on_failed(Job.fetch(job.id, connection=connection), connection,
                  RuntimeError, RuntimeError(), None)
    assert list(kue.job_events(connection, queue.name, [job.id])) == [
        kue.JobEvent(job.id, "failed", "RuntimeError")]


def test_progress_is_an_integer_percentage_in_meta_and_events(
        connection, queue):
    job = kue.create_job(queue, FUNCTION, DATA)
    kue.report_progress(job, 1, 3)
    kue.report_progress(job, 7, 5)
    assert job.get_meta(refresh=True)["progress"] == 100
    events = kue.read_events(connection, QUEUE, "0-0")
    assert [next(events)[1] for _ in range(2)] == [
        kue.JobEvent(job.id, "progress", "33"),
        kue.JobEvent(job.id, "progress", "100")]


def test_waiting_stops_for_a_job_that_no_longer_exists(connection, queue):
    job = kue.create_job(queue, FUNCTION, DATA)
    queue.empty()
    assert list(kue.job_events(connection, queue.name, [job.id],
                               block=50)) == []


def test_follow_in_background_hands_over_each_event_then_ends(
        connection, queue):
    since = kue.last_event_id(connection, queue.name)
    jobs = [kue.create_job(queue, FUNCTION, DATA),
            kue.create_job(queue, FUNCTION, {})]
    seen = []
    thread = kue.follow_in_background(connection, queue.name,
                                      [job.id for job in jobs], since,
                                      seen.append)
    work_burst(queue)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert seen == [kue.JobEvent("1", "complete", ""),
                    kue.JobEvent("2", "failed", "'phoneNumber'")]


def test_a_job_watcher_reports_only_the_jobs_it_created(connection, queue):
    seen = []
    watcher = kue.JobWatcher(queue, on_event=seen.append)
    try:
        kue.create_job(queue, FUNCTION, DATA)  # somebody else's
        mine = watcher.create(FUNCTION, DATA)
        work_burst(queue)
        wait_until(lambda: seen, message="the watched job's event")
        assert seen == [kue.JobEvent(mine.id, "complete", "")]
        assert watcher.job_ids == set()
    finally:
        watcher.close()
    assert not watcher.thread.is_alive()


@pytest.mark.parametrize("data, kept", [
    (DATA, options.FINISHED_KEPT), ({}, options.FAILED_KEPT)],
    ids=["finished", "failed"])
def test_every_key_of_an_ended_job_expires(connection, queue, data, kept):
    job = kue.create_job(queue, FUNCTION, data)
    work_burst(queue)
    # The job's own keys name it: rq:job:ID, rq:results:ID, ...
    own = {key: connection.ttl(key) for key in map(bytes.decode,
                                                   connection.keys("*"))
           if job.id in key.split(":")}
    assert {"rq:job:1", "rq:results:1"} <= set(own), own
    assert all(0 < ttl <= kept for ttl in own.values()), own


def test_the_events_stream_is_capped(connection, queue, monkeypatch):
    monkeypatch.setattr(events, "EVENTS_KEPT", 5)
    job = kue.create_job(queue, FUNCTION, DATA)
    for step in range(300):
        kue.report_progress(job, step, 300)
    # XADD MAXLEN ~ trims whole nodes: the length stays near the cap.
    assert connection.xlen(events_key(QUEUE)) <= 200


def test_a_reader_whose_events_were_trimmed_gets_each_end_rq_stored(
        connection, queue):
    since = kue.last_event_id(connection, QUEUE)
    done = kue.create_job(queue, "tools.kue_options.run_job",
                          {"name": "done"})
    failed = kue.create_job(queue, "tools.kue_options.run_job",
                            {"name": "failed", "fail": 5})
    work_burst(queue)
    # As when 10,000 other events went by while the reader was stopped.
    connection.xtrim(events_key(QUEUE), maxlen=0)
    assert list(kue.job_events(connection, QUEUE, [done.id, failed.id],
                               since, block=50)) == [
        kue.JobEvent(done.id, "complete", ""),
        kue.JobEvent(failed.id, "failed", "Service unavailable")]
