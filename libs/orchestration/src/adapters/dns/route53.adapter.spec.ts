/** The Route 53 adapter (the real AWS SDK) against a local HTTP server that checks requests and answers like Route 53. */
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DnsChallengeError } from '../../ports/dns-challenge.port';
import { Route53DnsAdapter } from './route53.adapter';

const KEY_ID = 'AKIAEXAMPLE123456789';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const ZONE = 'Z0123456789ABCDEFGHIJ';
const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

interface Seen { method: string; path: string; query: URLSearchParams; auth: string; body: string }

let server: Server;
let endpoint: string;
let seen: Seen[];
/** The TXT record set at the name, quoted values, or null. */
let rrset: { name: string; ttl: number; values: string[] } | null;
let pendingPolls: number;
let failWith: { status: number; xml: string } | null;

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(s));
  });
const changeInfo = (status: string) => `<ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>${status}</Status><SubmittedAt>2026-12-05T08:00:00.000Z</SubmittedAt></ChangeInfo>`;
const xmlValues = (body: string) => [...body.matchAll(/<Value>([^<]*)<\/Value>/g)].map((m) => m[1].replace(/&quot;/g, '"'));

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url!, 'http://x');
    seen.push({ method: req.method!, path: url.pathname, query: url.searchParams, auth: String(req.headers.authorization ?? ''), body });
    const send = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(`<?xml version="1.0"?>\n${xml}`);
    };
    if (failWith) return send(failWith.status, failWith.xml);
    if (req.method === 'GET' && url.pathname === `/2013-04-01/hostedzone/${ZONE}/rrset`) {
      const sets = rrset
        ? `<ResourceRecordSet><Name>${rrset.name}</Name><Type>TXT</Type><TTL>${rrset.ttl}</TTL><ResourceRecords>${rrset.values.map((v) => `<ResourceRecord><Value>${v.replace(/"/g, '&quot;')}</Value></ResourceRecord>`).join('')}</ResourceRecords></ResourceRecordSet>`
        : '';
      return send(200, `<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${sets}</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>`);
    }
    if (req.method === 'POST' && url.pathname.replace(/\/$/, '') === `/2013-04-01/hostedzone/${ZONE}/rrset`) {
      const action = /<Action>(\w+)<\/Action>/.exec(body)![1];
      const name = /<Name>([^<]+)<\/Name>/.exec(body)![1];
      const ttl = Number(/<TTL>(\d+)<\/TTL>/.exec(body)![1]);
      rrset = action === 'DELETE' ? null : { name, ttl, values: xmlValues(body) };
      return send(200, `<ChangeResourceRecordSetsResponse xmlns="${NS}">${changeInfo('PENDING')}</ChangeResourceRecordSetsResponse>`);
    }
    if (req.method === 'GET' && url.pathname === '/2013-04-01/change/C2682N5HXP0BZ4') {
      return send(200, `<GetChangeResponse xmlns="${NS}">${changeInfo(pendingPolls-- > 0 ? 'PENDING' : 'INSYNC')}</GetChangeResponse>`);
    }
    return send(404, `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>NotFound</Code><Message>no route</Message></Error><RequestId>r1</RequestId></ErrorResponse>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((r) => server.close(r)));

beforeEach(() => {
  seen = [];
  rrset = null;
  pendingPolls = 1;
  failWith = null;
});

const adapter = (timeoutMs = 10_000) =>
  new Route53DnsAdapter({ kind: 'route53', accessKeyId: KEY_ID, secretAccessKey: SECRET, hostedZoneId: `/hostedzone/${ZONE}`, endpoint }, { timeoutMs, pollIntervalMs: 10 });

it('UPSERTs the quoted value next to the existing ones, waits for INSYNC, and DELETEs the set with its last value', async () => {
  const r53 = adapter();
  const name = '_acme-challenge.example.com';
  await r53.setTxt(name, 'value-a');
  expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
    `GET /2013-04-01/hostedzone/${ZONE}/rrset`,
    expect.stringMatching(new RegExp(`^POST /2013-04-01/hostedzone/${ZONE}/rrset/?$`)),
    'GET /2013-04-01/change/C2682N5HXP0BZ4',
    'GET /2013-04-01/change/C2682N5HXP0BZ4',
  ]);
  expect(seen[0].query.get('name')).toBe(`${name}.`);
  expect(seen[0].query.get('type')).toBe('TXT');
  for (const s of seen) {
    expect(s.auth).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${KEY_ID}/\\d{8}/us-east-1/route53/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$`));
    expect(s.auth).not.toContain(SECRET);
  }
  expect(seen[1].body).toContain('<Action>UPSERT</Action>');
  expect(rrset).toEqual({ name: `${name}.`, ttl: 60, values: ['"value-a"'] });

  await r53.setTxt(name, 'value-b');
  expect(rrset!.values).toEqual(['"value-a"', '"value-b"']);
  seen = [];
  await r53.setTxt(name, 'value-b'); // already there: read only
  expect(seen.map((s) => s.method)).toEqual(['GET']);

  await r53.clearTxt(name, 'value-a'); // the other value stays (UPSERT of the rest)
  expect(rrset!.values).toEqual(['"value-b"']);
  seen = [];
  await r53.clearTxt(name, 'value-b');
  expect(seen[1].body).toContain('<Action>DELETE</Action>');
  expect(xmlValues(seen[1].body)).toEqual(['"value-b"']);
  expect(rrset).toBeNull();
  seen = [];
  await r53.clearTxt(name, 'value-b'); // idempotent
  expect(seen.map((s) => s.method)).toEqual(['GET']);
});

it('an AWS error carries its code and message and a hint, never the secret', async () => {
  failWith = {
    status: 403,
    xml: `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/acme is not authorized to perform: route53:ListResourceRecordSets</Message></Error><RequestId>r2</RequestId></ErrorResponse>`,
  };
  const e = (await adapter().setTxt('_acme-challenge.example.com', 'v').catch((err: unknown) => err)) as DnsChallengeError;
  expect(e).toBeInstanceOf(DnsChallengeError);
  expect(e.code).toBe('AccessDenied');
  expect(e.message).toMatch(/Route 53: could not read the TXT records at _acme-challenge.example.com: AccessDenied: User: .* is not authorized/);
  expect(e.message).toMatch(/secretAccessKey/);
  expect(e.message).not.toContain(SECRET);
});

it('gives up waiting for INSYNC at the deadline', async () => {
  pendingPolls = 1_000_000;
  const e = (await adapter(300).setTxt('_acme-challenge.example.com', 'v').catch((err: unknown) => err)) as DnsChallengeError;
  expect(e).toBeInstanceOf(DnsChallengeError);
  expect(e.code).toBe('TIMEOUT');
  expect(e.message).toMatch(/INSYNC|deadline/);
});
