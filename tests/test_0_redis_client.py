"""Task 1: 0-redis_client.py connects and prints one connection line."""
import importlib

import pytest

from helpers import run_script

redis_client = importlib.import_module("0-redis_client")

CONNECTED = "Redis client connected to the server\n"
NOT_CONNECTED = "Redis client not connected to the server: "


def test_connect_prints_the_connected_line(backend, capsys, monkeypatch):
    backend_client = backend.client()
    monkeypatch.setattr(redis_client.redis.Redis, "from_url",
                        lambda url, **kwargs: backend_client)
    assert redis_client.connect() is backend_client
    assert capsys.readouterr().out == CONNECTED


def test_connect_exits_1_with_the_error_when_nothing_listens(
        closed_url, capsys):
    with pytest.raises(SystemExit) as exit_info:
        redis_client.connect(closed_url)
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert out.startswith(NOT_CONNECTED + "Error 111 connecting to "), out
    assert out.endswith("Connection refused.\n"), out


def test_script_prints_the_connected_line(real_redis):
    result = run_script("0-redis_client.py", real_redis)
    assert (result.returncode, result.stdout, result.stderr) == (
        0, CONNECTED, "")


@pytest.mark.parametrize("url, error", [
    (None, "Error 111 connecting to 127.0.0.1:{port}. Connection refused."),
    ("not-a-url", "Redis URL must specify one of the following schemes "
                  "(redis://, rediss://, unix://)"),
])
def test_script_without_a_server_prints_the_error_and_exits_1(
        closed_url, url, error):
    port = closed_url.split(":")[2].split("/")[0]
    result = run_script("0-redis_client.py", url or closed_url)
    assert (result.returncode, result.stdout, result.stderr) == (
        1, NOT_CONNECTED + error.format(port=port) + "\n", "")
