"""Task 7: 6-job_processor.py runs push_notification_code jobs."""
import importlib
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

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


# How a learner stops a processor.
STOPS = {
    "Ctrl-C in the terminal": (signal.SIGINT, True),
    "kill PID": (signal.SIGTERM, False),
    "kill -TERM -PGID": (signal.SIGTERM, True),
}
WORKERS_KEY = "rq:workers:push_notification_code"


@pytest.fixture(scope="module")
def stopped(real_redis_url: str) -> Iterator[dict[str, tuple]]:
    """Start one idle processor per way of stopping it; stop them at once.

    Return how each ended (status, stdout, stderr). Started together, the
    three cost about one start.
    """
    with redis.Redis.from_url(real_redis_url) as client:
        client.flushdb()
        scripts = {way: Script("6-job_processor.py", real_redis_url)
                   for way in STOPS}
        try:
            wait_until(lambda: client.scard(WORKERS_KEY) == len(STOPS),
                       message="the worker of each 6-job_processor.py")
            with ThreadPoolExecutor(max_workers=len(STOPS)) as pool:
                ends = {way: pool.submit(scripts[way].stop, number,
                                         group=group, timeout=15)
                        for way, (number, group) in STOPS.items()}
            yield {way: end.result() for way, end in ends.items()}
        finally:
            for script in scripts.values():
                script.kill()
            client.flushdb()


@pytest.mark.parametrize("way", list(STOPS))
def test_an_idle_processor_stops_cleanly(stopped, way):
    assert stopped[way] == (0, "", ""), f"{way}: {stopped[way]}"


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
