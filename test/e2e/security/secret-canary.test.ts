/**
 * Secret canaries: distinctive values written through every secret-bearing route (passwords at setup, invitation
 * acceptance, sign-in and password change; API keys; secret variables; OIDC client secrets; any other write-only
 * secret field the OpenAPI document shows) must never come back in an HTTP answer (body or headers), a log line
 * (LOG_LEVEL=info), an audit or outbox row, or in clear in any database table. Secrets the server mints (API keys,
 * invitation and session tokens, TOTP secrets) may appear only in the answer that creates them.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { SETUP_TOKEN } from '../../support/api';
import {
  bodyFor, Call, call, collectionNoun, NOT_COLLECTIONS, fillPath, firstItem, Fixture, idLookup, loadOpenApi, Method, minimalObject, openDb,
  Operation, operationsOf, outsideReason, resolve, signature, tableNames,
} from '../../support/route-matrix';

/**
 * Captures everything the process writes to stdout/stderr. pino writes to fd 1 through sonic-boom (fs.write/writeSync)
 * unless process.stdout.write is replaced, in which case it writes through process.stdout: both paths are intercepted,
 * and the app's JSON log lines are swallowed (not echoed).
 */
function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const toText = (b: unknown): string => (typeof b === 'string' ? b : Buffer.isBuffer(b) || b instanceof Uint8Array ? Buffer.from(b).toString('utf8') : String(b));
  const origWrite = fs.write;
  const origWriteSync = fs.writeSync;
  const origOut = process.stdout.write;
  const origErr = process.stderr.write;
  (fs as { write: unknown }).write = function (fd: number, buf: unknown, ...rest: unknown[]) {
    if (fd === 1 || fd === 2) {
      chunks.push(toText(buf));
      const cb = rest.find((x) => typeof x === 'function') as ((e: null, n: number) => void) | undefined;
      const n = typeof buf === 'string' ? Buffer.byteLength(buf) : (buf as Buffer).length;
      if (cb) process.nextTick(cb, null, n);
      return;
    }
    return (origWrite as (...a: unknown[]) => unknown).call(fs, fd, buf, ...rest);
  };
  (fs as { writeSync: unknown }).writeSync = function (fd: number, buf: unknown, ...rest: unknown[]) {
    if (fd === 1 || fd === 2) {
      chunks.push(toText(buf));
      return typeof buf === 'string' ? Buffer.byteLength(buf) : (buf as Buffer).length;
    }
    return (origWriteSync as (...a: unknown[]) => unknown).call(fs, fd, buf, ...rest);
  };
  // pino writes through process.stdout itself once it sees process.stdout.write replaced. Its JSON lines are recorded
  // and swallowed; other output (Jest's console) is recorded and still shown.
  const tap = (orig: typeof process.stdout.write, stream: NodeJS.WriteStream) =>
    ((b: unknown, ...rest: unknown[]) => {
      const text = toText(b);
      chunks.push(text);
      if (text.startsWith('{"level":')) {
        (rest.find((x) => typeof x === 'function') as (() => void) | undefined)?.();
        return true;
      }
      return (orig as (...a: unknown[]) => boolean).call(stream, b, ...rest);
    }) as typeof process.stdout.write;
  process.stdout.write = tap(origOut, process.stdout);
  process.stderr.write = tap(origErr, process.stderr);
  return {
    text: () => chunks.join(''),
    restore: () => {
      (fs as { write: unknown }).write = origWrite;
      (fs as { writeSync: unknown }).writeSync = origWriteSync;
      process.stdout.write = origOut;
      process.stderr.write = origErr;
    },
  };
}

const canary = (what: string): string => `CANARY${what}${randomBytes(6).toString('hex')}`;

/** Property names that carry a secret the caller writes. */
const SECRET_PROP = /(secret|password|passphrase|privateKey|private_key|token|credential|apiKey)$/i;

interface Recorded {
  label: string;
  status: number;
  text: string;
  headers: string;
}

describe('secret canaries never leak', () => {
  let t: TestApp;
  let db: Client;
  let out: ReturnType<typeof captureOutput>;
  const recorded: Recorded[] = [];
  /** Secrets the caller wrote (never to be returned, except by an explicit reveal). */
  const written = new Map<string, string>();
  /** Secrets the server minted: allowed only in the answers listed with them. */
  const minted = new Map<string, { what: string; allowedIn: Set<string> }>();
  const notes: string[] = [];

  async function rec(label: string, res: request.Response | Call): Promise<void> {
    recorded.push({ label, status: res.status, text: (res as Call).text ?? '', headers: JSON.stringify(res.headers) });
  }
  function mint(what: string, value: unknown, label: string): void {
    if (typeof value !== 'string' || value.length < 8) return;
    // A token minted twice (e.g. an access token re-issued within the same second) is allowed in both answers.
    const known = minted.get(value);
    if (known) known.allowedIn.add(label);
    else minted.set(value, { what, allowedIn: new Set([label]) });
  }

  beforeAll(async () => {
    out = captureOutput();
    t = await startTestApp({ LOG_LEVEL: 'info', WHARF_LOGIN_LIMIT_PER_IP: '100000' });
  }, 60_000);
  afterAll(async () => {
    out?.restore();
    await db?.end();
    await t?.close();
  });

  it('writes a canary through every secret-bearing route', async () => {
    const doc = await loadOpenApi(t);
    const ops = operationsOf(doc);
    const api = () => request(t.server);

    // Setup: the owner's password.
    const ownerPw = canary('setuppw');
    written.set(ownerPw, 'password at setup');
    const setup = await api().post('/api/v1/auth/setup').send({ setupToken: SETUP_TOKEN, email: 'owner@example.com', name: 'Owner', password: ownerPw, organizationName: 'Acme' });
    expect(setup.status).toBe(201);
    await rec('POST /api/v1/auth/setup', setup);
    for (const k of ['accessToken', 'refreshToken']) mint(`setup ${k}`, setup.body[k], 'POST /api/v1/auth/setup');
    const org = setup.body.organizationId as string;
    let ownerAuth = { Authorization: `Bearer ${setup.body.accessToken}` };

    // Sign-in with the password.
    const login = await api().post('/api/v1/auth/login').send({ email: 'owner@example.com', password: ownerPw }).expect(200);
    await rec('POST /api/v1/auth/login', login);
    for (const k of ['accessToken', 'refreshToken']) mint(`login ${k}`, login.body[k], 'POST /api/v1/auth/login');
    const refreshed = await api().post('/api/v1/auth/refresh').send({ refreshToken: login.body.refreshToken }).expect(200);
    await rec('POST /api/v1/auth/refresh', refreshed);
    for (const k of ['accessToken', 'refreshToken']) mint(`refresh ${k}`, refreshed.body[k], 'POST /api/v1/auth/refresh');
    // A wrong password must not be logged either.
    const wrongPw = canary('wrongpw');
    written.set(wrongPw, 'wrong password at sign-in');
    await rec('POST /api/v1/auth/login (wrong)', await api().post('/api/v1/auth/login').send({ email: 'owner@example.com', password: wrongPw }));

    // Invitation token (minted) and the new member's password at acceptance.
    const inv = await api().post(`/api/v1/organizations/${org}/invitations`).set(ownerAuth).send({ email: 'dev@example.com', role: 'developer' }).expect(201);
    await rec(`POST /api/v1/organizations/{orgId}/invitations`, inv);
    mint('invitation token', inv.body.token, 'POST /api/v1/organizations/{orgId}/invitations');
    const devPw = canary('acceptpw');
    written.set(devPw, 'password at invitation acceptance');
    const acc = await api().post('/api/v1/invitations/accept').send({ token: inv.body.token, name: 'Dev', password: devPw }).expect(200);
    await rec('POST /api/v1/invitations/accept', acc);
    for (const k of ['accessToken', 'refreshToken']) mint(`accept ${k}`, acc.body.tokens?.[k], 'POST /api/v1/invitations/accept');

    // Password change: old and new.
    const newPw = canary('newpw');
    written.set(newPw, 'new password');
    const devAuth = { Authorization: `Bearer ${acc.body.tokens.accessToken}` };
    await rec('POST /api/v1/me/password', await api().post('/api/v1/me/password').set(devAuth).send({ currentPassword: devPw, newPassword: newPw }).expect(204));

    // TOTP enrolment secret (minted, shown once).
    const totp = await api().post('/api/v1/me/two-factor/setup').set(ownerAuth);
    await rec('POST /api/v1/me/two-factor/setup', totp);
    if (totp.status < 300) for (const [k, v] of Object.entries(totp.body)) if (typeof v === 'string' && /secret/i.test(k)) mint('TOTP secret', v, 'POST /api/v1/me/two-factor/setup');

    // API keys (minted), then used in both headers.
    const pk = await api().post('/api/v1/me/api-keys').set(ownerAuth).send({ name: 'personal', scopes: ['admin'] }).expect(201);
    await rec('POST /api/v1/me/api-keys', pk);
    mint('personal API key', pk.body.key, 'POST /api/v1/me/api-keys');
    const sk = await api().post(`/api/v1/organizations/${org}/api-keys`).set(ownerAuth).send({ name: 'service', role: 'developer', scopes: ['write'] }).expect(201);
    await rec('POST /api/v1/organizations/{orgId}/api-keys', sk);
    mint('service-account API key', sk.body.key, 'POST /api/v1/organizations/{orgId}/api-keys');
    await rec('GET /api/v1/me (X-API-Key)', await api().get('/api/v1/me').set('X-API-Key', pk.body.key).expect(200));
    await rec('GET /api/v1/me (Bearer key)', await api().get('/api/v1/me').set('Authorization', `Bearer ${sk.body.key}`));

    // Every other write-only secret field in the document (OIDC client secret, registry password, secret variables…).
    const fx = { t, doc, ops, orgA: org, seeds: {} as Fixture['seeds'], owner: { auth: ownerAuth } } as unknown as Fixture;
    const creators = ops.filter((o) => (o.method === 'post' || o.method === 'put') && o.body && !outsideReason(o) && collectionNoun(o.path) && !NOT_COLLECTIONS.test(o.path) && o.path !== '/api/v1/organizations');
    // Seed parents first (projects → environments …) so nested collections resolve.
    for (let round = 0; round < 4; round++) {
      for (const op of creators) {
        const sig = signature(op.path);
        if (fx.seeds[sig]) continue;
        const filled = fillPath(fx, op);
        if (filled.unknown.length) continue;
        const props = Object.entries(resolve(doc, op.body!).properties ?? {});
        const secretProps = props.filter(([n, s]) => SECRET_PROP.test(n) && resolve(doc, s).type === 'string').map(([n]) => n);
        const secretFlag = props.find(([n, s]) => /^(secret|isSecret|sensitive)$/.test(n) && resolve(doc, s).type === 'boolean')?.[0];
        const body: Record<string, unknown> = { ...minimalObject(doc, op.body!, idLookup(fx)), ...(bodyFor(fx, op) ?? {}) };
        for (const n of secretProps) {
          const c = canary(n);
          body[n] = c;
          written.set(c, `${op.label} ${n}`);
        }
        if (secretFlag) {
          body[secretFlag] = true;
          const valueProp = props.find(([n]) => n === 'value')?.[0];
          if (valueProp) {
            const c = canary('secretvalue');
            body[valueProp] = c;
            written.set(c, `${op.label} ${valueProp} (${secretFlag}: true)`);
          }
        }
        // Lists of secret-capable items ({variables: [{key, value, secret}]}).
        for (const [n, raw] of secretFlag ? [] : props) {
          const item = resolve(doc, resolve(doc, raw).items);
          if (resolve(doc, raw).type !== 'array' || !item.properties?.value || resolve(doc, item.properties.secret).type !== 'boolean') continue;
          const c = canary('secretitem');
          body[n] = [{ ...minimalObject(doc, item, idLookup(fx)), value: c, secret: true }];
          written.set(c, `${op.label} ${n}[].value (secret: true)`);
        }
        const res = await call(t, op.method as Method, filled.url, ownerAuth, body);
        await rec(op.label, res);
        const item = firstItem(res.body);
        if (res.status < 300 && item) fx.seeds[sig] = { noun: collectionNoun(op.path)!, id: item.id as string, op: op.label, request: body, response: item };
        else if (res.status >= 300) notes.push(`${op.label} → ${res.status} ${res.text.slice(0, 200)}`);
        if (!fx.seeds[collectionNoun(op.path)!] && fx.seeds[sig]) fx.seeds[collectionNoun(op.path)!] = fx.seeds[sig];
      }
    }
    // Build secrets of a Git source (nested write-only values: { build: { secrets: [{ name, value }] } }).
    if (fx.seeds.applications) {
      const c = canary('buildsecret');
      const res = await call(t, 'put', `/api/v1/applications/${fx.seeds.applications.id}/source`, ownerAuth, {
        repository: 'https://git.example.com/acme/shop.git', ref: 'main', auth: { kind: 'none' }, build: { kind: 'static', secrets: [{ name: 'NPM_TOKEN', value: c }] },
      });
      await rec('PUT /api/v1/applications/{id}/source (build secret)', res);
      if (res.status < 300) written.set(c, 'PUT /api/v1/applications/{id}/source build.secrets[].value');
      else notes.push(`build secret → ${res.status} ${res.text.slice(0, 200)}`);
    }
    // A GitLab connection through an OAuth application: its client secret (write-only), then an authorization started.
    {
      const c = canary('clientsecret');
      const res = await call(t, 'post', `/api/v1/organizations/${org}/git-providers`, ownerAuth, { name: 'gitlab-oauth', kind: 'gitlab', auth: 'oauth', clientId: 'canary-app', clientSecret: c });
      await rec('POST /api/v1/organizations/{orgId}/git-providers (gitlab oauth clientSecret)', res);
      if (res.status < 300) {
        written.set(c, 'POST /api/v1/organizations/{orgId}/git-providers clientSecret (auth oauth)');
        await rec('POST /api/v1/git-providers/{id}/oauth/authorize', await call(t, 'post', `/api/v1/git-providers/${res.body.id}/oauth/authorize`, ownerAuth));
      } else notes.push(`gitlab oauth clientSecret → ${res.status} ${res.text.slice(0, 200)}`);
    }
    console.log(`secret canaries written: ${[...written.values()].join('; ')}\nminted secrets: ${[...minted.values()].map((m) => m.what).join('; ')}${notes.length ? `\nnot written: ${notes.join('; ')}` : ''}`);

    // Read everything back: every GET of the document (with the seeded ids), as the owner.
    for (const op of ops.filter((o: Operation) => o.method === 'get' && !/\/oidc\/(callback|\{providerId\}\/start)$/.test(o.path))) {
      const { url } = fillPath(fx, op);
      await rec(op.label, await call(t, 'get', url, ownerAuth));
    }
    ownerAuth = { Authorization: `Bearer ${refreshed.body.accessToken}` };
    await rec('POST /api/v1/auth/logout', await api().post('/api/v1/auth/logout').set(ownerAuth));
    db = await openDb(t);
    expect(written.size).toBeGreaterThanOrEqual(5);
  });

  it('no canary or minted secret appears in any HTTP answer except the one that mints it', () => {
    const leaks: string[] = [];
    for (const r of recorded) {
      const all = `${r.text}\n${r.headers}`;
      for (const [c, what] of written) {
        // The explicit reveal call is the one permitted way back for a secret value.
        if (all.includes(c) && !/\/reveal$/.test(r.label)) leaks.push(`${r.label} (${r.status}) returns ${what}`);
      }
      for (const [c, m] of minted) if (all.includes(c) && !m.allowedIn.has(r.label)) leaks.push(`${r.label} (${r.status}) returns the ${m.what}`);
    }
    console.log(`HTTP answers checked: ${recorded.length}; one-time answers allowed to carry minted secrets: ${[...new Set([...minted.values()].flatMap((m) => [...m.allowedIn]))].join(', ')}`);
    expect(leaks).toEqual([]);
  });

  it('no canary or minted secret appears in any log line (LOG_LEVEL=info)', async () => {
    // Wait until the last request's log line is out (written when its response finished), not a fixed while.
    const lastRequestId = recorded[recorded.length - 1]?.headers.match(/"x-request-id":"([^"]+)"/)?.[1];
    for (const until = Date.now() + 5000; lastRequestId && !out.text().includes(lastRequestId) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    const logs = out.text();
    // The capture must really see the app's request log, or this test proves nothing.
    const setupRequestId = recorded.find((r) => r.label === 'POST /api/v1/auth/setup')?.headers.match(/"x-request-id":"([^"]+)"/)?.[1];
    expect(setupRequestId).toBeTruthy();
    expect(logs).toContain(setupRequestId);
    const leaks = [...written].filter(([c]) => logs.includes(c)).map(([, w]) => w).concat([...minted].filter(([c]) => logs.includes(c)).map(([, m]) => m.what));
    console.log(`log output checked: ${logs.split('\n').length} lines`);
    expect(leaks).toEqual([]);
  });

  it('no canary or minted secret appears in audit or outbox rows', async () => {
    const tables = await tableNames(db);
    const leaks: string[] = [];
    for (const table of ['audit_events', 'outbox_events'].filter((x) => tables.includes(x))) {
      const text = (await db.query(`SELECT coalesce(string_agg(x::text, E'\\n'), '') AS t FROM "${table}" x`)).rows[0].t as string;
      for (const [c, w] of written) if (text.includes(c)) leaks.push(`${table} holds ${w}`);
      for (const [c, m] of minted) if (text.includes(c)) leaks.push(`${table} holds the ${m.what}`);
    }
    expect(leaks).toEqual([]);
  });

  it('no canary or minted secret is stored in clear in any table (hashed or encrypted at rest)', async () => {
    const leaks: string[] = [];
    for (const table of await tableNames(db)) {
      const text = (await db.query(`SELECT coalesce(string_agg(x::text, E'\\n'), '') AS t FROM "${table}" x`)).rows[0].t as string;
      for (const [c, w] of written) if (text.includes(c)) leaks.push(`${table} holds ${w} in clear`);
      for (const [c, m] of minted) if (text.includes(c)) leaks.push(`${table} holds the ${m.what} in clear`);
    }
    expect(leaks).toEqual([]);
  });
});
