"""What Node, Kue and Express gave the original scripts for free.

The lessons' shared machinery, one module per concern. Imported first, it
makes a Ctrl-C during the slow imports quiet, and a missing library one line.
"""
# Only built-in or already loaded modules: act before the slow imports.
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


# First of all: until then, a Ctrl-C is a traceback.
if _named_like_a_script():
    _signal.signal(_signal.SIGINT, _end_quietly)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_HINT = ("activate the venv (source .venv/bin/activate) or run pip "
             "install -r requirements.txt")


def _missing_module(kind: type, error: BaseException,
                    traceback: object) -> None:
    """Say in one line that a library is missing, or defer to Python."""
    if issubclass(kind, ModuleNotFoundError):
        if _findable(getattr(error, "name", None)):
            # There after all: a Ctrl-C broke its import off midway.
            os._exit(0)
        sys.stderr.write(f"Error: {error}: {VENV_HINT}\n")
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
    # Outside the venv, a script's first library import fails: say why.
    sys.excepthook = _missing_module
elif _named_like_a_script():  # a numbered script of somebody else's
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
