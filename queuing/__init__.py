"""What Node, Kue and Express gave the original scripts for free.

The numbered scripts hold the lessons; this package holds the machinery
they share, one module per concern: ``connection`` (where Redis is),
``cli`` (clean exits, one-line errors), ``kue`` with ``options`` and
``events`` (Kue's jobs on RQ), ``scheduling`` (priorities, RQ's
scheduler), ``worker``, ``workers`` and ``signals`` (RQ workers that run
Kue's ``queue.process``), ``recovery`` (dead workers' jobs) and ``web``
(Express's JSON bodies for Flask). Imported first, it makes a Ctrl-C
during the slow imports quiet, and a missing library one line.
"""
# Only modules that Python has loaded already, or that are built in: the
# point is to act before the slow imports.
import _signal
import os
import sys


def _end_quietly(signum: int, frame: object) -> None:
    """End the process at once with status 0: nothing has started yet."""
    os._exit(0)


def _named_like_a_script() -> bool:
    """Tell, from its name alone, whether the program is a numbered script."""
    name = os.path.basename(sys.argv[0]) if sys.argv else ""
    return name[:1].isdigit() and name.endswith(".py")


# First of all, as the window before it is a Ctrl-C's traceback: a
# numbered script goes quiet now; the slower checks come after.
if _named_like_a_script():
    _signal.signal(_signal.SIGINT, _end_quietly)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _missing_module(kind: type, error: BaseException,
                    traceback: object) -> None:
    """Say in one line that a library is missing, or defer to Python."""
    if issubclass(kind, ModuleNotFoundError):
        if _findable(getattr(error, "name", None)):
            # There after all: a Ctrl-C broke its import off midway.
            os._exit(0)
        sys.stderr.write(f"Error: {error}: activate the venv "
                         "(source .venv/bin/activate) or run "
                         "pip install -r requirements.txt\n")
        return
    sys.__excepthook__(kind, error, traceback)


def _findable(name: str | None) -> bool:
    """Tell whether the module NAME can be found on sys.path."""
    import importlib.util
    try:
        return name is not None and importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _started_from_the_shell() -> bool:
    """Tell whether the program is one of the numbered scripts at ROOT."""
    return _named_like_a_script() and os.path.dirname(
        os.path.abspath(sys.argv[0])) == ROOT


if _started_from_the_shell():
    # A script started outside the venv fails on its first import of a
    # library: one line says why, where Python would print a traceback.
    sys.excepthook = _missing_module
elif _named_like_a_script():  # a numbered script of somebody else's
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
