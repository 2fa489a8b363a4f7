import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';
import request from 'supertest';
import { until } from '../../support/until';
import type { QueryRunner } from 'typeorm';
import { volumeEngineName } from '@wharf/applications';
import type { TestApp } from '../../support/app';
import { addMember, Session } from '../../support/api';
import { freePort, httpGetUntil, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { TenantEngineResources1764100009000 } from '../../../migrations/1764100009000-TenantEngineResources';
import { httpdSpec, productionEnvironment, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';

jest.setTimeout(240_000);

/** Writes $BODY.txt into the volume at /data, then serves the list of files it sees there. */
const LIST_VOLUME = ['/bin/sh', '-c', 'mkdir -p /www && echo "$BODY" > "/data/$BODY.txt" && ls /data > /www/index.html && exec httpd -f -p 8080 -h /www'];

/**
 * Tenant isolation of engine resources (issue 8, section 1), against the real dockerd: named volumes are Wharf-owned
 * (derived engine name per environment, labelled), removal touches only this application's labelled volumes, and
 * published host ports are reserved per server.
 */
describe('tenant isolation of named volumes and published ports', () => {
  let t: TestApp;
  let run: SwarmTestRun;
  let ownerA: Session & { organizationId: string };
  let envA: { projectId: string; environmentId: string };
  let ownerB: Session;
  let orgB: string;
  let envB: { projectId: string; environmentId: string };
  const lock = new SwarmTestRun();
  const suffix = Math.random().toString(36).slice(2, 8);
  const foreign = `wt-foreign-${suffix}`;
  const legacy = `wt-legacy-${suffix}`;

  beforeAll(async () => {
    ({ t, run, owner: ownerA, env: envA } = await startSwarmSuite(lock));
    // Organization B's owner is a member of B only (joins A through an invitation, creates B, leaves A).
    ownerB = await addMember(t, ownerA, ownerA.organizationId, 'beta-owner@example.net', 'viewer');
    orgB = (await request(t.server).post('/api/v1/organizations').set(ownerB.auth).send({ name: 'Beta' }).expect(201)).body.id;
    await request(t.server).delete(`/api/v1/organizations/${ownerA.organizationId}/members/${ownerB.userId}`).set(ownerB.auth).expect(204);
    envB = await productionEnvironment(t, ownerB, orgB, 'Beta shop');
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await stopSwarmSuite(lock, { t, run });
    if (!run) return;
    // Volumes are not part of the run's cleanup: remove this file's own (labelled with its install, and the foreign ones).
    const mine = (await run.docker.listVolumes({ filters: JSON.stringify({ label: [`wharf.install=${run.install}`] }) } as object)).Volumes ?? [];
    const names = [...mine.map((v) => v.Name), foreign, legacy, ...(envB ? [volumeEngineName(run.install, envB.environmentId, 'squat')] : [])];
    for (const n of names) {
      await run.removeVolume(n).catch(() => undefined);
    }
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  async function createApp(s: Session, environmentId: string, name: string, spec: Record<string, unknown>, body?: string): Promise<string> {
    const res = await request(t.server).post(`/api/v1/environments/${environmentId}/applications`).set(s.auth).send({ name, spec }).expect(201);
    if (body) await request(t.server).put(`/api/v1/applications/${res.body.id}/variables`).set(s.auth).send({ variables: [{ key: 'BODY', value: body }] }).expect(200);
    return res.body.id;
  }

  async function deploy(s: Session, appId: string): Promise<Record<string, unknown> & { status: string; error: string | null }> {
    const res = await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(s.auth).send({ kind: 'deploy' }).expect(202);
    return waitForDeployment(t, s, res.body.id);
  }

  async function deleteAndWait(s: Session, appId: string, removeVolumes: boolean): Promise<void> {
    await request(t.server).delete(`/api/v1/applications/${appId}`).query({ removeVolumes: String(removeVolumes) }).set(s.auth).expect(202);
    await until(`application ${appId} to be removed`, async () => (await request(t.server).get(`/api/v1/applications/${appId}`).set(s.auth)).status === 404, 60_000, 250);
  }

  const inspectVolume = (name: string) => run.docker.getVolume(name).inspect().then((v) => v as { Name: string; Labels: Record<string, string> | null; Mountpoint: string }, () => null);
  const volumeMount = (mounts: Array<{ source: string; target: string }>) => mounts.map((m) => ({ type: 'volume', source: m.source, target: m.target, readOnly: false }));

  it('keeps organization B out of the volume organization A calls "data", and removes only volumes the application owns', async () => {
    // A's application writes a.txt into its volume "data".
    const portA = await freePort();
    const appA = await createApp(ownerA, envA.environmentId, 'vol-a', httpdSpec(portA, { command: LIST_VOLUME, mounts: volumeMount([{ source: 'data', target: '/data' }]) }), 'a');
    expect(await deploy(ownerA, appA)).toMatchObject({ status: 'succeeded', error: null });
    expect((await httpGetUntil(portA, (r) => r.status === 200)).body.trim()).toBe('a.txt');

    // The engine volume has a derived name and carries Wharf's labels.
    const engineA = volumeEngineName(run.install, envA.environmentId, 'data');
    const volA = await inspectVolume(engineA);
    expect(volA?.Labels).toMatchObject({
      'wharf.install': run.install, 'wharf.organization': ownerA.organizationId, 'wharf.project': envA.projectId,
      'wharf.environment': envA.environmentId, 'wharf.service': appA, 'wharf.volume': 'data',
    });
    expect(await inspectVolume('data').then((v) => v?.Labels?.['wharf.install'])).not.toBe(run.install);

    // A volume Wharf never created (no labels), which B will name in a mount and then ask to remove.
    await run.docker.createVolume({ Name: foreign });

    // B mounts "data", its own file and the engine names of A's volume and of the foreign one typed as sources: each
    // is a name inside B's environment, so B gets fresh volumes of its own and sees nothing of A's.
    const portB = await freePort();
    const appB = await createApp(ownerB, envB.environmentId, 'vol-b', httpdSpec(portB, {
      command: LIST_VOLUME,
      mounts: volumeMount([{ source: 'data', target: '/data' }, { source: engineA, target: '/a' }, { source: foreign, target: '/foreign' }]),
    }), 'b');
    expect(await deploy(ownerB, appB)).toMatchObject({ status: 'succeeded', error: null });
    expect((await httpGetUntil(portB, (r) => r.status === 200)).body.trim()).toBe('b.txt');
    const engineB = volumeEngineName(run.install, envB.environmentId, 'data');
    expect(engineB).not.toBe(engineA);
    expect((await inspectVolume(engineB))?.Labels).toMatchObject({ 'wharf.install': run.install, 'wharf.organization': orgB, 'wharf.environment': envB.environmentId, 'wharf.service': appB });
    // A's volume holds A's file only: B's write went to B's volume.
    expect(readdirSync(volA!.Mountpoint)).toEqual(['a.txt']);

    // B deletes its application with removeVolumes=true: its own volumes go; A's and the foreign one stay.
    await deleteAndWait(ownerB, appB, true);
    expect(await inspectVolume(engineB)).toBeNull();
    expect(await inspectVolume(volumeEngineName(run.install, envB.environmentId, engineA))).toBeNull();
    expect(await inspectVolume(engineA)).not.toBeNull();
    expect(await inspectVolume(foreign)).not.toBeNull();
    expect(readdirSync(volA!.Mountpoint)).toEqual(['a.txt']);
    const auditB = await request(t.server).get(`/api/v1/organizations/${orgB}/audit-events`).query({ action: 'application.deleted', subjectId: appB }).set(ownerB.auth).expect(200);
    expect([...auditB.body.items[0].changes.volumesRemoved].sort()).toEqual([engineA, foreign, 'data'].sort());

    // A's removal removes A's volume.
    await deleteAndWait(ownerA, appA, true);
    expect(await inspectVolume(engineA)).toBeNull();
    expect(existsSync(volA!.Mountpoint)).toBe(false);
    expect(await inspectVolume(foreign)).not.toBeNull();
  });

  it('refuses to mount an engine volume under the derived name that Wharf did not create for this environment', async () => {
    // Someone with engine access squats on the name B's "squat" volume would get: the deployment fails, unmounted.
    const squatted = volumeEngineName(run.install, envB.environmentId, 'squat');
    await run.docker.createVolume({ Name: squatted, Labels: { planted: 'yes' } });
    const app = await createApp(ownerB, envB.environmentId, 'squat', httpdSpec(null, { mounts: volumeMount([{ source: 'squat', target: '/data' }]) }), 'x');
    const d = await deploy(ownerB, app);
    expect(d.status).toBe('failed');
    expect(d.error).toContain('does not belong to this environment');
    const services = await run.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${app}`] }) } as object);
    expect(services).toHaveLength(0);
    await deleteAndWait(ownerB, app, true);
    // Not Wharf's: kept although removeVolumes was asked for.
    expect((await inspectVolume(squatted))?.Labels).toEqual({ planted: 'yes' });
  });

  it('keeps an existing application on its unlabelled volume through the migration, and never removes that volume', async () => {
    // Before the upgrade: an application mounts "wt-legacy-…" verbatim, and the volume holds data.
    const vol = (await run.docker.createVolume({ Name: legacy })) as unknown as { inspect(): Promise<{ Mountpoint: string }> };
    writeFileSync(`${(await vol.inspect()).Mountpoint}/old.txt`, 'kept');
    const port = await freePort();
    const app = await createApp(ownerA, envA.environmentId, 'legacy', httpdSpec(port, { command: LIST_VOLUME, mounts: volumeMount([{ source: legacy, target: '/data' }]) }), 'new');
    // The migration (idempotent) records the volumes existing applications mount.
    const c = new Client({ connectionString: t.databaseUrl });
    await c.connect();
    try {
      await new TenantEngineResources1764100009000().up({ query: (sql: string, params?: unknown[]) => c.query(sql, params).then((r) => r.rows) } as unknown as QueryRunner);
      expect((await c.query('SELECT legacy_volumes FROM applications WHERE id = $1', [app])).rows[0].legacy_volumes).toEqual([legacy]);
    } finally {
      await c.end();
    }
    expect(await deploy(ownerA, app)).toMatchObject({ status: 'succeeded', error: null });
    expect((await httpGetUntil(port, (r) => r.status === 200)).body.split('\n').filter(Boolean)).toEqual(['new.txt', 'old.txt']);
    expect(await inspectVolume(volumeEngineName(run.install, envA.environmentId, legacy))).toBeNull();
    await deleteAndWait(ownerA, app, true);
    expect(readdirSync((await inspectVolume(legacy))!.Mountpoint).sort()).toEqual(['new.txt', 'old.txt']);
    const audit = await request(t.server).get(`/api/v1/organizations/${ownerA.organizationId}/audit-events`).query({ action: 'application.deleted', subjectId: app }).set(ownerA.auth).expect(200);
    expect(audit.body.items[0].changes).toMatchObject({ volumesRemoved: [], volumesKept: [legacy] });
  });

  it('reserves published host ports per server: 409 naming the field, nothing about the holder, freed on delete', async () => {
    const port = await freePort();
    const first = await createApp(ownerA, envA.environmentId, 'port-holder-acme', httpdSpec(port));

    const taken = await request(t.server).post(`/api/v1/environments/${envB.environmentId}/applications`).set(ownerB.auth).send({ name: 'port-b', spec: httpdSpec(port) }).expect(409);
    expect(taken.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(taken.body).toMatchObject({ status: 409, code: 'port-conflict', errors: [{ pointer: '/spec/ports/0/published', code: 'port-taken' }] });
    const text = JSON.stringify(taken.body);
    for (const secret of [first, 'port-holder-acme', ownerA.organizationId, 'Acme', envA.environmentId, envA.projectId]) expect(text).not.toContain(secret);
    // The same organization cannot take it twice either (one server, one holder), and the refused create left nothing.
    await request(t.server).post(`/api/v1/environments/${envA.environmentId}/applications`).set(ownerA.auth).send({ name: 'port-a2', spec: httpdSpec(port) }).expect(409);
    expect((await request(t.server).get(`/api/v1/environments/${envB.environmentId}/applications`).set(ownerB.auth).expect(200)).body.items.map((a: { name: string }) => a.name)).not.toContain('port-b');

    // Reserved ports (SSH, HTTP, HTTPS) are refused, on create and on update.
    for (const reserved of [22, 80, 443]) {
      const r = await request(t.server).post(`/api/v1/environments/${envB.environmentId}/applications`).set(ownerB.auth).send({ name: `res-${reserved}`, spec: httpdSpec(reserved) }).expect(409);
      expect(r.body.errors).toEqual([expect.objectContaining({ pointer: '/spec/ports/0/published', code: 'port-reserved' })]);
    }
    const b = await createApp(ownerB, envB.environmentId, 'port-b', httpdSpec(null));
    const upd = await request(t.server).patch(`/api/v1/applications/${b}`).set(ownerB.auth).send({ spec: { ports: [{ target: 8080, protocol: 'tcp', mode: 'host' }, { target: 8081, published: port, protocol: 'tcp', mode: 'host' }] } }).expect(409);
    expect(upd.body.errors).toEqual([expect.objectContaining({ pointer: '/spec/ports/1/published', code: 'port-taken' })]);
    // The same port over UDP is another reservation.
    await request(t.server).patch(`/api/v1/applications/${b}`).set(ownerB.auth).send({ spec: { ports: [{ target: 8080, published: port, protocol: 'udp', mode: 'host' }] } }).expect(200);

    // Deleting the holder frees the port (once the worker has removed it).
    await deleteAndWait(ownerA, first, false);
    const now = await request(t.server).patch(`/api/v1/applications/${b}`).set(ownerB.auth).send({ spec: { ports: [{ target: 8080, published: port, protocol: 'tcp', mode: 'host' }] } }).expect(200);
    expect(now.body.spec.ports).toEqual([{ target: 8080, published: port, protocol: 'tcp', mode: 'host' }]);
    // And B's change released its UDP reservation: A can take that one now.
    await createApp(ownerA, envA.environmentId, 'port-a-udp', httpdSpec(null, { ports: [{ target: 8080, published: port, protocol: 'udp', mode: 'host' }] }));

    // Two organizations racing for one free port: exactly one gets it, the other a 409 (never a 500).
    const raced = await freePort();
    const answers = await Promise.all([
      request(t.server).post(`/api/v1/environments/${envA.environmentId}/applications`).set(ownerA.auth).send({ name: 'race-a', spec: httpdSpec(raced) }),
      request(t.server).post(`/api/v1/environments/${envB.environmentId}/applications`).set(ownerB.auth).send({ name: 'race-b', spec: httpdSpec(raced) }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
  });
});
