import { createHmac } from 'node:crypto';
import { buildTxtUpdate, CLASS_NONE, encodeName, parseUpdateResponse, readName, TsigKey, TYPE_TSIG, verifyResponseTsig } from './dns-update-message';

const key: TsigKey = { name: 'acme-key', algorithm: 'hmac-sha256', secret: Buffer.alloc(32, 1) };

/** Builds a server-style signed response to `req` the way BIND does (RFC 8945 §5.3). */
function signedResponse(req: { id: number; mac: Buffer }, rcode: number, signingKey = key, now = Date.now()): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(req.id, 0);
  header.writeUInt16BE(0x8000 | (5 << 11) | rcode, 2);
  header.writeUInt16BE(1, 4);
  const zone = Buffer.concat([encodeName('example.com'), Buffer.from([0, 6, 0, 1])]);
  const body = Buffer.concat([header, zone]);
  const time = Buffer.alloc(6);
  time.writeUIntBE(Math.floor(now / 1000), 0, 6);
  const alg = encodeName('hmac-sha256');
  const h = createHmac('sha256', signingKey.secret);
  const macLen = Buffer.alloc(2);
  macLen.writeUInt16BE(req.mac.length);
  h.update(macLen).update(req.mac).update(body);
  h.update(encodeName(signingKey.name)).update(Buffer.from([0, 255, 0, 0, 0, 0])).update(alg).update(time).update(Buffer.from([1, 44, 0, 0, 0, 0]));
  const mac = h.digest();
  const rdata = Buffer.concat([alg, time, Buffer.from([1, 44, 0, mac.length]), mac, Buffer.from([req.id >> 8, req.id & 0xff, 0, 0, 0, 0])]);
  // The TSIG owner name as a compression pointer would be illegal; BIND writes it in full.
  const tsig = Buffer.concat([encodeName(signingKey.name), Buffer.from([0, TYPE_TSIG, 0, 255, 0, 0, 0, 0, rdata.length >> 8, rdata.length & 0xff]), rdata]);
  const withCount = Buffer.from(body);
  withCount.writeUInt16BE(1, 10);
  return Buffer.concat([withCount, tsig]);
}

it('encodes an UPDATE with zone, one TXT RR and a TSIG whose MAC covers the message', () => {
  const req = buildTxtUpdate('delete', 'example.com', '_acme-challenge.example.com', 'abc', 60, key);
  const m = req.message;
  expect(m.readUInt16BE(2)).toBe(5 << 11);
  expect([m.readUInt16BE(4), m.readUInt16BE(6), m.readUInt16BE(8), m.readUInt16BE(10)]).toEqual([1, 0, 1, 1]);
  const afterZone = 12 + encodeName('example.com').length + 4;
  const rrName = readName(m, afterZone);
  expect(rrName.name).toBe('_acme-challenge.example.com');
  expect(m.readUInt16BE(rrName.next)).toBe(16);
  expect(m.readUInt16BE(rrName.next + 2)).toBe(CLASS_NONE);
  expect(m.readUInt32BE(rrName.next + 4)).toBe(0);
  expect(m.subarray(rrName.next + 10, rrName.next + 14)).toEqual(Buffer.from([3, 0x61, 0x62, 0x63]));
  expect(req.mac).toHaveLength(32);
});

it('verifies a response signed with the key over the request MAC, and refuses tampering, other keys and old times', () => {
  const req = buildTxtUpdate('add', 'example.com', '_acme-challenge.example.com', 'abc', 60, key);
  const res = signedResponse(req, 0);
  const parsed = parseUpdateResponse(res);
  expect(parsed).toMatchObject({ id: req.id, isResponse: true, opcode: 5, rcode: 0 });
  expect(verifyResponseTsig(res, parsed, key, req.mac)).toBe(true);
  expect(verifyResponseTsig(res, parsed, key, Buffer.alloc(32))).toBe(false);
  const tampered = Buffer.from(res);
  tampered[3] ^= 0x01; // rcode bit
  expect(verifyResponseTsig(tampered, parseUpdateResponse(tampered), key, req.mac)).toBe(false);
  const other = signedResponse(req, 0, { ...key, secret: Buffer.alloc(32, 2) });
  expect(verifyResponseTsig(other, parseUpdateResponse(other), key, req.mac)).toBe(false);
  const old = signedResponse(req, 0, key, Date.now() - 3_600_000);
  expect(verifyResponseTsig(old, parseUpdateResponse(old), key, req.mac)).toBe(false);
});

it('refuses malformed responses and compression loops', () => {
  expect(() => parseUpdateResponse(Buffer.alloc(5))).toThrow(/truncated/);
  const loop = Buffer.concat([Buffer.from([0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([0xc0, 12])]);
  expect(() => parseUpdateResponse(loop)).toThrow(/malformed/);
});
