#!/usr/bin/env python3
"""Task 12: an inventory API that reserves stock in Redis.

The Node original, 9-stock.js, was an Express app on port 1245: it listed
the products, showed one with its current quantity, and reserved one unit,
keeping what is left of item N in the Redis key item.N. Here it is a Flask
app, built by create_app() so that any WSGI server can serve it:

    gunicorn -w 2 -b 127.0.0.1:1245 '9-stock:create_app()'

The original read the stock, then wrote it back: two requests at once could
both take the last unit. Here taking one unit is a single Lua script, which
Redis runs atomically, so an item with stock N confirms exactly N
reservations, however many requests and server processes there are.
"""
from queuing import cli, connection  # first, for a quiet Ctrl-C

import redis
from flask import Flask, Response

from queuing.connection import default_client
from queuing.web import (action, check_count, json_errors, json_response,
                         listen)

LIST_PRODUCTS = [
    {"itemId": 1, "itemName": "Suitcase 250", "price": 50,
     "initialAvailableQuantity": 4},
    {"itemId": 2, "itemName": "Suitcase 450", "price": 100,
     "initialAvailableQuantity": 10},
    {"itemId": 3, "itemName": "Suitcase 650", "price": 350,
     "initialAvailableQuantity": 2},
    {"itemId": 4, "itemName": "Suitcase 1050", "price": 550,
     "initialAvailableQuantity": 5},
]
STOCK_KEY = "item.{item_id}"
# KEYS[1] is item.ITEM_ID, ARGV[1] the item's initial quantity. Returns the
# units left after taking one, or -1 (and changes nothing) when none is left.
TAKE_ONE_SCRIPT = """
local left = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if left < 1 then
    return -1
end
redis.call('SET', KEYS[1], left - 1)
return left - 1
"""


def stock_key(item_id: int) -> str:
    """Return the key of an item's stock: a STRING holding what is left."""
    return STOCK_KEY.format(item_id=item_id)


def get_item_by_id(id: int) -> dict | None:
    """Return the product whose itemId is ID, or None."""
    return next((item for item in LIST_PRODUCTS if item["itemId"] == id),
                None)


def reserve_stock_by_id(item_id: int, stock: int,
                        client: redis.Redis | None = None) -> None:
    """Set the stock left of item ITEM_ID to STOCK (a whole number >= 0)."""
    check_count("stock", stock)
    client = client or default_client()
    client.set(stock_key(item_id), stock)


def get_current_reserved_stock_by_id(
        item_id: int, client: redis.Redis | None = None) -> int | None:
    """Return the stock left of item ITEM_ID, or None if never reserved."""
    client = client or default_client()
    stock = client.get(stock_key(item_id))
    return None if stock is None else int(stock)


def take_one_by_id(item_id: int, initial: int,
                   client: redis.Redis | None = None) -> bool:
    """Take one unit of item ITEM_ID atomically; tell whether one was left."""
    client = client or default_client()
    take_one = client.register_script(TAKE_ONE_SCRIPT)
    return take_one(keys=[stock_key(item_id)], args=[initial]) >= 0


def parse_item_id(text: str) -> int | None:
    """Return TEXT as an item id if it is a number in ASCII digits.

    Python's int() refuses over 4,300 digits: no item id is that long.
    """
    if text.isascii() and text.isdigit() and len(text.lstrip("0")) < 10:
        return int(text)
    return None


def create_app(client: redis.Redis | None = None) -> Flask:
    """Build the inventory app on CLIENT (default: $REDIS_URL)."""
    app = Flask(__name__)
    client = client or connection.client()
    json_errors(app)
    not_found = {"status": "Product not found"}

    @app.get("/list_products")
    def list_products() -> Response:
        """List every product."""
        return json_response(LIST_PRODUCTS)

    @app.get("/list_products/<item_id>")
    def product_detail(item_id: str) -> Response:
        """Show one product with the quantity still available."""
        item = get_item_by_id(parse_item_id(item_id))
        if item is None:
            return json_response(not_found, 404)
        current = get_current_reserved_stock_by_id(item["itemId"], client)
        if current is None:
            current = item["initialAvailableQuantity"]
        return json_response({**item, "currentQuantity": current})

    @app.get("/reserve_product/<item_id>")
    @action
    def reserve_product(item_id: str) -> Response:
        """Reserve one unit of a product, if any is left."""
        item = get_item_by_id(parse_item_id(item_id))
        if item is None:
            return json_response(not_found, 404)
        if take_one_by_id(item["itemId"], item["initialAvailableQuantity"],
                          client):
            status = "Reservation confirmed"
        else:
            status = "Not enough stock available"
        return json_response({"status": status, "itemId": item["itemId"]})

    return app


def main() -> None:
    """Serve the inventory API."""
    listen(create_app()).serve_forever()


if __name__ == "__main__":
    cli.run(main)
