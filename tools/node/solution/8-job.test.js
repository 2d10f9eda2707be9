import kue from 'kue';
import { expect } from 'chai';
import sinon from 'sinon';

import createPushNotificationsJobs from './8-job';

const queue = kue.createQueue();

const jobs = [
  { phoneNumber: '4153518780', message: 'This is the code 1234 to verify your account' },
  { phoneNumber: '4153518781', message: 'This is the code 4562 to verify your account' },
];

describe('createPushNotificationsJobs', () => {
  before(() => {
    queue.testMode.enter();
  });

  afterEach(() => {
    queue.testMode.clear();
  });

  after(() => {
    queue.testMode.exit();
  });

  it('display a error message if jobs is not an array', () => {
    expect(() => createPushNotificationsJobs('jobs', queue)).to.throw('Jobs is not an array');
    expect(() => createPushNotificationsJobs({ jobs }, queue)).to.throw('Jobs is not an array');
    expect(queue.testMode.jobs.length).to.equal(0);
  });

  it('create two new jobs to the queue', () => {
    const log = sinon.spy(console, 'log');
    createPushNotificationsJobs(jobs, queue);
    log.restore();
    expect(queue.testMode.jobs.length).to.equal(2);
    queue.testMode.jobs.forEach((job, index) => {
      expect(job.type).to.equal('push_notification_code_3');
      expect(job.data).to.deep.equal(jobs[index]);
    });
    expect(log.callCount).to.equal(2);
    expect(log.args[0][0]).to.match(/^Notification job created: \d+$/);
    expect(log.args[1][0]).to.match(/^Notification job created: \d+$/);
  });
});
