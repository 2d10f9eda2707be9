"""The tools (demo, benchmark, kue_options): one line, not a traceback.

Each runs as python tools/NAME.py and as python -m tools.NAME, from the
repository's root, and says in one line what is missing: the venv's
libraries, or a Redis.
"""
import subprocess
import sys

import pytest

from helpers import ROOT, script_env
from tools import demo

TOOLS = ["demo", "benchmark", "kue_options"]
ACTIVATE = (": activate the venv (source .venv/bin/activate) or run pip "
            "install -r requirements.txt\n")
NO_VENV = "Error: No module named 'redis'" + ACTIVATE


def command(tool: str, form: str) -> list[str]:
    """Return how FORM ("path" or "module") starts TOOL."""
    if form == "path":
        return [f"tools/{tool}.py"]
    return ["-m", f"tools.{tool}"]


def run(python: list[str], url: str) -> tuple[int, str, str]:
    """Run PYTHON (an interpreter and its arguments) from the root."""
    result = subprocess.run(python, cwd=ROOT, env=script_env(url),
                            capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("form", ["path", "module"])
@pytest.mark.parametrize("tool", TOOLS)
def test_a_tool_outside_the_venv_says_so_in_one_line(closed_url, tool,
                                                     form):
    # python -S: no site-packages, as the system's Python outside the venv.
    assert run([sys.executable, "-S", *command(tool, form)],
               closed_url) == (1, "", NO_VENV)


@pytest.mark.parametrize("example, form", [
    ("process", "path"), ("priority", "module")])
def test_kue_options_without_redis_is_one_line_like_the_processors(
        closed_url, example, form):
    address = closed_url.removeprefix("redis://").removesuffix("/0")
    assert run([sys.executable, *command("kue_options", form), example],
               closed_url) == (
        1, f"Redis client not connected to the server: Error 111 "
        f"connecting to {address}. Connection "
        "refused.\n", "")


def test_kue_options_without_a_choice_shows_its_usage(closed_url):
    assert run([sys.executable, *command("kue_options", "path")],
               closed_url) == (
        1, "", "usage: python -m tools.kue_options process | priority | "
        "attempts | backoff | delay | ttl | remove\n")


def test_the_demo_without_any_redis_says_so_in_one_line(closed_url):
    # No Redis answers at $REDIS_URL, and no redis-server to start.
    hide_redis_server = (
        "import runpy, shutil\n"
        "shutil.which = lambda *args, **kwargs: None\n"
        "runpy.run_path('tools/demo.py', run_name='__main__')\n")
    assert run([sys.executable, "-c", hide_redis_server], closed_url) == (
        1, "", "demo: no Redis answers and no redis-server is installed; "
        "run: pip install -r requirements.txt\n")


@pytest.mark.parametrize("form", ["path", "module"])
def test_the_benchmark_without_its_redis_server_says_so_in_one_line(
        closed_url, form):
    missing = str(ROOT / "no-such-redis-server")
    assert run([sys.executable, *command("benchmark", form), "--no-node",
                "--only", "task8", "--redis-server", missing],
               closed_url) == (
        1, "", f"benchmark: stopped: [Errno 2] No such file or directory: "
        f"{missing!r}\n")


def test_pytest_outside_the_venv_says_so_in_one_line(closed_url):
    # As a pytest of the system's would find no fakeredis.
    code, out, err = run([sys.executable, "-c", (
        "import sys; sys.modules['fakeredis'] = None; import pytest; "
        "sys.exit(pytest.main(['tests/test_1_redis_op.py']))")], closed_url)
    assert (code, out) == (1, "")
    assert err.startswith("Error: ") and err.endswith(ACTIVATE) and (
        err.count("\n") == 1), err


@pytest.mark.parametrize("url, line", [
    ("nonsense", "Redis URL must specify one of the following schemes "
     "(redis://, rediss://, unix://)"),
    ("redis://127.0.0.1:6379/abc",
     "the database of REDIS_URL must be a number, not 'abc'"),
])
def test_the_demo_refuses_a_mistaken_redis_url_in_one_line(url, line):
    # Not taken for "no Redis there", which would start a private one.
    assert run([sys.executable, "tools/demo.py"], url) == (
        1, "", f"demo: cannot use $REDIS_URL: {line}\n")


@pytest.mark.parametrize("url, shown", [
    ("redis://:secret@127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("redis://me:p@ss@127.0.0.1/0", "redis://127.0.0.1/0"),
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
])
def test_the_demo_never_prints_a_password(url, shown):
    assert demo.without_password(url) == shown
