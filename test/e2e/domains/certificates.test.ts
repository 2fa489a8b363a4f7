/**
 * Certificates end to end against a real ACME CA (Debian's pebble) with pebble-challtestsrv as the DNS server every
 * name is resolved through (by pebble and by Wharf's pre-checks):
 *  - HTTP-01: pebble fetches `/.well-known/acme-challenge/<token>` from Wharf's API; the certificate is stored (key
 *    encrypted), handed to Traefik (files + `tls.certificates` in the application's file) and announced as an event;
 *  - DNS-01 through the challtestsrv provider;
 *  - each failure path with its reason: DNS pointing elsewhere, CAA forbidding the CA, the challenge unreachable;
 *  - renewal of a short-lived certificate by the repeatable job; "renew now";
 *  - uploaded certificates: key, chain and names checked; they replace ACME until removed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import request from 'supertest';
import { parse } from 'yaml';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { Challtestsrv, challtestsrvCall, makeCa, makeLeaf, Pebble, preparePebble, startChalltestsrv } from '../../support/acme';
import { until } from '../../support/until';
import { CertificateIssuer } from '../../../apps/worker/src/certificates/certificate-issuer';
import { auditAll, sql } from '../audit/helpers';

jest.setTimeout(120_000);

/** pebble's certificates live this long: every one is due for renewal (a third of its lifetime left) 20 s after issue. */
const VALIDITY_S = 30;

interface Cert {
  id: string;
  domainId: string;
  status: string;
  source: string;
  hosts: string[];
  issuer: string | null;
  serial: string | null;
  notAfter: string | null;
  lastError: string | null;
  lastErrorReason: string | null;
  nextAttemptAt: string | null;
}

describe('certificates (pebble + challtestsrv)', () => {
  let t: TestApp;
  let dns: Challtestsrv;
  let pebble: Pebble;
  let owner: Session & { organizationId: string };
  let viewer: Session;
  let other: Session & { organizationId: string };
  let otherOrg: string;
  let appId: string;
  let traefikDir: string;
  const work = mkdtempSync(join(tmpdir(), 'wharf-cert-test-'));

  beforeAll(async () => {
    dns = await startChalltestsrv();
    const prepared = await preparePebble();
    traefikDir = join(mkdtempSync(join(tmpdir(), 'wharf-traefik-')), 'dynamic');
    t = await startTestApp({
      WHARF_ACME_DIRECTORY_URL: prepared.directoryUrl,
      WHARF_ACME_CA_FILE: prepared.caFile,
      WHARF_DNS_SERVERS: `127.0.0.1:${dns.dnsPort}`,
      // 127.0.0.2 counts as this server too, but nothing listens there: the challenge-unreachable case.
      WHARF_PUBLIC_IPS: '127.0.0.1,127.0.0.2',
      WHARF_ACME_CAA_IDENTITIES: 'pebble.example',
      WHARF_TRAEFIK_DIR: traefikDir,
      WHARF_WILDCARD_DOMAIN: 'apps.example.test',
    });
    const port = (t.server.address() as { port: number }).port;
    pebble = await prepared.start({ httpPort: port, dnsServer: `127.0.0.1:${dns.dnsPort}`, validitySeconds: VALIDITY_S });
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    viewer = await addMember(t, owner, owner.organizationId, 'viewer@example.com', 'viewer');
    other = { ...(await addMember(t, owner, owner.organizationId, 'other@example.net', 'viewer')), organizationId: '' };
    otherOrg = await createOrganization(t, other, 'Other');
    other.organizationId = otherOrg;
    await request(t.server).delete(`/api/v1/organizations/${owner.organizationId}/members/${other.userId}`).set(other.auth).expect(204);
    const project = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'web' }).expect(201);
    appId = (await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(owner.auth).send({ name: 'site', spec: { image: 'busybox:latest' } }).expect(201)).body.id;
  });
  afterAll(async () => {
    await t?.close();
    await pebble?.stop();
    await dns?.stop();
  });

  const certs = async (): Promise<Cert[]> => (await request(t.server).get(`/api/v1/applications/${appId}/certificates`).set(owner.auth).expect(200)).body;
  const certOf = async (domainId: string) => (await certs()).find((c) => c.domainId === domainId);
  async function addDomain(host: string, extra: Record<string, unknown> = {}): Promise<string> {
    return (await request(t.server).post(`/api/v1/applications/${appId}/domains`).set(owner.auth).send({ host, port: 8080, https: true, ...extra }).expect(201)).body.id;
  }
  async function settled(domainId: string, pred: (c: Cert) => boolean = (c) => c.status !== 'pending', what = 'the certificate to settle'): Promise<Cert> {
    let last: Cert | undefined;
    await until(what, async () => {
      last = await certOf(domainId);
      return !!last && pred(last);
    }, 60_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(last)}\n--- pebble ---\n${pebble.log().slice(-1500)}`);
    });
    return last!;
  }
  const appFile = () => parse(readFileSync(join(traefikDir, readdirSync(traefikDir).find((f) => f.includes(appId))!), 'utf8')) as { tls?: { certificates: Array<{ certFile: string; keyFile: string }> } };

  it('HTTP-01: pebble validates through the API, the certificate reaches Traefik, the key is encrypted and never returned', async () => {
    const domainId = await addDomain('www.shop.example.test', { wwwRedirect: true });
    const c = await settled(domainId);
    expect(c).toMatchObject({ status: 'valid', source: 'acme', lastError: null });
    expect(c.hosts.sort()).toEqual(['shop.example.test', 'www.shop.example.test']);
    expect(c.issuer).toMatch(/Pebble/);
    // The certificate as Traefik reads it: files under <dir>/certs named in the application's file (written just
    // after the certificate is stored: wait for it).
    await until('the application\'s file to name the certificate', async () => !!(await Promise.resolve().then(appFile).catch(() => null))?.tls, 30_000, 100);
    const tls = appFile().tls!.certificates;
    expect(tls).toHaveLength(1);
    expect(tls[0].certFile).toMatch(new RegExp(`^/etc/traefik/dynamic/certs/app-${appId}-${c.id}-[0-9a-f]+\\.crt$`));
    const local = (p: string) => join(traefikDir, p.replace('/etc/traefik/dynamic/', ''));
    const leaf = new X509Certificate(readFileSync(local(tls[0].certFile)));
    expect(leaf.checkHost('shop.example.test')).toBe('shop.example.test');
    expect(leaf.serialNumber.toLowerCase()).toBe(c.serial!.toLowerCase());
    expect(statSync(local(tls[0].keyFile)).mode & 0o777).toBe(0o600);
    const keyPem = readFileSync(local(tls[0].keyFile), 'utf8');
    // At rest: encrypted; through the API: never.
    const [row] = await sql<{ key_box: string; chain_pem: string }>(t, `SELECT key_box, chain_pem FROM certificates WHERE id = $1`, [c.id]);
    expect(row.key_box).not.toContain('PRIVATE KEY');
    expect(row.chain_pem).toContain('BEGIN CERTIFICATE');
    const listed = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/certificates`).set(owner.auth).expect(200);
    expect(listed.text).not.toContain('PRIVATE KEY');
    expect(listed.text).not.toContain(keyPem.split('\n')[1]);
    expect(listed.body.map((x: Cert) => x.id)).toContain(c.id);
    // The challenge router was written and the tokens are gone once the order finished.
    expect(readFileSync(join(traefikDir, readdirSync(traefikDir).find((f) => f.includes('acme-challenge'))!), 'utf8')).toContain('/.well-known/acme-challenge/');
    expect(await sql(t, `SELECT token FROM acme_challenges`)).toEqual([]);
    // The event and the audit entry (the system did it), with names and dates but no key.
    const audit = await auditAll(t, owner, owner.organizationId);
    const issued = audit.find((e) => e.action === 'certificate.issued');
    expect(issued).toBeDefined();
    expect(JSON.stringify(issued)).not.toContain('PRIVATE KEY');
    // An account was made once for the organization and this directory, its key encrypted.
    const accounts = await sql<{ key_box: string; account_url: string }>(t, `SELECT key_box, account_url FROM acme_accounts`);
    expect(accounts).toHaveLength(1);
    expect(accounts[0].account_url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    expect(accounts[0].key_box).not.toContain('PRIVATE KEY');
  });

  it('a name resolving elsewhere fails before ordering, saying where it points', async () => {
    await challtestsrvCall(dns, '/add-a', { host: 'elsewhere.example.test.', addresses: ['10.9.9.9'] });
    const domainId = await addDomain('elsewhere.example.test');
    const c = await settled(domainId);
    expect(c).toMatchObject({ status: 'failed', lastErrorReason: 'dns-mismatch' });
    expect(c.lastError).toContain('resolves to 10.9.9.9, not to this server (127.0.0.1, 127.0.0.2)');
    expect(Date.parse(c.nextAttemptAt!)).toBeGreaterThan(Date.now());
    // The DNS check shown beside the domain says the same.
    const check = await request(t.server).get(`/api/v1/domains/${domainId}/dns-check`).set(viewer.auth).expect(200);
    expect(check.body).toMatchObject({ addresses: ['10.9.9.9'], pointsHere: false, problem: { reason: 'dns-mismatch' } });
    expect((await auditAll(t, owner, owner.organizationId)).some((e) => e.action === 'certificate.failed')).toBe(true);
  });

  it('CAA naming another CA fails with caa-forbidden', async () => {
    await challtestsrvCall(dns, '/add-caa', { host: 'caa.example.test.', policies: [{ tag: 'issue', value: 'other-ca.example' }] });
    const domainId = await addDomain('caa.example.test');
    const c = await settled(domainId);
    expect(c).toMatchObject({ status: 'failed', lastErrorReason: 'caa-forbidden' });
    expect(c.lastError).toContain('other-ca.example');
  });

  it('a challenge the CA cannot reach fails with the CA\'s reason', async () => {
    await challtestsrvCall(dns, '/add-a', { host: 'unreachable.example.test.', addresses: ['127.0.0.2'] });
    const domainId = await addDomain('unreachable.example.test');
    const c = await settled(domainId);
    expect(c).toMatchObject({ status: 'failed', lastErrorReason: 'challenge-unreachable' });
    expect(c.lastError).toMatch(/unreachable\.example\.test: .*(refused|connect)/i);
    // "Renew now" clears the backoff and tries again (still failing: same reason, a later attempt).
    await request(t.server).post(`/api/v1/domains/${domainId}/certificate/renew`).set(viewer.auth).expect(403);
    await request(t.server).post(`/api/v1/domains/${domainId}/certificate/renew`).set(other.auth).expect(404);
    await request(t.server).post(`/api/v1/domains/${domainId}/certificate/renew`).set(owner.auth).expect(202);
    const again = await settled(domainId, (x) => x.lastErrorReason === 'challenge-unreachable' && Date.parse(x.nextAttemptAt!) > Date.parse(c.nextAttemptAt!), 'a second attempt');
    expect(again.status).toBe('failed');
  });

  it('DNS-01 through the organization\'s DNS provider (challtestsrv)', async () => {
    await request(t.server).put(`/api/v1/organizations/${owner.organizationId}/acme`).set(owner.auth).send({ challenge: 'dns-01' }).expect(400);
    const bad = await request(t.server).put(`/api/v1/organizations/${owner.organizationId}/acme`).set(owner.auth).send({ challenge: 'dns-01', dnsProvider: { kind: 'rfc2136', server: 'ns1.example.test', zone: 'example.test', tsigKeyName: 'k', tsigAlgorithm: 'hmac-sha256', tsigSecret: 'not base64!' } }).expect(400);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).toContain('/dnsProvider/tsigSecret');
    expect(bad.text).not.toContain('not base64!');
    const set = await request(t.server).put(`/api/v1/organizations/${owner.organizationId}/acme`).set(owner.auth).send({ challenge: 'dns-01', email: 'certs@example.com', dnsProvider: { kind: 'challtestsrv', managementUrl: dns.managementUrl } }).expect(200);
    expect(set.body).toMatchObject({ challenge: 'dns-01', email: 'certs@example.com', dnsProvider: { kind: 'challtestsrv' } });
    // A name that does not point here is fine for DNS-01.
    await challtestsrvCall(dns, '/add-a', { host: 'internal.example.test.', addresses: ['10.1.2.3'] });
    const domainId = await addDomain('internal.example.test');
    const c = await settled(domainId);
    expect(c).toMatchObject({ status: 'valid', lastError: null });
    expect(await dns.txt('_acme-challenge.internal.example.test')).toEqual([]);
    await request(t.server).put(`/api/v1/organizations/${owner.organizationId}/acme`).set(owner.auth).send({ challenge: 'http-01', dnsProvider: null }).expect(200);
  });

  it('renews a short-lived certificate when a third of its lifetime is left, and Traefik gets the new one', async () => {
    const domainId = (await request(t.server).get(`/api/v1/applications/${appId}/domains`).set(owner.auth).expect(200)).body.find((d: { host: string }) => d.host === 'www.shop.example.test').id;
    const before = (await certOf(domainId))!;
    const dueAt = Date.parse(before.notAfter!) - (VALIDITY_S * 1000) / 3;
    const issuer = t.app.get(CertificateIssuer, { strict: false });
    // Not due yet: nothing is ordered.
    if (Date.now() < dueAt - 2000) expect((await issuer.renewDue()).ordered).toBe(0);
    await until('the renewal to be due and done', async () => {
      if (Date.now() < dueAt) return false;
      await issuer.renewDue();
      const now = await certOf(domainId);
      return !!now && now.serial !== before.serial && now.status === 'valid';
    }, 60_000, 500);
    const after = (await certOf(domainId))!;
    expect(Date.parse(after.notAfter!)).toBeGreaterThan(Date.parse(before.notAfter!));
    expect(appFile().tls!.certificates.some((f) => f.certFile.includes(after.id) && !f.certFile.endsWith(`${before.serial!.toLowerCase().slice(0, 16)}.crt`))).toBe(true);
    expect((await auditAll(t, owner, owner.organizationId)).some((e) => e.action === 'certificate.renewed')).toBe(true);
  });

  it('an uploaded certificate is checked (key, chain, names), replaces ACME, and removing it goes back to ACME', async () => {
    const domainId = await addDomain('custom.example.test');
    await settled(domainId, (c) => c.status === 'valid', 'the ACME certificate first');
    const root = await makeCa(work, 'test-root');
    const inter = await makeLeaf(work, root, 'test-intermediate', [], { ca: true, days: 20 });
    const leaf = await makeLeaf(work, inter, 'custom-leaf', ['DNS:custom.example.test']);
    const wrongName = await makeLeaf(work, inter, 'wrong-leaf', ['DNS:nope.example.test']);
    const pem = (f: string) => readFileSync(f, 'utf8');
    const put = (certificatePem: string, privateKeyPem: string, who: Session = owner) => request(t.server).put(`/api/v1/domains/${domainId}/certificate`).set(who.auth).send({ certificatePem, privateKeyPem });
    const pointer = (r: request.Response) => r.body.errors?.[0]?.pointer;

    let r = await put(pem(leaf.cert) + pem(inter.cert), pem(wrongName.key)).expect(400);
    expect(pointer(r)).toBe('/privateKeyPem');
    r = await put(pem(leaf.cert), pem(leaf.key)).expect(400);
    expect(pointer(r)).toBe('/certificatePem');
    expect(r.body.errors[0].detail).toMatch(/chain is incomplete/);
    r = await put(pem(wrongName.cert) + pem(inter.cert) + pem(root.cert), pem(wrongName.key)).expect(400);
    expect(r.body.errors[0].detail).toContain('does not cover custom.example.test');
    r = await put('not a certificate', pem(leaf.key)).expect(400);
    expect(pointer(r)).toBe('/certificatePem');
    await put(pem(leaf.cert) + pem(inter.cert) + pem(root.cert), pem(leaf.key), viewer).expect(403);

    r = await put(pem(leaf.cert) + pem(inter.cert) + pem(root.cert), pem(leaf.key)).expect(200);
    expect(r.body).toMatchObject({ source: 'custom', status: 'valid', issuer: 'test-intermediate', hosts: ['custom.example.test'] });
    expect(r.text).not.toContain('PRIVATE KEY');
    // Traefik gets it (the application's file is rewritten by the event, without a deployment).
    await until('Traefik to get the uploaded certificate', async () => {
      const files = appFile().tls?.certificates ?? [];
      return files.some((f) => f.certFile.includes(r.body.id) && readFileSync(join(traefikDir, f.certFile.replace('/etc/traefik/dynamic/', '')), 'utf8').includes(pem(leaf.cert).split('\n')[1]));
    }, 30_000, 100);
    await request(t.server).post(`/api/v1/domains/${domainId}/certificate/renew`).set(owner.auth).expect(409);
    const uploaded = (await auditAll(t, owner, owner.organizationId)).find((e) => e.action === 'certificate.uploaded');
    expect(JSON.stringify(uploaded)).not.toContain('PRIVATE KEY');

    await request(t.server).delete(`/api/v1/domains/${domainId}/certificate`).set(owner.auth).expect(204);
    const back = await settled(domainId, (c) => c.source === 'acme' && c.status === 'valid', 'an ACME certificate again');
    expect(back.issuer).toMatch(/Pebble/);
  });

  it('"Generate domain" gives <app>-<environment>.<wildcard> with HTTPS, and it gets its certificate', async () => {
    const first = await request(t.server).post(`/api/v1/applications/${appId}/domains/generate`).set(owner.auth).expect(201);
    expect(first.body).toMatchObject({ host: 'site-production.apps.example.test', https: true, redirectHttpToHttps: true, port: 80 });
    // The name is taken now: the next one is numbered.
    const second = await request(t.server).post(`/api/v1/applications/${appId}/domains/generate`).set(owner.auth).expect(201);
    expect(second.body.host).toBe('site-production-2.apps.example.test');
    await request(t.server).post(`/api/v1/applications/${appId}/domains/generate`).set(viewer.auth).expect(403);
    const c = await settled(first.body.id);
    expect(c).toMatchObject({ status: 'valid', hosts: ['site-production.apps.example.test'] });
  });

  it('answers unknown challenge tokens with 404 outside /api/v1, without authentication', async () => {
    await request(t.server).get('/.well-known/acme-challenge/unknown-token').expect(404);
    await request(t.server).get('/.well-known/acme-challenge/..%2F..%2Fetc').expect(404);
    expect(existsSync(join(traefikDir, 'certs'))).toBe(true);
  });

  it('another organization sees none of it', async () => {
    const list = await request(t.server).get(`/api/v1/organizations/${otherOrg}/certificates`).set(other.auth).expect(200);
    expect(list.body).toEqual([]);
    await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/certificates`).set(other.auth).expect(404);
    await request(t.server).get(`/api/v1/applications/${appId}/certificates`).set(other.auth).expect(404);
  });
});
