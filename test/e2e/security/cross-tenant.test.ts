/**
 * Cross-tenant isolation over the whole route matrix: organization B's owner calls every operation that names a
 * resource of organization A in its path, and must get 404 (exactly as for an unknown id) with nothing changed and
 * nothing recorded for A. Routes are read from the running app's OpenAPI document, so new routes are covered as soon
 * as they exist.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { startTestApp, TestApp } from '../../support/app';
import {
  auditCount, bodyFor, buildFixture, call, diffSnapshots, fillPath, Fixture, instanceScoped, minimalObject, NO_WORKER, openDb, Operation, orgRowCounts,
  outboxCount, outsideReason, problemViolation, resolve, snapshot, summarizeFixture,
} from '../../support/route-matrix';

describe('cross-tenant isolation (every route naming an organization A resource, called by organization B)', () => {
  let t: TestApp;
  let fx: Fixture;
  let db: Client;
  /** Strings that identify organization A's data and must never reach B. */
  let secretsOfA: string[];

  beforeAll(async () => {
    // No worker: the seeded deployment stays queued, so nothing changes behind the snapshots.
    t = await startTestApp(NO_WORKER);
    fx = await buildFixture(t, { deployment: true });
    db = await openDb(t);
    secretsOfA = [fx.orgA, ...Object.values(fx.seeds).map((s) => s.id), fx.owner.userId, fx.admin.userId, fx.developer.userId, fx.viewer.userId, 'owner@example.com', 'developer@example.com'];
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  it('answers 404 to organization B for every operation on A, changes nothing and audits nothing for A', async () => {
    const targets: Operation[] = fx.ops.filter((o) => o.path.startsWith('/api/v1/') && o.pathParams.length > 0 && !outsideReason(o));
    const failures: string[] = [];
    const unresolved: string[] = [];
    const auditBefore = await auditCount(db, fx.orgA);
    const outboxBefore = await outboxCount(db, fx.orgA);
    const counts = await orgRowCounts(db, fx.orgA);
    let covered = 0;
    for (const op of targets) {
      const { url, unknown, fromA } = fillPath(fx, op);
      // A route the fixture cannot point at A is a route this matrix does not check: that fails the test.
      if (!fromA.length) {
        unresolved.push(`${op.label} (no param resolved to A: ${unknown.join(', ')})`);
        continue;
      }
      if (unknown.length) unresolved.push(`${op.label}: ${unknown.join(', ')} filled with a random UUID`);
      const body = bodyFor(fx, op);
      const before = await snapshot(db);
      const outbox0 = await outboxCount(db, fx.orgA);
      const res = await call(t, op.method, url, fx.bOwner.auth, body);
      covered++;
      const after = await snapshot(db);
      let ok = op.method === 'get' || op.method === 'delete' ? res.status === 404 : res.status === 404 || res.status === 400;
      const where = `${op.label} as B → ${res.status}`;
      if (instanceScoped(op) && (res.status === 403 || res.status === 404)) {
        // Instance admins only: the same answer as for an id that does not exist, so no existence oracle.
        const other = await call(t, op.method, fillPath(fx, op, Object.fromEntries(op.pathParams.map((x) => [x, randomUUID()]))).url, fx.bOwner.auth, body);
        ok = other.status === res.status && other.body?.code === res.body?.code;
        if (!ok) failures.push(`${where}: instance-scoped route answers differently for A's id than for a random id (${other.status} ${other.body?.code})`);
      } else if (!ok) failures.push(`${where}: expected 404${op.method === 'get' || op.method === 'delete' ? '' : ' (or 400)'}; url ${url}; body ${JSON.stringify(body)}; answer ${res.text.slice(0, 300)}`);
      const pv = problemViolation(res);
      if (pv) failures.push(`${where}: ${pv}`);
      const diff = diffSnapshots(before, after);
      if (diff.length) failures.push(`${where}: database changed:\n    ${diff.slice(0, 10).join('\n    ')}`);
      if ((await outboxCount(db, fx.orgA)) !== outbox0) failures.push(`${where}: an event was recorded for organization A`);
      const leaked = secretsOfA.filter((s) => s !== fx.orgA || res.status < 400).filter((s) => res.text.includes(s) && !url.includes(s));
      if (leaked.length) failures.push(`${where}: answer mentions A's ${leaked.join(', ')}`);
    }
    // Audit entries may be written after commit by an event handler: give the relay a moment, then compare.
    await new Promise((r) => setTimeout(r, 300));
    const auditAfter = await auditCount(db, fx.orgA);
    if (auditBefore !== null && auditAfter !== auditBefore) failures.push(`audit_events for A: ${auditBefore} → ${auditAfter} (a 404 must not write an audit entry for A)`);
    if ((await outboxCount(db, fx.orgA)) !== outboxBefore) failures.push('outbox_events for A grew');

    console.log(
      `cross-tenant: ${covered} operations covered (of ${fx.ops.length} in the OpenAPI document); rows of A per table ${JSON.stringify(counts)}; audit log ${auditBefore === null ? 'absent' : 'checked'}\n` +
        `${summarizeFixture(fx)}\n${unresolved.map((u) => `unresolved: ${u}`).join('\n')}`,
    );
    expect(covered).toBeGreaterThanOrEqual(10);
    expect(targets.filter((o) => o.path.startsWith('/api/v1/deployments/')).length).toBeGreaterThanOrEqual(4);
    expect(unresolved).toEqual([]);
    expect(failures).toEqual([]);
  });

  it('never lists organization A data to B on routes without path ids (lists, searches)', async () => {
    const lists = fx.ops.filter((o) => o.method === 'get' && o.path.startsWith('/api/v1/') && o.pathParams.length === 0 && !/^\/api\/v1\/auth\//.test(o.path));
    const failures: string[] = [];
    for (const op of lists) {
      const { url } = fillPath(fx, op);
      const res = await call(t, 'get', url, fx.bOwner.auth);
      const leaked = secretsOfA.filter((s) => res.text.includes(s));
      if (res.status >= 500) failures.push(`${op.label} as B → ${res.status}`);
      if (leaked.length) failures.push(`${op.label} as B mentions A's ${leaked.join(', ')}`);
    }
    console.log(`cross-tenant lists: ${lists.length} operations checked`);
    expect(failures).toEqual([]);
  });

  it('resolves ids inside request bodies through the tenant scope (A ids sent by B → 404 or 400, nothing created)', async () => {
    // Operations B may legitimately call (own organization or own account) whose body names a resource by id.
    const failures: string[] = [];
    let covered = 0;
    for (const op of fx.ops.filter((o) => o.body && o.method !== 'get' && !/^\/api\/v1\/(auth|invitations)\//.test(o.path))) {
      const props = Object.entries(resolve(fx.doc, op.body!).properties ?? {}).filter(([name]) => /(^organizationId$|^projectId$|^environmentId$|RoleId$|^customRoleId$|^roleId$|^providerId$)/.test(name));
      if (!props.length) continue;
      const { url, fromA } = fillPath(fx, op, { orgId: fx.orgB, organizationId: fx.orgB });
      if (fromA.length) continue; // path already points into A: covered above
      for (const [name] of props) {
        const aId = name === 'organizationId' ? fx.orgA : (fx.seeds[name === 'customRoleId' || /RoleId$|^roleId$/.test(name) ? 'roles' : name === 'providerId' ? 'oidc-providers' : `${name.replace(/Id$/, '')}s`]?.id);
        if (!aId) continue;
        const body = { ...minimalObject(fx.doc, op.body!, () => undefined), ...(bodyFor(fx, op) ?? {}), [name]: aId, ...(name === 'customRoleId' ? { role: 'custom' } : {}) };
        const before = await snapshot(db);
        const res = await call(t, op.method, url, fx.bOwner.auth, body);
        covered++;
        const diff = diffSnapshots(before, await snapshot(db));
        if (res.status !== 404 && res.status !== 400) failures.push(`${op.label} with ${name}=A's id as B → ${res.status}: ${res.text.slice(0, 200)}`);
        if (diff.length) failures.push(`${op.label} with ${name}=A's id: database changed: ${diff.slice(0, 5).join(' | ')}`);
      }
    }
    console.log(`cross-tenant body ids: ${covered} (operation, id property) pairs checked`);
    expect(failures).toEqual([]);
  });
});
