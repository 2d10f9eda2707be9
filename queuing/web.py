"""Express's JSON answers, for Flask: bodies, errors, OPTIONS and HEAD.

The original's clients expect an app that only ever answers JSON, as
Express's ``res.json`` sends it: compact, keys in the order written.
Flask's ``jsonify`` adds a newline, and its error and OPTIONS pages are HTML.
"""
import errno
import json
import os
import socket
import sys
from collections.abc import Callable, Iterable
from typing import Any

import redis
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.serving import (BaseWSGIServer, make_server,
                              select_address_family)

from queuing import cli

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1245
# Connections the kernel queues while every server thread is busy.
LISTEN_BACKLOG = 1024


def json_response(body: Any, status: int = 200) -> Response:
    """Return BODY as compact JSON, keys in order, as Express's res.json."""
    return Response(json.dumps(body, separators=(",", ":")), status=status,
                    mimetype="application/json")


def action(view: Callable) -> Callable:
    """Mark VIEW as a GET route that acts; Flask would run it for HEAD too."""
    view.acts = True
    return view


def json_errors(app: Flask) -> None:
    """Answer APP's errors and OPTIONS as JSON; refuse HEAD on action()s."""

    @app.before_request
    def options_and_head() -> Response | None:
        """Answer OPTIONS here; refuse HEAD where the GET route acts."""
        if request.url_rule is None:
            return None  # the 404 or 405 comes next
        allowed = allowed_methods(request.endpoint, request.url_rule.methods)
        if request.method == "HEAD" and "HEAD" not in allowed:
            raise MethodNotAllowed(valid_methods=allowed)
        if request.method == "OPTIONS":
            response = json_response({"allow": allowed})
            response.headers["Allow"] = ", ".join(allowed)
            return response
        return None

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        """Answer 404, 405 and the other HTTP errors as JSON."""
        response = json_response({"error": error.name}, error.code or 500)
        for name, value in error.get_headers():
            if name != "Content-Type":
                response.headers[name] = value
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            try:
                endpoint, _ = app.url_map.bind_to_environ(
                    request.environ).match(method="GET")
            except HTTPException:
                endpoint = None
            response.headers["Allow"] = ", ".join(
                allowed_methods(endpoint, error.valid_methods))
        return response

    def allowed_methods(endpoint: str | None,
                        methods: Iterable[str]) -> list[str]:
        """Return METHODS in order, without HEAD if ENDPOINT's route acts."""
        acts = getattr(app.view_functions.get(endpoint), "acts", False)
        return sorted(set(methods) - ({"HEAD"} if acts else set()))

    @app.errorhandler(redis.RedisError)
    def redis_error(error: redis.RedisError) -> Response:
        """Answer 503 when Redis cannot be reached or fails."""
        print(cli.describe(error), file=sys.stderr)
        return json_response({"error": "Redis unavailable"}, 503)

    @app.errorhandler(Exception)
    def internal_error(error: Exception) -> Response:
        """Answer 500 for anything else, logging it on one line."""
        print(cli.describe(error), file=sys.stderr)
        return json_response({"error": "Internal Server Error"}, 500)


def listen(app: Flask) -> BaseWSGIServer:
    """Take $HOST:$PORT (127.0.0.1:1245) for APP, before serve_forever().

    A bad PORT or HOST, or an address that cannot be had, is one plain
    line on stderr and exit status 1.
    """
    host = os.environ.get("HOST", DEFAULT_HOST)
    text = os.environ.get("PORT", str(DEFAULT_PORT))
    digits = text.strip()
    port = int(digits) if digits.isascii() and digits.isdigit() else -1
    if not 0 <= port <= 65535:
        sys.exit(f"Error: PORT must be a number from 0 to 65535, not {text!r}")
    try:
        # The family Werkzeug will give the socket: IPv6 if HOST has a ":".
        family = select_address_family(host, port)
        address = socket.getaddrinfo(host, port, family,
                                     socket.SOCK_STREAM,
                                     flags=socket.AI_PASSIVE)[0][4]
    except (OSError, UnicodeError):
        sys.exit(f"Error: HOST must be a name or address of this machine, "
                 f"such as 127.0.0.1; {host!r} is not one")
    try:
        sock = socket.create_server(address[:2], family=family,
                                    backlog=LISTEN_BACKLOG)
    except OSError as error:
        sys.exit(cannot_serve(host, port, error))
    with sock:
        server = make_server(host, port, app, threaded=True, fd=sock.fileno())
    server.log_startup()
    return server


def cannot_serve(host: str, port: int, error: OSError) -> str:
    """Return why HOST:PORT could not be bound, in the learner's words."""
    code = getattr(error, "errno", None)
    if code == errno.EADDRINUSE:
        return (f"Error: port {port} is in use by another program: stop it, "
                f"or serve on another port (PORT={port + 1}).")
    if code == errno.EADDRNOTAVAIL:
        return (f"Error: HOST {host!r} is not an address of this machine: "
                f"use 127.0.0.1 (this machine only) or 0.0.0.0 (every "
                f"network)")
    if code == errno.EACCES:
        return (f"Error: port {port} needs more rights than this user has "
                f"(ports below 1024 usually need root): use "
                f"PORT={DEFAULT_PORT}")
    return (f"Error: cannot serve on HOST {host!r}, PORT {port}: "
            f"{error.strerror or error}")


def check_count(name: str, value: object) -> None:
    """Raise ValueError unless VALUE is a whole number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
