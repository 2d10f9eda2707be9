// Task 12 as the original did it: Express + node-redis 2.8 with promisify.
// The stock left of item N is the key item.N (absent: the initial
// quantity); a reservation reads it, then writes it back, in two commands,
// as the original did (so concurrent requests can oversell). Serves on
// $PORT (default 1245) against $REDIS_URL (default redis://127.0.0.1:6379).
'use strict';
const express = require('express');
const redis = require('redis');
const { promisify } = require('util');

const listProducts = [
  { itemId: 1, itemName: 'Suitcase 250', price: 50, initialAvailableQuantity: 4 },
  { itemId: 2, itemName: 'Suitcase 450', price: 100, initialAvailableQuantity: 10 },
  { itemId: 3, itemName: 'Suitcase 650', price: 350, initialAvailableQuantity: 2 },
  { itemId: 4, itemName: 'Suitcase 1050', price: 550, initialAvailableQuantity: 5 },
];

const client = redis.createClient(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
client.on('error', (error) => console.log(`Redis client not connected to the server: ${error.message}`));
const getAsync = promisify(client.get).bind(client);
const setAsync = promisify(client.set).bind(client);

function getItemById(id) {
  return listProducts.find((item) => item.itemId === id);
}

function reserveStockById(itemId, stock) {
  return setAsync(`item.${itemId}`, stock);
}

async function getCurrentReservedStockById(itemId) {
  const stock = await getAsync(`item.${itemId}`);
  return stock === null ? null : Number(stock);
}

async function currentQuantity(item) {
  const stock = await getCurrentReservedStockById(item.itemId);
  return stock === null ? item.initialAvailableQuantity : stock;
}

const app = express();

app.get('/list_products', (req, res) => {
  res.json(listProducts);
});

app.get('/list_products/:itemId', async (req, res) => {
  const item = getItemById(Number(req.params.itemId));
  if (!item) {
    res.json({ status: 'Product not found' });
    return;
  }
  res.json({ ...item, currentQuantity: await currentQuantity(item) });
});

app.get('/reserve_product/:itemId', async (req, res) => {
  const item = getItemById(Number(req.params.itemId));
  if (!item) {
    res.json({ status: 'Product not found' });
    return;
  }
  const left = await currentQuantity(item);
  if (left < 1) {
    res.json({ status: 'Not enough stock available', itemId: item.itemId });
    return;
  }
  await reserveStockById(item.itemId, left - 1);
  res.json({ status: 'Reservation confirmed', itemId: item.itemId });
});

const server = app.listen(Number(process.env.PORT || 1245), '127.0.0.1');
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    client.quit(() => process.exit(0));
  });
}
