import { EventBus } from '@nestjs/cqrs';
import { sql } from '../support/sql';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { DomainEvent, newId, TransactionRunner } from '@wharf/core';
import { startTestApp, TestApp } from '../support/app';
import { setupOwner } from '../support/api';
import { runJob } from '../support/jobs';


describe('outbox and worker jobs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('publishes staged events only after commit, and never for a rolled-back transaction', async () => {
    const tx = t.app.get(TransactionRunner);
    const events: string[] = [];
    const sub = t.app.get(EventBus).subscribe((e) => events.push((e as DomainEvent).envelope.type));
    await expect(
      tx.run(async (_m, stage) => {
        await stage({ type: 'test.rolled-back', organizationId: null, actor: { type: 'system', id: null, name: 'system' }, subject: { type: 'test', id: null }, payload: {} });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await tx.run(async (_m, stage) => {
      await stage({ type: 'test.committed', organizationId: null, actor: { type: 'system', id: null, name: 'system' }, subject: { type: 'test', id: null }, payload: {} });
      expect(events).not.toContain('test.committed');
    });
    await tx.drain();
    expect(events).toContain('test.committed');
    expect(events).not.toContain('test.rolled-back');
    expect(await sql(t.databaseUrl, `SELECT 1 FROM outbox_events WHERE type = 'test.rolled-back'`)).toHaveLength(0);
    sub.unsubscribe();
  });

  it('publishes an event left unpublished by a process that died after commit', async () => {
    const id = newId();
    const envelope = { id, type: 'test.orphaned', version: 1, occurredAt: new Date().toISOString(), organizationId: null, actor: { type: 'system', id: null, name: 'system' }, subject: { type: 'test', id: null }, payload: {} };
    await sql(t.databaseUrl, `INSERT INTO outbox_events (id, type, envelope) VALUES ($1, $2, $3)`, [id, envelope.type, JSON.stringify(envelope)]);
    await t.app.get(TransactionRunner).drain();
    const [row] = await sql<{ published_at: Date | null }>(t.databaseUrl, `SELECT published_at FROM outbox_events WHERE id = $1`, [id]);
    expect(row.published_at).not.toBeNull();
  });

  it('runs maintenance jobs on the real queue: expired refresh tokens are purged', async () => {
    const owner = await setupOwner(t);
    await sql(t.databaseUrl, `UPDATE refresh_tokens SET expires_at = now() - interval '2 days' WHERE user_id = $1`, [owner.userId]);
    const queue = t.app.get<Queue>(getQueueToken('maintenance'), { strict: false });
    const result = await runJob<{ refreshTokens: number }>(queue, 'identity.expire-stale', { v: 1 });
    expect(result.refreshTokens).toBeGreaterThanOrEqual(1);
    expect(await sql(t.databaseUrl, `SELECT 1 FROM refresh_tokens WHERE user_id = $1`, [owner.userId])).toHaveLength(0);
  });

  it('schedules the repeating maintenance jobs', async () => {
    const queue = t.app.get<Queue>(getQueueToken('maintenance'), { strict: false });
    const repeats = await queue.getRepeatableJobs();
    expect(repeats.map((r) => r.name).sort()).toEqual(expect.arrayContaining(['identity.expire-stale', 'outbox.purge-published']));
  });
});
