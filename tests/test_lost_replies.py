"""Issue 19, items 1 and 2: each job ends once, truly, when replies are lost.

The soak kills every client connection of a real Redis (``CLIENT KILL TYPE
normal``) every 20 ms for 10 s while three task-8 creators, a processor and
the seat server work. A killed connection loses the reply of whatever was in
flight, including writes that Redis ran. Afterwards each job must have ended
exactly once with its true outcome, each printed once, and the seat server
must have printed a completed line for each of the 50 seats taken.
"""
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from faults import FaultyRedis
from helpers import Script, http_get, start_seat_server, wait_until

JOB_QUEUE = "push_notification_code_2"
PHONES = re.findall(r'"phoneNumber": "(\d+)"',
                    (Path(__file__).parent.parent
                     / "7-job_creator.py").read_text())
BLACKLISTED = {"4153518780", "4153518781"}
KILL_EVERY = 0.02
KILLING_FOR = 10.0
RESERVATIONS = 120
SETTLE_SECONDS = 90


@pytest.fixture
def faulty_redis(tmp_path: Path) -> Iterator[FaultyRedis]:
    """Yield a private real Redis, stopped after the test."""
    server = FaultyRedis(tmp_path)
    yield server
    server.stop()


def kill_connections(url: str, stop: threading.Event) -> int:
    """Kill every normal client connection each KILL_EVERY s until STOP."""
    killer = redis.Redis.from_url(url, socket_timeout=5)
    kills = 0
    while not stop.wait(KILL_EVERY):
        kills += killer.execute_command("CLIENT", "KILL", "TYPE", "normal")
    killer.close()
    return kills


def true_end(phone: str) -> str:
    """Return how the notification job for PHONE must end."""
    if phone in BLACKLISTED:
        return f"failed: Phone number {phone} is blacklisted"
    return "completed"


def creator_problems(number: int, creator: Script) -> list[str]:
    """Say what is wrong with a creator: not ended, or a job not once."""
    code = creator.process.poll()
    if code is not None:
        for reader in creator.readers:
            reader.join(timeout=10)
    out = creator.output()
    created = re.findall(r"^Notification job created: (\d+)$", out, re.M)
    ends = re.findall(r"^Notification job (\d+) (completed|failed: .*)$",
                      out, re.M)
    name = f"creator {number}"
    if code is None:
        ended = {job_id for job_id, _ in ends}
        return [f"{name} waits for jobs "
                f"{[job for job in created if job not in ended]}"]
    if code != 0:
        return [f"{name} exited {code}: "
                f"{''.join(creator.streams['err'])[-400:]!r}"]
    problems = []
    if len(created) != len(PHONES):
        problems.append(f"{name} created {len(created)} jobs")
    for job_id, phone in zip(created, PHONES):
        mine = [end for ended_id, end in ends if ended_id == job_id]
        if mine != [true_end(phone)]:
            problems.append(f"{name}: job {job_id} ({phone}) ended {mine}")
    return problems


def seat_problems(server: Script, answers: Counter,
                  client: redis.Redis) -> list[str]:
    """Say what is wrong with the seat server's job lines and the seats."""
    out = server.output()
    completed = re.findall(r"^Seat reservation job (\d+) completed$", out,
                           re.M)
    failed = re.findall(r"^Seat reservation job (\d+) failed: (.*)$", out,
                        re.M)
    problems = []
    ends = Counter(completed + [job_id for job_id, _ in failed])
    twice = [job_id for job_id, count in ends.items() if count > 1]
    if twice:
        problems.append(f"seat jobs ended more than once: {twice}")
    queued = answers[b'{"status":"Reservation in process"}']
    if sum(ends.values()) != queued:
        problems.append(f"{sum(ends.values())} seat jobs ended, "
                        f"{queued} were queued")
    if len(completed) != 50:
        problems.append(f"{len(completed)} completed lines, not 50")
    wrong = {reason for _, reason in failed
             if reason != "Not enough seats available"}
    if wrong:
        problems.append(f"seat jobs failed with {wrong}")
    if client.get("available_seats") != "0":
        problems.append(f"available_seats is "
                        f"{client.get('available_seats')!r}")
    return problems


def soak(faulty_redis: FaultyRedis) -> None:
    """Run the soak once; fail with what went wrong."""
    url = faulty_redis.url
    client = faulty_redis.client()
    server, base = start_seat_server("script", url)
    processor = Script("7-job_processor.py", url)
    scripts = [server, processor]
    stop = threading.Event()
    try:
        wait_until(lambda: client.scard(f"rq:workers:{JOB_QUEUE}") == 2,
                   timeout=20, message="the processor's two workers")
        killing = ThreadPoolExecutor(max_workers=1)
        kills = killing.submit(kill_connections, url, stop)
        started = time.monotonic()
        creators = [Script("7-job_creator.py", url) for _ in range(3)]
        scripts += creators

        def reserve(_: int) -> bytes:
            """Ask for a seat; return the body (or the error's name)."""
            try:
                return http_get(base + "/reserve_seat", timeout=30)[2]
            except OSError as error:
                return type(error).__name__.encode()

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = Counter(pool.map(reserve, range(RESERVATIONS)))
            while http_get(base + "/process")[2] != (
                    b'{"status":"Queue processing"}'):
                time.sleep(0.05)  # a 503 while Redis is away: ask again
        # The fault lasts KILLING_FOR seconds: a length, not a wait.
        time.sleep(max(0.0, KILLING_FOR - (time.monotonic() - started)))
        stop.set()
        assert kills.result(timeout=10) > 100, "connections were killed"
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            problems = [problem for number, creator in enumerate(creators)
                        for problem in creator_problems(number, creator)]
            problems += seat_problems(server, answers, client)
            if not problems:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{dict(answers)}; " + "; ".join(
                    problems) + "; processor stderr: "
                    + "".join(processor.streams["err"])[-1500:]
                    + "; server stderr: "
                    + "".join(server.streams["err"])[-1500:])
            time.sleep(0.2)
    finally:
        stop.set()
        for script in scripts:
            script.kill()


@pytest.mark.slow
def test_connections_killed_every_20_ms_leave_every_job_ending_once(
        faulty_redis: FaultyRedis) -> None:
    soak(faulty_redis)
