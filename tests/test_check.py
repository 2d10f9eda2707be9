"""The self-check, tools/check.py: run as a learner runs it, on real folders.

It must pass this repository (14 of 14), pass the Node build of the original
in tools/node/solution (every page check; which checks beyond the page fail
is asserted), and catch, naming the task, one altered copy of this
repository per task. The checker runs as a process, on its own Redis
database per test (one server per test process) and, for the Python
solutions, on a free web port instead of 1245.
"""
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools import check

ROOT = Path(__file__).resolve().parent.parent
CHECKER = ROOT / "tools" / "check.py"
NODE_BUILD = ROOT / "tools" / "node" / "solution"
# One altered copy of this repository per task: (task, what changes, file,
# text, replacement). Each replaced text must be in the file as it is.
MUTANTS = [
    (0, "dump.rdb holds another value", "dump.rdb", b"School", b"Schoo1"),
    (1, "a changed connection line", "0-redis_client.py",
     'print("Redis client connected to the server")',
     'print("Redis client connected to server")'),
    (2, "SET's reply printed as True", "1-redis_op.py",
     'print_reply("OK")', "print_reply(True)"),
    (3, "the second display is missing", "2-redis_op_async.py",
     '        await display_school_value("HolbertonSanFrancisco", '
     'async_client)', "        pass"),
    (4, "a wrong count for Paris", "4-redis_advanced_op.py",
     '"Paris": 2,', '"Paris": 3,'),
    (5, "KILL_SERVER sent last", "5-publisher.py",
     '("KILL_SERVER", 300)', '("KILL_SERVER", 500)'),
    (6, "the completion event is missing", "6-job_creator.py",
     'print("Notification job completed")', "pass"),
    (7, "a changed notification line", "6-job_processor.py",
     "with message: {message}", "with message {message}"),
    (8, "the progress events are missing", "7-job_creator.py",
     'print(f"Notification job {event.job_id} {event.value}% complete")',
     "pass"),
    (9, "one job at a time", "7-job_processor.py",
     "workers.process(QUEUE_NAME, 2,", "workers.process(QUEUE_NAME, 1,"),
    (10, "a changed error message", "8-job.py",
     'raise TypeError("Jobs is not an array")',
     'raise TypeError("Jobs is not a list")'),
    (11, "a test file that tests nothing", "tests/test_8_job.py", None,
     '"""Tests nothing."""\n\n\ndef test_nothing():\n    assert True\n'),
    (12, "a broken route", "9-stock.py",
     '@app.get("/list_products/<item_id>")',
     '@app.get("/list_product/<item_id>")'),
    (13, "a wrong number of seats", "100-seat.py",
     "INITIAL_SEATS = 50", "INITIAL_SEATS = 49"),
]


@pytest.fixture(scope="session")
def checker_server() -> Iterator[check.RedisServer]:
    """Start one private Redis for this test process's checker runs."""
    binaries = check.redis_binaries(ROOT)
    if not binaries:
        pytest.skip("no redis-server found (PATH, the venv)")
    server = check.RedisServer(binaries[0], check.free_port())
    yield server
    server.stop()


@pytest.fixture
def redis_url(checker_server: check.RedisServer) -> str:
    """Return the private Redis's database 0, emptied for this test."""
    client = check.Client(checker_server.port)
    try:
        client.call("FLUSHALL")
    finally:
        client.close()
    return f"redis://127.0.0.1:{checker_server.port}/0"


def run_checker(folder: Path, *arguments: str, redis_url: str | None = None,
                python: str = sys.executable, module: bool = False,
                timeout: float = 240) -> subprocess.CompletedProcess:
    """Run the checker on FOLDER as a process; return what it printed."""
    command = [python, "-m", "tools.check"] if module else [
        python, str(CHECKER)]
    command += [str(folder), *arguments]
    if redis_url:
        command += ["--redis-url", redis_url,
                    "--web-port", str(check.free_port())]
    checker = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = checker.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # SIGTERM lets the checker stop the servers and scripts it started.
        checker.terminate()
        stdout, stderr = checker.communicate(timeout=30)
        pytest.fail(f"the checker took more than {timeout} s:\n{stdout}"
                    f"{stderr}")
    return subprocess.CompletedProcess(command, checker.returncode, stdout,
                                       stderr)


def results(run: subprocess.CompletedProcess) -> dict[int, dict]:
    """Return the --json run's results by task number."""
    assert run.stdout.startswith("{"), (run.stdout, run.stderr)
    return {task["task"]: task for task in json.loads(run.stdout)["tasks"]}


def copy_of_this_repository(target: Path) -> Path:
    """Copy the solution's files of this repository into TARGET."""
    folder = target / "solution"
    shutil.copytree(ROOT, folder, ignore=shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "__pycache__", ".pytest_cache",
        "tools"))
    return folder


def test_this_repository_passes_all_14_tasks(redis_url):
    run = run_checker(ROOT, "--json", "--strict", redis_url=redis_url)
    by_task = results(run)
    failed = {task: (result["problem"], [c["name"] for c in result["checks"]
                                         if not c["ok"]])
              for task, result in by_task.items() if not result["passed"]}
    assert failed == {}
    assert [check["name"] for result in by_task.values()
            for check in result["checks"]
            if check["beyond"] and not check["ok"]] == []
    assert run.returncode == 0, run.stderr
    assert run.stderr.rstrip().endswith("14 of 14 tasks pass")


@pytest.mark.parametrize("task, change, name, text, replacement", MUTANTS,
                         ids=[f"task {m[0]}: {m[1]}" for m in MUTANTS])
def test_an_altered_copy_fails_its_task(tmp_path, redis_url, task, change,
                                        name, text, replacement):
    folder = copy_of_this_repository(tmp_path)
    path = folder / name
    if text is None:
        path.write_text(replacement)
    elif isinstance(text, bytes):
        content = path.read_bytes()
        assert text in content, f"the mutant of {name} needs updating"
        path.write_bytes(content.replace(text, replacement))
    else:
        content = path.read_text()
        assert text in content, f"the mutant of {name} needs updating"
        path.write_text(content.replace(text, replacement))
    run = run_checker(folder, "--task", str(task), "--json",
                      redis_url=redis_url)
    result = results(run)[task]
    assert not result["passed"], f"task {task} ({change}) was not caught"
    assert result["problem"] or any(not c["ok"] for c in result["checks"])
    assert run.returncode == 1
    assert f"0 of 1 tasks pass (task {task})" in run.stderr.splitlines()


def test_a_failure_shows_both_columns_and_marks_the_first_difference(
        tmp_path, redis_url):
    folder = copy_of_this_repository(tmp_path)
    script = folder / "1-redis_op.py"
    script.write_text(script.read_text().replace('print_reply("OK")',
                                                 'print_reply("Ok")'))
    run = run_checker(folder, "--task", "2", redis_url=redis_url)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert lines[1].startswith("task  2  1-redis_op.py")
    assert lines[1].split()[-3] == "FAIL"
    marked = [line for line in lines if line.lstrip().startswith(">")]
    assert marked == ["      > Reply: OK                            | "
                      "Reply: Ok   <-- first difference"]
    assert lines[-1] == "0 of 1 tasks pass (task 2)"


def test_a_missing_file_fails_its_task_only(tmp_path, redis_url):
    folder = copy_of_this_repository(tmp_path)
    (folder / "4-redis_advanced_op.py").unlink()
    run = run_checker(folder, "--task", "3", "--task", "4", "--task", "5",
                      "--json", redis_url=redis_url)
    by_task = results(run)
    assert by_task[4]["problem"] == (
        "missing: 4-redis_advanced_op.py (or 4-redis_advanced_op.js for a "
        "Node solution)")
    assert (by_task[3]["passed"], by_task[4]["passed"],
            by_task[5]["passed"]) == (True, False, True)
    assert run.returncode == 1


@pytest.mark.parametrize("module", [False, True],
                         ids=["tools/check.py", "-m tools.check"])
def test_without_the_packages_it_prints_one_line(tmp_path, module):
    folder = copy_of_this_repository(tmp_path)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip",
                    str(tmp_path / "bare")], check=True, timeout=60)
    run = run_checker(folder, python=str(tmp_path / "bare" / "bin" /
                                         "python"), module=module)
    assert (run.returncode, run.stdout) == (1, "")
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert run.stderr.startswith("check: ") and "lacks redis" in run.stderr


@pytest.mark.parametrize("strict", [False, True])
def test_beyond_the_page_fails_the_run_only_with_strict(strict):
    passed = check.TaskResult(12, "the stock API", passed=True, checks=[
        check.Check("no oversell", False, beyond=True)])
    text, ok = check.summary([passed], strict)
    assert ok is not strict
    assert text.splitlines()[1].startswith(
        "beyond the page, 1 check fails")


def test_the_node_build_passes_every_task_of_the_page():
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are not on PATH: the Node build cannot "
                    "run (Debian: apt-get install nodejs npm)")
    run = run_checker(NODE_BUILD, "--json", timeout=900)
    by_task = results(run)
    taken = [result["problem"] for result in by_task.values()
             if "port 6379" in result["problem"]]
    if taken:
        pytest.skip(f"the Node build needs 127.0.0.1:6379: {taken[0]}")
    failed = {task: (result["problem"], [c["name"] for c in result["checks"]
                                         if not c["ok"]])
              for task, result in by_task.items() if not result["passed"]}
    assert failed == {}
    assert {result["language"] for task, result in by_task.items()
            if task} == {"node"}
    # The original read the stock, then wrote it back: 100 requests at once
    # confirm more than the stock. Nothing else may fail.
    beyond = {(task, c["name"]) for task, result in by_task.items()
              for c in result["checks"] if c["beyond"] and not c["ok"]}
    assert beyond <= {(12, "100 reservations at once of a stock of 10 "
                           "confirm 10")}
    assert run.returncode == 0, run.stderr
    assert "14 of 14 tasks pass" in run.stderr
    if os.environ.get("CI"):
        print(run.stderr)
