/**
 * The audit matrix: every mutating operation of the OpenAPI document (POST, PUT, PATCH, DELETE), called successfully
 * by someone allowed to, writes exactly one audit entry — found by the request id the test sends — and, for routes on
 * an organization's resources, in that organization's chain. Denied attempts are audited too (`outcome = denied`,
 * asserted by viewer.test.ts); this file is about successful changes. A route added anywhere is covered as soon as it
 * exists: one the matrix cannot make succeed fails the test unless NOT_CALLED lists it with the reason, and
 * the few routes that write no entry by design are listed in NO_ENTRY with theirs.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { authenticator } from 'otplib';
import type { Client } from 'pg';
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { selfSignedPem } from '../../support/acme';
import { login, PASSWORD, Session } from '../../support/api';
import {
  bodyFor, buildFixture, Call, call, fillPath, Fixture, MUTATING, NO_WORKER, openDb, Operation, outsideReason, unique, unresolvable,
} from '../../support/route-matrix';

/** A one-file tar.gz (the body of an upload). */
async function tinyTarGz(): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => p.on('end', r));
  p.entry({ name: 'Dockerfile' }, 'FROM scratch\n');
  p.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}

/** Mutating routes the matrix cannot call successfully in this app, each with its reason (and where it is covered). */
const NOT_CALLED: Record<string, string> = {
  'POST /api/v1/auth/setup':
    'one-shot: it succeeded once while building the fixture and answers 409 forever after (escalation.test.ts); it creates an organization and its owner, one entry each',
  'POST /api/v1/registries/{registryId}/test':
    'answered by the worker over Redis; this app runs no worker (so queued deployments stay queued); the call and its registry.tested entry run in test/e2e/deployments/registry-and-logs.docker.test.ts',
  'POST /api/v1/git-providers/{providerId}/test':
    'answered by the worker over Redis (a call to the provider API); this app runs no worker; the call and its git-provider.tested entry run in test/e2e/sources/git-providers.test.ts',
  'POST /api/v1/applications/{applicationId}/source/scan-host-keys':
    'answered by the worker over Redis (ssh-keyscan) and stores nothing, so it writes no entry; this app runs no worker; the call runs in test/e2e/sources/git-deploy.docker.test.ts',
  'POST /api/v1/instance/tls/renew':
    "needs an https WHARF_PUBLIC_URL on a domain name (a 409 otherwise), which would make this app's cookies Secure; the call and its one instance-chain entry (instance-certificate.renew-requested) run in test/e2e/domains/instance-tls.test.ts",
};

/** Mutating routes that legitimately write no entry: the matrix calls them and holds them to zero, so the list stays true. */
const NO_ENTRY: Record<string, string> = {
  'POST /api/v1/auth/refresh':
    'rotating a refresh token is session bookkeeping, not a change (every page load would write one); the sign-in is audited (auth.login), a reused token as denied',
  'POST /api/v1/me/two-factor/setup':
    'begins an enrolment: a pending secret that does nothing until enable (refused while 2FA is on); the change itself is audited by enable (user.two-factor-enabled)',
};

/** Deletes run last (their victims are used by the other calls), deepest first, the organization itself at the very end. */
const DELETE_RANK: Array<[RegExp, number]> = [
  [/\/variables\/\{key\}$/, 0], [/^\/api\/v1\/me\//, 0], [/\/organizations\/\{orgId\}\/.+/, 1],
  [/^\/api\/v1\/applications\/\{applicationId\}$/, 2], [/^\/api\/v1\/registries\//, 3], [/^\/api\/v1\/environments\/\{id\}$/, 4],
  [/^\/api\/v1\/projects\/\{id\}$/, 5], [/^\/api\/v1\/organizations\/\{orgId\}$/, 9],
];
/** Deployment-creating routes in an order where each one is allowed (restart needs a running application). */
const DEPLOY_ORDER = ['cancel', 'deployments', 'scale', 'restart', 'stop', 'start', 'rollback'];

function rank(op: Operation): number {
  if (op.method === 'delete') return 100 + (DELETE_RANK.find(([re]) => re.test(op.path))?.[1] ?? 1);
  const deploy = DEPLOY_ORDER.findIndex((s) => op.path.startsWith('/api/v1/') && /(applications|deployments)\/\{[^}]+\}\/[a-z]+$/.test(op.path) && op.path.endsWith(`/${s}`));
  if (deploy >= 0) return 50 + deploy;
  const twoFactor = ['setup', 'enable', 'disable'].findIndex((s) => op.path === `/api/v1/me/two-factor/${s}`);
  if (twoFactor >= 0) return 81 + twoFactor;
  if (/^\/api\/v1\/(me|auth)\//.test(op.path)) return 80;
  return 0;
}

interface Prepared {
  url?: string;
  body?: unknown;
  /** Request headers besides the auth (a raw body's Content-Type). */
  headers?: Record<string, string>;
  auth?: Record<string, string>;
  /** The organization whose chain the entry belongs to (null: the instance chain; undefined: not checked). */
  org?: string | null;
  /**
   * Child resources created or removed with the route's own subject, one entry each besides the route's own (a
   * project comes with its environments): the action and how many there must be.
   */
  cascade?: { action: string; count: (res: Call) => Promise<number> };
}

describe('every successful mutating route writes exactly one audit entry', () => {
  let t: TestApp;
  let fx: Fixture;
  let db: Client;
  /** The account the /me and /auth routes act as (so the owner's session survives password changes and logouts). */
  let me: Session;
  let totpSecret = '';

  const api = () => request(t.server);

  beforeAll(async () => {
    t = await startTestApp({ ...NO_WORKER, WHARF_LOGIN_LIMIT_PER_IP: '100000', WHARF_LOGIN_LIMIT_PER_ACCOUNT: '100000', WHARF_WILDCARD_DOMAIN: 'apps.example.test' });
    fx = await buildFixture(t, { deployment: true });
    db = await openDb(t);
    me = await login(t, fx.admin.email);
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  /** Queued deployments of the seeded application are cancelled first, so a new one supersedes nothing (one entry, not two). */
  async function noQueuedDeployment(): Promise<void> {
    const rows = await db.query(`SELECT id FROM deployments WHERE application_id = $1 AND status = 'queued'`, [fx.seeds.applications.id]);
    for (const r of rows.rows) await api().post(`/api/v1/deployments/${r.id}/cancel`).set(fx.owner.auth).expect(202);
  }

  /** A succeeded deployment to stop, start, restart, scale or roll back from: the seeded one's row, finished. */
  async function succeededDeployment(): Promise<string> {
    const existing = await db.query(`SELECT id FROM deployments WHERE application_id = $1 AND status = 'succeeded' LIMIT 1`, [fx.seeds.applications.id]);
    if (existing.rowCount) return existing.rows[0].id;
    const id = randomUUID();
    await db.query(
      `INSERT INTO deployments (id, organization_id, project_id, environment_id, application_id, kind, status, snapshot, image_digest, requested_by, queued_at, started_at, finished_at, attempts, version)
       SELECT $2, organization_id, project_id, environment_id, application_id, 'deploy', 'succeeded', snapshot, NULL, requested_by, queued_at, now(), now(), 1, 3 FROM deployments WHERE id = $1`,
      [fx.seeds.deployments.id, id],
    );
    return id;
  }

  const environmentsOf = async (projectId: string): Promise<number> => (await db.query(`SELECT count(*)::int AS n FROM environments WHERE project_id = $1`, [projectId])).rows[0].n;

  /** Per-route set-up: a victim of its own, a body the route accepts, the account that may call it. */
  async function prepare(op: Operation): Promise<Prepared> {
    const p = op.path;
    const orgA = { org: fx.orgA };
    switch (`${op.method.toUpperCase()} ${p}`) {
      case 'PATCH /api/v1/organizations/{orgId}':
      case 'PATCH /api/v1/projects/{id}':
      case 'PATCH /api/v1/environments/{id}':
      case 'PATCH /api/v1/organizations/{orgId}/roles/{roleId}':
      case 'PATCH /api/v1/organizations/{orgId}/oidc-providers/{providerId}':
      case 'PATCH /api/v1/registries/{registryId}':
      case 'PATCH /api/v1/applications/{applicationId}':
        return { ...orgA, body: { name: `renamed-${unique()}` } };
      // Approving the seeded fork preview deploys it: its own entry plus the preview application's deployment.queued.
      case 'POST /api/v1/applications/{applicationId}/previews/{number}/approve':
        return { ...orgA, body: {}, cascade: { action: 'deployment.queued', count: async () => 1 } };
      case 'PUT /api/v1/organizations/{orgId}/container-policy':
        return { ...orgA, body: { allowedBindPaths: ['/srv/wharf-data'] } };
      case 'POST /api/v1/organizations':
        return { org: undefined };
      // Only a GitLab connection through an OAuth application is authorized (the seeded one is Gitea).
      case 'POST /api/v1/git-providers/{providerId}/oauth/authorize': {
        const c = await api().post(`/api/v1/organizations/${fx.orgA}/git-providers`).set(fx.owner.auth)
          .send({ name: `oauth-${unique()}`, kind: 'gitlab', auth: 'oauth', clientId: `client-${unique()}`, clientSecret: `secret-${unique()}` }).expect(201);
        return { ...orgA, url: `/api/v1/git-providers/${c.body.id}/oauth/authorize` };
      }
      // Certificates need a domain with HTTPS (renew), a certificate for its host (upload) or one already there (remove).
      case 'POST /api/v1/domains/{domainId}/certificate/renew':
      case 'PUT /api/v1/domains/{domainId}/certificate':
      case 'DELETE /api/v1/domains/{domainId}/certificate': {
        const host = `cert-${unique()}.example.com`;
        const d = await api().post(`/api/v1/applications/${fx.seeds.applications.id}/domains`).set(fx.owner.auth).send({ host, port: 8080, https: true }).expect(201);
        const url = `/api/v1/domains/${d.body.id}/certificate${op.method === 'post' ? '/renew' : ''}`;
        if (op.method === 'post') return { ...orgA, url };
        const pem = selfSignedPem(host);
        if (op.method === 'put') return { ...orgA, url, body: pem };
        await api().put(url).set(fx.owner.auth).send(pem).expect(200);
        return { ...orgA, url };
      }
      // The source's key, secret and removal need a source first.
      case 'POST /api/v1/applications/{applicationId}/source/deploy-key':
      case 'POST /api/v1/applications/{applicationId}/source/webhook-secret/reveal':
      case 'POST /api/v1/applications/{applicationId}/source/webhook-secret/rotate':
      case 'DELETE /api/v1/applications/{applicationId}/source': {
        await api().put(`/api/v1/applications/${fx.seeds.applications.id}/source`).set(fx.owner.auth).send({ repository: 'https://git.example.com/acme/shop.git', ref: 'main', auth: { kind: 'none' } }).expect(200);
        return orgA;
      }
      // An upload source needs an application without a Git source (the seeded one has one: a 409) and a real archive.
      case 'POST /api/v1/applications/{applicationId}/source/upload': {
        const seeded = fx.seeds.applications;
        const a = await api().post(`/api/v1/environments/${String(seeded.response.environmentId)}/applications`).set(fx.owner.auth)
          .send({ ...seeded.request, name: `upload-${unique()}` }).expect(201);
        return { ...orgA, url: `/api/v1/applications/${a.body.id}/source/upload`, body: await tinyTarGz(), headers: { 'Content-Type': 'application/gzip' } };
      }
      case 'DELETE /api/v1/organizations/{orgId}': {
        // Its entry goes to the instance chain: the organization's own chain ends with it.
        const o = await api().post('/api/v1/organizations').set(fx.owner.auth).send({ name: `victim-${unique()}` }).expect(201);
        return { url: `/api/v1/organizations/${o.body.id}`, org: null };
      }
      case 'POST /api/v1/organizations/{orgId}/projects':
        return { ...orgA, cascade: { action: 'environment.created', count: async (res) => environmentsOf(String(res.body.id)) } };
      case 'DELETE /api/v1/projects/{id}': {
        const pr = await api().post(`/api/v1/organizations/${fx.orgA}/projects`).set(fx.owner.auth).send({ name: `victim-${unique()}` }).expect(201);
        await api().post(`/api/v1/projects/${pr.body.id}/environments`).set(fx.owner.auth).send({ name: `extra-${unique()}` }).expect(201);
        const n = await environmentsOf(pr.body.id);
        return { ...orgA, url: `/api/v1/projects/${pr.body.id}`, body: { confirm: pr.body.slug }, cascade: { action: 'environment.deleted', count: async () => n } };
      }
      case 'DELETE /api/v1/environments/{id}': {
        const env = await api().post(`/api/v1/projects/${fx.seeds.projects.id}/environments`).set(fx.owner.auth).send({ name: `victim-${unique()}` }).expect(201);
        return { ...orgA, url: `/api/v1/environments/${env.body.id}` };
      }
      case 'POST /api/v1/invitations/accept': {
        const inv = await api().post(`/api/v1/organizations/${fx.orgA}/invitations`).set(fx.owner.auth).send({ email: `joiner-${unique()}@example.com`, role: 'viewer' }).expect(201);
        return { ...orgA, auth: {}, body: { token: inv.body.token, name: 'Joiner', password: PASSWORD } };
      }
      case 'POST /api/v1/deployments/{deploymentId}/cancel':
        return orgA; // the seeded deployment, still queued (no worker)
      case 'POST /api/v1/applications/{applicationId}/deployments':
        await noQueuedDeployment();
        return { ...orgA, body: {} };
      case 'POST /api/v1/applications/{applicationId}/scale':
      case 'POST /api/v1/applications/{applicationId}/restart':
      case 'POST /api/v1/applications/{applicationId}/stop':
      case 'POST /api/v1/applications/{applicationId}/start':
        await noQueuedDeployment();
        await succeededDeployment();
        return { ...orgA, body: p.endsWith('/scale') ? { replicas: 2 } : undefined };
      case 'POST /api/v1/deployments/{deploymentId}/rollback': {
        await noQueuedDeployment();
        return { ...orgA, url: `/api/v1/deployments/${await succeededDeployment()}/rollback` };
      }
      // The caller's own account (admin of A): personal keys, sessions, 2FA, password, sign-in and sign-out.
      case 'POST /api/v1/me/api-keys':
        return { auth: me.auth, body: { name: `mine-${unique()}`, scopes: ['read'] } };
      case 'DELETE /api/v1/me/api-keys/{keyId}': {
        const k = await api().post('/api/v1/me/api-keys').set(me.auth).send({ name: `gone-${unique()}`, scopes: ['read'] }).expect(201);
        return { auth: me.auth, url: `/api/v1/me/api-keys/${k.body.id}` };
      }
      case 'DELETE /api/v1/me/sessions/{sessionId}': {
        const other = await login(t, me.email);
        const sessions = await api().get('/api/v1/me/sessions').set(other.auth).expect(200);
        const id = (sessions.body as Array<{ id: string; current: boolean }>).find((s) => s.current)!.id;
        return { auth: me.auth, url: `/api/v1/me/sessions/${id}` };
      }
      case 'POST /api/v1/me/password':
        return { auth: me.auth, body: { currentPassword: PASSWORD, newPassword: PASSWORD } };
      case 'POST /api/v1/me/two-factor/setup':
        return { auth: me.auth };
      case 'POST /api/v1/me/two-factor/enable':
        return { auth: me.auth, body: { code: authenticator.generate(totpSecret) } };
      case 'POST /api/v1/me/two-factor/disable':
        return { auth: me.auth, body: { password: PASSWORD } };
      case 'POST /api/v1/auth/login':
        return { auth: {}, body: { email: fx.developer.email, password: PASSWORD } };
      case 'POST /api/v1/auth/refresh': {
        const s = await login(t, fx.developer.email);
        return { auth: {}, body: { refreshToken: s.refreshToken } };
      }
      case 'POST /api/v1/auth/logout': {
        const s = await login(t, fx.developer.email);
        return { auth: s.auth };
      }
      default:
        return outsideReason(op) ? {} : orgA;
    }
  }

  it('covers every mutating route of the document: each is called, exempt with a reason, or reported', () => {
    const ops = fx.ops.filter((o) => MUTATING.includes(o.method));
    expect(ops.length).toBeGreaterThanOrEqual(50);
    // Every listed route still exists (a stale entry would hide nothing and rot).
    expect([...Object.keys(NOT_CALLED), ...Object.keys(NO_ENTRY)].filter((label) => !ops.some((o) => o.label === label))).toEqual([]);
    // The organization-scoped ones must all be reachable on A (the /me and /auth ones are set up above).
    expect(unresolvable(fx, ops.filter((o) => !outsideReason(o)))).toEqual([]);
  });

  it('a successful call writes exactly one audit entry, in the organization it changed', async () => {
    const ops = fx.ops.filter((o) => MUTATING.includes(o.method) && !NOT_CALLED[o.label]).sort((a, b) => rank(a) - rank(b));
    const failures: string[] = [];
    const report: string[] = [];
    for (const op of ops) {
      const prep = await prepare(op);
      const url = prep.url ?? fillPath(fx, op).url;
      const body = 'body' in prep ? prep.body : (bodyFor(fx, op) ?? undefined);
      const requestId = `audit-${unique()}`;
      const res: Call = await call(t, op.method, url, prep.auth ?? fx.owner.auth, body, { 'X-Request-Id': requestId, ...prep.headers });
      if (op.label === 'POST /api/v1/me/two-factor/setup' && res.status < 300) totpSecret = res.body.secret;
      if (res.status >= 300) {
        failures.push(`${op.label} → ${res.status}: could not be called successfully (fix the set-up or add a reasoned exemption); url ${url}; body ${JSON.stringify(body)}; answer ${res.text.slice(0, 300)}`);
        continue;
      }
      const rows = (await db.query(`SELECT organization_id, action, outcome FROM audit_events WHERE request_id = $1 ORDER BY seq`, [requestId])).rows as Array<{ organization_id: string | null; action: string; outcome: string }>;
      report.push(`${op.label} → ${res.status}: ${rows.map((r) => `${r.action}/${r.outcome}`).join(', ') || 'none'}`);
      if (NO_ENTRY[op.label]) {
        if (rows.length) failures.push(`${op.label} is listed as writing no entry but wrote ${JSON.stringify(rows)}: update NO_ENTRY`);
        continue;
      }
      const cascaded = prep.cascade ? rows.filter((r) => r.action === prep.cascade!.action) : [];
      const own = rows.filter((r) => !cascaded.includes(r));
      if (own.length !== 1) failures.push(`${op.label} → ${res.status} wrote ${own.length} audit entries: ${JSON.stringify(rows)}`);
      else if (prep.org !== undefined && own[0].organization_id !== prep.org) failures.push(`${op.label}: the entry is in organization ${own[0].organization_id}, expected ${prep.org}`);
      else if (own[0].outcome !== 'succeeded') failures.push(`${op.label}: the entry's outcome is ${own[0].outcome}`);
      if (prep.cascade) {
        const expected = await prep.cascade.count(res);
        if (cascaded.length !== expected || expected < 1) failures.push(`${op.label}: ${cascaded.length} ${prep.cascade.action} entries for ${expected} child resources`);
      }
    }
    console.log(`audit matrix: ${ops.length} mutating operations called, ${Object.keys(NOT_CALLED).length} not callable here\n${report.join('\n')}`);
    expect(failures).toEqual([]);
  });
});
