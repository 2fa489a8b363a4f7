/** The challtestsrv DNS-01 adapter against the real pebble-challtestsrv, read back through its DNS server. */
import { randomBytes } from 'node:crypto';
import { dnsChallengeSolver, DnsChallengeError } from '@wharf/orchestration';
import { Challtestsrv, startChalltestsrv } from '../../support/acme';

let srv: Challtestsrv;

beforeAll(async () => {
  srv = await startChalltestsrv();
});

afterAll(async () => {
  await srv?.stop();
});

const value = () => randomBytes(32).toString('base64url');

it('sets TXT values, clears one while the other stays, and clearing again is a no-op', async () => {
  const solver = dnsChallengeSolver({ kind: 'challtestsrv', managementUrl: srv.managementUrl });
  const name = '_acme-challenge.app.example.test';
  const [a, b] = [value(), value()];
  await solver.setTxt(name, a);
  expect(await srv.txt(name)).toEqual([a]);
  await solver.setTxt(name, a);
  expect(await srv.txt(name)).toEqual([a]);
  await solver.setTxt(`${name}.`, b);
  expect(await srv.txt(name)).toEqual([a, b].sort());
  await solver.clearTxt(name, a);
  expect(await srv.txt(name)).toEqual([b]);
  await solver.clearTxt(name, a);
  expect(await srv.txt(name)).toEqual([b]);
  await solver.clearTxt(name, b);
  expect(await srv.txt(name)).toEqual([]);
});

it('a management API that is not there fails with a network error, an aborted call with ABORTED', async () => {
  const gone = dnsChallengeSolver({ kind: 'challtestsrv', managementUrl: 'http://127.0.0.1:9' });
  const e = await gone.setTxt('_acme-challenge.example.test', value()).catch((err: unknown) => err);
  expect(e).toBeInstanceOf(DnsChallengeError);
  expect((e as DnsChallengeError).code).toBe('NETWORK');
  const ctl = new AbortController();
  ctl.abort();
  const solver = dnsChallengeSolver({ kind: 'challtestsrv', managementUrl: srv.managementUrl });
  const aborted = await solver.setTxt('_acme-challenge.example.test', value(), ctl.signal).catch((err: unknown) => err);
  expect((aborted as DnsChallengeError).code).toBe('ABORTED');
});
