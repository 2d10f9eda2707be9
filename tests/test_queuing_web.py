"""queuing.web: Express's res.json bodies and JSON-only errors for Flask."""
import json

import fakeredis
import pytest
from flask import Flask

from queuing import web


@pytest.fixture
def app() -> Flask:
    """Return a small app whose routes answer, fail and lose Redis."""
    application = Flask(__name__)
    web.json_errors(application)
    acted = application.config["ACTED"] = []

    @application.get("/body")
    def body() -> object:
        """Answer a body whose keys are not in sorted order."""
        return web.json_response({"b": 1, "a": [1, "é"]}, 201)

    @application.get("/act")
    @web.action
    def act() -> object:
        """Do something that must happen only on GET."""
        acted.append(True)
        return web.json_response({"acted": len(acted)})

    @application.get("/redis")
    def redis_down() -> object:
        """Fail the way a lost Redis does."""
        server = fakeredis.FakeServer()
        server.connected = False
        return fakeredis.FakeRedis(server=server).get("key")

    @application.get("/bug")
    def bug() -> object:
        """Fail the way a bug does."""
        raise KeyError("missing")

    return application


def test_a_body_is_compact_json_in_the_given_key_order(app):
    response = app.test_client().get("/body")
    assert (response.status_code, response.content_type,
            response.get_data()) == (
        201, "application/json", b'{"b":1,"a":[1,"\\u00e9"]}')


@pytest.mark.parametrize("method, path, status, body", [
    ("GET", "/nothing", 404, b'{"error":"Not Found"}'),
    ("POST", "/body", 405, b'{"error":"Method Not Allowed"}'),
    ("GET", "/redis", 503, b'{"error":"Redis unavailable"}'),
    ("GET", "/bug", 500, b'{"error":"Internal Server Error"}'),
])
def test_every_error_is_json(app, capsys, method, path, status, body):
    response = app.test_client().open(path, method=method)
    assert (response.status_code, response.content_type,
            response.get_data()) == (status, "application/json", body)
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") <= 1, err


def test_a_405_keeps_its_allow_header(app):
    assert "GET" in app.test_client().post("/body").headers["Allow"]


@pytest.mark.parametrize("value", [0, 7])
def test_check_count_accepts_whole_numbers(value):
    web.check_count("stock", value)


@pytest.mark.parametrize("value", [-1, "3", 2.5, None, True])
def test_check_count_refuses_anything_else(value):
    with pytest.raises(ValueError, match="^stock must be a whole number"):
        web.check_count("stock", value)


def test_head_never_runs_an_action_route(app):
    http = app.test_client()
    response = http.head("/act")
    assert (response.status_code, response.content_type,
            response.headers["Allow"]) == (405, "application/json",
                                           "GET, OPTIONS")
    assert app.config["ACTED"] == []
    assert http.get("/act").get_data() == b'{"acted":1}'


def test_head_still_answers_a_reading_route(app):
    response = app.test_client().head("/body")
    assert (response.status_code, response.content_type) == (
        201, "application/json")


@pytest.mark.parametrize("path, allowed", [
    ("/body", b'{"allow":["GET","HEAD","OPTIONS"]}'),
    ("/act", b'{"allow":["GET","OPTIONS"]}'),
])
def test_options_is_answered_as_json_without_acting(app, path, allowed):
    response = app.test_client().options(path)
    assert (response.status_code, response.content_type,
            response.get_data()) == (200, "application/json", allowed)
    assert response.headers["Allow"] == ", ".join(
        json.loads(allowed)["allow"])
    assert app.config["ACTED"] == []


def test_options_on_an_unknown_route_is_a_json_404(app):
    response = app.test_client().options("/nothing")
    assert (response.status_code, response.get_data()) == (
        404, b'{"error":"Not Found"}')


@pytest.mark.parametrize("path, allow", [
    ("/act", "GET, OPTIONS"), ("/body", "GET, HEAD, OPTIONS")])
def test_a_405_allows_exactly_what_the_route_answers(app, path, allow):
    for _ in range(3):  # the set behind it has no order of its own
        response = app.test_client().delete(path)
        assert (response.status_code, response.headers["Allow"]) == (
            405, allow)
