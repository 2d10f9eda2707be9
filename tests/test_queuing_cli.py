"""queuing.cli and queuing.connection: how every script starts and ends.

Pipes are real: a script piped into head -1, a server whose stdout and
stderr share one pipe, against a real Redis.
"""
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import click
import pytest
import redis

from helpers import (ON_THE_CHANNEL, ROOT, Script, free_port, http_get,
                     redis_server_binaries, run_script, script_env,
                     start_redis_server, stop_redis_server, unavailable,
                     wait_until)
from queuing import cli, connection

PROGRAMS = {
    "returns": "print('done')",
    "raises": "raise ValueError('bad input')",
    "ctrl-c": "raise KeyboardInterrupt",
    "redis": "import redis; raise redis.ConnectionError('gone')",
    "thread": "import threading, time; threading.Thread(target=lambda: 1 / 0)"
              ".start(); time.sleep(30)",
    "main pipe": "[print(n) for n in range(100000)]",
    "thread pipe": "import threading; thread = threading.Thread(target="
                   "lambda: [print(n) for n in range(100000)]); "
                   "thread.start(); thread.join()",
}
# What Werkzeug's development server logs on stderr: its start, requests.
SERVER_LOG = (r"WARNING: This is a development server|^ \* Running on |"
              r"^Press CTRL\+C to quit$|^127\.0\.0\.1 - - \[.*\] \"GET /")


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


def test_a_ctrl_c_as_run_installs_its_handler_ends_the_script_quietly(
        closed_url):
    # The moment the Ctrl-C test under load once hit: SIGINT comes as
    # run() puts Python's handler in, before main() starts.
    source = ("import signal\nfrom queuing import cli\n"
              "def interrupted(*args):\n    raise KeyboardInterrupt\n"
              "signal.signal = interrupted\n"
              "cli.run(lambda: print('never'))\n")
    result = subprocess.run([sys.executable, "-c", source], cwd=ROOT,
                            env=script_env(closed_url), capture_output=True,
                            text=True, timeout=20)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_redis_url_defaults_to_the_original_address(monkeypatch):
    monkeypatch.delenv("REDIS_URL")
    assert connection.redis_url() == "redis://127.0.0.1:6379/0"


def test_redis_url_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://example:1/2")
    assert connection.redis_url() == "redis://example:1/2"


def into_head(command: str, **env: str) -> Script:
    """Start COMMAND | head -1 in bash; bash echoes COMMAND's status last.

    COMMAND's stderr goes to bash's, so anything it prints there shows.
    """
    return Script("bash", env.pop("REDIS_URL"), command=[
        "bash", "-c", f"{command} | head -1; echo ${{PIPESTATUS[0]}} >&2"],
        **env)


@pytest.mark.parametrize("where", ["main", "thread"])
def test_a_closed_pipe_ends_the_script_quietly_from_any_thread(
        closed_url, where):
    source = ("from queuing import cli\n"
              f"def main() -> None:\n    {PROGRAMS[where + ' pipe']}\n"
              "cli.run(main)\n")
    result = into_head(f"{sys.executable} -c {shlex.quote(source)}",
                       REDIS_URL=closed_url).wait()
    assert result == (0, "0\n", "0\n")


@ON_THE_CHANNEL
def test_the_publisher_into_head_ends_quietly(real_redis):
    # Its next line comes from a timer's thread, after head has gone.
    assert into_head("./5-publisher.py", REDIS_URL=real_redis).wait() == (
        0, "Redis client connected to the server\n", "0\n")


def test_the_seat_server_into_head_ends_quietly_at_its_next_line(
        real_redis, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "stderr"
    server = into_head(f"./100-seat.py 2>{log}", REDIS_URL=real_redis,
                       PORT=str(port))
    try:
        wait_until(lambda: answering(base + "/available_seats"),
                   message="100-seat to serve")
        assert http_get(base + "/process")[2] == (
            b'{"status":"Queue processing"}')
        # The first job's line goes through head, the second one's finds
        # the pipe closed: the server ends (its watcher thread printed it).
        wait_until(lambda: server.process.poll() is not None
                   or not answering(base + "/reserve_seat"),
                   message="100-seat to end on its second line")
        assert server.wait() == (
            0, "Seat reservation job 1 completed\n", "0\n")
    finally:
        server.kill()
    unexpected = [line for line in log.read_text().splitlines()
                  if not re.search(SERVER_LOG, line)]
    assert unexpected == [], log.read_text()


def answering(url: str) -> bool:
    """Tell whether a server answers a GET of URL."""
    try:
        http_get(url, timeout=2)
    except OSError:
        return False
    return True


def test_every_line_is_whole_unbuffered_with_the_log_in_the_same_pipe(
        real_redis):
    # stdout and stderr in one pipe, as in a terminal or `2>&1 | tee`, and
    # no buffering, as in many containers: the request log (stderr) must
    # never land inside a job's line.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Script("100-seat.py", real_redis, PORT=str(port), command=[
        "bash", "-c", "PYTHONUNBUFFERED=1 exec ./100-seat.py 2>&1"])
    try:
        wait_until(lambda: answering(base + "/available_seats"),
                   message="100-seat to serve")
        assert http_get(base + "/process")[2] == (
            b'{"status":"Queue processing"}')
        with ThreadPoolExecutor(max_workers=40) as pool:
            bodies = list(pool.map(
                lambda _: http_get(base + "/reserve_seat")[2], range(120)))
        queued = bodies.count(b'{"status":"Reservation in process"}')
        assert queued >= 50, bodies
        # Counted anywhere in the output, whole lines or not.
        wait_until(lambda: len(re.findall(
            r"Seat reservation job \d+ (completed|failed: Not enough seats "
            r"available)", server.output())) >= queued, timeout=60,
            message=f"a line for each of the {queued} jobs")
    finally:
        server.kill()
    lines = server.output().splitlines()
    completed = [line for line in lines
                 if re.fullmatch(r"Seat reservation job \d+ completed", line)]
    broken = [line for line in lines if "Seat reservation" in line
              and not re.fullmatch(r"Seat reservation job \d+ (completed|"
                                   r"failed: Not enough seats available)",
                                   line)]
    assert (len(completed), broken) == (50, [])
    others = [line for line in lines if "Seat reservation" not in line
              and not re.search(SERVER_LOG, line)]
    assert others == [], "neither a job's line nor the server's log"


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


def test_a_redis_url_whose_database_is_no_number_is_refused(monkeypatch):
    # redis-py would quietly take database 0 for redis://host/abc.
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/abc")
    with pytest.raises(redis.RedisError) as raised:
        connection.redis_url()
    assert str(raised.value) == (
        "the database of REDIS_URL must be a number, not 'abc'")


NOT_CONNECTED = "Redis client not connected to the server: "
# What redis-py would say only at the first command, or as a ValueError.
UNUSABLE_URLS = [
    ("nonsense", "Redis URL must specify one of the following schemes "
     "(redis://, rediss://, unix://)"),
    ("redis://127.0.0.1:x/0", "Port could not be cast to integer value as "
     "'x'"),
    ("rediss://127.0.0.1:99999/0", "Port out of range 0-65535"),
    ("redis://127.0.0.1:6379/0?foo=bar",
     "REDIS_URL has an option redis-py does not know: 'foo'"),
]


@pytest.mark.parametrize("url, line", UNUSABLE_URLS)
def test_a_redis_url_redis_py_cannot_use_is_refused(monkeypatch, url, line):
    monkeypatch.setenv("REDIS_URL", url)
    with pytest.raises(redis.RedisError) as raised:
        connection.redis_url()
    assert str(raised.value) == line


@pytest.mark.parametrize("script, out, err", [
    ("1-redis_op.py", NOT_CONNECTED + "{line}\n", ""),
    ("9-stock.py", "", "Redis error: {line}\n"),
])
def test_a_script_refuses_an_unusable_redis_url_in_one_line(script, out,
                                                            err):
    url, line = UNUSABLE_URLS[-1]
    result = run_script(script, url)
    assert (result.returncode, result.stdout, result.stderr) == (
        1, out.format(line=line), err.format(line=line))


CONNECTED_1_REDIS_OP = ("Redis client connected to the server\nNone\n"
                        "Reply: OK\n100\n")


def with_tls(url: str) -> str:
    """Return URL with rediss:// (Redis over TLS) instead of redis://."""
    return url.replace("redis://", "rediss://", 1)


@pytest.mark.parametrize("script, out, err", [
    # A lesson's connect(), a job script's, a web server's connection.client().
    ("1-redis_op.py", NOT_CONNECTED + "{line}\n", ""),
    ("6-job_creator.py", NOT_CONNECTED + "{line}\n", ""),
    ("9-stock.py", "", "Redis error: {line}\n"),
])
def test_rediss_to_a_server_without_tls_says_so_in_one_line(
        real_redis, script, out, err):
    # Without the check, the TLS handshake waits for an answer that a plain
    # Redis never sends, and redis-py's line says "Timeout connecting".
    parts = urlsplit(real_redis)
    line = (f"{parts.hostname}:{parts.port} does not speak TLS: try "
            "redis:// instead of rediss:// in REDIS_URL")
    result = run_script(script, with_tls(real_redis), PORT=str(free_port()))
    assert (result.returncode, result.stdout, result.stderr) == (
        1, out.format(line=line), err.format(line=line))


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[str]:
    """Yield the rediss:// URL of a redis-server of this test's own."""
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("no openssl to make the TLS server's certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True,
                   timeout=20)
    tls_port = free_port()
    options = ["--tls-port", str(tls_port), "--tls-cert-file", str(cert),
               "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
               "--tls-auth-clients", "no"]
    for binary in redis_server_binaries():
        try:
            process, _ = start_redis_server(tmp_path, *options,
                                            binary=binary)
        except RuntimeError:  # a build without TLS refuses the options
            continue
        yield f"rediss://127.0.0.1:{tls_port}/0?ssl_ca_certs={cert}"
        stop_redis_server(process)
        return
    pytest.skip("no redis-server built with TLS")


def test_rediss_to_a_tls_server_connects(tls_redis):
    result = run_script("1-redis_op.py", tls_redis)
    assert (result.returncode, result.stdout, result.stderr) == (
        0, CONNECTED_1_REDIS_OP, "")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a redis-server of this test's own, to lock."""
    if not redis_server_binaries():
        unavailable("no redis-server found (PATH, the venv, /usr/bin)")
    process, url = start_redis_server(tmp_path)
    yield url
    stop_redis_server(process)


@pytest.mark.parametrize("password, written", [
    ("p@ss", "p@ss"),  # the last '@' ends the password: redis-py finds it
    ("p@ss", "p%40ss"),
    ("p/s#s?", "p%2Fs%23s%3F"),
])
def test_a_password_works_as_written(own_redis, password, written):
    with redis.Redis.from_url(own_redis) as client:
        client.config_set("requirepass", password)
    url = own_redis.replace("redis://", f"redis://:{written}@", 1)
    result = run_script("1-redis_op.py", url)
    assert (result.returncode, result.stdout, result.stderr) == (
        0, CONNECTED_1_REDIS_OP, "")


@pytest.mark.parametrize("url, line", [
    ("redis://:p/ss@127.0.0.1:6379/0",
     "a '/' in the password of REDIS_URL must be percent-encoded, as %2F"),
    ("redis://:p/ss@127.0.0.1:6379",
     "a '/' in the password of REDIS_URL must be percent-encoded, as %2F"),
    ("redis://default:p#ss@127.0.0.1:6379/0",
     "a '#' in the password of REDIS_URL must be percent-encoded, as %23"),
    ("rediss://:12?ss@127.0.0.1:6379/0",
     "a '?' in the password of REDIS_URL must be percent-encoded, as %3F"),
    ("redis://:p@s/s@127.0.0.1:6379/0",
     "a '/' in the password of REDIS_URL must be percent-encoded, as %2F"),
    ("redis://us/er:pw@127.0.0.1:6379/0",
     "a '/' in the user name of REDIS_URL must be percent-encoded, as %2F"),
])
def test_a_password_that_ends_the_address_early_is_refused(
        monkeypatch, url, line):
    # urllib ends the address at the first '/', '?' or '#': the rest of the
    # password and the host would be taken for the database, the port...
    monkeypatch.setenv("REDIS_URL", url)
    with pytest.raises(redis.RedisError) as raised:
        connection.redis_url()
    assert str(raised.value) == line


@pytest.mark.parametrize("url", [
    "redis://127.0.0.1:6379/0?client_name=me@example",
    "redis://:p%2Fss@127.0.0.1:6379/0",
    "unix:///tmp/redis.sock?db=1",
])
def test_an_at_sign_that_belongs_where_it_is_is_left_alone(
        monkeypatch, url):
    monkeypatch.setenv("REDIS_URL", url)
    assert connection.redis_url() == url


def test_a_script_says_which_character_to_percent_encode(closed_url):
    port = urlsplit(closed_url).port
    result = run_script("1-redis_op.py", f"redis://:p/ss@127.0.0.1:{port}/0")
    assert (result.returncode, result.stdout, result.stderr) == (
        1, NOT_CONNECTED + "a '/' in the password of REDIS_URL must be "
        "percent-encoded, as %2F\n", "")
