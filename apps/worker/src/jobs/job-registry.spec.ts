import { JOB_QUEUES } from '@wharf/contracts';
import { JobRegistry, JobWiringError } from './job-registry';

const all = () => Object.keys(JOB_QUEUES).map((name) => ({ name, owner: `H.${name}` }));

describe('JobRegistry.check', () => {
  it('accepts exactly one processor per job name', () => {
    expect(JobRegistry.check(all()).size).toBe(Object.keys(JOB_QUEUES).length);
  });
  it('refuses a job without a processor', () => {
    expect(() => JobRegistry.check(all().slice(1))).toThrow(JobWiringError);
  });
  it('refuses two processors for one job', () => {
    const found = all();
    expect(() => JobRegistry.check([...found, { name: found[0].name, owner: 'Other.handler' }])).toThrow(/2 processors/);
  });
  it('refuses a processor for an unknown job', () => {
    expect(() => JobRegistry.check([...all(), { name: 'nope.job', owner: 'X.y' }])).toThrow(/unknown job "nope.job"/);
  });
});
