/**
 * DNS providers for ACME DNS-01 (their configuration, its validation, and name helpers). Pure: shared by the API
 * (which validates and stores a provider, encrypted) and the worker's adapters (libs/orchestration/src/adapters/dns).
 */
export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512';

export interface Rfc2136DnsProviderConfig {
  kind: 'rfc2136';
  /** Host name or IP address of the primary (authoritative) server that accepts updates. */
  server: string;
  /** Default 53. */
  port?: number;
  /** Default 'tcp'. */
  transport?: 'tcp' | 'udp';
  /** The zone the records belong to (e.g. `example.com`). */
  zone: string;
  tsigKeyName: string;
  tsigAlgorithm: TsigAlgorithm;
  /** base64 */
  tsigSecret: string;
}

export interface CloudflareDnsProviderConfig {
  kind: 'cloudflare';
  /** An API token with Zone:DNS:Edit (and Zone:Read when zoneId is missing). */
  apiToken: string;
  /** When missing, the zone whose name is the longest suffix of the record name is looked up. */
  zoneId?: string;
  /** Tests only. Default https://api.cloudflare.com/client/v4 */
  apiBase?: string;
}

export interface Route53DnsProviderConfig {
  kind: 'route53';
  accessKeyId: string;
  secretAccessKey: string;
  hostedZoneId: string;
  /** Default us-east-1 (Route 53 is global). */
  region?: string;
  /** Tests only. */
  endpoint?: string;
}

/** pebble-challtestsrv's management API, tests and development only. */
export interface ChalltestsrvDnsProviderConfig {
  kind: 'challtestsrv';
  managementUrl: string;
}

export type DnsProviderConfig =
  | Rfc2136DnsProviderConfig
  | CloudflareDnsProviderConfig
  | Route53DnsProviderConfig
  | ChalltestsrvDnsProviderConfig;

export type DnsProviderKind = DnsProviderConfig['kind'];

/** A provider refused or failed a change; the message says what to fix and never holds a secret. */
export class DnsChallengeError extends Error {
  constructor(message: string, readonly code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DnsChallengeError';
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Names and values

const LABEL = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$/;

/**
 * `name` lowercased without a trailing dot when it is a DNS name (letters, digits, hyphens and underscores in labels of
 * 1 to 63 characters, at least two labels, at most 253 characters); otherwise null.
 */
export function normaliseDnsName(name: unknown): string | null {
  if (typeof name !== 'string') return null;
  let n = name.toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  if (n.length === 0 || n.length > 253) return null;
  const labels = n.split('.');
  if (labels.length < 2) return null;
  return labels.every((l) => LABEL.test(l)) ? n : null;
}

/** True when `name` is `zone` or below it (both normalised). */
export function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** A TXT value: 1 to 255 printable ASCII characters without spaces, quotes or backslashes (ACME's are base64url). */
export const TXT_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/;

/** Throws a DnsChallengeError unless fqdn is a DNS name and value a TXT value; returns the normalised name. */
export function checkTxtArguments(fqdn: unknown, value: unknown): string {
  const name = normaliseDnsName(fqdn);
  if (!name) throw new DnsChallengeError('the record name must be a DNS name such as _acme-challenge.example.com', 'INVALID_NAME');
  if (typeof value !== 'string' || !TXT_VALUE.test(value)) {
    throw new DnsChallengeError('the TXT value must be 1 to 255 printable characters without spaces, quotes or backslashes', 'INVALID_VALUE');
  }
  return name;
}

// ---------------------------------------------------------------------------------------------------------------------
// Configuration validation

export type DnsProviderConfigValidation =
  | { ok: true; value: DnsProviderConfig }
  | { ok: false; errors: Array<{ field: string; message: string }> };

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9a-f:.]{2,45}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Credentials and ids: visible ASCII only (no CR/LF, spaces or control characters). */
const TOKEN = /^[\x21-\x7e]+$/;

function isIpv6(s: string): boolean {
  if (!IPV6.test(s) || !s.includes(':')) return false;
  // node:net would be exact; keep this file dependency-free: at most one '::' and 8 groups.
  const double = s.split('::').length - 1;
  if (double > 1) return false;
  const groups = s.split(':').filter((g) => g !== '');
  return groups.length <= 8 && groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g) || IPV4.test(g));
}

/** A host for a server field: an IPv4/IPv6 address or a DNS name (single-label names such as `localhost` allowed). */
function isHost(s: string): boolean {
  if (IPV4.test(s) || isIpv6(s)) return true;
  if (s.length > 253) return false;
  return s.split('.').every((l) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(l));
}

function isHttpUrl(s: string): boolean {
  if (/[\s]/.test(s)) return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '' && u.search === '' && u.hash === '';
  } catch {
    return false;
  }
}

const KINDS: readonly DnsProviderKind[] = ['rfc2136', 'cloudflare', 'route53', 'challtestsrv'];
const FIELDS: Record<DnsProviderKind, readonly string[]> = {
  rfc2136: ['kind', 'server', 'port', 'transport', 'zone', 'tsigKeyName', 'tsigAlgorithm', 'tsigSecret'],
  cloudflare: ['kind', 'apiToken', 'zoneId', 'apiBase'],
  route53: ['kind', 'accessKeyId', 'secretAccessKey', 'hostedZoneId', 'region', 'endpoint'],
  challtestsrv: ['kind', 'managementUrl'],
};

/** Checks untrusted input (API bodies, stored settings); errors name the field and never echo a value. */
export function validateDnsProviderConfig(input: unknown): DnsProviderConfigValidation {
  const errors: Array<{ field: string; message: string }> = [];
  const err = (field: string, message: string) => errors.push({ field, message });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '', message: 'must be an object' }] };
  }
  const o = input as Record<string, unknown>;
  const kind = o.kind as DnsProviderKind;
  if (typeof kind !== 'string' || !KINDS.includes(kind)) {
    return { ok: false, errors: [{ field: 'kind', message: `must be one of ${KINDS.join(', ')}` }] };
  }
  for (const k of Object.keys(o)) if (!FIELDS[kind].includes(k)) err(k, `is not a field of a ${kind} provider`);

  const str = (field: string, required: boolean, max: number): string | undefined => {
    const v = o[field];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.length === 0) {
      err(field, 'is required');
      return undefined;
    }
    if (v.length > max) {
      err(field, `must be at most ${max} characters`);
      return undefined;
    }
    return v;
  };
  const token = (field: string, required: boolean, max: number): string | undefined => {
    const v = str(field, required, max);
    if (v !== undefined && !TOKEN.test(v)) {
      err(field, 'must be printable characters without spaces or line breaks');
      return undefined;
    }
    return v;
  };
  const url = (field: string, required: boolean): string | undefined => {
    const v = str(field, required, 2048);
    if (v !== undefined && !isHttpUrl(v)) {
      err(field, 'must be an http(s) URL without credentials, query or fragment');
      return undefined;
    }
    return v;
  };

  let value: DnsProviderConfig | undefined;
  switch (kind) {
    case 'rfc2136': {
      const server = str('server', true, 253);
      if (server !== undefined && !isHost(server)) err('server', 'must be a host name or an IP address');
      let port: number | undefined;
      if (o.port !== undefined) {
        if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535) err('port', 'must be an integer from 1 to 65535');
        else port = o.port;
      }
      let transport: 'tcp' | 'udp' | undefined;
      if (o.transport !== undefined) {
        if (o.transport !== 'tcp' && o.transport !== 'udp') err('transport', 'must be tcp or udp');
        else transport = o.transport;
      }
      const zoneRaw = str('zone', true, 254);
      const zone = zoneRaw === undefined ? undefined : normaliseDnsName(zoneRaw);
      if (zoneRaw !== undefined && !zone) err('zone', 'must be a DNS name such as example.com');
      const keyRaw = str('tsigKeyName', true, 254);
      const keyName = keyRaw === undefined ? undefined : normaliseDnsName(keyRaw) ?? (/^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?$/i.test(keyRaw) ? keyRaw.toLowerCase().replace(/\.$/, '') : null);
      if (keyRaw !== undefined && !keyName) err('tsigKeyName', 'must be a DNS name (letters, digits, hyphens, underscores and dots)');
      const algorithm = o.tsigAlgorithm;
      if (algorithm !== 'hmac-sha256' && algorithm !== 'hmac-sha512') err('tsigAlgorithm', 'must be hmac-sha256 or hmac-sha512');
      const secret = str('tsigSecret', true, 1024);
      if (secret !== undefined && (!BASE64.test(secret) || Buffer.from(secret, 'base64').length < 16)) {
        err('tsigSecret', 'must be base64 of at least 16 bytes (as tsig-keygen prints it)');
      }
      if (errors.length === 0) {
        value = {
          kind, server: server!, zone: zone!, tsigKeyName: keyName!, tsigAlgorithm: algorithm as TsigAlgorithm, tsigSecret: secret!,
          ...(port !== undefined ? { port } : {}),
          ...(transport !== undefined ? { transport } : {}),
        };
      }
      break;
    }
    case 'cloudflare': {
      const apiToken = token('apiToken', true, 512);
      const zoneId = str('zoneId', false, 64);
      if (zoneId !== undefined && !/^[a-f0-9]{32}$/i.test(zoneId)) err('zoneId', 'must be a Cloudflare zone id (32 hexadecimal characters)');
      const apiBase = url('apiBase', false);
      if (errors.length === 0) value = { kind, apiToken: apiToken!, ...(zoneId ? { zoneId } : {}), ...(apiBase ? { apiBase } : {}) };
      break;
    }
    case 'route53': {
      const accessKeyId = str('accessKeyId', true, 128);
      if (accessKeyId !== undefined && !/^[A-Z0-9]{16,128}$/.test(accessKeyId)) err('accessKeyId', 'must be an AWS access key id (capital letters and digits)');
      const secretAccessKey = token('secretAccessKey', true, 256);
      const hostedZoneIdRaw = str('hostedZoneId', true, 64);
      const hostedZoneId = hostedZoneIdRaw?.replace(/^\/hostedzone\//, '');
      if (hostedZoneId !== undefined && !/^[A-Z0-9]{1,32}$/.test(hostedZoneId)) err('hostedZoneId', 'must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ');
      const region = str('region', false, 32);
      if (region !== undefined && !/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/.test(region)) err('region', 'must be an AWS region such as us-east-1');
      const endpoint = url('endpoint', false);
      if (errors.length === 0) {
        value = {
          kind, accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey!, hostedZoneId: hostedZoneId!,
          ...(region ? { region } : {}),
          ...(endpoint ? { endpoint } : {}),
        };
      }
      break;
    }
    case 'challtestsrv': {
      const managementUrl = url('managementUrl', true);
      if (errors.length === 0) value = { kind, managementUrl: managementUrl! };
      break;
    }
  }
  return errors.length === 0 && value ? { ok: true, value } : { ok: false, errors };
}
