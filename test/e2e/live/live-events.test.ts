import http from 'node:http';
import request from 'supertest';
import type { LiveEvent } from '@wharf/contracts';
import { LiveEventHub } from '@wharf/core';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { until } from '../../support/until';
import { createProject, CreatedProject } from '../projects/helpers';

jest.setTimeout(60_000);

interface Stream {
  status: number;
  events: LiveEvent[];
  /** Names of every SSE event seen (ready, domain, end …). */
  names: string[];
  ended: Promise<void>;
  close: () => void;
  endReason: () => string | null;
}

/** A raw SSE client over node:http (no EventSource in Node): parses `event:`/`data:` blocks as they come. */
function openStream(t: TestApp, s: Session, orgId: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const url = new URL(`/api/v1/organizations/${orgId}/events`, t.baseUrl);
    const req = http.get(url, { headers: { ...s.auth, Accept: 'text/event-stream' } }, (res) => {
      const out: Stream = { status: res.statusCode ?? 0, events: [], names: [], ended: Promise.resolve(), close: () => req.destroy(), endReason: () => null };
      let reason: string | null = null;
      out.endReason = () => reason;
      let buf = '';
      out.ended = new Promise((done) => {
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let name = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) name = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (!data.length) continue;
          out.names.push(name);
          const parsed = JSON.parse(data.join('\n'));
          if (name === 'domain') out.events.push(parsed);
          if (name === 'end') reason = parsed.reason;
        }
      });
      if (out.status !== 200) {
        res.resume();
        return resolve(out);
      }
      // Resolved once subscribed: what is published after this reaches the stream.
      void until('the stream to be ready', async () => out.names.includes('ready'), 10_000, 20).then(() => resolve(out), reject);
    });
    req.on('error', reject);
  });
}

describe('live events: one organization-scoped SSE stream, filtered by abilities', () => {
  let t: TestApp | null;
  let owner: Session & { organizationId: string };
  let orgA: string;
  let orgB: string;
  let alpha: CreatedProject;
  let beta: CreatedProject;
  let limited: Session;
  let outsider: Session;
  const open: Stream[] = [];

  const app = (): TestApp => t!;
  const hub = (): LiveEventHub => app().app.get(LiveEventHub);
  const stream = async (s: Session, orgId: string): Promise<Stream> => {
    const x = await openStream(app(), s, orgId);
    open.push(x);
    return x;
  };

  beforeAll(async () => {
    t = await startTestApp();
    owner = await setupOwner(t);
    orgA = owner.organizationId;
    orgB = await createOrganization(t, owner, 'Beta Org');
    alpha = await createProject(t, owner, orgA, 'Alpha');
    beta = await createProject(t, owner, orgA, 'Beta');
    limited = await addMember(t, owner, orgA, 'limited@example.com', 'developer', { projectIds: [alpha.id] });
    outsider = await addMember(t, owner, orgB, 'outsider@example.com', 'viewer');
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t?.close();
  });

  it('answers 404 for an organization the caller is not a member of, and 401 without credentials', async () => {
    const s = await stream(outsider, orgA);
    expect(s.status).toBe(404);
    await request(app().server).get(`/api/v1/organizations/${orgA}/events`).expect(401);
  });

  it('sends an action in org A to A\'s streams only, and to a project-limited member only for their project', async () => {
    const ownerA = await stream(owner, orgA);
    const ownerB = await stream(owner, orgB);
    const outsiderB = await stream(outsider, orgB);
    const lim = await stream(limited, orgA);
    expect([ownerA.status, ownerB.status, outsiderB.status, lim.status]).toEqual([200, 200, 200, 200]);

    // In Beta (not granted to the limited member): an environment and an application, then an application update
    // whose payload names nothing but the application (placed in its project by the stream).
    const env = await request(app().server).post(`/api/v1/projects/${beta.id}/environments`).set(owner.auth).send({ name: 'Preview' }).expect(201);
    const betaApp = await request(app().server).post(`/api/v1/environments/${beta.environments[0].id}/applications`).set(owner.auth).send({ name: 'web', spec: { image: 'busybox:latest' } }).expect(201);
    await request(app().server).patch(`/api/v1/applications/${betaApp.body.id}`).set(owner.auth).send({ name: 'web-2' }).expect(200);
    // In Alpha (granted): an application the limited member may see.
    const alphaApp = await request(app().server).post(`/api/v1/environments/${alpha.environments[0].id}/applications`).set(owner.auth).send({ name: 'api', spec: { image: 'busybox:latest' } }).expect(201);
    await request(app().server).patch(`/api/v1/applications/${alphaApp.body.id}`).set(owner.auth).send({ name: 'api-2' }).expect(200);

    const seen = (s: Stream, type: string, id: string) => s.events.some((e) => e.type === type && e.subject.id === id);
    await until('the owner to see every event of A', async () => seen(ownerA, 'application.updated', alphaApp.body.id) && seen(ownerA, 'application.updated', betaApp.body.id));
    await until('the limited member to see Alpha\'s update', async () => seen(lim, 'application.updated', alphaApp.body.id));

    const update = ownerA.events.find((e) => e.type === 'application.updated' && e.subject.id === betaApp.body.id)!;
    expect(update).toMatchObject({ organizationId: orgA, subject: { type: 'application', name: 'web-2' }, payload: { applicationId: betaApp.body.id, projectId: beta.id, environmentId: beta.environments[0].id } });
    expect(Object.keys(update).sort()).toEqual(['actor', 'id', 'occurredAt', 'organizationId', 'payload', 'subject', 'type']);
    expect(update.actor).toEqual({ type: 'user', name: owner.email });
    expect(seen(ownerA, 'environment.created', env.body.id)).toBe(true);

    // The limited member got Alpha's events, none of Beta's.
    const limitedIds = lim.events.map((e) => e.subject.id);
    expect(limitedIds).toEqual(expect.arrayContaining([alphaApp.body.id]));
    for (const id of [env.body.id, betaApp.body.id, beta.id]) expect(limitedIds).not.toContain(id);
    expect(lim.events.every((e) => e.payload.projectId === undefined || e.payload.projectId === alpha.id)).toBe(true);

    // Org B's streams got nothing of A (an event of B shows they are alive).
    await request(app().server).post(`/api/v1/organizations/${orgB}/projects`).set(owner.auth).send({ name: 'Gamma' }).expect(201);
    await until('B\'s streams to see B\'s project', async () => ownerB.events.some((e) => e.type === 'project.created') && outsiderB.events.some((e) => e.type === 'project.created'));
    for (const s of [ownerB, outsiderB]) expect(s.events.every((e) => e.organizationId === orgB)).toBe(true);
    expect(ownerA.events.every((e) => e.organizationId === orgA)).toBe(true);
    // At least once: an event id appears at most once per stream here (one dispatch), clients dedupe anyway.
    expect(new Set(ownerA.events.map((e) => e.id)).size).toBe(ownerA.events.length);
  });

  it('ends a stream when its client goes away, without leaving a listener behind', async () => {
    await until('earlier streams to be closed', async () => {
      for (const s of open.splice(0)) s.close();
      return hub().listenerCount === 0;
    });
    const s = await stream(owner, orgA);
    expect(hub().listenerCount).toBe(1);
    s.close();
    await s.ended;
    await until('the server to drop the listener', async () => hub().listenerCount === 0, 10_000, 20);
  });

  it('re-reads the abilities when the member\'s grant changes: the stream follows the new project', async () => {
    const member = await addMember(app(), owner, orgA, 'moving@example.com', 'developer', { projectIds: [alpha.id] });
    const s = await stream(member, orgA);
    await request(app().server).patch(`/api/v1/organizations/${orgA}/members/${member.userId}`).set(owner.auth).send({ role: 'developer', projectIds: [beta.id] }).expect(200);
    const inAlpha = await request(app().server).post(`/api/v1/projects/${alpha.id}/environments`).set(owner.auth).send({ name: 'Alpha after' }).expect(201);
    const inBeta = await request(app().server).post(`/api/v1/projects/${beta.id}/environments`).set(owner.auth).send({ name: 'Beta after' }).expect(201);
    await until('the moved member to see Beta\'s new environment', async () => s.events.some((e) => e.subject.id === inBeta.body.id));
    expect(s.events.map((e) => e.subject.id)).not.toContain(inAlpha.body.id);
    s.close();
  });

  it('ends the stream of a member who is removed from the organization', async () => {
    const member = await addMember(app(), owner, orgA, 'leaving@example.com', 'viewer');
    const s = await stream(member, orgA);
    await request(app().server).delete(`/api/v1/organizations/${orgA}/members/${member.userId}`).set(owner.auth).expect(204);
    await s.ended;
    expect(s.endReason()).toBe('not-a-member');
  });

  it('ends open streams at shutdown, so the app closes', async () => {
    const s = await stream(owner, orgA);
    const closing = app().close();
    await s.ended;
    expect(s.endReason()).toBe('shutdown');
    await closing;
    t = null;
  });
});
