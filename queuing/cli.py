"""How a script behaves in a terminal: clean exits, one-line errors.

A Node script that hits an error prints it and exits; Ctrl-C simply ends
it. A Python script prints a traceback instead, for Ctrl-C too. ``run``
gives every numbered script the Node behaviour: Ctrl-C and SIGTERM exit 0,
any error, in the main thread or another one, is one line on stderr and
exit status 1, and output reaches a pipe line by line.
"""
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

import redis


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
    """Run a script's MAIN the way every script here should end."""
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, stop)
    threading.excepthook = lambda hook_args: fail(hook_args.exc_value)
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
    except Exception as error:  # the last line of defence: no traceback
        fail(error)
