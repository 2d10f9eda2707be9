"""Task 6: 6-job_creator.py creates a job and prints how it ended.

It also holds the Kue-like layer the other job scripts use: increasing ids,
events recorded by the worker and read back by the creator.
"""
import importlib
import json
import signal
import zlib

import pytest
from rq.job import Job

from helpers import Script, run_script, wait_until, work_burst

kue = importlib.import_module("6-job_creator")

DATA = {"phoneNumber": "4153518780",
        "message": "This is the code to verify your account"}


def test_job_ids_increase_like_kues(connection):
    assert [kue.new_job_id(connection) for _ in range(3)] == ["1", "2", "3"]


def test_create_notification_job_queues_the_data_and_prints_the_id(
        connection, capsys):
    queue = kue.queue_for("push_notification_code", connection)
    job = kue.create_notification_job(queue)
    assert capsys.readouterr().out == "Notification job created: 1\n"
    assert queue.job_ids == ["1"]
    assert job.func_name == "6-job_processor.process_notification"
    assert list(job.args) == [DATA]


def test_job_data_is_stored_as_json_never_pickle(connection):
    queue = kue.queue_for("push_notification_code", connection)
    kue.create_notification_job(queue)
    stored = zlib.decompress(connection.hget("rq:job:1", "data"))
    assert json.loads(stored) == [
        "6-job_processor.process_notification", None, [DATA], {}]


def test_events_of_a_job_that_ended_before_anyone_looked_are_all_read(
        connection, capsys):
    queue = kue.queue_for("push_notification_code", connection)
    since = kue.last_event_id(connection, queue.name)
    job = kue.create_notification_job(queue)
    work_burst(queue)
    events = list(kue.job_events(connection, queue.name, [job.id], since))
    assert events == [kue.JobEvent(job.id, "complete", "")]
    assert capsys.readouterr().out == (
        "Notification job created: 1\n"
        "Sending notification to 4153518780, with message: "
        "This is the code to verify your account\n")


def test_events_before_since_and_of_other_jobs_are_not_read(connection):
    queue = kue.queue_for("push_notification_code", connection)
    old = kue.create_job(queue, "6-job_processor.process_notification", DATA)
    work_burst(queue)
    since = kue.last_event_id(connection, queue.name)
    old.delete()  # so that waiting for it ends, with no event read
    mine = kue.create_job(queue, "6-job_processor.process_notification",
                          DATA)
    kue.create_job(queue, "6-job_processor.process_notification", DATA)
    work_burst(queue)
    assert list(kue.job_events(connection, queue.name, [old.id, mine.id],
                               since)) == [
        kue.JobEvent(mine.id, "complete", "")]


def test_a_failed_job_reports_its_error_message(connection):
    queue = kue.queue_for("push_notification_code", connection)
    job = kue.create_job(queue, "6-job_processor.process_notification",
                         {"message": "no phone number"})
    work_burst(queue)
    assert list(kue.job_events(connection, queue.name, [job.id])) == [
        kue.JobEvent(job.id, "failed", "'phoneNumber'")]


def test_a_failure_without_a_message_is_reported_by_its_class(connection):
    queue = kue.queue_for("push_notification_code", connection)
    job = kue.create_job(queue, "6-job_processor.process_notification", {})
    kue.on_failed(Job.fetch(job.id, connection=connection), connection,
                  RuntimeError, RuntimeError(), None)
    assert list(kue.job_events(connection, queue.name, [job.id])) == [
        kue.JobEvent(job.id, "failed", "RuntimeError")]


def test_waiting_stops_for_a_job_that_no_longer_exists(connection):
    queue = kue.queue_for("push_notification_code", connection)
    job = kue.create_notification_job(queue)
    queue.empty()
    assert list(kue.job_events(connection, queue.name, [job.id])) == []


@pytest.fixture
def processor(real_redis):
    """Run 6-job_processor.py, ready on its queue, and stop it afterwards."""
    script = Script("6-job_processor.py", real_redis)
    with kue.redis.Redis.from_url(real_redis) as client:
        wait_until(lambda: client.scard(
            "rq:workers:push_notification_code") == 1,
            message="the worker of 6-job_processor.py")
    yield script
    script.kill()


def test_two_runs_get_ids_n_and_n_plus_1_and_both_complete(
        real_redis, processor):
    outputs = [run_script("6-job_creator.py", real_redis) for _ in range(2)]
    assert [(result.returncode, result.stdout, result.stderr)
            for result in outputs] == [
        (0, f"Notification job created: {n}\nNotification job completed\n",
         "") for n in (1, 2)]
    sent = ("Sending notification to 4153518780, with message: "
            "This is the code to verify your account\n")
    assert processor.stop(signal.SIGINT, group=True) == (0, sent * 2, "")


def test_without_a_processor_the_creator_waits_until_ctrl_c(
        real_redis, real_client):
    creator = Script("6-job_creator.py", real_redis)
    try:
        wait_until(lambda: real_client.llen(
            "rq:queue:push_notification_code") == 1, message="the job")
        assert creator.stop(signal.SIGINT, group=True) == (
            0, "Notification job created: 1\n", "")
    finally:
        creator.kill()
