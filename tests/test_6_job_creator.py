"""Task 6: 6-job_creator.py creates a job and prints how it ended."""
import importlib
import json
import signal
import zlib

import pytest
import redis

from helpers import Script, run_script, wait_until, work_burst
from queuing import kue

creator = importlib.import_module("6-job_creator")

DATA = {"phoneNumber": "4153518780",
        "message": "This is the code to verify your account"}


def test_the_job_is_the_tasks():
    assert (creator.QUEUE_NAME, creator.JOB_DATA) == (
        "push_notification_code", DATA)


def test_create_notification_job_queues_the_data_and_prints_the_id(
        connection, capsys):
    queue = kue.queue_for("push_notification_code", connection)
    job = creator.create_notification_job(queue)
    assert capsys.readouterr().out == "Notification job created: 1\n"
    assert queue.job_ids == ["1"]
    assert job.func_name == "6-job_processor.process_notification"
    assert list(job.args) == [DATA]


def test_job_data_is_stored_as_json_never_pickle(connection):
    queue = kue.queue_for("push_notification_code", connection)
    creator.create_notification_job(queue)
    stored = zlib.decompress(connection.hget("rq:job:1", "data"))
    assert json.loads(stored) == [
        "6-job_processor.process_notification", None, [DATA], {}]


def test_the_processors_function_completes_the_job(connection, capsys):
    queue = kue.queue_for("push_notification_code", connection)
    since = kue.last_event_id(connection, queue.name)
    job = creator.create_notification_job(queue)
    work_burst(queue)
    assert list(kue.job_events(connection, queue.name, [job.id], since)) == [
        kue.JobEvent(job.id, "complete", "")]
    assert capsys.readouterr().out == (
        "Notification job created: 1\n"
        "Sending notification to 4153518780, with message: "
        "This is the code to verify your account\n")


@pytest.fixture
def processor(real_redis):
    """Run 6-job_processor.py, ready on its queue, and stop it afterwards."""
    script = Script("6-job_processor.py", real_redis)
    with redis.Redis.from_url(real_redis) as client:
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
