// Task 8 as the original did it, with Kue: 11 push_notification_code_2
// jobs, logging each one's creation, progress, completion or failure. Unlike
// the original (which hung until ^C), it exits once all 11 jobs ended, so
// that it can be timed. Redis: $REDIS_URL (default redis://127.0.0.1:6379).
'use strict';
const kue = require('kue');

const jobs = [
  { phoneNumber: '4153518780', message: 'This is the code 1234 to verify your account' },
  { phoneNumber: '4153518781', message: 'This is the code 4562 to verify your account' },
  { phoneNumber: '4153518743', message: 'This is the code 4321 to verify your account' },
  { phoneNumber: '4153538781', message: 'This is the code 4562 to verify your account' },
  { phoneNumber: '4153118782', message: 'This is the code 4321 to verify your account' },
  { phoneNumber: '4153718781', message: 'This is the code 4562 to verify your account' },
  { phoneNumber: '4159518782', message: 'This is the code 4321 to verify your account' },
  { phoneNumber: '4158718781', message: 'This is the code 4562 to verify your account' },
  { phoneNumber: '4153818782', message: 'This is the code 4321 to verify your account' },
  { phoneNumber: '4154318781', message: 'This is the code 4562 to verify your account' },
  { phoneNumber: '4151218782', message: 'This is the code 4321 to verify your account' },
];

const queue = kue.createQueue({ redis: process.env.REDIS_URL || 'redis://127.0.0.1:6379' });
let ended = 0;

function end() {
  ended += 1;
  if (ended === jobs.length) {
    queue.shutdown(1000, () => process.exit(0));
  }
}

jobs.forEach((data) => {
  const job = queue.create('push_notification_code_2', data);
  job.save((error) => {
    if (!error) console.log(`Notification job created: ${job.id}`);
  });
  job.on('complete', () => {
    console.log(`Notification job ${job.id} completed`);
    end();
  });
  job.on('failed', (error) => {
    console.log(`Notification job ${job.id} failed: ${error}`);
    end();
  });
  job.on('progress', (progress) => {
    console.log(`Notification job ${job.id} ${progress}% complete`);
  });
});
