/**
 * DNS-01 end to end through RFC 2136: a real BIND9 is authoritative for `example.test` and takes TSIG-signed updates;
 * pebble validates `_acme-challenge` TXT records by asking that BIND; Wharf publishes them through the organization's
 * rfc2136 DNS provider and removes them after the order.
 */
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { Pebble, preparePebble } from '../../support/acme';
import { NamedServer, startNamed } from '../../support/named';
import { until } from '../../support/until';
import { auditAll } from '../audit/helpers';

jest.setTimeout(120_000);

describe('certificates: DNS-01 through RFC 2136 (BIND9 + pebble)', () => {
  let t: TestApp;
  let named: NamedServer;
  let pebble: Pebble;
  let owner: Session & { organizationId: string };
  let appId: string;

  beforeAll(async () => {
    named = await startNamed();
    const prepared = await preparePebble();
    t = await startTestApp({
      WHARF_ACME_DIRECTORY_URL: prepared.directoryUrl,
      WHARF_ACME_CA_FILE: prepared.caFile,
      WHARF_DNS_SERVERS: `127.0.0.1:${named.port}`,
      WHARF_ACME_CAA_IDENTITIES: 'pebble.example',
    });
    pebble = await prepared.start({ httpPort: (t.server.address() as { port: number }).port, dnsServer: `127.0.0.1:${named.port}` });
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    const project = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'web' }).expect(201);
    appId = (await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(owner.auth).send({ name: 'site', spec: { image: 'busybox:latest' } }).expect(201)).body.id;
  });
  afterAll(async () => {
    await t?.close();
    await pebble?.stop();
    await named?.stop();
  });

  it('publishes the TXT record with a TSIG-signed update, pebble validates it through BIND, the record is removed', async () => {
    const provider = { kind: 'rfc2136', server: '127.0.0.1', port: named.port, zone: named.zone, tsigKeyName: named.keyName, tsigAlgorithm: named.algorithm, tsigSecret: named.secret };
    const set = await request(t.server).put(`/api/v1/organizations/${owner.organizationId}/acme`).set(owner.auth).send({ challenge: 'dns-01', dnsProvider: provider }).expect(200);
    // The TSIG secret is write-only.
    expect(set.body.dnsProvider).toMatchObject({ kind: 'rfc2136', zone: named.zone, tsigSecret: { set: true } });
    expect(set.text).not.toContain(named.secret);
    const audit = JSON.stringify(await auditAll(t, owner, owner.organizationId));
    expect(audit).not.toContain(named.secret);

    // No A record anywhere: DNS-01 does not need the name to point here.
    const domain = await request(t.server).post(`/api/v1/applications/${appId}/domains`).set(owner.auth).send({ host: `shop.${named.zone}`, port: 8080, https: true }).expect(201);
    let last: Record<string, unknown> | undefined;
    await until('the certificate', async () => {
      last = (await request(t.server).get(`/api/v1/applications/${appId}/certificates`).set(owner.auth).expect(200)).body.find((c: { domainId: string }) => c.domainId === domain.body.id);
      return !!last && last.status !== 'pending';
    }, 60_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(last)}\n--- pebble ---\n${pebble.log().slice(-1500)}`);
    });
    expect(last).toMatchObject({ status: 'valid', hosts: [`shop.${named.zone}`], lastError: null });
    expect(String(last!.issuer)).toMatch(/Pebble/);
    // BIND took the signed update; the record is gone again.
    expect(named.log()).toMatch(/key wharf-test-key: updating zone 'example\.test\/IN': adding an RR at '_acme-challenge\.shop\.example\.test' TXT/);
    expect(await named.txt(`_acme-challenge.shop.${named.zone}`)).toEqual([]);

    // A wrong TSIG secret: BIND refuses the update and the certificate says why.
    await request(t.server).put(`/api/v1/organizations/${owner.organizationId}/acme`).set(owner.auth).send({ dnsProvider: { ...provider, tsigSecret: Buffer.alloc(32, 7).toString('base64') } }).expect(200);
    const second = await request(t.server).post(`/api/v1/applications/${appId}/domains`).set(owner.auth).send({ host: `api.${named.zone}`, port: 8080, https: true }).expect(201);
    await until('the failed order', async () => {
      last = (await request(t.server).get(`/api/v1/applications/${appId}/certificates`).set(owner.auth).expect(200)).body.find((c: { domainId: string }) => c.domainId === second.body.id);
      return !!last && last.status !== 'pending';
    }, 60_000, 100);
    expect(last).toMatchObject({ status: 'failed' });
    expect(String(last!.lastError)).toMatch(/BADSIG|NOTAUTH/);
  });
});
