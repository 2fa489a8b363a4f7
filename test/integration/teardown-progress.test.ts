import { DataSource } from 'typeorm';
import { recordTeardownQueued, TeardownProgress } from '@wharf/applications';
import { newId } from '@wharf/core';
import type { SwarmPort } from '@wharf/orchestration';
import { EngineTeardownProcessor } from '../../apps/worker/src/teardown/engine-teardown.processor';
import { startTestApp, TestApp } from '../support/app';
import { setupOwner } from '../support/api';
import { sql } from '../support/sql';

interface Row {
  status: string;
  error: string | null;
  attempts: number;
  removed_services: string[];
  removed_networks: string[];
}

/**
 * The worker's side of a teardown's row on PostgreSQL, with an engine that fails on cue: a failure Bull will retry
 * leaves the row queued with the error cut to 1000 characters; the last one makes it failed (teardown.failed); a run
 * that then succeeds makes it succeeded (teardown.completed) with what every attempt removed; the delayed second pass
 * adds what it removed without a second event.
 */
describe('teardown progress (worker side)', () => {
  let t: TestApp;
  let orgId: string;
  let install: string;
  beforeAll(async () => {
    t = await startTestApp();
    orgId = (await setupOwner(t)).organizationId;
    [{ install_id: install }] = await sql<{ install_id: string }>(t.databaseUrl, `SELECT install_id FROM instance WHERE id = 1`);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('records retries, the final failure, a later success and the second pass', async () => {
    const envId = newId();
    const labels = () => ({ 'wharf.install': install, 'wharf.environment': envId });
    let services = [{ id: 's1', name: 'svc-a' }];
    let networkError: string | null = `engine said: ${'x'.repeat(5000)}`;
    const removed: string[] = [];
    const swarm = {
      listServices: async () => services.map((s) => ({ ...s, labels: labels() })),
      removeService: async (id: string) => {
        removed.push(id);
        services = services.filter((s) => s.id !== id);
      },
      listNetworks: async () => {
        if (networkError) throw new Error(networkError);
        return [{ id: 'n1', name: 'net-staging', labels: labels() }];
      },
      removeNetwork: async () => 'removed' as const,
      listVolumes: async () => [],
    } as unknown as SwarmPort;
    const processor = new EngineTeardownProcessor(t.app.get(DataSource), swarm, t.app.get(TeardownProgress));
    const payload = { v: 1, scope: 'environment', id: envId, removeVolumes: false } as const;
    const job = (attemptsMade: number) => ({ attemptsMade, opts: { attempts: 3 } });
    const row = async () => (await sql<Row>(t.databaseUrl, `SELECT status, error, attempts, removed_services, removed_networks FROM teardowns WHERE subject_id = $1`, [envId]))[0];
    const events = async () => (await sql<{ action: string; outcome: string }>(t.databaseUrl, `SELECT action, outcome FROM audit_events WHERE subject_id = $1 ORDER BY seq`, [envId]));

    await recordTeardownQueued(t.app.get(DataSource), { organizationId: orgId, projectId: newId(), scope: 'environment', subjectId: envId, subjectName: 'Staging', removeVolumes: false });
    // Recorded once, however often the deletion event is dispatched.
    await recordTeardownQueued(t.app.get(DataSource), { organizationId: orgId, projectId: newId(), scope: 'environment', subjectId: envId, subjectName: 'Other', removeVolumes: false });
    expect(await row()).toMatchObject({ status: 'queued', attempts: 0, error: null, removed_services: [] });

    await expect(processor.teardown(payload, job(0))).rejects.toThrow('engine said');
    const retrying = await row();
    expect(retrying).toMatchObject({ status: 'queued', attempts: 1, removed_services: ['svc-a'] });
    expect(retrying.error).toHaveLength(1000);
    expect(retrying.error!.startsWith('engine said: xxx')).toBe(true);
    expect(await events()).toEqual([]);

    await expect(processor.teardown(payload, job(2))).rejects.toThrow('engine said');
    expect(await row()).toMatchObject({ status: 'failed', attempts: 2, removed_services: ['svc-a'] });
    expect(await events()).toEqual([{ action: 'teardown.failed', outcome: 'failed' }]);

    networkError = null;
    services = [{ id: 's2', name: 'svc-b' }];
    await processor.teardown(payload, job(0));
    expect(await row()).toEqual({ status: 'succeeded', error: null, attempts: 3, removed_services: ['svc-a', 'svc-b'], removed_networks: ['net-staging'] });
    expect((await events()).map((e) => e.action)).toEqual(['teardown.failed', 'teardown.completed']);

    // The delayed second pass finds a late service: added to the row, no second event, status unchanged.
    services = [{ id: 's3', name: 'svc-late' }];
    await processor.teardown(payload, job(0));
    expect(await row()).toEqual({ status: 'succeeded', error: null, attempts: 3, removed_services: ['svc-a', 'svc-b', 'svc-late'], removed_networks: ['net-staging'] });
    expect((await events()).map((e) => e.action)).toEqual(['teardown.failed', 'teardown.completed']);
    expect(removed).toEqual(['s1', 's2', 's3']);
  });
});
