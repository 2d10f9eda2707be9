import express from 'express';
import kue from 'kue';
import redis from 'redis';
import { promisify } from 'util';

const client = redis.createClient();
const getAsync = promisify(client.get).bind(client);
const setAsync = promisify(client.set).bind(client);

function reserveSeat(number) {
  return setAsync('available_seats', number);
}

function getCurrentAvailableSeats() {
  return getAsync('available_seats');
}

let reservationEnabled = true;
const queue = kue.createQueue();
const app = express();

app.get('/available_seats', async (req, res) => {
  res.json({ numberOfAvailableSeats: await getCurrentAvailableSeats() });
});

app.get('/reserve_seat', (req, res) => {
  if (!reservationEnabled) {
    res.json({ status: 'Reservation are blocked' });
    return;
  }
  const job = queue.create('reserve_seat', {}).save((error) => {
    if (error) {
      res.json({ status: 'Reservation failed' });
      return;
    }
    res.json({ status: 'Reservation in process' });
  });
  job.on('complete', () => {
    console.log(`Seat reservation job ${job.id} completed`);
  });
  job.on('failed', (error) => {
    console.log(`Seat reservation job ${job.id} failed: ${error}`);
  });
});

app.get('/process', (req, res) => {
  res.json({ status: 'Queue processing' });
  queue.process('reserve_seat', async (job, done) => {
    const seats = Number(await getCurrentAvailableSeats()) - 1;
    if (seats < 0) {
      done(new Error('Not enough seats available'));
      return;
    }
    await reserveSeat(seats);
    if (seats === 0) reservationEnabled = false;
    done();
  });
});

reserveSeat(50);
app.listen(1245);
