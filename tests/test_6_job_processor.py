"""Task 7: 6-job_processor.py runs push_notification_code jobs."""
import importlib
import signal
import subprocess

import pytest
import redis

from helpers import ROOT, Script, script_env, wait_until
from queuing import kue

processor = importlib.import_module("6-job_processor")
creator = importlib.import_module("6-job_creator")

LINE = ("Sending notification to 4153518780, with message: "
        "This is the code to verify your account\n")


def test_send_notification_prints_the_task_line(capsys):
    processor.send_notification("4153518780",
                                "This is the code to verify your account")
    assert capsys.readouterr().out == LINE


def test_process_notification_sends_the_jobs_data(capsys):
    processor.process_notification(creator.JOB_DATA)
    assert capsys.readouterr().out == LINE


@pytest.fixture
def running(real_redis):
    """Start 6-job_processor.py and wait until its worker listens."""
    script = Script("6-job_processor.py", real_redis)
    with redis.Redis.from_url(real_redis) as client:
        wait_until(lambda: client.scard(
            "rq:workers:push_notification_code") == 1,
            message="the worker of 6-job_processor.py")
    yield script
    script.kill()


@pytest.mark.parametrize("signal_number, group", [
    (signal.SIGINT, True),    # Ctrl-C in the terminal
    (signal.SIGTERM, False),  # kill PID
    (signal.SIGTERM, True),   # kill -TERM -PGID
])
def test_an_idle_processor_stops_cleanly(running, signal_number, group):
    assert running.stop(signal_number, group=group, timeout=15) == (0, "", "")


def test_a_plain_rq_worker_writing_to_a_pipe_prints_the_line(real_redis):
    connection = redis.Redis.from_url(real_redis)
    creator.create_notification_job(
        kue.queue_for("push_notification_code", connection))
    result = subprocess.run(
        # --quiet: RQ's own log lines would flush stdout for the job.
        ["rq", "worker", "--burst", "--quiet", "-S", "json", "-u",
         real_redis, "push_notification_code"], cwd=ROOT,
        env=script_env(real_redis),
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert LINE in result.stdout
