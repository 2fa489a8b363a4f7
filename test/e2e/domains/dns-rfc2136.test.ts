/**
 * The RFC 2136 DNS-01 adapter against a real BIND 9 (a private `named -g` per file): TSIG-signed UPDATEs over TCP and
 * UDP, read back with real DNS queries; wrong secrets, unknown keys, names outside the zone and zones the key may not
 * update fail with errors that name the rcode and never the secret.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { AddressInfo, createServer } from 'node:net';
import { dnsChallengeSolver, DnsChallengeError, DnsChallengeSolver } from '@wharf/orchestration';
import { NamedServer, startNamed } from '../../support/named';

let named: NamedServer;

beforeAll(async () => {
  named = await startNamed();
});

afterAll(async () => {
  await named?.stop();
});

const solverWith = (over: Record<string, unknown> = {}): DnsChallengeSolver =>
  dnsChallengeSolver({
    kind: 'rfc2136',
    server: '127.0.0.1',
    port: named.port,
    zone: named.zone,
    tsigKeyName: named.keyName,
    tsigAlgorithm: named.algorithm,
    tsigSecret: named.secret,
    ...over,
  } as never);

const value = () => randomBytes(32).toString('base64url');

async function failure(p: Promise<unknown>): Promise<DnsChallengeError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(DnsChallengeError);
  return e as DnsChallengeError;
}

describe.each(['tcp', 'udp'] as const)('RFC 2136 over %s', (transport) => {
  it('sets a TXT value, adds a second, clears the first (the second stays), and clearing again is a no-op', async () => {
    const solver = solverWith({ transport });
    const name = `_acme-challenge.${transport}.${named.zone}`;
    const [a, b] = [value(), value()];

    await solver.setTxt(name, a);
    expect(await named.txt(name)).toEqual([a]);
    await solver.setTxt(name, a); // idempotent: still one record
    expect(await named.txt(name)).toEqual([a]);

    await solver.setTxt(`${name}.`, b); // trailing dot and a second value
    expect(await named.txt(name)).toEqual([a, b].sort());

    await solver.clearTxt(name, a);
    expect(await named.txt(name)).toEqual([b]);
    await solver.clearTxt(name, a);
    expect(await named.txt(name)).toEqual([b]);

    await solver.clearTxt(name.toUpperCase(), b);
    expect(await named.txt(name)).toEqual([]);
    await solver.clearTxt(name, b);
  });
});

it('signs with hmac-sha512 too', async () => {
  const solver = solverWith({ tsigKeyName: named.key512.name, tsigAlgorithm: 'hmac-sha512', tsigSecret: named.key512.secret });
  const name = `_acme-challenge.sha512.${named.zone}`;
  const v = value();
  await solver.setTxt(name, v);
  expect(await named.txt(name)).toEqual([v]);
  await solver.clearTxt(name, v);
  expect(await named.txt(name)).toEqual([]);
});

it('a wrong TSIG secret is refused with NOTAUTH/BADSIG and the message never holds a secret', async () => {
  const wrong = randomBytes(32).toString('base64');
  const name = `_acme-challenge.badsig.${named.zone}`;
  const e = await failure(solverWith({ tsigSecret: wrong }).setTxt(name, value()));
  expect(e.code).toBe('NOTAUTH/BADSIG');
  expect(e.message).toMatch(/NOTAUTH\/BADSIG/);
  expect(e.message).toMatch(/tsigSecret/);
  expect(e.message).not.toContain(wrong);
  expect(e.message).not.toContain(named.secret);
  expect(await named.txt(name)).toEqual([]);
});

it('an unknown key name is refused with NOTAUTH/BADKEY', async () => {
  const e = await failure(solverWith({ tsigKeyName: 'nobody-key' }).setTxt(`_acme-challenge.${named.zone}`, value()));
  expect(e.code).toBe('NOTAUTH/BADKEY');
  expect(e.message).toMatch(/tsigKeyName/);
});

it('an algorithm the key does not have is refused (BADKEY) over UDP too', async () => {
  const e = await failure(solverWith({ tsigAlgorithm: 'hmac-sha512', transport: 'udp' }).setTxt(`_acme-challenge.${named.zone}`, value()));
  expect(e.code).toMatch(/^NOTAUTH\/BAD(KEY|SIG)$/);
});

it('a name outside the zone is refused before anything is sent, and the server refuses it too', async () => {
  const e = await failure(solverWith().setTxt('_acme-challenge.example.org', value()));
  expect(e.code).toBe('NOTZONE');
  expect(e.message).toContain(named.zone);
  // A zone the key may not update: the server answers REFUSED, and the message says how to allow it.
  const locked = await failure(solverWith({ zone: named.lockedZone }).setTxt(`_acme-challenge.${named.lockedZone}`, value()));
  expect(locked.code).toBe('REFUSED');
  expect(locked.message).toMatch(/update-policy/);
  expect(await named.txt(`_acme-challenge.${named.lockedZone}`)).toEqual([]);
  // A zone this server does not serve: NOTAUTH.
  const foreign = await failure(solverWith({ zone: 'elsewhere.test' }).setTxt('_acme-challenge.elsewhere.test', value()));
  expect(foreign.code).toBe('NOTAUTH');
});

it('honours the caller\'s AbortSignal and refuses hostile names and values', async () => {
  const ctl = new AbortController();
  ctl.abort();
  expect((await failure(solverWith().setTxt(`_acme-challenge.${named.zone}`, value(), ctl.signal))).code).toBe('ABORTED');
  expect((await failure(solverWith().setTxt(`_acme-challenge.${named.zone}\r\nx`, value()))).code).toBe('INVALID_NAME');
  expect((await failure(solverWith().setTxt(`_acme-challenge.${named.zone}`, 'a"b'))).code).toBe('INVALID_VALUE');
});

it('a server that takes the request but never answers runs into the deadline, over UDP and TCP', async () => {
  const silentUdp = createSocket('udp4');
  await new Promise<void>((r) => silentUdp.bind(0, '127.0.0.1', () => r()));
  const silentTcp = createServer(() => undefined); // accepts, reads nothing back
  await new Promise<void>((r) => silentTcp.listen(0, '127.0.0.1', () => r()));
  try {
    const udpPort = silentUdp.address().port;
    const tcpPort = (silentTcp.address() as AddressInfo).port;
    const started = Date.now();
    const udp = await failure(solverWith({ transport: 'udp', port: udpPort }).setTxt(`_acme-challenge.${named.zone}`, value(), AbortSignal.timeout(300)));
    expect(udp.code).toBe('TIMEOUT');
    expect(udp.message).toMatch(/deadline/);
    const tcp = await failure(solverWith({ port: tcpPort }).clearTxt(`_acme-challenge.${named.zone}`, value(), AbortSignal.timeout(300)));
    expect(tcp.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    silentUdp.close();
    silentTcp.close();
  }
});

it('an unsigned NOERROR answer (a spoofed or misconfigured server) is not taken as success', async () => {
  const liar = createSocket('udp4');
  liar.on('message', (msg, from) => {
    const answer = Buffer.alloc(12);
    msg.copy(answer, 0, 0, 2); // the request's id
    answer.writeUInt16BE(0x8000 | (5 << 11), 2); // QR, UPDATE, NOERROR, no TSIG
    liar.send(answer, from.port, from.address);
  });
  await new Promise<void>((r) => liar.bind(0, '127.0.0.1', () => r()));
  try {
    const e = await failure(solverWith({ transport: 'udp', port: liar.address().port }).setTxt(`_acme-challenge.${named.zone}`, value()));
    expect(e.code).toBe('BAD_RESPONSE_SIGNATURE');
    expect(e.message).toMatch(/not signed with TSIG key wharf-test-key/);
  } finally {
    liar.close();
  }
});

it('a port with nothing behind it fails with a network error', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const e = await failure(solverWith({ port }).setTxt(`_acme-challenge.${named.zone}`, value()));
  expect(e.code).toBe('NETWORK');
  expect(e.message).toMatch(/ECONNREFUSED/);
});
