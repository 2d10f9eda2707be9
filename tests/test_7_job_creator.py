"""Task 8: 7-job_creator.py creates 11 jobs and prints all their events."""
import importlib
import signal
import threading

import pytest
import redis

from helpers import Script, run_script, wait_until, work_burst
from queuing import kue

creator = importlib.import_module("7-job_creator")
processor_module = importlib.import_module("7-job_processor")

QUEUE = "push_notification_code_2"
BLACKLISTED = {"4153518780", "4153518781"}


def job_lines(job_id: int, phone_number: str) -> list[str]:
    """Return the event lines SPEC gives for job JOB_ID."""
    prefix = f"Notification job {job_id}"
    if phone_number in BLACKLISTED:
        return [f"{prefix} 0% complete",
                f"{prefix} failed: Phone number {phone_number} is "
                "blacklisted"]
    return [f"{prefix} 0% complete", f"{prefix} 50% complete",
            f"{prefix} completed"]


def sent_line(data: dict) -> str:
    """Return the processor's line for the job DATA."""
    return (f"Sending notification to {data['phoneNumber']}, with message: "
            f"{data['message']}")


def test_the_jobs_are_the_tasks_eleven_in_order():
    assert [job["phoneNumber"] for job in creator.JOBS] == [
        "4153518780", "4153518781", "4153518743", "4153538781",
        "4153118782", "4153718781", "4159518782", "4158718781",
        "4153818782", "4154318781", "4151218782"]
    assert [job["message"] for job in creator.JOBS] == [
        f"This is the code {code} to verify your account"
        for code in [1234, 4562, 4321, 4562, 4321, 4562, 4321, 4562,
                     4321, 4562, 4321]]


@pytest.mark.parametrize("event, line", [
    (kue.JobEvent("7", "progress", "50"), "Notification job 7 50% complete"),
    (kue.JobEvent("7", "complete", ""), "Notification job 7 completed"),
    (kue.JobEvent("7", "failed", "Boom"), "Notification job 7 failed: Boom"),
])
def test_print_event_prints_the_original_lines(capsys, event, line):
    creator.print_event(event)
    assert capsys.readouterr().out == line + "\n"


def test_main_prints_every_event_of_every_job_once_in_order(
        connection, capsys, monkeypatch):
    monkeypatch.setattr(creator, "connect", lambda **options: connection)
    # The jobs run in this thread while the creator prints in its own: the
    # processor's lines go to a list, or two prints could share a line.
    sent = []
    monkeypatch.setattr(processor_module, "print",
                        lambda line, **options: sent.append(line),
                        raising=False)
    main = threading.Thread(target=creator.main)
    main.start()
    queue = kue.queue_for(QUEUE, connection)
    wait_until(lambda: queue.count == 11, message="the 11 jobs")
    work_burst(queue)  # one worker, in this thread: jobs run in order
    main.join(timeout=20)
    assert not main.is_alive(), "the creator did not end"
    expected = [f"Notification job created: {n}" for n in range(1, 12)]
    for n, data in enumerate(creator.JOBS, start=1):
        expected += job_lines(n, data["phoneNumber"])
    assert capsys.readouterr().out.splitlines() == expected
    assert sent == [sent_line(data) for data in creator.JOBS
                    if data["phoneNumber"] not in BLACKLISTED]


def by_job(lines: list[str]) -> dict[str, list[str]]:
    """Group event lines by the job id they name, keeping their order."""
    grouped: dict[str, list[str]] = {}
    for line in lines:
        grouped.setdefault(line.split()[2], []).append(line)
    return grouped


@pytest.fixture
def processor(real_redis):
    """Run 7-job_processor.py with its two workers ready."""
    script = Script("7-job_processor.py", real_redis)
    with redis.Redis.from_url(real_redis) as client:
        wait_until(lambda: client.scard(f"rq:workers:{QUEUE}") == 2,
                   message="the two workers of 7-job_processor.py")
    yield script
    script.kill()


def test_with_the_processor_running_the_output_matches_the_task(
        real_redis, processor):
    for run, first_id in [(1, 1), (2, 12)]:
        result = run_script("7-job_creator.py", real_redis)
        assert (result.returncode, result.stderr) == (0, ""), result
        lines = result.stdout.splitlines()
        ids = range(first_id, first_id + 11)
        assert lines[:11] == [f"Notification job created: {n}" for n in ids]
        # Two workers interleave the jobs; each job's lines keep their order.
        assert by_job(lines[11:]) == {
            str(n): job_lines(n, data["phoneNumber"])
            for n, data in zip(ids, creator.JOBS)}, f"run {run}"
    code, out, err = processor.stop(signal.SIGINT, group=True)
    assert (code, err) == (0, "")
    assert sorted(out.splitlines()) == sorted(
        [sent_line(data) for data in creator.JOBS
         if data["phoneNumber"] not in BLACKLISTED] * 2)
