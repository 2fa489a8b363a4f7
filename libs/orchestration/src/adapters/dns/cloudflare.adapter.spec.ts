/** The Cloudflare adapter against a local HTTP server that checks each request and answers like API v4. */
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DnsChallengeError } from '../../ports/dns-challenge.port';
import { dnsChallengeSolver } from './dns-challenge-solver';

const TOKEN = 'cf-token-0123456789abcdefABCDEF';
const ZONE_ID = '0123456789abcdef0123456789abcdef';

interface Seen { method: string; url: string; auth?: string; body?: unknown }
interface Record { id: string; type: string; name: string; content: string }

let server: Server;
let base: string;
let seen: Seen[];
let records: Record[];
let nextId: number;
let failWith: { status: number; body: unknown; method?: string } | null;

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(s));
  });

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const body = raw ? JSON.parse(raw) : undefined;
    seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(403, { success: false, errors: [{ code: 9109, message: 'Invalid access token' }], result: null });
    if (failWith && (!failWith.method || failWith.method === req.method)) return send(failWith.status, failWith.body);
    const url = new URL(req.url!, 'http://x');
    if (req.method === 'GET' && url.pathname === '/client/v4/zones') {
      const name = url.searchParams.get('name');
      const zones = [{ id: ZONE_ID, name: 'example.com' }, { id: 'fedcba9876543210fedcba9876543210', name: 'sub.example.com' }];
      return send(200, { success: true, errors: [], result: zones.filter((z) => z.name === name) });
    }
    const m = /^\/client\/v4\/zones\/([a-f0-9]{32})\/dns_records(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return send(404, { success: false, errors: [{ code: 7003, message: 'Could not route' }] });
    if (req.method === 'GET') {
      return send(200, { success: true, errors: [], result: records.filter((r) => r.type === url.searchParams.get('type') && r.name === url.searchParams.get('name')) });
    }
    if (req.method === 'POST') {
      const r = { id: `rec${nextId++}`, type: body.type, name: body.name, content: body.content };
      records.push(r);
      return send(200, { success: true, errors: [], result: r });
    }
    if (req.method === 'DELETE') {
      const i = records.findIndex((r) => r.id === m[2]);
      if (i < 0) return send(404, { success: false, errors: [{ code: 81044, message: 'Record does not exist.' }] });
      records.splice(i, 1);
      return send(200, { success: true, errors: [], result: { id: m[2] } });
    }
    return send(405, { success: false, errors: [{ code: 10000, message: 'method not allowed' }] });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`;
});

afterAll(() => new Promise((r) => server.close(r)));

beforeEach(() => {
  seen = [];
  records = [];
  nextId = 1;
  failWith = null;
});

it('finds the zone by the longest matching name, creates the quoted TXT once, and deletes only that value', async () => {
  const solver = dnsChallengeSolver({ kind: 'cloudflare', apiToken: TOKEN, apiBase: base });
  const name = '_acme-challenge.www.sub.example.com';
  await solver.setTxt(name, 'value-a');
  // Candidates longest first: www.sub.example.com (none), sub.example.com (found).
  expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
    'GET /client/v4/zones?name=www.sub.example.com&per_page=5',
    'GET /client/v4/zones?name=sub.example.com&per_page=5',
    `GET /client/v4/zones/fedcba9876543210fedcba9876543210/dns_records?type=TXT&name=${name}&per_page=100`,
    'POST /client/v4/zones/fedcba9876543210fedcba9876543210/dns_records',
  ]);
  expect(seen.every((s) => s.auth === `Bearer ${TOKEN}`)).toBe(true);
  expect(seen[3].body).toEqual({ type: 'TXT', name, content: '"value-a"', ttl: 60, comment: 'ACME DNS-01 challenge (Wharf)' });

  seen = [];
  await solver.setTxt(name, 'value-a'); // already there: no POST, zone remembered
  expect(seen.map((s) => s.method)).toEqual(['GET']);
  await solver.setTxt(name, 'value-b');
  expect(records.map((r) => r.content)).toEqual(['"value-a"', '"value-b"']);

  await solver.clearTxt(name, 'value-a');
  expect(records.map((r) => r.content)).toEqual(['"value-b"']);
  seen = [];
  await solver.clearTxt(name, 'value-a'); // idempotent: nothing to delete
  expect(seen.map((s) => s.method)).toEqual(['GET']);
});

it('uses zoneId when given and treats "identical record" and "record does not exist" as done', async () => {
  const solver = dnsChallengeSolver({ kind: 'cloudflare', apiToken: TOKEN, zoneId: ZONE_ID, apiBase: base });
  records.push({ id: 'rec-x', type: 'TXT', name: '_acme-challenge.example.com', content: 'v1' }); // unquoted also matches
  await solver.setTxt('_acme-challenge.example.com', 'v1');
  expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([`GET /client/v4/zones/${ZONE_ID}/dns_records?type=TXT&name=_acme-challenge.example.com&per_page=100`]);
  // Created meanwhile by a concurrent call: Cloudflare's 81058 counts as done.
  failWith = { method: 'POST', status: 400, body: { success: false, errors: [{ code: 81058, message: 'An identical record already exists.' }] } };
  await solver.setTxt('_acme-challenge.example.com', 'v2');
  expect(seen.at(-1)!.method).toBe('POST');
  // Deleted meanwhile: 81044 counts as done.
  failWith = { method: 'DELETE', status: 404, body: { success: false, errors: [{ code: 81044, message: 'Record does not exist.' }] } };
  await solver.clearTxt('_acme-challenge.example.com', 'v1');
  expect(seen.at(-1)!.method).toBe('DELETE');
  failWith = null;
  await solver.clearTxt('_acme-challenge.example.com', 'v1');
  expect(records).toEqual([]);
});

it('errors carry Cloudflare\'s code and message, never the token', async () => {
  const wrong = dnsChallengeSolver({ kind: 'cloudflare', apiToken: 'wrong-token-secret-value', apiBase: base });
  const e = (await wrong.setTxt('_acme-challenge.example.com', 'v').catch((err: unknown) => err)) as DnsChallengeError;
  expect(e).toBeInstanceOf(DnsChallengeError);
  expect(e.code).toBe('CLOUDFLARE_9109');
  expect(e.message).toMatch(/HTTP 403: 9109 Invalid access token/);
  expect(e.message).toMatch(/API token/);
  expect(e.message).not.toContain('wrong-token-secret-value');

  const solver = dnsChallengeSolver({ kind: 'cloudflare', apiToken: TOKEN, zoneId: ZONE_ID, apiBase: base });
  failWith = { status: 400, body: { success: false, errors: [{ code: 9005, message: 'Content for TXT record is invalid.' }] } };
  const bad = (await solver.setTxt('_acme-challenge.example.com', 'v').catch((err: unknown) => err)) as DnsChallengeError;
  expect(bad.message).toContain('9005 Content for TXT record is invalid.');
  expect(bad.message).not.toContain(TOKEN);
});

it('a name in no zone of the account fails clearly; a deadline aborts the call', async () => {
  const solver = dnsChallengeSolver({ kind: 'cloudflare', apiToken: TOKEN, apiBase: base });
  const e = (await solver.setTxt('_acme-challenge.example.org', 'v').catch((err: unknown) => err)) as DnsChallengeError;
  expect(e.code).toBe('ZONE_NOT_FOUND');
  const ctl = new AbortController();
  ctl.abort();
  const aborted = (await solver.setTxt('_acme-challenge.example.com', 'v', ctl.signal).catch((err: unknown) => err)) as DnsChallengeError;
  expect(aborted.code).toBe('ABORTED');
});
