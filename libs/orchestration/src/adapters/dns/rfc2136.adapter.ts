/**
 * DnsChallengeSolver by DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945), over TCP (default) or UDP to the zone's
 * primary server (BIND, Knot, PowerDNS, …).
 *
 * - setTxt adds the RR (adding an existing RR is a no-op), clearTxt deletes exactly that value (class NONE; deleting
 *   a missing RR is a no-op), so both are idempotent and other values at the name stay.
 * - A success needs a response with the request's id, QR set, opcode UPDATE, rcode NOERROR and a TSIG that verifies
 *   with the key over this response; failures name the rcode and TSIG error with what to check.
 * - Over UDP a truncated answer is retried over TCP.
 */
import * as dgram from 'node:dgram';
import { isIP, Socket } from 'node:net';
import {
  checkTxtArguments,
  DnsChallengeError,
  DnsChallengeSolver,
  isInZone,
  Rfc2136DnsProviderConfig,
} from '../../ports/dns-challenge.port';
import { abortError, DEFAULT_DNS_CALL_TIMEOUT_MS, withDeadline } from './deadline';
import {
  buildTxtUpdate,
  DnsWireError,
  OPCODE_UPDATE,
  parseUpdateResponse,
  RCODES,
  TSIG_ERRORS,
  TsigKey,
  UpdateResponse,
  verifyResponseTsig,
} from './dns-update-message';

export interface Rfc2136AdapterOptions {
  /** Per-call deadline (default 15 s). */
  timeoutMs?: number;
  /** TTL of the published record (default 60 s). */
  ttl?: number;
}

export class Rfc2136DnsAdapter implements DnsChallengeSolver {
  private readonly key: TsigKey;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly ttl: number;

  constructor(private readonly config: Rfc2136DnsProviderConfig, options: Rfc2136AdapterOptions = {}) {
    this.key = { name: config.tsigKeyName.toLowerCase().replace(/\.$/, ''), algorithm: config.tsigAlgorithm, secret: Buffer.from(config.tsigSecret, 'base64') };
    this.port = config.port ?? 53;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_DNS_CALL_TIMEOUT_MS;
    this.ttl = options.ttl ?? 60;
  }

  setTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.update('add', fqdn, value, signal);
  }

  clearTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.update('delete', fqdn, value, signal);
  }

  private async update(op: 'add' | 'delete', fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const name = checkTxtArguments(fqdn, value);
    const zone = this.config.zone.toLowerCase().replace(/\.$/, '');
    if (!isInZone(name, zone)) {
      throw new DnsChallengeError(`${name} is not in the zone ${zone} this DNS provider updates: configure the provider for the zone that holds it`, 'NOTZONE');
    }
    const what = `the DNS update of ${name} at ${this.config.server}:${this.port}`;
    const deadline = withDeadline(this.timeoutMs, signal);
    const request = buildTxtUpdate(op, zone, name, value, this.ttl, this.key);
    let raw: Buffer;
    try {
      raw = this.config.transport === 'udp' ? await this.exchangeUdp(request.message, request.id, deadline, what) : await exchangeTcp(this.config.server, this.port, request.message, deadline, what);
    } catch (e) {
      throw e instanceof DnsChallengeError ? e : new DnsChallengeError(`${what} failed: ${(e as Error).message}`, 'NETWORK', { cause: e });
    }
    let parsed: UpdateResponse;
    try {
      parsed = parseUpdateResponse(raw);
      if (parsed.truncated && this.config.transport === 'udp') {
        raw = await exchangeTcp(this.config.server, this.port, request.message, deadline, what);
        parsed = parseUpdateResponse(raw);
      }
    } catch (e) {
      if (e instanceof DnsChallengeError) throw e;
      throw new DnsChallengeError(`${what} got an unreadable answer: ${(e as Error).message}`, 'BAD_RESPONSE', { cause: e });
    }
    if (parsed.id !== request.id || !parsed.isResponse || parsed.opcode !== OPCODE_UPDATE) {
      throw new DnsChallengeError(`${what} got an answer that does not belong to the request`, 'BAD_RESPONSE');
    }
    if (parsed.rcode !== 0 || (parsed.tsig && parsed.tsig.error !== 0)) throw this.rcodeError(parsed, name, zone);
    if (!verifyResponseTsig(raw, parsed, this.key, request.mac)) {
      throw new DnsChallengeError(
        `${what}: the server's answer is not signed with TSIG key ${this.key.name} (or its time is off by more than 5 minutes), so the change cannot be trusted`,
        'BAD_RESPONSE_SIGNATURE',
      );
    }
  }

  private rcodeError(r: UpdateResponse, name: string, zone: string): DnsChallengeError {
    const rcode = RCODES[r.rcode] ?? `RCODE_${r.rcode}`;
    const tsigError = r.tsig && r.tsig.error !== 0 ? (TSIG_ERRORS[r.tsig.error] ?? `TSIG error ${r.tsig.error}`) : null;
    const code = tsigError ? `${rcode}/${tsigError}` : rcode;
    const server = `${this.config.server}:${this.port}`;
    const key = `TSIG key ${this.key.name} (${this.key.algorithm})`;
    const says = (m: string) => new DnsChallengeError(`DNS server ${server} answered ${code}: ${m}`, code);
    if (tsigError === 'BADSIG') return says(`it rejected the signature of ${key}; check tsigSecret and tsigAlgorithm`);
    if (tsigError === 'BADKEY') return says(`it does not know ${key}; check tsigKeyName and tsigAlgorithm against the server's key`);
    if (tsigError === 'BADTIME') return says(`the clocks of this host and the DNS server differ by more than 5 minutes; synchronise them (NTP)`);
    if (tsigError) return says(`it rejected the request's TSIG signature`);
    switch (rcode) {
      case 'NOTAUTH':
        return says(`it is not authoritative for the zone ${zone} or does not accept ${key} for it; check server, zone and the key`);
      case 'REFUSED':
        return says(`it refused to update ${name} in ${zone}; allow ${key} to update TXT records there (BIND: update-policy { grant ${this.key.name} zonesub TXT; })`);
      case 'NOTZONE':
        return says(`${name} is not in the zone ${zone} on that server; check the zone`);
      case 'SERVFAIL':
        return says(`it failed to apply the update; see the DNS server's log`);
      case 'NOTIMP':
      case 'FORMERR':
        return says(`it does not accept DNS UPDATE (RFC 2136) requests; point server at the zone's primary`);
      default:
        return says(`the update of ${name} in ${zone} was not applied`);
    }
  }

  private exchangeUdp(message: Buffer, id: number, signal: AbortSignal, what: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortError(signal, what));
      const family = isIP(this.config.server) === 6 ? 'udp6' : 'udp4';
      const socket = dgram.createSocket(family);
      let settled = false;
      const done = (err: Error | null, msg?: Buffer) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        socket.close();
        if (err) reject(err);
        else resolve(msg!);
      };
      const onAbort = () => done(abortError(signal, what));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('error', (e) => done(e));
      socket.on('message', (msg) => {
        // Ignore datagrams that are not the answer to this request (another id); the deadline ends the wait.
        if (msg.length >= 2 && msg.readUInt16BE(0) === id) done(null, msg);
      });
      socket.connect(this.port, this.config.server, () => socket.send(message));
    });
  }
}

/** One request/response over TCP: both with a two-octet length prefix (RFC 1035 §4.2.2). */
export function exchangeTcp(host: string, port: number, message: Buffer, signal: AbortSignal, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal, what));
    const socket = new Socket();
    let buf = Buffer.alloc(0);
    let settled = false;
    const done = (err: Error | null, msg?: Buffer) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(msg!);
    };
    const onAbort = () => done(abortError(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (e) => done(e));
    socket.on('close', () => done(new DnsWireError('the server closed the connection without an answer')));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > 70_000) return done(new DnsWireError('answer too long'));
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(null, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    socket.connect(port, host, () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(message.length);
      socket.write(Buffer.concat([len, message]));
    });
  });
}
