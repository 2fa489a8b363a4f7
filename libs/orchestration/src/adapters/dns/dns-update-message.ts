/**
 * The few DNS wire-format pieces an RFC 2136 TXT update needs, with TSIG (RFC 8945) signing and verification.
 *
 * Encoded by hand: dns-packet (the maintained npm encoder) has the UPDATE opcode but cannot write class NONE (254),
 * which deleting one value of an RRset needs, and has no TSIG record. The message is tiny: one zone entry (zone SOA
 * IN), one update RR, and the TSIG RR in the additional section. Names are written uncompressed and lowercased
 * (TSIG's canonical form); response parsing follows compression pointers with a loop guard.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { TsigAlgorithm } from '../../ports/dns-challenge.port';

export const TYPE_SOA = 6;
export const TYPE_TXT = 16;
export const TYPE_TSIG = 250;
export const CLASS_IN = 1;
export const CLASS_NONE = 254;
export const CLASS_ANY = 255;
export const OPCODE_UPDATE = 5;
const FUDGE_SECONDS = 300;

export const RCODES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 6: 'YXDOMAIN', 7: 'YXRRSET',
  8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE',
};
export const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

export interface TsigKey {
  /** Normalised (lowercase, no trailing dot). */
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

export class DnsWireError extends Error {}

/** The uncompressed wire form of a normalised name (labels checked by the caller; at most 255 octets). */
export function encodeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.toLowerCase().replace(/\.$/, '').split('.').filter((l) => l !== '')) {
    const b = Buffer.from(label, 'ascii');
    if (b.length === 0 || b.length > 63) throw new DnsWireError('a DNS label must be 1 to 63 octets');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new DnsWireError('a DNS name must be at most 255 octets');
  return out;
}

const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u48 = (n: number) => {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
};

function rr(name: string, type: number, klass: number, ttl: number, rdata: Buffer): Buffer {
  return Buffer.concat([encodeName(name), u16(type), u16(klass), u32(ttl), u16(rdata.length), rdata]);
}

export function txtRdata(value: string): Buffer {
  const b = Buffer.from(value, 'ascii');
  if (b.length > 255) throw new DnsWireError('a TXT string must be at most 255 octets');
  return Buffer.concat([Buffer.from([b.length]), b]);
}

const algorithmName = (a: TsigAlgorithm) => a; // `hmac-sha256.` / `hmac-sha512.` on the wire (RFC 8945 §6)
const hmacOf = (a: TsigAlgorithm) => (a === 'hmac-sha256' ? 'sha256' : 'sha512');

export interface UpdateRequest {
  id: number;
  message: Buffer;
  /** The request's MAC, which the response's MAC covers. */
  mac: Buffer;
}

/** A signed UPDATE that adds (`add`) or deletes (`delete`, class NONE) one TXT value at `name` in `zone`. */
export function buildTxtUpdate(op: 'add' | 'delete', zone: string, name: string, value: string, ttl: number, key: TsigKey, now = Date.now()): UpdateRequest {
  const id = randomInt(0, 0x10000);
  const update = op === 'add' ? rr(name, TYPE_TXT, CLASS_IN, ttl, txtRdata(value)) : rr(name, TYPE_TXT, CLASS_NONE, 0, txtRdata(value));
  const zoneSection = Buffer.concat([encodeName(zone), u16(TYPE_SOA), u16(CLASS_IN)]);
  const header = (arcount: number) => Buffer.concat([u16(id), u16(OPCODE_UPDATE << 11), u16(1), u16(0), u16(1), u16(arcount)]);
  const unsigned = Buffer.concat([header(0), zoneSection, update]);
  const timeSigned = Math.floor(now / 1000);
  const mac = tsigMac(key, [unsigned], timeSigned, 0, Buffer.alloc(0));
  const tsigRdata = Buffer.concat([
    encodeName(algorithmName(key.algorithm)), u48(timeSigned), u16(FUDGE_SECONDS), u16(mac.length), mac, u16(id), u16(0), u16(0),
  ]);
  const message = Buffer.concat([header(1), zoneSection, update, rr(key.name, TYPE_TSIG, CLASS_ANY, 0, tsigRdata)]);
  return { id, message, mac };
}

/** HMAC over `parts` followed by the TSIG variables (RFC 8945 §4.3.3). */
function tsigMac(key: TsigKey, parts: Buffer[], timeSigned: number, error: number, other: Buffer): Buffer {
  const h = createHmac(hmacOf(key.algorithm), key.secret);
  for (const p of parts) h.update(p);
  h.update(encodeName(key.name));
  h.update(u16(CLASS_ANY));
  h.update(u32(0));
  h.update(encodeName(algorithmName(key.algorithm)));
  h.update(u48(timeSigned));
  h.update(u16(FUDGE_SECONDS));
  h.update(u16(error));
  h.update(u16(other.length));
  h.update(other);
  return h.digest();
}

// ---------------------------------------------------------------------------------------------------------------------
// Responses

export interface ParsedTsig {
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
  /** Where the TSIG RR starts in the message. */
  offset: number;
}

export interface UpdateResponse {
  id: number;
  isResponse: boolean;
  opcode: number;
  truncated: boolean;
  rcode: number;
  tsig: ParsedTsig | null;
}

/** Reads a (possibly compressed) name at `offset`; returns it and the offset after it in the original position. */
export function readName(msg: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  for (let hops = 0; ; hops++) {
    if (hops > 128 || pos >= msg.length) throw new DnsWireError('malformed name in DNS response');
    const len = msg[pos];
    if (len === 0) {
      pos += 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) throw new DnsWireError('malformed name in DNS response');
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | msg[pos + 1];
      continue;
    }
    if ((len & 0xc0) !== 0 || pos + 1 + len > msg.length) throw new DnsWireError('malformed name in DNS response');
    labels.push(msg.subarray(pos + 1, pos + 1 + len).toString('latin1').toLowerCase());
    pos += 1 + len;
  }
  return { name: labels.join('.'), next: next < 0 ? pos : next };
}

function need(msg: Buffer, offset: number, n: number) {
  if (offset + n > msg.length) throw new DnsWireError('truncated DNS response');
}

export function parseUpdateResponse(msg: Buffer): UpdateResponse {
  need(msg, 0, 12);
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  const counts = [msg.readUInt16BE(4), msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)];
  let pos = 12;
  for (let i = 0; i < counts[0]; i++) {
    pos = readName(msg, pos).next;
    need(msg, pos, 4);
    pos += 4;
  }
  let tsig: ParsedTsig | null = null;
  const rrTotal = counts[1] + counts[2] + counts[3];
  for (let i = 0; i < rrTotal; i++) {
    const start = pos;
    const owner = readName(msg, pos);
    pos = owner.next;
    need(msg, pos, 10);
    const type = msg.readUInt16BE(pos);
    const rdlength = msg.readUInt16BE(pos + 8);
    pos += 10;
    need(msg, pos, rdlength);
    const rdEnd = pos + rdlength;
    if (type === TYPE_TSIG) {
      if (i !== rrTotal - 1) throw new DnsWireError('TSIG record is not the last record of the DNS response');
      const alg = readName(msg, pos);
      let p = alg.next;
      need(msg, p, 10);
      const timeSigned = msg.readUIntBE(p, 6);
      const fudge = msg.readUInt16BE(p + 6);
      const macSize = msg.readUInt16BE(p + 8);
      p += 10;
      need(msg, p, macSize + 6);
      const mac = msg.subarray(p, p + macSize);
      p += macSize;
      const originalId = msg.readUInt16BE(p);
      const error = msg.readUInt16BE(p + 2);
      const otherLen = msg.readUInt16BE(p + 4);
      p += 6;
      need(msg, p, otherLen);
      const other = msg.subarray(p, p + otherLen);
      if (p + otherLen !== rdEnd) throw new DnsWireError('malformed TSIG record in DNS response');
      tsig = { keyName: owner.name, algorithm: alg.name, timeSigned, fudge, mac, originalId, error, other, offset: start };
    }
    pos = rdEnd;
  }
  return { id, isResponse: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf, truncated: (flags & 0x0200) !== 0, rcode: flags & 0xf, tsig };
}

/**
 * True when the response's TSIG was made with `key` over this response to the request whose MAC is `requestMac`
 * (RFC 8945 §5.3), and its time is within the fudge of `now`.
 */
export function verifyResponseTsig(msg: Buffer, parsed: UpdateResponse, key: TsigKey, requestMac: Buffer, now = Date.now()): boolean {
  const t = parsed.tsig;
  if (!t || t.mac.length === 0) return false;
  if (t.keyName !== key.name || t.algorithm !== algorithmName(key.algorithm)) return false;
  const body = Buffer.from(msg.subarray(0, t.offset));
  body.writeUInt16BE(t.originalId, 0);
  body.writeUInt16BE(msg.readUInt16BE(10) - 1, 10);
  const h = createHmac(hmacOf(key.algorithm), key.secret);
  h.update(u16(requestMac.length));
  h.update(requestMac);
  h.update(body);
  h.update(encodeName(t.keyName));
  h.update(u16(CLASS_ANY));
  h.update(u32(0));
  h.update(encodeName(t.algorithm));
  h.update(u48(t.timeSigned));
  h.update(u16(t.fudge));
  h.update(u16(t.error));
  h.update(u16(t.other.length));
  h.update(t.other);
  const expected = h.digest();
  if (expected.length !== t.mac.length || !timingSafeEqual(expected, t.mac)) return false;
  return Math.abs(Math.floor(now / 1000) - t.timeSigned) <= t.fudge;
}
