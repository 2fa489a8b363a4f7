import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
import { isIP } from 'node:net';

export type WharfRole = 'all' | 'api' | 'worker';

export interface WharfConfig {
  nodeEnv: 'production' | 'development' | 'test';
  role: WharfRole;
  host: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  /** Prefix of every Redis key Wharf writes (queues): lets several installs or test runs share one Redis. */
  queuePrefix: string;
  dataDir: string;
  /** Current key id and every key that may still decrypt (rotation). */
  secretKeyId: string;
  secretKeys: Map<string, Buffer>;
  /** The URL users reach Wharf at; when it is https, Wharf sends HSTS and `upgrade-insecure-requests` and marks cookies Secure. */
  publicUrl: string;
  /**
   * Which peers may set X-Forwarded-For/-Proto (Express's `trust proxy`): `loopback` (default), `false` (none), or
   * addresses, CIDR ranges and the names loopback/linklocal/uniquelocal, comma-separated.
   */
  trustProxy: string[] | false;
  corsOrigins: string[];
  metricsToken: string | null;
  logLevel: string;
  bodyLimit: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** perAccount: failed sign-ins per (account, client address); perAccountTotal: per account from all clients; perIp: per address. */
  loginRateLimit: { perAccount: number; perAccountTotal: number; perIp: number; windowSeconds: number };
  /** How long a worker's claim on a running deployment lasts without renewal (it renews every quarter). */
  deployLeaseMs: number;
  /** Deployments one worker process runs at the same time. */
  deployConcurrency: number;
  /** Docker Engine socket of the local Swarm manager. */
  dockerSocket: string;
  /** The directory Traefik's file provider watches: the worker writes one file per routed application there. */
  traefikDir: string;
  /**
   * The edge: at a routed application's deployment the worker ensures its organization's edge network and the Traefik
   * service attached to every edge network of this install (default on, off under NODE_ENV=test).
   */
  edgeEnabled: boolean;
  /** Traefik's image (a pinned tag or digest; never pulled implicitly as `latest`). */
  traefikImage: string;
  /** Host ports the Traefik service publishes (host mode) for its `web` (:80) and `websecure` (:443) entry points. */
  edgeHttpPort: number;
  edgeHttpsPort: number;
  /** Preset first-run setup token (unattended installs); otherwise one is generated and printed. */
  setupToken: string | null;
  /** ACME certificates: the CA's directories (production and staging), extra CA trust for them, the CAA identities
   * that name that CA, the addresses this install answers on (for the "does the name point here" check) and the
   * resolvers used for those checks (empty: the system's). */
  acme: {
    directoryUrl: string;
    stagingDirectoryUrl: string;
    caPem: string | null;
    caaIdentities: string[];
    publicIps: string[];
    dnsServers: string[];
    /** Where Traefik sends `/.well-known/acme-challenge/` (WHARF_INTERNAL_URL; default: the API on the host, through
     * the docker_gwbridge gateway 172.18.0.1). */
    challengeUpstream: string;
    /** WHARF_WILDCARD_DOMAIN: a name whose every subdomain points here (`203.0.113.7.sslip.io`, `apps.example.com`);
     * new applications get `<app>-<environment>.<it>` as their default domain. */
    wildcardDomain: string | null;
  };
  /**
   * Wharf's own address behind the edge: when WHARF_PUBLIC_URL is https on a domain name, the worker routes that host
   * through Traefik to the API (WHARF_INTERNAL_URL) with a certificate, from the files WHARF_TLS_CERT_FILE and
   * WHARF_TLS_KEY_FILE when both are set, otherwise from ACME (HTTP-01, contact WHARF_ACME_EMAIL). Null host: off.
   */
  instanceTls: { host: string | null; certFile: string | null; keyFile: string | null; email: string | null };
  /**
   * Git sources and builds: whether repositories on private/loopback addresses may be cloned (WHARF_GIT_ALLOW_PRIVATE_HOSTS,
   * default false: SSRF), an extra CA bundle for self-hosted Git servers over https (WHARF_GIT_CA_FILE), the checkout's
   * deadline and size limit, and the build's deadline.
   */
  sources: {
    allowPrivateHosts: boolean; caFile: string | null; checkoutTimeoutMs: number; maxCheckoutBytes: number; buildTimeoutMs: number; keepImages: number;
    /**
     * When a built image is pushed to the application's registry (WHARF_BUILD_PUSH): `multi-node` (default) when its
     * placement spans more than one Swarm node, `always`, or `never`.
     */
    pushBuilds: 'multi-node' | 'always' | 'never';
    /** Base images of generated Dockerfiles (WHARF_BUILD_IMAGE_NODE, …_PYTHON, …_GO, …_STATIC) and pack's builder (WHARF_BUILD_PACK_BUILDER). */
    buildImages: { node: string; python: string; go: string; static: string; packBuilder: string };
    /**
     * Upload sources: the largest archive accepted (WHARF_UPLOAD_MAX_MB), what it may hold once extracted
     * (WHARF_UPLOAD_MAX_EXTRACTED_MB, WHARF_UPLOAD_MAX_ENTRIES), and how many deployments back uploads are kept
     * (WHARF_UPLOADS_KEEP, default WHARF_BUILD_IMAGES_KEEP).
     */
    uploads: { maxBytes: number; maxExtractedBytes: number; maxEntries: number; keep: number };
  };
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

/** Reads `NAME`, or the file named by `NAME_FILE` (for secrets). */
function read(env: Env, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      throw new ConfigError(`${name}_FILE: cannot read ${file}`);
    }
  }
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** A comma-separated list whose items all match `re`. */
function list(env: Env, name: string, def: string[], re: RegExp, what: string): string[] {
  const raw = read(env, name);
  if (raw === undefined) return def;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.find((i) => !re.test(i));
  if (bad !== undefined) throw new ConfigError(`${name}: expected comma-separated ${what}, got "${bad.slice(0, 80)}"`);
  return items;
}

/** An http(s) URL (http only for loopback: a private ACME CA in development). */
function httpsUrl(env: Env, name: string, def: string): string {
  const raw = read(env, name) ?? def;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name}: expected an https URL`);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))) throw new ConfigError(`${name}: expected an https URL`);
  return u.toString();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}: expected an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name}: must be between ${min} and ${max}, got ${n}`);
  return n;
}

function url(env: Env, name: string, def: string, protocols: string[]): string {
  const raw = read(env, name) ?? def;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name}: not a valid URL`);
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(`${name}: protocol must be one of ${protocols.join(', ')}`);
  return raw;
}

/** The Traefik image Wharf runs when WHARF_TRAEFIK_IMAGE is not set (pinned: an upgrade is a deliberate change). */
export const DEFAULT_TRAEFIK_IMAGE = 'traefik:v3.4.1';

/** An image reference with a tag or digest: `[host[:port]/]path[:tag][@sha256:…]`, lowercase path, no whitespace. */
const IMAGE_REF = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

function imageRef(env: Env, name: string, def: string): string {
  const raw = read(env, name) ?? def;
  if (raw.length > 255 || !IMAGE_REF.test(raw)) throw new ConfigError(`${name}: not a valid image reference, got "${raw.slice(0, 100)}"`);
  const last = raw.slice(raw.lastIndexOf('/') + 1);
  if (!last.includes(':') && !raw.includes('@')) throw new ConfigError(`${name}: name a tag or digest (e.g. ${def}), not an implicit latest`);
  return raw;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return def;
  if (['true', '1', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name}: expected true or false, got "${raw}"`);
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** WHARF_TRUST_PROXY: `false`/`none`, or a list of names, addresses and CIDR ranges that Express's `trust proxy` accepts. */
function trustProxy(env: Env): string[] | false {
  const raw = read(env, 'WHARF_TRUST_PROXY') ?? 'loopback';
  if (['false', 'none'].includes(raw.trim())) return false;
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const part of parts) {
    if (PROXY_NAMES.includes(part)) continue;
    const [addr, bits, extra] = part.split('/');
    const family = isIP(addr);
    const max = family === 4 ? 32 : 128;
    if (!family || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max))) {
      throw new ConfigError(`WHARF_TRUST_PROXY: "${part}" is not an address, a CIDR range or one of ${PROXY_NAMES.join(', ')} (or set false)`);
    }
  }
  if (!parts.length) throw new ConfigError('WHARF_TRUST_PROXY: empty; set false to trust no proxy');
  return parts;
}

export function parseSecretKey(name: string, raw: string): Buffer {
  let key: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(raw)) key = Buffer.from(raw, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(raw)) key = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key || key.length !== 32) throw new ConfigError(`${name}: must be 32 bytes, hex (64 chars) or base64 (44 chars)`);
  return key;
}

/**
 * Validates the environment once, at boot. Throws a ConfigError whose message names the setting.
 * Outside production, a missing WHARF_SECRET_KEY is generated into the data directory (mode 0600).
 */
export function loadConfig(env: Env = process.env, notice: (msg: string) => void = () => undefined): WharfConfig {
  const nodeEnvRaw = read(env, 'NODE_ENV') ?? 'development';
  if (!['production', 'development', 'test'].includes(nodeEnvRaw)) throw new ConfigError(`NODE_ENV: must be production, development or test`);
  const nodeEnv = nodeEnvRaw as WharfConfig['nodeEnv'];
  const roleRaw = read(env, 'WHARF_ROLE') ?? 'all';
  if (!['all', 'api', 'worker'].includes(roleRaw)) throw new ConfigError(`WHARF_ROLE: must be all, api or worker, got "${roleRaw}"`);
  const dataDir = resolve(read(env, 'WHARF_DATA_DIR') ?? '.data');

  const secretKeyId = read(env, 'WHARF_SECRET_KEY_ID') ?? 'k1';
  if (!/^[a-z0-9]{1,16}$/.test(secretKeyId)) throw new ConfigError('WHARF_SECRET_KEY_ID: 1-16 characters a-z0-9');
  let rawKey = read(env, 'WHARF_SECRET_KEY');
  if (!rawKey) {
    if (nodeEnv === 'production') throw new ConfigError('WHARF_SECRET_KEY: required in production (32 random bytes, hex or base64)');
    const file = join(dataDir, 'secret.key');
    if (existsSync(file)) {
      rawKey = readFileSync(file, 'utf8').trim();
    } else {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      rawKey = randomBytes(32).toString('hex');
      writeFileSync(file, rawKey + '\n', { mode: 0o600 });
      chmodSync(file, 0o600);
      notice(`WHARF_SECRET_KEY was not set: generated a new key into ${file} (mode 0600). Back it up: secrets stored by Wharf cannot be read without it.`);
    }
  }
  const secretKeys = new Map<string, Buffer>([[secretKeyId, parseSecretKey('WHARF_SECRET_KEY', rawKey)]]);
  const old = read(env, 'WHARF_OLD_SECRET_KEYS');
  if (old) {
    for (const part of old.split(',')) {
      const [kid, value] = part.split(':');
      if (!kid || !value || !/^[a-z0-9]{1,16}$/.test(kid)) throw new ConfigError('WHARF_OLD_SECRET_KEYS: expected "keyid:key,keyid:key"');
      secretKeys.set(kid, parseSecretKey('WHARF_OLD_SECRET_KEYS', value));
    }
  }

  const port = int(env, 'PORT', 3000, 0, 65535);
  const corsRaw = read(env, 'CORS_ORIGINS');
  const corsOrigins = corsRaw ? corsRaw.split(',').map((s) => s.trim()).filter(Boolean) : [];
  for (const o of corsOrigins) {
    try {
      new URL(o);
    } catch {
      throw new ConfigError(`CORS_ORIGINS: "${o}" is not a URL`);
    }
  }
  const queuePrefix = read(env, 'WHARF_QUEUE_PREFIX') ?? 'wharf';
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(queuePrefix)) throw new ConfigError('WHARF_QUEUE_PREFIX: 1-40 characters A-Za-z0-9_-');
  const logLevel = read(env, 'LOG_LEVEL') ?? (nodeEnv === 'test' ? 'warn' : 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new ConfigError('LOG_LEVEL: one of fatal, error, warn, info, debug, trace, silent');
  const edgeHttpPort = int(env, 'WHARF_EDGE_HTTP_PORT', 80, 1, 65535);
  const edgeHttpsPort = int(env, 'WHARF_EDGE_HTTPS_PORT', 443, 1, 65535);
  if (edgeHttpPort === edgeHttpsPort) throw new ConfigError(`WHARF_EDGE_HTTPS_PORT: must differ from WHARF_EDGE_HTTP_PORT (both ${edgeHttpPort})`);
  if (port !== 0 && (edgeHttpPort === port || edgeHttpsPort === port)) throw new ConfigError(`WHARF_EDGE_HTTP_PORT/WHARF_EDGE_HTTPS_PORT: must differ from PORT (${port})`);
  const publicUrl = url(env, 'WHARF_PUBLIC_URL', `http://localhost:${port}`, ['http:', 'https:']).replace(/\/$/, '');
  const bodyLimit = read(env, 'WHARF_BODY_LIMIT') ?? '1mb';
  if (!/^\d+(kb|mb)$/.test(bodyLimit)) throw new ConfigError('WHARF_BODY_LIMIT: like 512kb or 1mb');

  return {
    nodeEnv,
    role: roleRaw as WharfRole,
    host: read(env, 'HOST') ?? '0.0.0.0',
    port,
    databaseUrl: url(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/wharf', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379/0', ['redis:', 'rediss:']),
    queuePrefix,
    dataDir,
    secretKeyId,
    secretKeys,
    publicUrl,
    trustProxy: trustProxy(env),
    corsOrigins,
    metricsToken: read(env, 'WHARF_METRICS_TOKEN') ?? null,
    logLevel,
    bodyLimit,
    accessTokenTtlSeconds: int(env, 'WHARF_ACCESS_TOKEN_TTL', 900, 30, 3600),
    refreshTokenTtlSeconds: int(env, 'WHARF_REFRESH_TOKEN_TTL', 30 * 24 * 3600, 300, 365 * 24 * 3600),
    deployLeaseMs: int(env, 'WHARF_DEPLOY_LEASE_MS', 60_000, 2_000, 3_600_000),
    dockerSocket: read(env, 'WHARF_DOCKER_SOCKET') ?? '/var/run/docker.sock',
    traefikDir: (() => {
      const dir = read(env, 'WHARF_TRAEFIK_DIR');
      if (dir === undefined) return join(dataDir, 'traefik', 'dynamic');
      if (!isAbsolute(dir) || dir.includes('\0') || dir.length > 1024) throw new ConfigError('WHARF_TRAEFIK_DIR: must be an absolute path');
      return resolve(dir);
    })(),
    edgeEnabled: bool(env, 'WHARF_EDGE_ENABLED', nodeEnv !== 'test'),
    traefikImage: imageRef(env, 'WHARF_TRAEFIK_IMAGE', DEFAULT_TRAEFIK_IMAGE),
    edgeHttpPort,
    edgeHttpsPort,
    deployConcurrency: int(env, 'WHARF_DEPLOY_CONCURRENCY', 10, 1, 100),
    setupToken: (() => {
      const t = read(env, 'WHARF_SETUP_TOKEN');
      if (t !== undefined && !/^[A-Za-z0-9_-]{16,200}$/.test(t)) throw new ConfigError('WHARF_SETUP_TOKEN: 16-200 characters A-Za-z0-9_-');
      return t ?? null;
    })(),
    acme: {
      directoryUrl: httpsUrl(env, 'WHARF_ACME_DIRECTORY_URL', 'https://acme-v02.api.letsencrypt.org/directory'),
      stagingDirectoryUrl: httpsUrl(env, 'WHARF_ACME_STAGING_DIRECTORY_URL', 'https://acme-staging-v02.api.letsencrypt.org/directory'),
      caPem: (() => {
        const file = read(env, 'WHARF_ACME_CA_FILE');
        if (file === undefined) return null;
        let pem: string;
        try {
          pem = readFileSync(file, 'utf8');
        } catch {
          throw new ConfigError(`WHARF_ACME_CA_FILE: cannot read ${file}`);
        }
        if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('WHARF_ACME_CA_FILE: expected PEM certificates');
        return pem;
      })(),
      caaIdentities: list(env, 'WHARF_ACME_CAA_IDENTITIES', ['letsencrypt.org'], /^[a-z0-9.-]{1,253}$/i, 'domain names'),
      publicIps: list(env, 'WHARF_PUBLIC_IPS', [], /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]{2,39})$/i, 'IP addresses'),
      challengeUpstream: (() => {
        const raw = read(env, 'WHARF_INTERNAL_URL');
        if (raw === undefined) return `http://172.18.0.1:${port}`;
        if (!/^http:\/\/[A-Za-z0-9.-]{1,253}(:\d{1,5})?\/?$/.test(raw)) throw new ConfigError('WHARF_INTERNAL_URL: expected http://host[:port]');
        return raw.replace(/\/$/, '');
      })(),
      wildcardDomain: (() => {
        const raw = read(env, 'WHARF_WILDCARD_DOMAIN');
        if (raw === undefined) return null;
        const v = raw.toLowerCase().replace(/\.$/, '');
        if (v.length > 200 || !/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(v)) throw new ConfigError('WHARF_WILDCARD_DOMAIN: expected a domain name such as 203.0.113.7.sslip.io (without *.)');
        return v;
      })(),
      dnsServers: list(env, 'WHARF_DNS_SERVERS', [], /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]{2,39}\])(?::\d{1,5})?$/i, 'addresses (ip or ip:port, [v6]:port)'),
    },
    instanceTls: instanceTls(env, publicUrl),
    sources: {
      allowPrivateHosts: bool(env, 'WHARF_GIT_ALLOW_PRIVATE_HOSTS', false),
      caFile: (() => {
        const f = read(env, 'WHARF_GIT_CA_FILE');
        if (f === undefined) return null;
        if (!isAbsolute(f)) throw new ConfigError('WHARF_GIT_CA_FILE: must be an absolute path');
        return f;
      })(),
      checkoutTimeoutMs: int(env, 'WHARF_GIT_TIMEOUT_S', 300, 5, 3600) * 1000,
      maxCheckoutBytes: int(env, 'WHARF_GIT_MAX_MB', 1024, 1, 102400) * 1024 * 1024,
      buildTimeoutMs: int(env, 'WHARF_BUILD_TIMEOUT_S', 1800, 10, 6 * 3600) * 1000,
      keepImages: int(env, 'WHARF_BUILD_IMAGES_KEEP', 10, 1, 1000),
      pushBuilds: (() => {
        const v = read(env, 'WHARF_BUILD_PUSH') ?? 'multi-node';
        if (v !== 'multi-node' && v !== 'always' && v !== 'never') throw new ConfigError('WHARF_BUILD_PUSH: must be multi-node, always or never');
        return v;
      })(),
      buildImages: {
        node: imageRef(env, 'WHARF_BUILD_IMAGE_NODE', 'node:22-alpine'),
        python: imageRef(env, 'WHARF_BUILD_IMAGE_PYTHON', 'python:3.12-slim'),
        go: imageRef(env, 'WHARF_BUILD_IMAGE_GO', 'golang:1.23-alpine'),
        static: imageRef(env, 'WHARF_BUILD_IMAGE_STATIC', 'busybox:1.37'),
        packBuilder: imageRef(env, 'WHARF_BUILD_PACK_BUILDER', 'paketobuildpacks/builder-jammy-base:latest'),
      },
      uploads: {
        maxBytes: int(env, 'WHARF_UPLOAD_MAX_MB', 100, 1, 10240) * 1024 * 1024,
        maxExtractedBytes: int(env, 'WHARF_UPLOAD_MAX_EXTRACTED_MB', 1024, 1, 102400) * 1024 * 1024,
        maxEntries: int(env, 'WHARF_UPLOAD_MAX_ENTRIES', 50000, 1, 1000000),
        keep: int(env, 'WHARF_UPLOADS_KEEP', int(env, 'WHARF_BUILD_IMAGES_KEEP', 10, 1, 1000), 1, 1000),
      },
    },
    loginRateLimit: {
      perAccount: int(env, 'WHARF_LOGIN_LIMIT_PER_ACCOUNT', 10, 1, 100000),
      perAccountTotal: int(env, 'WHARF_LOGIN_LIMIT_PER_ACCOUNT_TOTAL', 10 * int(env, 'WHARF_LOGIN_LIMIT_PER_ACCOUNT', 10, 1, 100000), 1, 1000000),
      perIp: int(env, 'WHARF_LOGIN_LIMIT_PER_IP', 50, 1, 100000),
      windowSeconds: int(env, 'WHARF_LOGIN_LIMIT_WINDOW', 900, 1, 86400),
    },
  };
}

/** See {@link WharfConfig.instanceTls}: the host is WHARF_PUBLIC_URL's when it is https and a domain name (not an address). */
function instanceTls(env: Env, publicUrl: string): WharfConfig['instanceTls'] {
  const u = new URL(publicUrl);
  const name = u.hostname.toLowerCase();
  const isDomain = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name) && name !== 'localhost' && !name.endsWith('.localhost');
  const certFile = read(env, 'WHARF_TLS_CERT_FILE') ?? null;
  const keyFile = read(env, 'WHARF_TLS_KEY_FILE') ?? null;
  if ((certFile === null) !== (keyFile === null)) throw new ConfigError('WHARF_TLS_CERT_FILE and WHARF_TLS_KEY_FILE: set both or neither');
  for (const [n, f] of [['WHARF_TLS_CERT_FILE', certFile], ['WHARF_TLS_KEY_FILE', keyFile]] as const) {
    if (f !== null && !isAbsolute(f)) throw new ConfigError(`${n}: must be an absolute path`);
  }
  const email = read(env, 'WHARF_ACME_EMAIL') ?? null;
  if (email !== null && !/^[^\s@<>()",;:]{1,64}@[A-Za-z0-9.-]{1,253}$/.test(email)) throw new ConfigError('WHARF_ACME_EMAIL: expected an e-mail address');
  return { host: u.protocol === 'https:' && isDomain ? name : null, certFile, keyFile, email };
}

export const WHARF_CONFIG = Symbol('WHARF_CONFIG');
