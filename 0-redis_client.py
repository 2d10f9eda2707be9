#!/usr/bin/env python3
"""Task 1: connect to a Redis server and say whether it worked.

The Node original, 0-redis_client.js, called redis.createClient() and logged
from the client's 'connect' and 'error' events. Here the connection is proved
with a PING, and the later scripts reuse this module's helpers (through
``__import__('0-redis_client')``) so that every one of them connects, reports
and fails the same way.
"""
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

import redis

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    """Return the server address: $REDIS_URL, or the original's default."""
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


@functools.cache
def default_client() -> redis.Redis:
    """Return one shared client for $REDIS_URL that decodes replies to str."""
    return redis.Redis.from_url(redis_url(), decode_responses=True)


def connect(url: str | None = None, decode_responses: bool = True,
            announce: bool = True) -> redis.Redis:
    """Return a client whose server answered, printing the connection line.

    When the server cannot be reached (or the URL is malformed) this prints
    the not-connected line with the client's own error text and exits 1.
    With ANNOUNCE false (the job scripts, whose originals print no
    connection line) only the failure is printed.
    """
    try:
        client = redis.Redis.from_url(url or redis_url(),
                                      decode_responses=decode_responses)
        client.ping()
    except (redis.RedisError, ValueError) as error:
        print(f"Redis client not connected to the server: {error}")
        sys.exit(1)
    if announce:
        print("Redis client connected to the server")
    return client


def fail(error: BaseException) -> NoReturn:
    """Print ERROR as one line on stderr and end the process with status 1."""
    if isinstance(error, redis.RedisError):
        print(f"Redis error: {error}", file=sys.stderr)
    else:
        print(f"Error: {type(error).__name__}: {error}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit, not sys.exit: this may run in a helper thread, where
    # SystemExit would only end that thread.
    os._exit(1)


def stop(signum: int, frame: Any) -> NoReturn:
    """Turn SIGTERM into the same clean exit as Ctrl-C."""
    raise KeyboardInterrupt


def run(main: Callable[[], Any]) -> None:
    """Run a script's main the way every script here should end.

    Output is line-buffered so that a pipe sees each line as it is printed;
    Ctrl-C and SIGTERM exit 0; any error, in the main thread or another one,
    is one line on stderr and exit status 1, never a traceback.
    """
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, stop)
    threading.excepthook = lambda hook_args: fail(hook_args.exc_value)
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
    except Exception as error:  # the last line of defence: no traceback
        fail(error)


def main() -> None:
    """Connect once and report it, as 0-redis_client.js did."""
    connect()


if __name__ == "__main__":
    run(main)
