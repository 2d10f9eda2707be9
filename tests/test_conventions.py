"""The conventions graders check on every numbered script (SPEC section 1)."""
import ast
import json
import os
import subprocess
import sys

import pycodestyle
import pytest

from helpers import ROOT, free_port

SCRIPTS = sorted(path.name for path in ROOT.glob("[0-9]*.py"))
PACKAGE = sorted(path.relative_to(ROOT).as_posix()
                 for path in (ROOT / "queuing").glob("*.py"))
PYTHON_FILES = [ROOT / name for name in SCRIPTS + PACKAGE] + sorted(
    (ROOT / "tests").glob("*.py")) + sorted((ROOT / "tools").glob("*.py"))
# Code lines (not blank, comments or docstrings) a lesson may have: about
# the original's length, so that the lesson is what a learner sees.
LESSON_SIZES = {
    "0-redis_client.py": 25, "1-redis_op.py": 25, "2-redis_op_async.py": 30,
    "4-redis_advanced_op.py": 30, "5-publisher.py": 35,
    "5-subscriber.py": 25, "6-job_creator.py": 30, "6-job_processor.py": 25,
    "7-job_creator.py": 50, "7-job_processor.py": 35, "8-job.py": 46,
    "9-stock.py": 85, "100-seat.py": 95,
}
# The support package's size in lines, docstrings and blank lines too: a
# ceiling to lower, never to raise (issue 18 aims at 1,500 in all).
MODULE_LINES = 400
PACKAGE_LINES = 1997
# Earlier lessons a script may reuse, as Holberton's main files do.
REUSABLE_LESSONS = {"0-redis_client", "1-redis_op"}
# What Node and Kue gave for free; it belongs in the queuing package.
MACHINERY = {"signal", "logging", "rq.worker_pool", "os"}


def is_sentence(docstring: str | None) -> bool:
    """Tell whether DOCSTRING starts with a real sentence of a few words."""
    if not docstring:
        return False
    first = docstring.strip().split("\n\n")[0]
    return len(first.split()) >= 3 and first.rstrip().endswith(".")


def test_every_task_script_is_here_and_nothing_else():
    assert SCRIPTS == [
        "0-redis_client.py", "1-redis_op.py", "100-seat.py",
        "2-redis_op_async.py", "4-redis_advanced_op.py", "5-publisher.py",
        "5-subscriber.py", "6-job_creator.py", "6-job_processor.py",
        "7-job_creator.py", "7-job_processor.py", "8-job.py", "9-stock.py"]
    assert (ROOT / "dump.rdb").is_file()
    assert (ROOT / "tests" / "test_8_job.py").is_file()


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_starts_with_the_shebang_and_ends_with_a_newline(name):
    text = (ROOT / name).read_text()
    assert text.startswith("#!/usr/bin/env python3\n"), name
    assert text.endswith("\n") and not text.endswith("\n\n"), name


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_is_executable(name):
    assert os.access(ROOT / name, os.X_OK), f"chmod +x {name}"


def code_lines(path) -> int:
    """Count the lines of PATH that are not blank, comments or docstrings."""
    text = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                             ast.AsyncFunctionDef)) and ast.get_docstring(
                node) is not None:
            first = node.body[0]
            docstrings.update(range(first.lineno, first.end_lineno + 1))
    return sum(1 for number, line in enumerate(text.splitlines(), start=1)
               if line.strip() and not line.strip().startswith("#")
               and number not in docstrings)


def test_every_script_has_a_size_limit():
    assert sorted(LESSON_SIZES) == SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_lesson_is_about_the_originals_length(name):
    lines = code_lines(ROOT / name)
    assert lines <= LESSON_SIZES[name], (
        f"{name} has {lines} code lines, more than "
        f"{LESSON_SIZES[name]}: move machinery into queuing/")


def test_each_module_of_the_package_holds_one_concern_in_400_lines():
    sizes = {name: len((ROOT / name).read_text().splitlines())
             for name in PACKAGE}
    assert max(sizes.values()) <= MODULE_LINES, sizes
    assert sum(sizes.values()) <= PACKAGE_LINES, (
        f"queuing/ has {sum(sizes.values())} lines: {sizes}")


def imported_modules(tree: ast.AST) -> set[str]:
    """Return the modules a parsed file imports, __import__ included."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
        elif (isinstance(node, ast.Call)
              and getattr(node.func, "id", None) == "__import__"):
            names.add(node.args[0].value)
    return names


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_lesson_reuses_only_earlier_lessons_and_holds_no_machinery(name):
    tree = ast.parse((ROOT / name).read_text())
    imported = imported_modules(tree)
    tasks = {module for module in imported if module[0].isdigit()}
    assert tasks <= REUSABLE_LESSONS, f"{name} imports {tasks}"
    assert not imported & MACHINERY, (
        f"{name} imports {imported & MACHINERY}: machinery goes in queuing/")
    subclasses = [node.name for node in ast.walk(tree)
                  if isinstance(node, ast.ClassDef)]
    assert not subclasses, f"{name} defines classes {subclasses}"


@pytest.mark.parametrize("name", SCRIPTS + PACKAGE)
def test_module_functions_and_classes_have_sentence_docstrings(name):
    tree = ast.parse((ROOT / name).read_text())
    assert is_sentence(ast.get_docstring(tree)), f"{name}: module docstring"
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)):
            assert is_sentence(ast.get_docstring(node)), (
                f"{name}:{node.lineno} {node.name} needs a docstring that "
                "is a sentence")


@pytest.mark.parametrize("name", SCRIPTS + PACKAGE)
def test_every_function_is_fully_annotated(name):
    tree = ast.parse((ROOT / name).read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            every = (arguments.posonlyargs + arguments.args
                     + arguments.kwonlyargs
                     + [arg for arg in (arguments.vararg, arguments.kwarg)
                        if arg])
            missing = [arg.arg for arg in every
                       if arg.annotation is None
                       and arg.arg not in ("self", "cls")]
            assert not missing, f"{name}:{node.lineno} {node.name}: {missing}"
            assert node.returns is not None, (
                f"{name}:{node.lineno} {node.name}: no return annotation")


# Imports each module given in a process of its own, forked from one that
# has imported the libraries already: a fresh interpreter for each module,
# without paying each time for Python's start and for redis, rq and Flask.
# Each ends as Python ends (threads left running are waited for, atexit
# functions run, output is flushed), but without tearing the libraries
# down, which takes 100 ms. Prints {module: [status, stdout, stderr]}.
IMPORT_EACH = """
import atexit, json, os, sys, tempfile, threading
import flask, redis, rq
outcomes = {}
for module in sys.argv[1:]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = os.fork()
        if child == 0:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            __import__(module)
            for thread in threading.enumerate():
                if thread is not threading.main_thread() and not thread.daemon:
                    thread.join()
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        status = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
        out.seek(0)
        err.seek(0)
        outcomes[module] = [status, out.read().decode(), err.read().decode()]
print(json.dumps(outcomes))
"""


def test_importing_a_script_does_nothing():
    modules = [name.removesuffix(".py").replace("/", ".")
               for name in SCRIPTS + PACKAGE]
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, *modules],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env=dict(os.environ,
                 REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    outcomes = json.loads(result.stdout)
    assert list(outcomes) == modules
    assert {module: outcome for module, outcome in outcomes.items()
            if outcome != [0, "", ""]} == {}


def test_code_is_pycodestyle_clean():
    style = pycodestyle.StyleGuide(max_line_length=79, quiet=True)
    report = style.check_files([str(path) for path in PYTHON_FILES])
    assert report.total_errors == 0, report.get_statistics()
