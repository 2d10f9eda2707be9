"""Express's JSON answers, for Flask.

Express's ``res.json`` sends compact JSON with the keys in the order they
were written, and an Express app that only ever answers JSON is what the
original's clients expect. Flask's ``jsonify`` adds a newline and may sort
keys, and its error pages are HTML. This module gives the web tasks:

- ``json_response``: the body byte for byte as ``res.json`` would send it;
- ``json_errors``: every error answered as JSON (404, 405, 503 when Redis
  is away, 500), never an HTML page or a traceback;
- ``action``: marks a GET route that acts (reserves, queues): HEAD, which
  Flask answers by running the GET route, is refused there (405), so that
  only a GET acts;
- OPTIONS answered as JSON (``{"allow":[...]}`` and an Allow header),
  where Flask sends an empty HTML page;
- ``listen`` and ``serve``: the development server on $HOST:$PORT
  (127.0.0.1:1245), the port taken before anything else happens;
- ``check_count``: the input check the original functions never made.
"""
import errno
import json
import os
import socket
import sys
from collections.abc import Callable
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
    """Mark VIEW as a GET route that acts: HEAD must not run it."""
    view.acts = True
    return view


def json_errors(app: Flask) -> None:
    """Answer every error of APP with a JSON body, never an HTML page.

    Also answer OPTIONS as JSON, and refuse HEAD on the routes marked with
    action().
    """

    @app.before_request
    def options_and_head() -> Response | None:
        """Answer OPTIONS here; refuse HEAD where the GET route acts."""
        if request.url_rule is None:
            return None  # the 404 or 405 comes next
        view = app.view_functions[request.endpoint]
        allowed = set(request.url_rule.methods)
        if getattr(view, "acts", False):
            allowed.discard("HEAD")
        allowed = sorted(allowed)
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
            response.headers["Allow"] = ", ".join(
                allowed_methods(error.valid_methods))
        return response

    def allowed_methods(methods: list[str]) -> list[str]:
        """Return METHODS in order, without HEAD where the GET route acts."""
        allowed = set(methods)
        try:
            endpoint, _ = app.url_map.bind_to_environ(
                request.environ).match(method="GET")
        except HTTPException:
            return sorted(allowed)
        if getattr(app.view_functions[endpoint], "acts", False):
            allowed.discard("HEAD")
        return sorted(allowed)

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
    """Take $HOST:$PORT (default 127.0.0.1:1245) for APP; return the server.

    When PORT is not a port number, or HOST:PORT cannot be had (the port
    taken, a host that is not a name or address of this machine), this
    says so in plain words on one line of stderr and exits 1. Nothing is
    served until serve_forever() is called.
    """
    host = os.environ.get("HOST", DEFAULT_HOST)
    text = os.environ.get("PORT", str(DEFAULT_PORT))
    digits = text.strip()
    port = int(digits) if digits.isascii() and digits.isdigit() else -1
    if not 0 <= port <= 65535:
        sys.exit(f"Error: PORT must be a number from 0 to 65535, "
                 f"not {text!r}")
    try:
        # The family Werkzeug will give the socket: IPv6 if HOST has a ":".
        family = select_address_family(host, port)
        address = socket.getaddrinfo(host or None, port, family,
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
        server = make_server(host, port, app, threaded=True,
                             fd=sock.fileno())
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
                f"(ports below 1024 usually need root): use PORT=1245")
    return (f"Error: cannot serve on HOST {host!r}, PORT {port}: "
            f"{error.strerror or error}")


def serve(app: Flask) -> None:
    """Serve APP with Flask's development server until Ctrl-C."""
    listen(app).serve_forever()


def check_count(name: str, value: object) -> None:
    """Raise ValueError unless VALUE is a whole number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, "
                         f"not {value!r}")
