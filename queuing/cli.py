"""How a script behaves in a terminal: a Node script's, not tracebacks.

With ``run``, Ctrl-C and SIGTERM exit 0; any error, in any thread, is one
line on stderr and status 1; a reader that closes the pipe (``| head -1``)
ends the script quietly; and every line printed is one whole write.
"""
import atexit
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

import redis


def describe(error: BaseException) -> str:
    """Return ERROR as the one line a learner sees."""
    if isinstance(error, redis.RedisError):
        return f"Redis error: {error}"
    return f"Error: {type(error).__name__}: {error}"


def quit_on_broken_pipe() -> NoReturn:
    """End quietly with status 0, from any thread, once stdout's reader left.

    stdout goes to /dev/null, or Python would flush it at exit and complain;
    no signal, as only the main thread may set a handler.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os._exit(0)


def fail(error: BaseException) -> NoReturn:
    """Print ERROR as one line on stderr and end the process with status 1."""
    if isinstance(error, BrokenPipeError):
        quit_on_broken_pipe()
    try:
        print(describe(error), file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # stderr went into the closed pipe too (2>&1)
        quit_on_broken_pipe()
    # os._exit: in a helper thread, SystemExit would end only that thread.
    os._exit(1)


def whole_lines(stream: Any) -> None:
    """Make STREAM write each line in one go, as soon as it is complete.

    print() hands over text and newline apart: unbuffered, other output (a
    web server's log) could land between them; line buffering makes them
    one write, which a pipe never splits.
    """
    if hasattr(stream, "reconfigure"):  # not when a test replaced it
        stream.reconfigure(line_buffering=True, write_through=False)


EXIT_CALLBACKS: list[Callable[[], Any]] = []


def on_exit(callback: Callable[[], Any]) -> None:
    """Run CALLBACK as the program ends: by run(), or under a WSGI server."""
    EXIT_CALLBACKS.append(callback)
    atexit.register(callback)


def run(main: Callable[[], Any]) -> NoReturn:
    """Run a script's MAIN the way every script here should end."""
    whole_lines(sys.stdout)
    whole_lines(sys.stderr)
    try:
        # In the try: a Ctrl-C may come meanwhile. SIGTERM: as a Ctrl-C.
        for signal_number in signal.SIGINT, signal.SIGTERM:
            signal.signal(signal_number, signal.default_int_handler)
        threading.excepthook = lambda hook_args: fail(hook_args.exc_value)
        main()
        sys.stdout.flush()
    except KeyboardInterrupt:
        sys.exit(0)
    except Exception as error:  # the last line of defence: no traceback
        fail(error)
    for callback in EXIT_CALLBACKS:  # os._exit() skips atexit's
        callback()
    sys.stderr.flush()
    # Done, as a Node script is: skip Python's slow teardown of the libraries.
    os._exit(0)


def one_line_errors(command: Callable) -> Callable:
    """Make a Flask CLI COMMAND that fails end on one line, not a traceback."""
    # Imported here: scripts without a Flask command need not pay for Click.
    import click

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        """Run the command; turn its error into Click's one-line error."""
        try:
            return command(*args, **kwargs)
        except Exception as error:
            message = describe(error).removeprefix("Error: ")
            raise click.ClickException(message) from error

    return wrapper
