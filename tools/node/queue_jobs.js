// For tools/benchmark.py: queue N push_notification_code_2 Kue jobs (the
// data of task 8's jobs in turn, or only blacklisted / only allowed numbers
// with the mode "failing" / "passing"), print "queued N" and exit once all
// are saved. Usage: node queue_jobs.js N [mixed|passing|failing].
'use strict';
const kue = require('kue');

const count = Number(process.argv[2] || 300);
const mode = process.argv[3] || 'mixed';
const phones = {
  mixed: ['4153518780', '4153518781', '4153518743', '4153538781', '4153118782',
    '4153718781', '4159518782', '4158718781', '4153818782', '4154318781',
    '4151218782'],
  passing: ['4153518743', '4153538781'],
  failing: ['4153518780', '4153518781'],
}[mode];
const codes = ['1234', '4562', '4321'];
// No job events: this process does not listen to its jobs.
const queue = kue.createQueue({
  redis: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  jobEvents: false,
});
let saved = 0;

for (let index = 0; index < count; index += 1) {
  const data = {
    phoneNumber: phones[index % phones.length],
    message: `This is the code ${codes[index % codes.length]} to verify your account`,
  };
  queue.create('push_notification_code_2', data).save((error) => {
    if (error) {
      console.error(`queue_jobs: ${error}`);
      process.exit(1);
    }
    saved += 1;
    if (saved === count) {
      console.log(`queued ${count}`);
      queue.shutdown(1000, () => process.exit(0));
    }
  });
}
