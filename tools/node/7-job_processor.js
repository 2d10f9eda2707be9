// Task 9 as the original did it, with Kue: processes push_notification_code_2
// jobs two at a time; progress 0, fails blacklisted numbers, else progress 50
// and sends. Runs until SIGINT or SIGTERM. Redis: $REDIS_URL (default
// redis://127.0.0.1:6379).
// kue 0.11.6 brings its own node-redis 2.6.5 (its dependency range is
// ~2.6.0-2); the redis 2.8.0 pinned in package.json is the one 9-stock.js uses.
// Both work on node 20.
'use strict';
const kue = require('kue');

const blacklistedNumbers = ['4153518780', '4153518781'];
const queue = kue.createQueue({ redis: process.env.REDIS_URL || 'redis://127.0.0.1:6379' });

function sendNotification(phoneNumber, message, job, done) {
  job.progress(0, 100);
  if (blacklistedNumbers.includes(phoneNumber)) {
    done(new Error(`Phone number ${phoneNumber} is blacklisted`));
    return;
  }
  job.progress(50, 100);
  console.log(`Sending notification to ${phoneNumber}, with message: ${message}`);
  done();
}

queue.process('push_notification_code_2', 2, (job, done) => {
  sendNotification(job.data.phoneNumber, job.data.message, job, done);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => queue.shutdown(5000, () => process.exit(0)));
}
