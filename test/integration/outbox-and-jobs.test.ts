import { sql } from '../support/sql';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import type { EventEnvelope } from '@wharf/contracts';
import { DomainEventListeners, newId, TransactionRunner } from '@wharf/core';
import { startTestApp, TestApp } from '../support/app';
import { setupOwner } from '../support/api';
import { runJob } from '../support/jobs';

const SYSTEM = { type: 'system', id: null, name: 'system' } as const;

describe('outbox and worker jobs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => jest.restoreAllMocks());

  /** Records what the relay hands to the listeners (the real dispatch still runs). */
  function recordDispatch(): string[] {
    const registry = t.app.get(DomainEventListeners);
    const original = registry.dispatch.bind(registry);
    const seen: string[] = [];
    jest.spyOn(registry, 'dispatch').mockImplementation(async (e: EventEnvelope) => {
      seen.push(`${e.type}:${e.subject.id}`);
      return original(e);
    });
    return seen;
  }

  it('dispatches staged events to listeners only after commit, and never for a rolled-back transaction', async () => {
    const seen = recordDispatch();
    const tx = t.app.get(TransactionRunner);
    const [rolledBack, committed] = [newId(), newId()];
    await expect(
      tx.run(async (_m, stage) => {
        await stage({ type: 'role.updated', organizationId: null, actor: SYSTEM, subject: { type: 'test', id: rolledBack }, payload: {} });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await tx.run(async (_m, stage) => {
      await stage({ type: 'role.updated', organizationId: null, actor: SYSTEM, subject: { type: 'test', id: committed }, payload: {} });
      expect(seen).not.toContain(`role.updated:${committed}`);
    });
    await tx.drain();
    expect(seen).toContain(`role.updated:${committed}`);
    expect(seen).not.toContain(`role.updated:${rolledBack}`);
    expect(await sql(t.databaseUrl, `SELECT 1 FROM outbox_events WHERE envelope->'subject'->>'id' = $1`, [rolledBack])).toHaveLength(0);
  });

  it('dispatches an event left undispatched by a process that died after commit', async () => {
    const seen = recordDispatch();
    const id = newId();
    const envelope = { id, type: 'role.updated', version: 1, occurredAt: new Date().toISOString(), organizationId: null, actor: SYSTEM, subject: { type: 'test', id }, payload: {} };
    await sql(t.databaseUrl, `INSERT INTO outbox_events (id, type, envelope) VALUES ($1, $2, $3)`, [id, envelope.type, JSON.stringify(envelope)]);
    await t.app.get(TransactionRunner).drain();
    const [row] = await sql<{ published_at: Date | null }>(t.databaseUrl, `SELECT published_at FROM outbox_events WHERE id = $1`, [id]);
    expect(row.published_at).not.toBeNull();
    expect(seen).toContain(`role.updated:${id}`);
  });

  it('keeps an event whose listener failed and dispatches it again later (at least once)', async () => {
    const registry = t.app.get(DomainEventListeners);
    const id = newId();
    const original = registry.dispatch.bind(registry);
    let failures = 0;
    jest.spyOn(registry, 'dispatch').mockImplementation(async (e: EventEnvelope) => {
      if (e.subject.id === id && failures === 0) {
        failures++;
        throw new Error('listener X: redis is down');
      }
      return original(e);
    });
    const tx = t.app.get(TransactionRunner);
    await tx.run(async (_m, stage) => {
      await stage({ type: 'role.updated', organizationId: null, actor: SYSTEM, subject: { type: 'test', id }, payload: {} });
    });
    await tx.drain();
    const [failed] = await sql<{ published_at: Date | null; attempts: number; last_error: string; next_attempt_at: Date }>(t.databaseUrl, `SELECT published_at, attempts, last_error, next_attempt_at FROM outbox_events WHERE envelope->'subject'->>'id' = $1`, [id]);
    expect(failed).toMatchObject({ published_at: null, attempts: 1 });
    expect(failed.last_error).toContain('redis is down');
    expect(failed.next_attempt_at.getTime()).toBeGreaterThan(Date.now() - 5000);
    // Due now (as if the delay had passed): the next drain dispatches it and marks it published.
    await sql(t.databaseUrl, `UPDATE outbox_events SET next_attempt_at = now() - interval '1 second' WHERE envelope->'subject'->>'id' = $1`, [id]);
    await tx.drain();
    const [done] = await sql<{ published_at: Date | null; attempts: number; last_error: string | null }>(t.databaseUrl, `SELECT published_at, attempts, last_error FROM outbox_events WHERE envelope->'subject'->>'id' = $1`, [id]);
    expect(done.published_at).not.toBeNull();
    expect(done).toMatchObject({ attempts: 2, last_error: null });
  });

  it('wires the listeners at startup: deletions tear down engine objects, queue changes schedule the next deployment', () => {
    const wired = t.app.get(DomainEventListeners).listeners();
    for (const type of ['environment.deleted', 'project.deleted', 'organization.deleted', 'deployment.queued', 'deployment.succeeded', 'deployment.failed', 'deployment.cancelled', 'application.delete-requested']) {
      expect(wired.get(type)?.length ?? 0).toBeGreaterThanOrEqual(1);
    }
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
