#!/usr/bin/env python3
"""Measure the web apps, the job pipeline and the test suite.

Kept out of the test run; the README reports its numbers. It needs wrk
(Debian: apt-get install wrk) for the request rates, and a Redis: $REDIS_URL
(its database is flushed: use a spare one) or a private redis-server that it
starts and stops.

    python tools/benchmark.py [--seconds 10] [--connections 32] [--suite]

For each app and server it prints requests/s and p99 latency under wrk, and
the oversold count (reservations confirmed beyond the stock), which must be
0. For the jobs: the time from 7-job_creator.py's first line to its last,
with 7-job_processor.py running.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from statistics import median

import redis

sys.path[:0] = [str(Path(__file__).resolve().parent),
                str(Path(__file__).resolve().parent.parent)]
demo = __import__("demo")

ROOT = demo.ROOT
SERVERS = {
    "dev server": lambda app, port: [f"./{app}.py"],
    "gunicorn -w 2 -k gthread --threads 8": lambda app, port: [
        sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread",
        "--threads", "8", "-b", f"127.0.0.1:{port}", f"{app}:create_app()"],
    "granian --workers 2 --blocking-threads 1": lambda app, port: [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--workers",
        "2", "--blocking-threads", "1", "--host", "127.0.0.1", "--port",
        str(port), "--factory", f"{app}:create_app"],
}


@contextmanager
def serving(command: list[str], url: str, port: int,
            ready: str) -> Iterator[subprocess.Popen]:
    """Run a web server COMMAND until the block ends; yield its process."""
    env = dict(os.environ, REDIS_URL=url, PORT=str(port))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                   env["PATH"]])
    server = subprocess.Popen(command, cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL,
                              start_new_session=True)
    demo.wait_for(lambda: demo.Demo.reachable(ready), "the server")
    try:
        yield server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def wrk(url: str, seconds: int, connections: int) -> tuple[float, str]:
    """Load URL with wrk; return requests/s and the p99 latency."""
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
         url], capture_output=True, text=True, check=True)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)[1])
    p99 = re.search(r"^\s+99%\s+(\S+)$", result.stdout, re.MULTILINE)[1]
    return rate, p99


def get(url: str) -> bytes:
    """Return the body of a GET of URL."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def many(url: str, count: int, connections: int) -> list[bytes]:
    """GET URL COUNT times, CONNECTIONS at once; return the bodies."""
    with ThreadPoolExecutor(max_workers=connections) as pool:
        return list(pool.map(lambda _: get(url), range(count)))


def bench_stock(url: str, args: argparse.Namespace) -> None:
    """9-stock: rate and p99 of /list_products/1, oversold count."""
    client = redis.Redis.from_url(url)
    for name, command in SERVERS.items():
        port = demo.free_port()
        base = f"http://127.0.0.1:{port}"
        client.flushdb()
        with serving(command("9-stock", port), url, port,
                     base + "/list_products"):
            rate, p99 = wrk(base + "/list_products/1", args.seconds,
                            args.connections)
            bodies = many(base + "/reserve_product/2", 400, args.connections)
        confirmed = bodies.count(
            b'{"status":"Reservation confirmed","itemId":2}')
        print(f"| 9-stock | {name} | /list_products/1 | {rate:,.0f} | {p99} "
              f"| {confirmed - 10} (400 reservations of stock 10) |")


def bench_seats(url: str, args: argparse.Namespace) -> None:
    """100-seat: rate and p99 of /available_seats, oversold seats."""
    client = redis.Redis.from_url(url, decode_responses=True)
    for name, command in SERVERS.items():
        port = demo.free_port()
        base = f"http://127.0.0.1:{port}"
        client.flushdb()
        seat = __import__("100-seat")
        seat.open_reservations(client)
        with serving(command("100-seat", port), url, port,
                     base + "/available_seats") as server:
            rate, p99 = wrk(base + "/available_seats", args.seconds,
                            args.connections)
            get(base + "/process")
            start = time.monotonic()
            bodies = many(base + "/reserve_seat", 300, args.connections)
            queued = bodies.count(b'{"status":"Reservation in process"}')
            demo.wait_for(lambda: client.zcard("rq:finished:reserve_seat")
                          + client.zcard("rq:failed:reserve_seat") >= queued,
                          "the seat jobs", timeout=120)
            drained = time.monotonic() - start
        completed = server.stdout.read().count(" completed\n")
        print(f"| 100-seat | {name} | /available_seats | {rate:,.0f} | {p99} "
              f"| {completed - 50} (300 reservations of 50 seats, "
              f"{queued} queued, all ended in {drained:.1f} s) |")


def bench_jobs(url: str, runs: int = 5) -> None:
    """The job pipeline: 7-job_creator.py's first line to its last."""
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    env = dict(os.environ, REDIS_URL=url)
    processor = subprocess.Popen(["./7-job_processor.py"], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL,
                                 start_new_session=True)
    demo.wait_for(lambda: client.scard(
        "rq:workers:push_notification_code_2") == 2, "the workers")
    spans = []
    for _ in range(runs):
        creator = subprocess.Popen(["./7-job_creator.py"], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, text=True)
        first = None
        for _line in creator.stdout:
            first = first or time.monotonic()
        spans.append(time.monotonic() - first)
        creator.wait()
    os.killpg(processor.pid, signal.SIGINT)
    processor.wait(timeout=30)
    print(f"| jobs | 7-job_creator.py, 11 jobs, 2 workers | first line to "
          f"last line | median {median(spans) * 1000:.0f} ms of {runs} "
          f"(min {min(spans) * 1000:.0f}, max {max(spans) * 1000:.0f}) |")


def bench_suite() -> None:
    """The whole test suite, as the README runs it."""
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=ROOT,
                   check=True, capture_output=True)
    print(f"| tests | python -m pytest | whole suite | "
          f"{time.monotonic() - start:.0f} s |")


def main() -> None:
    """Run the measurements and print them as Markdown table rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--suite", action="store_true",
                        help="also time the whole test suite")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; wrk -t2 -c{args.connections} "
          f"-d{args.seconds}s")
    print("| app | server | route | requests/s | p99 | oversold |")
    print("|---|---|---|---|---|---|")
    with demo.redis_server() as url:
        bench_stock(url, args)
        bench_seats(url, args)
        bench_jobs(url)
    if args.suite:
        bench_suite()


if __name__ == "__main__":
    main()
