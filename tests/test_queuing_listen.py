"""queuing.web.listen: PORT and HOST mistakes said in plain words."""
import socket

import pytest
from flask import Flask

from helpers import run_script
from queuing import web

RANGE = "Error: PORT must be a number from 0 to 65535, not "
UNKNOWN_HOST = ("Error: HOST must be a name or address of this machine, "
                "such as 127.0.0.1; ")


def refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    """Return what listen() exits with under ENV (HOST, PORT)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_:
        web.listen(Flask(__name__)).server_close()
    return str(exit_.value.code)


def test_a_port_mistake_is_one_plain_line_and_exit_1(closed_url):
    result = run_script("9-stock.py", closed_url, PORT="abc")
    assert (result.returncode, result.stdout, result.stderr) == (
        1, "", f"{RANGE}'abc'\n")


@pytest.mark.parametrize("port", [
    "99999", "65536", "-1", "", " ", "1.5", "12a", "\u0663"])
def test_a_port_that_is_not_a_port_number_is_named(monkeypatch, port):
    assert refusal(monkeypatch, PORT=port) == f"{RANGE}{port!r}"


# Names that fail before any DNS query: a socket path, a label too long;
# and an empty HOST, which would have served on every network.
@pytest.mark.parametrize("host", ["unix:///tmp/seats.sock", "x" * 300, ""])
def test_a_host_that_cannot_be_resolved_is_named(monkeypatch, host):
    assert refusal(monkeypatch, HOST=host, PORT="0") == (
        f"{UNKNOWN_HOST}{host!r} is not one")


def test_a_host_that_is_not_this_machines_is_named(monkeypatch):
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): no machine has it.
    assert refusal(monkeypatch, HOST="192.0.2.1", PORT="0") == (
        "Error: HOST '192.0.2.1' is not an address of this machine: "
        "use 127.0.0.1 (this machine only) or 0.0.0.0 (every network)")


def test_a_port_in_use_is_named_with_the_next_one(monkeypatch):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert refusal(monkeypatch, PORT=str(port)) == (
            f"Error: port {port} is in use by another program: stop it, "
            f"or serve on another port (PORT={port + 1}).")


@pytest.mark.parametrize("host, address", [
    ("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"), ("::1", "::1")])
def test_a_good_host_and_port_are_taken(monkeypatch, host, address):
    monkeypatch.setenv("HOST", host)
    monkeypatch.setenv("PORT", " 0 ")  # any free port, spaces ignored
    try:
        server = web.listen(Flask(__name__))
    except SystemExit as error:
        if host == "::1" and "HOST" in str(error):
            pytest.skip(f"this machine has no IPv6: {error}")
        raise
    try:
        assert server.server_address[0] == address
        assert server.server_address[1] > 0, "PORT=0 takes a free port"
    finally:
        server.server_close()
