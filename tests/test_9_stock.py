"""Task 12: 9-stock.py lists products and reserves stock, byte for byte."""
import importlib
from concurrent.futures import ThreadPoolExecutor

import fakeredis
import pytest

from helpers import http_get, serve

stock = importlib.import_module("9-stock")

LIST = (b'[{"itemId":1,"itemName":"Suitcase 250","price":50,'
        b'"initialAvailableQuantity":4},{"itemId":2,"itemName":'
        b'"Suitcase 450","price":100,"initialAvailableQuantity":10},'
        b'{"itemId":3,"itemName":"Suitcase 650","price":350,'
        b'"initialAvailableQuantity":2},{"itemId":4,"itemName":'
        b'"Suitcase 1050","price":550,"initialAvailableQuantity":5}]')
NOT_FOUND = b'{"status":"Product not found"}'


def detail(item_id: int, name: str, price: int, initial: int,
           current: int) -> bytes:
    """Return the exact body of /list_products/ITEM_ID."""
    return (f'{{"itemId":{item_id},"itemName":"{name}","price":{price},'
            f'"initialAvailableQuantity":{initial},'
            f'"currentQuantity":{current}}}').encode()


@pytest.fixture
def http(client):
    """Return a Flask test client of the app on the backend under test."""
    return stock.create_app(client).test_client()


def test_list_products_is_the_exact_json(http):
    response = http.get("/list_products")
    assert (response.status_code, response.content_type,
            response.get_data()) == (200, "application/json", LIST)


@pytest.mark.parametrize("item_id, name, price, initial", [
    (1, "Suitcase 250", 50, 4), (2, "Suitcase 450", 100, 10),
    (3, "Suitcase 650", 350, 2), (4, "Suitcase 1050", 550, 5)])
def test_a_product_shows_its_initial_quantity_before_any_reservation(
        http, item_id, name, price, initial):
    response = http.get(f"/list_products/{item_id}")
    assert (response.status_code, response.content_type,
            response.get_data()) == (
        200, "application/json",
        detail(item_id, name, price, initial, initial))


def test_reservations_confirm_until_the_stock_is_gone(http, client):
    bodies = [http.get("/reserve_product/3").get_data() for _ in range(3)]
    assert bodies == [b'{"status":"Reservation confirmed","itemId":3}'] * 2 + [
        b'{"status":"Not enough stock available","itemId":3}']
    assert client.get("item.3") == "0"
    assert http.get("/list_products/3").get_data() == detail(
        3, "Suitcase 650", 350, 2, 0)


@pytest.mark.parametrize("item_id", [
    "abc", "-1", "1.5", "0", "5", "9" * 30, "%C3%A9", "%00", "%D9%A1",
    "%201", "1e0", "0x1"])
@pytest.mark.parametrize("route", ["list_products", "reserve_product"])
def test_anything_but_an_existing_item_id_is_not_found(
        http, client, route, item_id):
    response = http.get(f"/{route}/{item_id}")
    assert (response.status_code, response.content_type,
            response.get_data()) == (404, "application/json", NOT_FOUND)
    assert client.keys("*") == []


def test_reserve_stock_by_id_sets_the_key_that_the_getter_reads(client):
    assert stock.get_current_reserved_stock_by_id(2, client) is None
    stock.reserve_stock_by_id(2, 7, client)
    assert client.get("item.2") == "7"
    assert stock.get_current_reserved_stock_by_id(2, client) == 7


def test_get_item_by_id_finds_only_the_four_products():
    assert [stock.get_item_by_id(n)["itemName"] for n in range(1, 5)] == [
        "Suitcase 250", "Suitcase 450", "Suitcase 650", "Suitcase 1050"]
    assert stock.get_item_by_id(5) is None
    assert stock.get_item_by_id(None) is None


def test_an_unknown_route_is_a_json_404(http):
    response = http.get("/nothing/here")
    assert (response.status_code, response.content_type,
            response.get_data()) == (404, "application/json",
                                     b'{"error":"Not Found"}')


def test_a_wrong_method_is_a_json_405_with_allow(http):
    response = http.post("/list_products")
    assert (response.status_code, response.content_type,
            response.get_data()) == (405, "application/json",
                                     b'{"error":"Method Not Allowed"}')
    assert "GET" in response.headers["Allow"]


def test_redis_down_is_a_json_503(capsys):
    server = fakeredis.FakeServer()
    http = stock.create_app(fakeredis.FakeRedis(
        server=server, decode_responses=True)).test_client()
    server.connected = False
    for route in ["/list_products/1", "/reserve_product/1"]:
        response = http.get(route)
        assert (response.status_code, response.get_data()) == (
            503, b'{"error":"Redis unavailable"}')
    assert capsys.readouterr().err.startswith("Redis error: ")
    server.connected = True
    assert http.get("/list_products/1").status_code == 200


def test_an_internal_error_is_a_json_500(http, monkeypatch, capsys):
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(stock, "get_current_reserved_stock_by_id", broken)
    response = http.get("/list_products/1")
    assert (response.status_code, response.get_data()) == (
        500, b'{"error":"Internal Server Error"}')
    assert capsys.readouterr().err == "Error: RuntimeError: boom\n"


@pytest.fixture(scope="module")
def started(real_redis_url):
    """Serve the app as the script does, for the whole module.

    The app keeps its state in Redis only, which each test empties: one
    server serves every test. tests/test_production.py runs these tests
    again on granian and gunicorn.
    """
    script, url = serve("9-stock.py", real_redis_url, lambda port: None,
                        "/list_products")
    yield url, script
    script.kill()


@pytest.fixture
def server(started, real_redis):
    """Return the URL of a started server, its Redis database empty."""
    url, script = started
    assert script.process.poll() is None, script.wait()
    return url


def test_the_server_answers_like_curl_expects(server):
    assert http_get(server + "/list_products") == (
        200, "application/json", LIST)
    assert http_get(server + "/list_products/1") == (
        200, "application/json", detail(1, "Suitcase 250", 50, 4, 4))
    assert http_get(server + "/reserve_product/1") == (
        200, "application/json",
        b'{"status":"Reservation confirmed","itemId":1}')
    assert http_get(server + "/list_products/abc") == (
        404, "application/json", NOT_FOUND)


def test_concurrent_reservations_confirm_exactly_the_stock(
        server, real_client):
    # Item 2 has 10 units: 40 requests at once race for them (the race is
    # over the first units; the later requests find none left).
    with ThreadPoolExecutor(max_workers=40) as pool:
        bodies = list(pool.map(lambda _: http_get(
            server + "/reserve_product/2")[2], range(40)))
    assert bodies.count(
        b'{"status":"Reservation confirmed","itemId":2}') == 10
    assert bodies.count(
        b'{"status":"Not enough stock available","itemId":2}') == 30
    assert real_client.get("item.2") == "0"
