"""Issue 9: faults and mistakes, reproduced from the outside on a real Redis.

Each test injects one fault of the issue's table (a processor killed with
kill -9, Redis restarted under load, odd HTTP requests, Ctrl-C at random
moments...) and asserts the issue's goal for it. They act as a learner's
shell or a failing machine would: processes, signals, HTTP and Redis
commands; the only code they import is the web apps' create_app and
queuing.kue, to queue a job that kills its worker.

Every wait has a deadline. The injections that take a second or more carry
the "slow" mark and are skipped unless selected: ``python -m pytest -n 0
-m slow`` or ``SLOW=1`` (CI runs them); the quick checks run every time.
"""
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fakeredis
import pytest
import redis

from faults import (FaultyRedis, blocked_clients, concurrent_requests,
                    cpu_load, describe_group, eventually, group_alive,
                    group_pids, kill_group, random_moments, redis_snapshot,
                    request)
from helpers import (ROOT, SEAT_SERVERS, Script, free_port, hear_ctrl_c,
                     http_get, init_seats, run_script, script_env,
                     start_seat_server, wait_for_http, wait_until)
from queuing import kue

slow = pytest.mark.slow

stock = importlib.import_module("9-stock")
seat = importlib.import_module("100-seat")

JOB_QUEUE = "push_notification_code_2"
SEAT_QUEUE = "reserve_seat"
IN_PROCESS = b'{"status":"Reservation in process"}'
NOT_FOUND = b'{"status":"Product not found"}'
# The goal for items 1 to 3: everything settled this long after
# Redis or the processor is back.
RECOVERY_SECONDS = 60
GRANIAN = str(Path(sys.executable).parent / "granian")


@pytest.fixture
def faulty_redis(tmp_path: Path) -> Iterator[FaultyRedis]:
    """Yield a private Redis that the test may restart, stopped after."""
    server = FaultyRedis(tmp_path)
    yield server
    server.stop()


def wait_for_goal(problems: Callable[[], list[str]], timeout: float,
                  fatal: Callable[[], str | None] = lambda: None) -> None:
    """Wait until PROBLEMS() is empty; fail at TIMEOUT, or once FATAL says.

    The failure lists the problems left at the deadline: what the fault
    left behind.
    """
    deadline = time.monotonic() + timeout
    while True:
        ended = fatal()
        if ended:
            raise AssertionError(ended + "; problems: "
                                 + "; ".join(problems()))
        left = problems()
        if not left:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout}s: " + "; ".join(left))
        time.sleep(0.1)


def job_endings(output: str) -> tuple[list[str], dict[str, list[str]]]:
    """Return a creator's job ids and the final line(s) of each job."""
    created = re.findall(r"^Notification job created: (\d+)$", output, re.M)
    endings: dict[str, list[str]] = {job_id: [] for job_id in created}
    for job_id, ending in re.findall(
            r"^Notification job (\d+) (completed|failed: .*)$", output,
            re.M):
        endings.setdefault(job_id, []).append(ending)
    return created, endings


def ending_problems(name: str, output: str, count: int) -> list[str]:
    """Say what is wrong with the job endings a creator printed."""
    created, endings = job_endings(output)
    problems = []
    if len(created) != count:
        problems.append(f"{name} created {len(created)} jobs, not {count}")
    for job_id, ends in endings.items():
        if len(ends) != 1:
            problems.append(f"{name}: job {job_id} ended {len(ends)} times"
                            f" {ends}")
        for end in ends:
            message = end.removeprefix("failed: ")
            # A clear message is a sentence, not an exception's class name.
            if end.startswith("failed") and " " not in message:
                problems.append(f"{name}: job {job_id} failed without a "
                                f"clear message: {end!r}")
    return problems


def stranded(client: redis.Redis, queue_name: str) -> list[str]:
    """Say what RQ still holds for QUEUE_NAME: queued, dequeued, started."""
    snapshot = redis_snapshot(client, queue_name)
    return [f"{key} holds {snapshot[key]}"
            for key in ("queued", "intermediate", "started")
            if snapshot[key]]


def settled(script: Script) -> tuple[int | None, str, str]:
    """Return a script's status, stdout and stderr; all of it once ended.

    While it runs, the status is None and the output what came so far.
    """
    code = script.process.poll()
    if code is not None:
        for reader in script.readers:
            reader.join(timeout=10)
    return code, script.output(), "".join(script.streams["err"])


def creator_problems(name: str, creator: Script) -> list[str]:
    """Say what keeps creator NAME from the goal: ended, 0, each job once."""
    code, out, err = settled(creator)
    if code is None:
        _, endings = job_endings(out)
        return [f"{name} still waits for jobs "
                f"{[job for job, ends in endings.items() if not ends]}"]
    if code != 0:
        return [f"{name} exited {code}: {err[-300:]!r}"]
    return ending_problems(name, out, 11)


def ended_processes(*scripts: Script) -> str | None:
    """Say which of SCRIPTS ended, with its last output, if any did."""
    for script in scripts:
        code, _, err = settled(script)
        if code is not None:
            return (f"{script.name} ended with status {code}; stderr "
                    f"tail: {err[-600:]!r}")
    return None


# Item 1: kill -9 of the processor's process group while jobs run.

@slow
def test_jobs_dequeued_by_a_processor_killed_with_kill_9_still_end(
        faulty_redis: FaultyRedis) -> None:
    """Kill -9 the processor while its workers hold dequeued jobs.

    Both workers wait in BLMOVE; SIGSTOP freezes the group, so that when
    the creator pushes its jobs Redis moves two of them to the intermediate
    queue for workers that will never read the reply: exactly what a kill
    -9 between the dequeue and the job's start leaves, every time.
    """
    client = faulty_redis.client()
    url = faulty_redis.url
    first = Script("7-job_processor.py", url)
    creator = restarted = None
    try:
        wait_until(lambda: client.scard(f"rq:workers:{JOB_QUEUE}") == 2
                   and blocked_clients(client) == 2, timeout=20,
                   message="two workers waiting in BLMOVE")
        dead_workers = set(client.smembers(f"rq:workers:{JOB_QUEUE}"))
        os.killpg(first.process.pid, signal.SIGSTOP)
        creator = Script("7-job_creator.py", url)
        wait_until(lambda: client.llen(
            f"rq:queue:{JOB_QUEUE}:intermediate") == 2,
            message="two jobs moved to the frozen workers")
        os.killpg(first.process.pid, signal.SIGKILL)
        first.wait()
        restarted = Script("7-job_processor.py", url)

        def problems() -> list[str]:
            found = stranded(client, JOB_QUEUE)
            alive = dead_workers & set(client.smembers("rq:workers"))
            if alive:
                found.append(f"{len(alive)} dead workers still in "
                             "rq:workers")
            return found + creator_problems("the creator", creator)

        wait_for_goal(problems, RECOVERY_SECONDS,
                      lambda: ended_processes(restarted))
    finally:
        for script in (first, creator, restarted):
            if script:
                script.kill()


@slow
def test_kill_9_at_random_moments_of_the_pipeline_strands_no_job(
        faulty_redis: FaultyRedis) -> None:
    """Kill -9 the processor three times while three creators run."""
    client = faulty_redis.client()
    url = faulty_redis.url
    processors: list[Script] = []
    creators: list[Script] = []
    try:
        processors.append(Script("7-job_processor.py", url))
        wait_until(lambda: client.scard(f"rq:workers:{JOB_QUEUE}") == 2,
                   timeout=20, message="two workers")
        creators = [Script("7-job_creator.py", url) for _ in range(3)]
        dead_workers: set[str] = set()
        for moment in random_moments(3, 0.0, 0.3, seed=9):
            done = sum(creator.output().count(" complete")
                       for creator in creators)
            wait_until(lambda: sum(
                creator.output().count(" complete")
                for creator in creators) > done
                or all(c.process.poll() is not None for c in creators),
                timeout=30, message="more jobs to run")
            time.sleep(moment)  # the fault's timing, not a synchronisation
            dead_workers |= set(client.smembers(f"rq:workers:{JOB_QUEUE}"))
            os.killpg(processors[-1].process.pid, signal.SIGKILL)
            processors[-1].wait()
            processors.append(Script("7-job_processor.py", url))
            wait_until(lambda: len(set(client.smembers(
                f"rq:workers:{JOB_QUEUE}")) - dead_workers) == 2,
                timeout=20, message="the restarted processor's workers")

        def problems() -> list[str]:
            found = stranded(client, JOB_QUEUE)
            for number, creator in enumerate(creators):
                found += creator_problems(f"creator {number}", creator)
            alive = dead_workers & set(client.smembers("rq:workers"))
            if alive:
                found.append(f"{len(alive)} dead workers still in "
                             "rq:workers")
            return found

        wait_for_goal(problems, RECOVERY_SECONDS,
                      lambda: ended_processes(processors[-1]))
    finally:
        for script in processors + creators:
            script.kill()


# Item 2: Redis restarted (SHUTDOWN SAVE) just after /process on 100-seat.

def seat_endings(output: str) -> tuple[list[str], list[str]]:
    """Return the completed and the failed lines a seat server printed."""
    lines = output.splitlines()
    return ([line for line in lines if re.fullmatch(
                r"Seat reservation job \d+ completed", line)],
            [line for line in lines if re.fullmatch(
                r"Seat reservation job \d+ failed: .*", line)])


@slow
@pytest.mark.parametrize("kind", list(SEAT_SERVERS))
def test_the_seat_server_finishes_its_queue_across_a_redis_restart(
        faulty_redis: FaultyRedis, kind: str) -> None:
    client = faulty_redis.client()
    server, base = start_seat_server(kind, faulty_redis.url)
    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            bodies = list(pool.map(
                lambda _: http_get(base + "/reserve_seat")[2], range(300)))
        assert bodies.count(IN_PROCESS) == 300, Counter(bodies)
        assert http_get(base + "/process")[2] == (
            b'{"status":"Queue processing"}')
        faulty_redis.restart_with_save()

        def problems() -> list[str]:
            found = stranded(client, SEAT_QUEUE)
            completed, failed = seat_endings(settled(server)[1])
            if len(completed) != 50:
                found.append(f"{len(completed)} completed lines, not 50")
            if len(completed) + len(failed) != 300:
                reasons = Counter(line.split(": ", 1)[1] for line in failed)
                found.append(f"{len(completed) + len(failed)} jobs ended,"
                             f" not 300; failures: {dict(reasons)}")
            seats = client.get("available_seats")
            if seats != "0":
                found.append(f"available_seats is {seats!r}")
            return found

        wait_for_goal(problems, RECOVERY_SECONDS,
                      lambda: ended_processes(server))
        assert http_get(base + "/available_seats") == (
            200, "application/json", b'{"numberOfAvailableSeats":"0"}')
    finally:
        server.kill()


# Item 3: Redis restarted (with save) during the task 8 pipeline.

@slow
def test_the_job_pipeline_finishes_across_a_redis_restart(
        faulty_redis: FaultyRedis) -> None:
    url = faulty_redis.url
    client = faulty_redis.client()
    processor = Script("7-job_processor.py", url)
    creators: list[Script] = []
    try:
        wait_until(lambda: client.scard(f"rq:workers:{JOB_QUEUE}") == 2,
                   timeout=20, message="two workers")
        creators = [Script("7-job_creator.py", url) for _ in range(3)]
        # Every creator connected and created its jobs; some jobs run.
        wait_until(lambda: all(
            creator.output().count("Notification job created: ") == 11
            for creator in creators) and any(
            "% complete" in creator.output() for creator in creators),
            timeout=20, message="the jobs to be created and to start")
        faulty_redis.restart_with_save()

        def problems() -> list[str]:
            found = stranded(client, JOB_QUEUE)
            for number, creator in enumerate(creators):
                found += creator_problems(f"creator {number}", creator)
            return found

        wait_for_goal(problems, RECOVERY_SECONDS,
                      lambda: ended_processes(processor))
    finally:
        for script in [processor, *creators]:
            script.kill()


# Item 8: item ids longer than Python's int() digit limit.

@pytest.mark.parametrize("digits", [4301, 20_000])
@pytest.mark.parametrize("route", ["/list_products/", "/reserve_product/"])
def test_an_item_id_of_thousands_of_digits_is_a_json_404(
        route: str, digits: int) -> None:
    app = stock.create_app(fakeredis.FakeRedis(decode_responses=True))
    response = app.test_client().get(route + "9" * digits)
    assert (response.status_code, response.content_type,
            response.get_data()) == (404, "application/json", NOT_FOUND)


# Item 9: HEAD must answer without acting.

def test_head_on_reserve_product_reserves_nothing(
        faulty_redis: FaultyRedis) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Script("9-stock.py", faulty_redis.url, PORT=str(port))
    try:
        wait_for_http(base + "/list_products", server)
        # Any status will do (200, or 405 JSON), as long as nothing happens.
        assert request("HEAD", base + "/reserve_product/1")[2] == b""
        assert faulty_redis.client().keys("*") == []
        assert json.loads(http_get(base + "/list_products/1")[2])[
            "currentQuantity"] == 4
    finally:
        server.kill()


@pytest.fixture
def seat_server(faulty_redis: FaultyRedis) -> Iterator[tuple[str, Script]]:
    """Yield the base URL of a running ./100-seat.py, and its process."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Script("100-seat.py", faulty_redis.url, PORT=str(port))
    try:
        wait_for_http(base + "/available_seats", server)
        yield base, server
    finally:
        server.kill()


def test_head_on_reserve_seat_queues_nothing(
        faulty_redis: FaultyRedis, seat_server: tuple[str, Script]) -> None:
    base, _ = seat_server
    client = faulty_redis.client()
    before = sorted(client.keys("*"))
    assert request("HEAD", base + "/reserve_seat")[2] == b""
    assert sorted(client.keys("*")) == before, "HEAD wrote to Redis"
    assert client.llen(f"rq:queue:{SEAT_QUEUE}") == 0


@slow
def test_head_on_process_starts_no_worker(
        faulty_redis: FaultyRedis, seat_server: tuple[str, Script]) -> None:
    base, _ = seat_server
    client = faulty_redis.client()
    request("HEAD", base + "/process")
    assert http_get(base + "/reserve_seat")[2] == IN_PROCESS
    # A worker would register and take the job within milliseconds.
    assert not eventually(lambda: client.scard(f"rq:workers:{SEAT_QUEUE}")
                          or client.llen(f"rq:queue:{SEAT_QUEUE}") == 0,
                          timeout=3), (
        "HEAD /process started a worker: "
        f"{redis_snapshot(client, SEAT_QUEUE)}")
    # The control: GET does start it, and the job is taken.
    http_get(base + "/process")
    wait_until(lambda: client.get("available_seats") == "49",
               message="GET /process to take the queued seat")


# Item 10: the development servers under 512 concurrent connections.

@slow
@pytest.mark.parametrize("name, path", [
    ("9-stock.py", "/list_products/1"),
    ("100-seat.py", "/available_seats")])
def test_a_dev_server_answers_512_concurrent_requests_without_errors(
        faulty_redis: FaultyRedis, name: str, path: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Script(name, faulty_redis.url, PORT=str(port))
    try:
        wait_for_http(base + path, server)
        # Two rounds: how many requests overlap varies from run to run.
        answers = (concurrent_requests(base + path, 512)
                   + concurrent_requests(base + path, 512))
        outcomes = Counter(answer[0] if isinstance(answer, tuple)
                           else answer for answer in answers)
        errors = "".join(server.streams["err"])
        assert outcomes == {200: 1024}, (
            f"{outcomes}; server stderr: {errors[-500:]!r}")
    finally:
        server.kill()


# Item 11: OPTIONS is the app's answer, so it must be JSON.

@pytest.mark.parametrize("app_name, path", [
    ("9-stock", "/list_products"), ("9-stock", "/list_products/1"),
    ("9-stock", "/reserve_product/1"), ("100-seat", "/available_seats"),
    ("100-seat", "/reserve_seat"), ("100-seat", "/process")])
def test_options_answers_json(app_name: str, path: str) -> None:
    if app_name == "9-stock":
        connection = fakeredis.FakeRedis(decode_responses=True)
        app = stock.create_app(connection)
    else:
        connection = fakeredis.FakeRedis()
        app = seat.create_app(connection)
    response = app.test_client().options(path)
    assert response.content_type == "application/json", (
        f"OPTIONS {path}: {response.status_code} {response.content_type} "
        f"{response.get_data()!r}")
    json.loads(response.get_data())
    if response.status_code == 200:
        assert "GET" in response.headers.get("Allow", "")
    else:
        assert response.status_code == 405
    assert connection.keys("*") == []


# Item 12: a closed pipe, as `| head -2` closes it.

def piped_into_head(url: str, lines: int, tmp_path: Path
                    ) -> tuple[str, str, int]:
    """Run ./4-redis_advanced_op.py | head -LINES in bash.

    Return what head printed, the script's stderr and its exit status.
    """
    result = subprocess.run(
        ["bash", "-c", f'./4-redis_advanced_op.py 2>"$ERR" | head -{lines};'
         ' echo "${PIPESTATUS[0]}" >"$STATUS"'],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
        env=script_env(url, ERR=str(tmp_path / "err"),
                       STATUS=str(tmp_path / "status")))
    return (result.stdout, (tmp_path / "err").read_text(),
            int((tmp_path / "status").read_text()))


@slow
def test_piping_into_head_is_quiet(faulty_redis: FaultyRedis,
                                   tmp_path: Path) -> None:
    client = faulty_redis.client()
    runs = []
    for _ in range(15):
        client.delete("HolbertonSchools")
        runs.append(piped_into_head(faulty_redis.url, 2, tmp_path))
    for out, err, status in runs:
        assert out == ("Redis client connected to the server\n"
                       "Reply: 1\n"), out
        assert (err, status in (0, 141)) == ("", True), (err, status)


@slow
def test_a_pipe_closed_before_the_next_line_is_quiet(
        faulty_redis: FaultyRedis, tmp_path: Path) -> None:
    """Pause Redis writes, so that head is gone before the 2nd line."""
    client = faulty_redis.client()
    client.execute_command("CLIENT", "PAUSE", 1000, "WRITE")
    out, err, status = piped_into_head(faulty_redis.url, 1, tmp_path)
    assert out == "Redis client connected to the server\n"
    assert (err, status in (0, 141)) == ("", True), (err, status)


# Item 13: init-seats with Redis down.

def test_init_seats_without_redis_is_one_line(closed_url: str) -> None:
    result = init_seats(closed_url)
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1, result.stderr[-2000:]


# Item 14: a second ./100-seat.py on a port the first one serves.

def test_a_second_seat_server_on_a_busy_port_leaves_the_seats_alone(
        faulty_redis: FaultyRedis) -> None:
    client = faulty_redis.client()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = Script("100-seat.py", faulty_redis.url, PORT=str(port))
    try:
        wait_for_http(base + "/available_seats", first)
        http_get(base + "/process")
        for _ in range(5):
            assert http_get(base + "/reserve_seat")[2] == IN_PROCESS
        wait_until(lambda: client.get("available_seats") == "45",
                   message="five seats taken")
        second = run_script("100-seat.py", faulty_redis.url, PORT=str(port))
        output = (second.stdout + second.stderr).strip()
        seats = (client.get("available_seats"),
                 client.get("reservation_enabled"))
        problems = []
        if seats != ("45", "1"):
            problems.append(f"the seats became {seats}, not ('45', '1')")
        if second.returncode == 0:
            problems.append("the second server exited 0")
        if not output or "\n" in output or "Traceback" in output:
            problems.append(f"it printed, not one line: {output!r}")
        assert not problems, "; ".join(problems)
    finally:
        first.kill()


# Item 15: Ctrl-C at random moments, under CPU load.

FRAME = re.compile(r'File "([^"]+)", line (-?\d+), in (\S+)')
# Every numbered script imports the package first; once this line of it
# has run, a Ctrl-C ends the script quietly.
PACKAGE = ROOT / "queuing" / "__init__.py"
QUIET_AFTER = 1 + PACKAGE.read_text().splitlines().index(
    "    _signal.signal(_signal.SIGINT, _end_quietly)")


def interpreter_start_up(err: str) -> bool:
    """Tell whether ERR is Python's own traceback of a Ctrl-C that ended it.

    See python_start_up_only.
    """
    return (re.search(r"KeyboardInterrupt:?\s*\Z", err) is not None
            and python_start_up_only(err))


def python_start_up_only(err: str) -> bool:
    """Tell whether ERR is only what Python prints of a start-up Ctrl-C.

    A Ctrl-C while the interpreter starts (its site module, the standard
    library it loads, the .pth files of site-packages, its check of argv[0],
    the first statement of the script) comes before any handler a script
    can install; Python then prints a KeyboardInterrupt traceback, whatever
    the script. Some of those it prints and ignores, and goes on (its
    import system's callbacks: "Exception ignored in"). A traceback may be
    chained (the Ctrl-C came while Python handled an error of its own) or
    introduced by the step Python names. The first lines of the package
    that every script imports first, up to where it takes Ctrl-C over,
    are that first statement too. Any other frame in the repository's
    code (but a script's own top level) or in a third-party package
    imported by the script is the script's.
    """
    err = re.sub(r"(?m)^(Fatal Python error: init_\w+: .*\n"
                 r"Python runtime state: .*\n"
                 r"|Failed checking if argv\[0\] is an import path entry\n"
                 r"|python: failed to set __main__\.__loader__\n"
                 r"|Exception ignored in: <function _\w+.*\n"
                 r"|\nDuring handling of the above exception, another "
                 r"exception occurred:\n\n)", "", err)
    if err == "KeyboardInterrupt\n":
        return True  # so early that Python has no traceback to print
    frames = FRAME.findall(err)
    if not frames or not err.startswith("Traceback"):
        return False
    # The site module runs the .pth files of site-packages as it starts;
    # setuptools' one adds an import finder of its own (_distutils_hack).
    in_site = any(path == "<frozen site>" for path, _, _ in frames)
    for path, line, function in frames:
        if "site-packages" in path:
            if not in_site and "/_distutils_hack/" not in path:
                return False
            continue  # the venv may sit inside the repository
        if path.startswith("<"):
            continue
        resolved = (ROOT / path).resolve()
        if resolved == PACKAGE and int(line) <= QUIET_AFTER:
            continue  # the package's first lines, before it takes Ctrl-C
        if ROOT in resolved.parents and not (
                resolved.parent == ROOT and function == "<module>"):
            return False
    return True


# What Python printed of Ctrl-Cs in the first milliseconds (seen in
# sweeps of 0-30 ms), and what a script's own traceback looks like.
SCRIPT = f'  File "{ROOT}/./7-job_processor.py", line 11, in <module>\n'
FROZEN = '  File "<frozen importlib._bootstrap_external>", line 164, in x\n'
START_UP_TRACEBACKS = {
    "init step": "Fatal Python error: init_import_site: Failed to import "
                 "the site module\nPython runtime state: initialized\n"
                 "Traceback (most recent call last):\n"
                 '  File "<frozen site>", line 186, in addpackage\n'
                 "KeyboardInterrupt\n",
    "argv[0] check, chained": "Failed checking if argv[0] is an import "
                              "path entry\nTraceback (most recent call "
                              "last):\n" + FROZEN + "KeyError: 'x'\n\n"
                              "During handling of the above exception, "
                              "another exception occurred:\n\n"
                              "Traceback (most recent call last):\n"
                              + FROZEN + "KeyboardInterrupt\n",
    "first statement": "Traceback (most recent call last):\n" + SCRIPT
                       + FROZEN + "KeyboardInterrupt\n",
    "the package's first line": "Traceback (most recent call last):\n"
                                + SCRIPT + f'  File "{PACKAGE}", line 0, '
                                "in <module>\nKeyboardInterrupt\n",
    "too early for a traceback": "KeyboardInterrupt\n",
    "__main__'s loader": "python: failed to set __main__.__loader__\n"
                         "Traceback (most recent call last):\n" + FROZEN
                         + "KeyboardInterrupt: \n",
    "setuptools' finder": "Traceback (most recent call last):\n" + SCRIPT
                          + f'  File "{ROOT}/.venv/lib/python3.11/site-'
                          'packages/_distutils_hack/__init__.py", line 89, '
                          "in find_spec\nKeyboardInterrupt\n",
    # Printed, and ignored: Python goes on.
    "an import callback": "Exception ignored in: <function _get_module_"
                          "lock.<locals>.cb at 0x7f>\nTraceback (most "
                          "recent call last):\n" + FROZEN
                          + "KeyboardInterrupt: \n",
}
SCRIPTS_TRACEBACKS = {
    "in the package, once quiet": "Traceback (most recent call last):\n"
                                  + SCRIPT + f'  File "{PACKAGE}", line '
                                  f"{QUIET_AFTER + 1}, in <module>\n"
                                  "KeyboardInterrupt\n",
    "in a library": "Traceback (most recent call last):\n" + SCRIPT
                    + f'  File "{ROOT}/.venv/lib/python3.11/site-packages/'
                    'rq/worker.py", line 1, in work\nKeyboardInterrupt\n',
    "in the script's main": "Traceback (most recent call last):\n"
                            + SCRIPT + f'  File "{ROOT}/7-job_processor.py",'
                            ' line 30, in main\nKeyboardInterrupt\n',
}


@pytest.mark.parametrize("err", START_UP_TRACEBACKS.values(),
                         ids=START_UP_TRACEBACKS)
def test_python_s_own_start_up_tracebacks_are_told_apart(err: str) -> None:
    assert interpreter_start_up(err)


@pytest.mark.parametrize("err", SCRIPTS_TRACEBACKS.values(),
                         ids=SCRIPTS_TRACEBACKS)
def test_a_script_s_own_traceback_is_never_taken_for_python_s(
        err: str) -> None:
    assert not python_start_up_only(err)


def ctrl_c_trial(name: str, url: str, moment: float) -> str | None:
    """Start NAME, Ctrl-C it after MOMENT seconds; say what went wrong."""
    script = Script(name, url)
    try:
        time.sleep(moment)  # the fault's timing, not a synchronisation
        try:
            os.killpg(script.process.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        try:
            script.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            ignored = "".join(script.streams["err"])
            if not python_start_up_only(ignored):
                return (f"at {moment:.3f}s: still running 20 s later: "
                        + describe_group(script.process.pid)
                        + f"; stderr {ignored[-1500:]!r}")
            # Python printed the Ctrl-C and went on, before any file of
            # the repository ran: the user's second Ctrl-C must work.
            os.killpg(script.process.pid, signal.SIGINT)
            code, _, err = script.wait()
            err = err.removeprefix(ignored)
            if code != 0 or any(not line.startswith("rq: ")
                                for line in err.splitlines()):
                return (f"at {moment:.3f}s: Python ignored a Ctrl-C; the "
                        f"second gave status {code}, stderr {err[-1500:]!r}")
            return None
        code, _, err = script.wait()
        if (code == -signal.SIGINT and err == "") or (
                interpreter_start_up(err)):
            # Stopped while Python itself was starting: no script can
            # handle that Ctrl-C (see interpreter_start_up).
            return None
        if code != 0 or "Traceback" in err or any(
                not line.startswith("rq: ") for line in err.splitlines()):
            return f"at {moment:.3f}s: status {code}, stderr {err[-1500:]!r}"
        return None
    finally:
        script.kill()


def test_a_ctrl_c_as_python_starts_ends_it_however_pytest_was_started(
        real_redis: str) -> None:
    # A shell starts `python -m pytest &` with SIGINT ignored, and the
    # scripts it started inherited that until their first line: a Ctrl-C
    # as Python starts was lost, and the processor ran on (the test below
    # failed for its earliest moments, in background runs only).
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        hear_ctrl_c()
        failure = ctrl_c_trial("6-job_processor.py", real_redis, 0.0)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert failure is None, failure


@slow
@pytest.mark.parametrize("name, trials", [
    ("6-job_processor.py", 100), ("7-job_processor.py", 100)])
def test_ctrl_c_at_random_moments_under_load_never_shows_a_traceback(
        faulty_redis: FaultyRedis, name: str, trials: int) -> None:
    moments = random_moments(trials, 0.0, 1.5, seed=trials + len(name))
    with cpu_load(), ThreadPoolExecutor(max_workers=4) as pool:
        failures = [failure for failure in pool.map(
            lambda moment: ctrl_c_trial(name, faulty_redis.url, moment),
            moments) if failure]
    assert not failures, (f"{len(failures)} of {trials} stops went wrong:\n"
                          + "\n".join(failures))


# Item 15, continued: Ctrl-C just after the pool replaced a dead worker.
# The replacement inherited the pool's stop handler, a stop could come
# between RQ's decision to replace and the fork, and a stop landing while
# a job was read failed the job as unreadable and was swallowed.

KILLER = """
import signal
from queuing import cli, connection, workers
cli.run(lambda: workers.process("killer", 1, signal.raise_signal,
                                connection.client(decode_responses=False)))
"""


def replaced_worker_trial(url: str) -> str | None:
    """Kill the worker with a job, Ctrl-C the replacement; say what failed."""
    client = redis.Redis.from_url(url)
    client.flushdb()
    script = Script("killer", url, command=[sys.executable, "-c", KILLER])
    try:
        wait_until(lambda: client.scard("rq:workers:killer") == 1,
                   message="the first worker")
        first = client.smembers("rq:workers:killer")
        # The job kills the worker that runs it, as kill -9 would.
        kue.create_job(kue.queue_for("killer", client), signal.raise_signal,
                       signal.SIGKILL)
        wait_until(lambda: client.smembers("rq:workers:killer") - first,
                   message="a replacement worker")
        code, _, err = script.stop(signal.SIGINT, group=True, timeout=15)
        if code != 0 or "Traceback" in err or "could not be read" in err:
            return f"status {code}, stderr {err[-500:]!r}"
        return None
    except AssertionError as error:
        return str(error)
    finally:
        script.kill()


@slow
@pytest.mark.parametrize("trials", [40], ids=["40 runs"])
def test_ctrl_c_right_after_a_worker_was_replaced_stops_the_processor(
        faulty_redis: FaultyRedis, trials: int) -> None:
    failures = [failure for failure in (
        replaced_worker_trial(faulty_redis.url) for _ in range(trials))
        if failure]
    assert not failures, (f"{len(failures)} of {trials} runs:\n"
                          + "\n".join(failures))


# Item 16: Ctrl-C on granian serving either app.

def granian_command(app: str, port: int) -> list[str]:
    """Return the README's granian command for APP on PORT."""
    return [GRANIAN, "--interface", "wsgi", "--workers", "2",
            "--blocking-threads", "1", "--workers-kill-timeout", "3",
            "--host", "127.0.0.1", "--port", str(port), "--factory",
            f"{app}:create_app"]


def granian_trial(app: str, url: str) -> str | None:
    """Serve APP on granian, Ctrl-C it; say what went wrong, if anything."""
    port = free_port()
    path = "/list_products" if app == "9-stock" else "/available_seats"
    server = Script(app, url, command=granian_command(app, port))
    pgid = server.process.pid
    try:
        wait_for_http(f"http://127.0.0.1:{port}{path}", server, timeout=30)
        wait_until(lambda: len(group_pids(pgid)) >= 3, timeout=20,
                   message="granian's two workers")
        os.killpg(pgid, signal.SIGINT)
        stopped = eventually(lambda: server.process.poll() is not None
                             and not group_alive(pgid), timeout=10)
        if not stopped:
            return (f"{app}: still running 10 s after Ctrl-C (main status "
                    f"{server.process.poll()}): {describe_group(pgid)}")
        return None
    finally:
        kill_group(pgid)
        server.kill()


@slow
@pytest.mark.parametrize("apps", [["9-stock"] * 20 + ["100-seat"] * 20],
                         ids=["40 runs"])
def test_ctrl_c_stops_granian_and_all_its_workers(
        faulty_redis: FaultyRedis, apps: list[str]) -> None:
    failures = [failure for failure in (
        granian_trial(app, faulty_redis.url) for app in apps) if failure]
    assert not failures, (f"{len(failures)} of {len(apps)} runs:\n"
                          + "\n".join(failures))
