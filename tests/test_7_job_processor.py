"""Task 9: 7-job_processor.py reports progress and fails blacklisted jobs."""
import importlib
import signal

import pytest
import redis
from rq import Queue, Worker

from helpers import Script, wait_until
from queuing import kue
from queuing.events import events_key

processor = importlib.import_module("7-job_processor")

QUEUE = "push_notification_code_2"


@pytest.fixture
def job(connection):
    """Return a queued push_notification_code_2 job, as a worker sees it."""
    queue = kue.queue_for(QUEUE, connection)
    return kue.create_job(queue, "7-job_processor.process_notification", {})


def events(connection, job) -> list:
    """Return the events recorded so far for JOB."""
    return [(event.event, event.value) for _, fields in connection.xrange(
        events_key(QUEUE)) for event in [kue.JobEvent(
            *(fields[name].decode() for name in (b"job", b"event",
                                                 b"value")))]
        if event.job_id == job.id]


def test_send_notification_reports_0_then_50_percent_then_sends(
        connection, job, capsys):
    processor.send_notification("4153518743", "Hi", job)
    assert events(connection, job) == [("progress", "0"), ("progress", "50")]
    assert job.get_meta(refresh=True)["progress"] == 50
    assert capsys.readouterr().out == (
        "Sending notification to 4153518743, with message: Hi\n")


@pytest.mark.parametrize("number", ["4153518780", "4153518781"])
def test_a_blacklisted_number_fails_after_0_percent(
        connection, job, capsys, number):
    with pytest.raises(ValueError) as error:
        processor.send_notification(number, "Hi", job)
    assert str(error.value) == f"Phone number {number} is blacklisted"
    assert events(connection, job) == [("progress", "0")]
    assert capsys.readouterr().out == ""


def test_the_processor_runs_two_workers_on_the_queue(real_redis):
    script = Script("7-job_processor.py", real_redis)
    try:
        with redis.Redis.from_url(real_redis) as client:
            wait_until(lambda: client.scard(f"rq:workers:{QUEUE}") == 2,
                       message="two workers")
            workers = Worker.all(queue=Queue(QUEUE, connection=client))
            assert len(workers) == 2
            assert all(worker.queue_names() == [QUEUE]
                       for worker in workers)
        assert script.stop(signal.SIGINT, group=True) == (0, "", "")
    finally:
        script.kill()
