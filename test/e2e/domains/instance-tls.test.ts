/**
 * Wharf's own host behind the edge, against a real ACME CA (pebble) with pebble-challtestsrv as DNS:
 *  - with WHARF_PUBLIC_URL=https://<name>, the worker writes the instance's Traefik file (the host → the API) and
 *    obtains its certificate over HTTP-01 (pebble fetches the challenge from Wharf's API), stores the key encrypted,
 *    hands the files to Traefik and then redirects HTTP to HTTPS; instance administrators see the state, others get 403;
 *  - a failed renewal (DNS pointing elsewhere) keeps serving the valid certificate and says why; a due one is renewed;
 *  - WHARF_TLS_CERT_FILE/KEY_FILE instead of ACME: checked (names, key) and a bad pair reported with its reason;
 *  - an http WHARF_PUBLIC_URL: no instance file at all.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import request from 'supertest';
import { parse } from 'yaml';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, Session, setupOwner } from '../../support/api';
import { Challtestsrv, challtestsrvCall, makeCa, makeLeaf, Pebble, preparePebble, startChalltestsrv } from '../../support/acme';
import { until } from '../../support/until';
import { InstanceTls } from '../../../apps/worker/src/certificates/instance-tls';
import { sql } from '../audit/helpers';

jest.setTimeout(120_000);

const HOST = 'wharf.example.test';

interface TraefikFile {
  http: { routers: Record<string, { entryPoints: string[]; rule: string; middlewares?: string[]; tls?: object }>; middlewares?: Record<string, unknown> };
  tls?: { certificates: Array<{ certFile: string; keyFile: string }> };
}
const instanceFile = (dir: string): TraefikFile | null => {
  const f = existsSync(dir) ? readdirSync(dir).find((n) => n.endsWith('-instance.yml')) : undefined;
  return f ? (parse(readFileSync(join(dir, f), 'utf8')) as TraefikFile) : null;
};
const local = (dir: string, p: string) => join(dir, p.replace('/etc/traefik/dynamic/', ''));

describe("Wharf's own host: ACME over HTTP-01 (pebble + challtestsrv)", () => {
  let t: TestApp;
  let dns: Challtestsrv;
  let pebble: Pebble;
  let owner: Session & { organizationId: string };
  let member: Session;
  let traefikDir: string;

  beforeAll(async () => {
    dns = await startChalltestsrv();
    const prepared = await preparePebble();
    traefikDir = join(mkdtempSync(join(tmpdir(), 'wharf-traefik-')), 'dynamic');
    t = await startTestApp({
      WHARF_PUBLIC_URL: `https://${HOST}`,
      WHARF_ACME_DIRECTORY_URL: prepared.directoryUrl,
      WHARF_ACME_CA_FILE: prepared.caFile,
      WHARF_ACME_EMAIL: 'ops@example.test',
      WHARF_DNS_SERVERS: `127.0.0.1:${dns.dnsPort}`,
      WHARF_PUBLIC_IPS: '127.0.0.1',
      WHARF_ACME_CAA_IDENTITIES: 'pebble.example',
      WHARF_TRAEFIK_DIR: traefikDir,
    });
    pebble = await prepared.start({ httpPort: (t.server.address() as { port: number }).port, dnsServer: `127.0.0.1:${dns.dnsPort}` });
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    member = await addMember(t, owner, owner.organizationId, 'admin@example.com', 'admin');
  });
  afterAll(async () => {
    await t?.close();
    await pebble?.stop();
    await dns?.stop();
  });

  const state = async () => (await request(t.server).get('/api/v1/instance/tls').set(owner.auth).expect(200)).body;

  it('only instance administrators see or renew it; an organization admin gets 403', async () => {
    await request(t.server).get('/api/v1/instance/tls').set(member.auth).expect(403);
    await request(t.server).post('/api/v1/instance/tls/renew').set(member.auth).expect(403);
    await request(t.server).get('/api/v1/instance/tls').expect(401);
    expect(await state()).toMatchObject({ host: HOST, mode: 'acme' });
  });

  it('"renew now" obtains the certificate over HTTP-01; Traefik gets the files and HTTP then redirects to HTTPS', async () => {
    await request(t.server).post('/api/v1/instance/tls/renew').set(owner.auth).expect(202);
    let s: Record<string, unknown> = {};
    await until('the instance certificate to be valid', async () => (s = await state()).status === 'valid', 60_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(s)}\n--- pebble ---\n${pebble.log().slice(-1500)}`);
    });
    expect(s).toMatchObject({ mode: 'acme', lastError: null, issuer: expect.stringMatching(/Pebble/) });

    // The row turns valid just before the worker rewrites the file: wait for the file with the certificate.
    await until('the instance file with its certificate', async () => !!instanceFile(traefikDir)?.tls, 30_000, 100);
    const file = instanceFile(traefikDir)!;
    const routers = Object.values(file.http.routers);
    expect(routers.map((r) => r.rule)).toEqual([`Host(\`${HOST}\`)`, `Host(\`${HOST}\`)`]);
    const web = routers.find((r) => r.entryPoints[0] === 'web')!;
    expect(file.http.middlewares![web.middlewares![0]]).toEqual({ redirectScheme: { scheme: 'https', permanent: true } });
    const [cert] = file.tls!.certificates;
    const leaf = new X509Certificate(readFileSync(local(traefikDir, cert.certFile)));
    expect(leaf.checkHost(HOST)).toBe(HOST);
    expect(statSync(local(traefikDir, cert.keyFile)).mode & 0o777).toBe(0o600);
    // At rest the key is encrypted; the API never returns it.
    const keyPem = readFileSync(local(traefikDir, cert.keyFile), 'utf8');
    const [row] = await sql<{ key_box: string; source: string }>(t, `SELECT key_box, source FROM instance_certificates WHERE host = $1`, [HOST]);
    expect(row.source).toBe('acme');
    expect(row.key_box).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(s)).not.toContain('PRIVATE KEY');
    expect(keyPem).toContain('PRIVATE KEY');
    // The account is the install's, with the configured contact; the audit's instance chain tells what happened.
    expect(await sql(t, `SELECT email FROM instance_acme_accounts`)).toEqual([{ email: 'ops@example.test' }]);
    const audit = (await request(t.server).get('/api/v1/audit-events').query({ limit: 200 }).set(owner.auth).expect(200)).body.items as Array<{ action: string; actor: { name: string } }>;
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['instance-certificate.renew-requested', 'instance-certificate.issued']));
    const requested = audit.filter((a) => a.action === 'instance-certificate.renew-requested');
    expect(requested).toHaveLength(1);
    expect(requested[0].actor.name).toBe('owner@example.com');
    expect(JSON.stringify(audit)).not.toContain('PRIVATE KEY');
  });

  it('a failed renewal keeps the valid certificate and says why; a due one is renewed', async () => {
    const tls = t.app.get(InstanceTls);
    const serialOf = async () => (await sql<{ serial: string }>(t, `SELECT serial FROM instance_certificates WHERE host = $1`, [HOST]))[0].serial;
    const serialBefore = await serialOf();
    await challtestsrvCall(dns, '/add-a', { host: `${HOST}.`, addresses: ['10.9.9.9'] });
    await tls.sync({ force: true }).catch(() => undefined);
    // Not due yet: nothing ordered even when forced. Make it due.
    await sql(t, `UPDATE instance_certificates SET not_before = now() - interval '80 days', not_after = now() + interval '10 days' WHERE host = $1`, [HOST]);
    const r = await tls.sync({ force: true });
    expect(r).toMatchObject({ kind: 'routed', ordered: true, certificate: 'valid' });
    const failed = await state();
    expect(failed).toMatchObject({ status: 'valid', lastErrorReason: 'dns-mismatch' });
    expect(failed.lastError).toContain('10.9.9.9');
    expect(failed.nextAttemptAt).not.toBeNull();
    // Still served: the file keeps the certificate.
    expect(instanceFile(traefikDir)!.tls!.certificates).toHaveLength(1);

    await challtestsrvCall(dns, '/clear-a', { host: `${HOST}.` });
    // Within the backoff an unforced run orders nothing.
    expect(await tls.sync()).toMatchObject({ ordered: false });
    expect(await tls.sync({ force: true })).toMatchObject({ ordered: true, certificate: 'valid' });
    const after = await state();
    expect(after).toMatchObject({ status: 'valid', lastError: null, lastErrorReason: null });
    expect(await serialOf()).not.toBe(serialBefore);
    const [{ n }] = await sql<{ n: string }>(t, `SELECT count(*) AS n FROM audit_events WHERE action = 'instance-certificate.renewed' AND organization_id IS NULL`);
    expect(Number(n)).toBe(1);
  });
});

describe("Wharf's own host: certificate files, and no host", () => {
  const work = mkdtempSync(join(tmpdir(), 'wharf-instance-files-'));
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('WHARF_TLS_CERT_FILE/KEY_FILE are checked (names, key) and served; a mismatched key is reported with its reason', async () => {
    const ca = await makeCa(work, 'Files CA');
    const leaf = await makeLeaf(work, ca, 'files', [`DNS:${HOST}`]);
    const other = await makeLeaf(work, ca, 'other', ['DNS:other.example.test']);
    const certFile = join(work, 'tls.crt');
    const keyFile = join(work, 'tls.key');
    writeFileSync(certFile, readFileSync(leaf.cert, 'utf8') + readFileSync(ca.cert, 'utf8'));
    writeFileSync(keyFile, readFileSync(leaf.key, 'utf8'));
    const traefikDir = join(mkdtempSync(join(tmpdir(), 'wharf-traefik-')), 'dynamic');
    t = await startTestApp({ WHARF_PUBLIC_URL: `https://${HOST}`, WHARF_TLS_CERT_FILE: certFile, WHARF_TLS_KEY_FILE: keyFile, WHARF_TRAEFIK_DIR: traefikDir });
    const owner = await setupOwner(t, 'owner@example.com', 'Acme');
    const tls = t.app.get(InstanceTls);
    expect(await tls.sync()).toMatchObject({ kind: 'routed', host: HOST, certificate: 'valid', ordered: false });
    const s = (await request(t.server).get('/api/v1/instance/tls').set(owner.auth).expect(200)).body;
    expect(s).toMatchObject({ mode: 'custom', status: 'valid', issuer: expect.stringContaining('Files CA') });
    const [served] = instanceFile(traefikDir)!.tls!.certificates;
    expect(new X509Certificate(readFileSync(local(traefikDir, served.certFile))).checkHost(HOST)).toBe(HOST);

    // Another certificate's key: refused, the valid one stays.
    writeFileSync(keyFile, readFileSync(other.key, 'utf8'));
    expect(await tls.sync({ force: true })).toMatchObject({ certificate: 'valid' });
    const bad = (await request(t.server).get('/api/v1/instance/tls').set(owner.auth).expect(200)).body;
    expect(bad).toMatchObject({ status: 'valid', lastErrorReason: 'custom-invalid' });
    expect(bad.lastError).toMatch(/WHARF_TLS_CERT_FILE/);
    expect(bad.lastError).not.toContain('PRIVATE KEY');
  });

  it('with an http public URL there is no instance file, and renew is a 409', async () => {
    const traefikDir = join(mkdtempSync(join(tmpdir(), 'wharf-traefik-')), 'dynamic');
    t = await startTestApp({ WHARF_PUBLIC_URL: 'http://203.0.113.7:3000', WHARF_TRAEFIK_DIR: traefikDir });
    const owner = await setupOwner(t, 'owner@example.com', 'Acme');
    expect(await t.app.get(InstanceTls).sync()).toEqual({ kind: 'off' });
    expect(instanceFile(traefikDir)).toBeNull();
    expect((await request(t.server).get('/api/v1/instance/tls').set(owner.auth).expect(200)).body).toMatchObject({ host: null, mode: 'off', status: 'none' });
    const r = await request(t.server).post('/api/v1/instance/tls/renew').set(owner.auth).expect(409);
    expect(r.body.code).toBe('instance-tls-off');
  });
});
