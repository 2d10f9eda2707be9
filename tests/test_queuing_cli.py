"""queuing.cli and queuing.connection: how every script starts and ends."""
import re
import subprocess
import sys

import click
import pytest
import redis

from helpers import ROOT, script_env
from queuing import cli, connection

PROGRAMS = {
    "returns": "print('done')",
    "raises": "raise ValueError('bad input')",
    "ctrl-c": "raise KeyboardInterrupt",
    "redis": "import redis; raise redis.ConnectionError('gone')",
    "thread": "import threading, time; threading.Thread(target=lambda: 1 / 0)"
              ".start(); time.sleep(30)",
    "pipe": "[print(n) for n in range(100000)]",
}


@pytest.mark.parametrize("program, code, out, err", [
    ("returns", 0, "done\n", ""),
    ("raises", 1, "", "Error: ValueError: bad input\n"),
    ("ctrl-c", 0, "", ""),
    ("redis", 1, "", "Redis error: gone\n"),
    ("thread", 1, "", "Error: ZeroDivisionError: division by zero\n"),
])
def test_run_ends_a_script_the_node_way(closed_url, program, code, out, err):
    source = ("from queuing import cli\n"
              f"def main() -> None:\n    {PROGRAMS[program]}\n"
              "cli.run(main)\n")
    result = subprocess.run([sys.executable, "-c", source], cwd=ROOT,
                            env=script_env(closed_url), capture_output=True,
                            text=True, timeout=20)
    assert (result.returncode, result.stdout, result.stderr) == (
        code, out, err)


def test_redis_url_defaults_to_the_original_address(monkeypatch):
    monkeypatch.delenv("REDIS_URL")
    assert connection.redis_url() == "redis://127.0.0.1:6379/0"


def test_redis_url_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://example:1/2")
    assert connection.redis_url() == "redis://example:1/2"


def test_a_closed_pipe_ends_the_script_quietly_like_a_shell_tool(
        closed_url):
    source = ("from queuing import cli\n"
              f"def main() -> None:\n    {PROGRAMS['pipe']}\n"
              "cli.run(main)\n")
    result = subprocess.run(
        ["bash", "-c", f"{sys.executable} -c \"$0\" | head -2; "
         "echo ${PIPESTATUS[0]} >&2", source], cwd=ROOT,
        env=script_env(closed_url), capture_output=True, text=True,
        timeout=20)
    # 141: killed by SIGPIPE, as `seq 100000 | head -2` is.
    assert (result.stdout, result.stderr) == ("0\n1\n", "141\n")


def test_a_failing_flask_command_ends_on_one_line():
    @cli.one_line_errors
    def command() -> None:
        """Fail the way a lost Redis does."""
        raise redis.ConnectionError("Error 111 connecting")

    with pytest.raises(click.ClickException) as error:
        command()
    assert error.value.format_message() == "Redis error: Error 111 connecting"


def test_a_script_run_without_its_libraries_says_so_in_one_line(closed_url):
    # python -S: no site-packages, as outside the venv.
    result = subprocess.run([sys.executable, "-S", "./0-redis_client.py"],
                            cwd=ROOT, env=script_env(closed_url),
                            capture_output=True, text=True, timeout=20)
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    # Whichever library comes first (click, redis...): one line, no more.
    assert re.fullmatch(
        r"Error: No module named '\w+': activate the venv \(source "
        r"\.venv/bin/activate\) or run pip install -r requirements\.txt\n",
        result.stderr), result.stderr
