/** Queue and job names. Every job name has exactly one processor (checked at startup). Payloads carry ids only. */
export const QUEUES = { maintenance: 'maintenance' } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export interface JobPayloads {
  'outbox.purge-published': { v: 1 };
  'identity.expire-stale': { v: 1 };
}
export type JobName = keyof JobPayloads;

export const JOB_QUEUES: Record<JobName, QueueName> = {
  'outbox.purge-published': QUEUES.maintenance,
  'identity.expire-stale': QUEUES.maintenance,
};
