#!/usr/bin/env python3
"""Measure the port side by side with the original Node stack, as ratios.

Kept out of the test run. Every figure is measured on both sides in the same
run, against the same private redis-server (started on a free port, never
6379, and stopped at the end), alternating the sides over several rounds
after a warm-up; each figure is the median of its rounds, printed as
"port | node | port/node":

- web: /list_products/1 requests/s under wrk (-t1 -c32), Express (the Node
  build of 9-stock.js in tools/node) against ./9-stock.py on Flask's dev
  server, gunicorn and granian; and the oversold count of each server
  (reservations confirmed beyond the stock);
- task8: wall time of the task 8 creator, from its start to its exit, with
  the task 9 processor running (Kue against ./7-job_creator.py);
- throughput: jobs/s of the running task 9 processor (two at a time) over
  N jobs queued while it was paused (SIGSTOP), and the Redis commands it
  sent per job;
- memory: Redis bytes per job while queued, finished and failed (INFO
  memory used_memory deltas over N jobs);
- seats: 100-seat.py alone (no Node build): /available_seats requests/s and
  seats taken beyond 50.

The Node side needs node and npm: the packages of tools/node/package.json
are installed into a temporary folder. Without them, or if the install
fails, only the port is measured and the reason is printed. It needs wrk
(Debian: apt-get install wrk) for the request rates.

    python tools/benchmark.py [--rounds 5] [--seconds 3] [--jobs 300]
                              [--only web,task8,throughput,memory,seats]
                              [--no-node] [--suite]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
# The repository's own modules (queuing, tools.demo, the numbered scripts)
# when this file is run by its path (python tools/benchmark.py).
sys.path.insert(0, str(ROOT))
try:
    import queuing  # first: only built-ins, safe outside the venv
    import redis

    from queuing import kue
    from tools.demo import body, free_port, reachable
except ModuleNotFoundError as missing:  # outside the venv
    sys.exit(f"Error: {missing}: {queuing.VENV_HINT}")
NODE_SOURCES = ROOT / "tools" / "node"
VENV_BIN = str(Path(sys.executable).parent)
SECTIONS = ["web", "task8", "throughput", "memory", "seats"]
QUEUE_NAME = "push_notification_code_2"
JOB_FUNCTION = "7-job_processor.process_notification"
# Task 8's phone numbers and codes; the first two numbers are blacklisted.
PHONES = ["4153518780", "4153518781", "4153518743", "4153538781",
          "4153118782", "4153718781", "4159518782", "4158718781",
          "4153818782", "4154318781", "4151218782"]
CODES = ["1234", "4562", "4321"]
MODES = {"mixed": PHONES, "passing": PHONES[2:4], "failing": PHONES[:2]}
SERVERS = {
    "dev server": lambda port: ["./9-stock.py"],
    "gunicorn -w 2 -k gthread --threads 8": lambda port: [
        sys.executable, "-m", "gunicorn", "--no-control-socket", "-w", "2",
        "-k", "gthread", "--threads", "8", "-b", f"127.0.0.1:{port}",
        "9-stock:create_app()"],
    "granian --workers 2 --blocking-threads 1": lambda port: [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--workers",
        "2", "--blocking-threads", "1", "--workers-kill-timeout", "3",
        "--host", "127.0.0.1", "--port", str(port), "--factory",
        "9-stock:create_app"],
}
SEAT_SERVERS = {
    "dev server": lambda port: ["./100-seat.py"],
    "gunicorn -w 2 -k gthread --threads 8": lambda port: [
        sys.executable, "-m", "gunicorn", "--no-control-socket", "-w", "2",
        "-k", "gthread", "--threads", "8", "-b", f"127.0.0.1:{port}",
        "100-seat:create_app()"],
    "granian --workers 2 --blocking-threads 1": lambda port: [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--workers",
        "2", "--blocking-threads", "1", "--workers-kill-timeout", "3",
        "--host", "127.0.0.1", "--port", str(port), "--factory",
        "100-seat:create_app"],
}
CONFIRMED = b'{"status":"Reservation confirmed","itemId":2}'


class BenchmarkError(Exception):
    """A measurement that could not be made (a deadline passed, a crash)."""


def wait_for(condition: Callable[[], object], what: str,
             timeout: float = 30, interval: float = 0.01) -> float:
    """Poll CONDITION until it holds; return the seconds it took.

    Raises BenchmarkError once TIMEOUT seconds have passed.
    """
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise BenchmarkError(f"gave up after {timeout:.0f} s waiting "
                                 f"for {what}")
        time.sleep(interval)
    return time.monotonic() - start


class Processes:
    """Start processes in groups of their own, and stop every one of them."""

    def __init__(self) -> None:
        """Start with no process."""
        self.running: list[subprocess.Popen] = []

    def start(self, command: list[str], cwd: Path, env: dict[str, str],
              output: int | None = subprocess.DEVNULL) -> subprocess.Popen:
        """Start COMMAND in a new session; OUTPUT receives its stdout."""
        process = subprocess.Popen(command, cwd=cwd, env=env, text=True,
                                   stdout=output, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        self.running.append(process)
        return process

    @staticmethod
    def signal_group(process: subprocess.Popen, signum: int) -> None:
        """Send SIGNUM to PROCESS's whole group, if any of it is left."""
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass

    def pause(self, process: subprocess.Popen) -> None:
        """Freeze PROCESS and its children (SIGSTOP to the group)."""
        self.signal_group(process, signal.SIGSTOP)

    def resume(self, process: subprocess.Popen) -> None:
        """Let a frozen PROCESS and its children run again (SIGCONT)."""
        self.signal_group(process, signal.SIGCONT)

    def stop(self, process: subprocess.Popen, signum: int = signal.SIGTERM,
             timeout: float = 15) -> None:
        """Stop PROCESS's group with SIGNUM, killing it after TIMEOUT."""
        self.signal_group(process, signum)
        self.resume(process)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        # Kill what is left of the group (the leader or its children).
        self.signal_group(process, signal.SIGKILL)
        process.wait(timeout=10)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        """Stop every process still running, newest first."""
        for process in reversed(list(self.running)):
            self.stop(process, timeout=10)


@contextmanager
def private_redis(binary: str | None) -> Iterator[str]:
    """Run a redis-server of its own on a free port; yield its URL."""
    binary = (binary or shutil.which("redis-server")
              or shutil.which("redis-server", path=VENV_BIN))
    if binary is None:
        sys.exit("benchmark: no redis-server found (apt-get install "
                 "redis-server, or pip install -r requirements.txt)")
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        url = f"redis://127.0.0.1:{port}/0"
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir",
             directory, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, start_new_session=True)
        try:
            client = redis.Redis.from_url(url, socket_timeout=5)
            wait_for(lambda: answers(client), "redis-server to start")
            version = client.info("server")["redis_version"]
            print(f"Redis {version} ({binary}) at {url}")
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


def answers(client: redis.Redis) -> bool:
    """Tell whether the Redis of CLIENT answers a PING."""
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@contextmanager
def node_stack() -> Iterator[tuple[Path | None, str]]:
    """Install tools/node in a temporary folder; yield it and a note.

    The folder is None, and the note says why, when node or npm is missing
    or the install fails.
    """
    if not (shutil.which("node") and shutil.which("npm")):
        yield None, "node or npm not found on PATH"
        return
    with tempfile.TemporaryDirectory(prefix="queuing-node-") as directory:
        folder = Path(directory)
        for source in [*NODE_SOURCES.glob("*.js"),
                       NODE_SOURCES / "package.json"]:
            shutil.copy(source, folder)
        try:
            subprocess.run(["npm", "install", "--no-audit", "--no-fund"],
                           cwd=folder, capture_output=True, text=True,
                           check=True, timeout=600)
        except subprocess.CalledProcessError as error:
            last = (error.stderr.strip().splitlines() or ["?"])[-1]
            yield None, f"npm install failed: {last}"
            return
        except subprocess.TimeoutExpired:
            yield None, "npm install took more than 600 s"
            return
        version = subprocess.run(["node", "--version"], capture_output=True,
                                 text=True, timeout=30).stdout.strip()
        yield folder, f"node {version}, packages of tools/node/package.json"


def ratio(port: float | None, node: float | None) -> str:
    """Return PORT / NODE as text, or "-" when either is missing."""
    if port is None or not node:
        return "-"
    return f"{port / node:.2f}"


def row(figure: str, port: float | None, node: float | None,
        digits: int = 0, compare: bool = True) -> None:
    """Print one figure as a Markdown row: port | node | port/node.

    With COMPARE false (counts such as the oversold one) no ratio is shown.
    """
    def show(value: float | None) -> str:
        """Return VALUE with thousands separators, or "-"."""
        return "-" if value is None else f"{value:,.{digits}f}"
    shown = ratio(port, node) if compare else "-"
    print(f"| {figure} | {show(port)} | {show(node)} | {shown} |",
          flush=True)


class Bench:
    """The two stacks, the shared Redis, and the processes started."""

    def __init__(self, url: str, node_dir: Path | None,
                 args: argparse.Namespace, processes: Processes) -> None:
        """Prepare to measure against the Redis at URL."""
        self.url = url
        self.node_dir = node_dir
        self.args = args
        self.processes = processes
        self.client = redis.Redis.from_url(url)
        self.env = dict(os.environ, REDIS_URL=url)
        # The scripts' "#!/usr/bin/env python3" must find this Python.
        self.env["PATH"] = os.pathsep.join([VENV_BIN, self.env["PATH"]])
        self.env.pop("PYTHONUNBUFFERED", None)

    # Web: 9-stock on each server against Express.

    def serve(self, command: list[str], cwd: Path,
              port: int) -> subprocess.Popen:
        """Start a web server COMMAND on PORT; return it once it answers."""
        server = self.processes.start(command, cwd,
                                      dict(self.env, PORT=str(port)))
        url = f"http://127.0.0.1:{port}/list_products"

        def ready() -> bool:
            """Tell whether the server answers (or raise if it died)."""
            if server.poll() is not None:
                raise BenchmarkError(f"{command[-1]} exited with status "
                                     f"{server.returncode}")
            return reachable(url)
        wait_for(ready, f"{' '.join(command)} to answer", timeout=60,
                 interval=0.1)
        return server

    def wrk(self, url: str, seconds: float) -> tuple[float, float]:
        """Load URL with wrk -t1; return requests/s and p99 in ms."""
        connections = self.args.connections
        result = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
             url], capture_output=True, text=True, timeout=seconds + 60)
        found = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
        p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)$", result.stdout,
                        re.MULTILINE)
        if result.returncode or not found or not p99:
            raise BenchmarkError(f"wrk failed: {result.stderr.strip()}")
        scale = {"us": 0.001, "ms": 1, "s": 1000}[p99[2]]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
        if errors:
            raise BenchmarkError(f"{url}: {errors[1]} error responses")
        return float(found[1]), float(p99[1]) * scale

    def oversold(self, port: int) -> int:
        """Reserve item 2 (stock 10) 400 times at once; return the excess."""
        self.client.delete("item.2")
        bodies = many(f"http://127.0.0.1:{port}/reserve_product/2", 400,
                      self.args.connections)
        return bodies.count(CONFIRMED) - 10

    def bench_web(self) -> None:
        """9-stock under wrk on each Python server against Express."""
        seconds = self.args.seconds
        node_port = free_port()
        express = None
        if self.node_dir:
            express = self.serve(["node", "9-stock.js"], self.node_dir,
                                 node_port)
            self.wrk(f"http://127.0.0.1:{node_port}/list_products/1", 2)
        for name, command in SERVERS.items():
            port = free_port()
            server = self.serve(command(port), ROOT, port)
            self.wrk(f"http://127.0.0.1:{port}/list_products/1", 2)
            sides = {"port": port}
            if express:
                sides["node"] = node_port
            rates = {side: [] for side in sides}
            p99s = {side: [] for side in sides}
            for round_number in range(self.args.rounds):
                order = list(sides)[::1 if round_number % 2 else -1]
                for side in order:
                    rate, p99 = self.wrk(
                        f"http://127.0.0.1:{sides[side]}/list_products/1",
                        seconds)
                    rates[side].append(rate)
                    p99s[side].append(p99)
            over = self.oversold(port)
            self.processes.stop(server)
            rate_node = median(rates["node"]) if express else None
            p99_node = median(p99s["node"]) if express else None
            row(f"web req/s, {name} vs Express", median(rates["port"]),
                rate_node)
            row(f"web p99 ms, {name} vs Express", median(p99s["port"]),
                p99_node, digits=1)
            row(f"oversold of 10, 400 at once, {name} vs Express", over,
                self.oversold(node_port) if express else None,
                compare=False)
        if express:
            self.processes.stop(express)

    # Jobs: tasks 8 and 9 against Kue.

    def start_processors(self) -> dict[str, subprocess.Popen]:
        """Start the task 9 processors of both sides; return them by side."""
        processors = {}
        if self.node_dir:
            blocked = self.client.info("clients")["blocked_clients"]
            processors["node"] = self.processes.start(
                ["node", "7-job_processor.js"], self.node_dir, self.env)
            wait_for(lambda: self.client.info("clients")["blocked_clients"]
                     > blocked, "the Kue processor")
        processors["port"] = self.processes.start(
            ["./7-job_processor.py"], ROOT, self.env)
        wait_for(lambda: self.client.scard(f"rq:workers:{QUEUE_NAME}") == 2,
                 "the two RQ workers of ./7-job_processor.py")
        for side, process in processors.items():
            if process.poll() is not None:
                raise BenchmarkError(f"the {side} processor exited")
        return processors

    def run_creator(self, side: str) -> float:
        """Run a task 8 creator to its exit; return its wall time in s."""
        if side == "node":
            command, cwd = ["node", "7-job_creator.js"], self.node_dir
        else:
            command, cwd = ["./7-job_creator.py"], ROOT
        start = time.monotonic()
        creator = self.processes.start(command, cwd, self.env,
                                       subprocess.PIPE)
        try:
            output = creator.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            self.processes.stop(creator)
            raise BenchmarkError(f"{command[-1]} ran more than 60 s")
        elapsed = time.monotonic() - start
        self.processes.running.remove(creator)
        if (creator.returncode or output.count(" completed\n") != 9
                or output.count(" failed: ") != 2):
            raise BenchmarkError(f"{command[-1]} exited with status "
                                 f"{creator.returncode} after printing "
                                 f"{output!r}")
        return elapsed

    def bench_task8(self, sides: list[str]) -> None:
        """Task 8's wall time: the creator's start to its exit."""
        times = {side: [] for side in sides}
        for side in sides:
            self.run_creator(side)  # the warm-up
        for round_number in range(self.args.rounds):
            for side in sides[::1 if round_number % 2 else -1]:
                times[side].append(self.run_creator(side))
        row("task 8 wall time ms, 7-job_creator, 11 jobs",
            median(times["port"]) * 1000,
            median(times["node"]) * 1000 if "node" in times else None)

    def done_keys(self, side: str) -> list[str]:
        """Return the keys of SIDE's sorted sets of ended jobs."""
        if side == "node":
            return [f"q:jobs:{QUEUE_NAME}:complete",
                    f"q:jobs:{QUEUE_NAME}:failed"]
        return [f"rq:finished:{QUEUE_NAME}", f"rq:failed:{QUEUE_NAME}"]

    def ended(self, side: str) -> int:
        """Return how many of SIDE's jobs ended (completed or failed)."""
        with self.client.pipeline(transaction=False) as pipe:
            for key in self.done_keys(side):
                pipe.zcard(key)
            return sum(pipe.execute())

    def queue_jobs(self, side: str, count: int, mode: str) -> None:
        """Queue COUNT task 8 jobs on SIDE; MODE picks their numbers."""
        if side == "node":
            result = subprocess.run(
                ["node", "queue_jobs.js", str(count), mode],
                cwd=self.node_dir, env=self.env, capture_output=True,
                text=True, timeout=120)
            if result.stdout.strip() != f"queued {count}":
                raise BenchmarkError(f"queue_jobs.js: {result.stderr!r}")
            return
        # As task 8's createPushNotificationsJobs does: Kue's ids, events.
        queue = kue.queue_for(QUEUE_NAME, self.client)
        phones = MODES[mode]
        for index in range(count):
            kue.create_job(queue, JOB_FUNCTION, {
                "phoneNumber": phones[index % len(phones)],
                "message": f"This is the code {CODES[index % len(CODES)]}"
                           " to verify your account"})

    def commands(self) -> Counter:
        """Return the calls of each Redis command so far (commandstats)."""
        stats = self.client.info("commandstats")
        return Counter({name.removeprefix("cmdstat_"): value["calls"]
                        for name, value in stats.items()})

    def drain(self, side: str, processor: subprocess.Popen, count: int,
              mode: str = "mixed") -> tuple[float, Counter]:
        """Queue COUNT jobs with the processor paused, then run them all.

        Returns the seconds from resuming the processor to the last job's
        end, and the Redis commands sent meanwhile (the polling excepted).
        """
        self.processes.pause(processor)
        try:
            self.client.delete(*self.done_keys(side))
            self.queue_jobs(side, count, mode)
            before = self.commands()
        finally:
            self.processes.resume(processor)
        polls = 0

        def all_ended() -> bool:
            """Tell whether all COUNT jobs ended."""
            nonlocal polls
            polls += 1
            if processor.poll() is not None:
                raise BenchmarkError(f"the {side} processor exited")
            return self.ended(side) >= count
        elapsed = wait_for(all_ended, f"{count} {side} jobs",
                           timeout=max(60, count), interval=0.002)
        sent = self.commands() - before
        sent["zcard"] -= 2 * polls
        sent["info"] -= 1
        return elapsed, +sent

    def bench_throughput(self, sides: list[str],
                         processors: dict[str, subprocess.Popen]) -> None:
        """Jobs/s of the running processors, and commands per job."""
        count = self.args.jobs
        rates = {side: [] for side in sides}
        sent = {side: Counter() for side in sides}
        for side in sides:
            self.drain(side, processors[side], min(count, 50))  # warm-up
        for round_number in range(self.args.rounds):
            for side in sides[::1 if round_number % 2 else -1]:
                elapsed, commands = self.drain(side, processors[side],
                                               count)
                rates[side].append(count / elapsed)
                sent[side] += commands
        total = self.args.rounds * count
        row(f"task 9 processor jobs/s, {count} queued, 2 at a time",
            median(rates["port"]),
            median(rates["node"]) if "node" in rates else None)
        row("Redis commands per job (processor)",
            sent["port"].total() / total,
            sent["node"].total() / total if "node" in sent else None,
            digits=1)
        for side in sides:
            top = ", ".join(f"{name} {calls / total:.1f}" for name, calls
                            in sent[side].most_common(8))
            print(f"|   {side} commands per job: {top} | | | |")

    def used_memory(self) -> int:
        """Return the bytes the Redis uses now (INFO memory used_memory)."""
        return self.client.info("memory")["used_memory"]

    def memory_per_job(self, side: str,
                       processor: subprocess.Popen) -> dict[str, float]:
        """Return SIDE's Redis bytes per job: queued, finished, failed."""
        count = self.args.jobs
        figures = {}
        for mode, state in [("passing", "finished"), ("failing", "failed")]:
            self.processes.pause(processor)
            try:
                self.client.delete(*self.done_keys(side))
                start = self.used_memory()
                self.queue_jobs(side, count, mode)
                queued = self.used_memory() - start
            finally:
                self.processes.resume(processor)
            figures.setdefault("queued", queued / count)
            wait_for(lambda: self.ended(side) >= count,
                     f"{count} {side} jobs", timeout=max(60, count))
            time.sleep(0.5)  # let the last replies and events settle
            # The registries were emptied first: add back what ended now.
            figures[state] = (self.used_memory() - start) / count
        return figures

    def bench_memory(self, sides: list[str],
                     processors: dict[str, subprocess.Popen]) -> None:
        """Redis bytes per job in each state, on each side (medians)."""
        figures = {side: [] for side in sides}
        for round_number in range(self.args.rounds):
            for side in sides[::1 if round_number % 2 else -1]:
                figures[side].append(
                    self.memory_per_job(side, processors[side]))
        for state in ["queued", "finished", "failed"]:
            medians = {side: median(run[state] for run in runs)
                       for side, runs in figures.items()}
            row(f"Redis bytes per job, {state} ({self.args.jobs} jobs)",
                medians["port"], medians.get("node"))

    def bench_jobs(self, sections: list[str]) -> None:
        """The job figures, with both processors running throughout."""
        sides = ["port", "node"] if self.node_dir else ["port"]
        processors = self.start_processors()
        try:
            if "task8" in sections:
                self.bench_task8(sides)
            if "throughput" in sections:
                self.bench_throughput(sides, processors)
            if "memory" in sections:
                self.bench_memory(sides, processors)
        finally:
            for process in processors.values():
                self.processes.stop(process, signal.SIGINT)

    # Seats: 100-seat.py alone.

    def bench_seats(self) -> None:
        """100-seat on each server: requests/s and seats taken beyond 50."""
        text = redis.Redis.from_url(self.url, decode_responses=True)
        seat = __import__("100-seat")
        for name, command in SEAT_SERVERS.items():
            text.flushdb()
            seat.open_reservations(text)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            server = self.processes.start(command(port), ROOT,
                                          dict(self.env, PORT=str(port)),
                                          subprocess.PIPE)
            wait_for(lambda: reachable(base + "/available_seats"),
                     f"100-seat on {name}", timeout=60, interval=0.1)
            rate, p99 = self.wrk(base + "/available_seats",
                                 self.args.seconds)
            many(base + "/process", 1, 1)
            start = time.monotonic()
            bodies = many(base + "/reserve_seat", 300, self.args.connections)
            queued = bodies.count(b'{"status":"Reservation in process"}')
            wait_for(lambda: text.zcard("rq:finished:reserve_seat")
                     + text.zcard("rq:failed:reserve_seat") >= queued,
                     "the seat jobs", timeout=120)
            drained = time.monotonic() - start
            time.sleep(0.5)  # the server prints a job's line after its end
            self.processes.stop(server, signal.SIGINT)
            completed = server.stdout.read().count(" completed\n")
            print(f"| 100-seat {name}: /available_seats {rate:,.0f} req/s, "
                  f"p99 {p99:.1f} ms; seats taken beyond 50: "
                  f"{completed - 50} ({queued} of 300 queued, all ended in "
                  f"{drained:.1f} s) | | | |", flush=True)


def many(url: str, count: int, connections: int) -> list[bytes]:
    """GET URL COUNT times, CONNECTIONS at once; return the bodies."""
    with ThreadPoolExecutor(max_workers=connections) as pool:
        return list(pool.map(lambda _: body(url, timeout=30),
                             range(count)))


def parse_arguments() -> argparse.Namespace:
    """Return the command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5,
                        help="measured rounds per figure (default 5)")
    parser.add_argument("--seconds", type=int, default=3,
                        help="seconds of each wrk run (default 3)")
    parser.add_argument("--connections", type=int, default=32,
                        help="wrk connections (default 32)")
    parser.add_argument("--jobs", type=int, default=300,
                        help="jobs per throughput and memory run")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections, of: "
                        + ", ".join(SECTIONS))
    parser.add_argument("--suite", action="store_true",
                        help="also time the whole test suite (port only)")
    parser.add_argument("--no-node", action="store_true",
                        help="measure the port alone")
    parser.add_argument("--redis-server", metavar="PATH",
                        help="the redis-server binary (default: PATH's)")
    args = parser.parse_args()
    args.sections = [name.strip() for name in args.only.split(",")]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if min(args.rounds, args.seconds, args.jobs, args.connections) < 1:
        parser.error("--rounds, --seconds, --jobs and --connections "
                     "must be 1 or more")
    return args


def run_section(name: str, measure: Callable[[], None]) -> None:
    """Run one section; report a failure instead of ending the run."""
    try:
        measure()
    except (BenchmarkError, redis.RedisError, OSError,
            subprocess.SubprocessError) as error:
        print(f"| {name} failed: {error} | | | |", flush=True)


def bench_suite() -> None:
    """Time the whole test suite, as the README runs it."""
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=ROOT,
                            capture_output=True, text=True, timeout=1800)
    outcome = (result.stdout.strip().splitlines() or ["?"])[-1]
    print(f"| tests: python -m pytest, whole suite: "
          f"{time.monotonic() - start:.0f} s ({outcome}) | | | |")


def interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into a KeyboardInterrupt, so that cleanup runs."""
    raise KeyboardInterrupt


def main() -> None:
    """Measure the chosen sections and print them as Markdown rows."""
    args = parse_arguments()
    if {"web", "seats"} & set(args.sections) and not shutil.which("wrk"):
        sys.exit("benchmark: wrk not found (Debian: apt-get install wrk)")
    processes = Processes()
    # SIGTERM ends the run as Ctrl-C does: every process started is stopped.
    signal.signal(signal.SIGTERM, interrupt)
    with ExitStack() as stack:
        if args.no_node:
            node_dir, note = None, "not measured (--no-node)"
        else:
            node_dir, note = stack.enter_context(node_stack())
            if node_dir is None:
                note = f"not measured: {note}"
        url = stack.enter_context(private_redis(args.redis_server))
        # Stopped before the Redis and the Node folder go away.
        stack.callback(processes.stop_all)
        print(f"{os.cpu_count()} CPUs; {args.rounds} rounds per figure "
              f"after a warm-up, medians; wrk -t1 -c{args.connections} "
              f"-d{args.seconds}s; {args.jobs} jobs")
        print(f"Node: {note}")
        bench = Bench(url, node_dir, args, processes)
        print("\n| figure | port | node | port/node |")
        print("|---|---|---|---|", flush=True)
        if "web" in args.sections:
            run_section("web", bench.bench_web)
        jobs = [name for name in ("task8", "throughput", "memory")
                if name in args.sections]
        if jobs:
            run_section("jobs", lambda: bench.bench_jobs(jobs))
        if "seats" in args.sections:
            run_section("seats", bench.bench_seats)
    if args.suite:
        run_section("suite", bench_suite)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
    except (OSError, subprocess.SubprocessError, redis.RedisError) as error:
        sys.exit(f"benchmark: stopped: {error}")  # one line, no traceback
