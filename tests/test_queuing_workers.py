"""queuing.workers: the hardened RQ worker and the in-server worker."""
import logging
import signal

import redis
from rq.serializers import JSONSerializer

from helpers import wait_until
from queuing import kue, workers


def test_a_killed_work_horse_still_reports_the_failure(real_redis):
    connection = redis.Redis.from_url(real_redis)
    queue = kue.queue_for("push_notification_code", connection)
    # The job's function kills the process that runs it, like kill -9.
    job = kue.create_job(queue, "signal.raise_signal", signal.SIGKILL)
    worker = workers.KueWorker([queue], connection=connection,
                               serializer=JSONSerializer)
    worker.work(burst=True, logging_level="CRITICAL")
    assert list(kue.job_events(connection, queue.name, [job.id])) == [
        kue.JobEvent(job.id, "failed", "Work-horse terminated unexpectedly")]
    assert job.get_status(refresh=True) == "failed"


def test_rq_logs_go_to_stderr_one_line_each(capsys, monkeypatch):
    monkeypatch.setattr(logging.getLogger("rq"), "handlers", [])
    monkeypatch.setenv("RQ_LOGGING_LEVEL", "info")
    assert workers.setup_logging() == "INFO"
    logging.getLogger("rq.worker").info("first line\nTraceback ...")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "rq: first line\n")


def test_a_background_worker_runs_jobs_until_closed(connection):
    queue = kue.queue_for("reserve_seat", connection)
    worker = workers.BackgroundWorker(queue)
    worker.start()
    first = worker.thread
    worker.start()
    assert worker.thread is first and first.is_alive()
    job = kue.create_job(queue, "math.sqrt", 16)
    wait_until(lambda: job.get_status(refresh=True) == "finished",
               message="the job to finish")
    assert job.return_value() == 4.0
    worker.close()
    assert not first.is_alive()
