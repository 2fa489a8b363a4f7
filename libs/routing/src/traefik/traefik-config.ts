/**
 * Traefik v3 file-provider dynamic configuration, rendered as data and serialized by the `yaml` package (never built
 * as a string). One file per application; one file for the ACME HTTP-01 challenge router.
 *
 * Every Traefik name (router, service, middleware) is derived from the install id and the application id, never from
 * user text; user values appear only as YAML scalars (quoted by the serializer) and, for host and path, inside rules
 * through `ruleLiteral`, which accepts only what the validator lets through.
 */
import { stringify } from 'yaml';
import { normalizeHost, type ValidDomainSpec } from '../domain-spec';

export const ENTRYPOINT_WEB = 'web';
export const ENTRYPOINT_WEBSECURE = 'websecure';
/** Above any domain router (at most EXACT_HOST_PRIORITY_BASE + a rule length < 1,000). */
export const ACME_CHALLENGE_PRIORITY = 1_000_000;
/**
 * Added to the rule length of every router on an exact host, so it outranks any wildcard router (whose priority is
 * its rule length, < 1,000): Traefik would otherwise prefer the longer `HostRegexp(…)` of `*.example.com` to
 * `Host(`x.example.com`)`. Among routers of one kind the longer rule still wins (a longer path prefix first).
 */
export const EXACT_HOST_PRIORITY_BASE = 10_000;
export const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge/';

export interface TraefikRouter {
  entryPoints: string[];
  rule: string;
  service: string;
  priority?: number;
  middlewares?: string[];
  tls?: Record<string, never>;
}
export interface TraefikService {
  loadBalancer: { servers: { url: string }[]; passHostHeader: boolean };
}
export type TraefikMiddleware =
  | { redirectScheme: { scheme: 'https'; permanent: boolean } }
  | { redirectRegex: { regex: string; replacement: string; permanent: boolean } }
  | { stripPrefix: { prefixes: string[] } }
  | { basicAuth: { users: string[]; removeHeader: boolean } }
  | { headers: { customResponseHeaders: Record<string, string> } }
  | { ipAllowList: { sourceRange: string[] } }
  | { rateLimit: { average: number; burst: number; period: string } };
export interface TlsCertificateFile {
  /** Path of the PEM chain inside Traefik's container. */
  certFile: string;
  /** Path of the PEM key inside Traefik's container. */
  keyFile: string;
}
export interface TraefikDynamicConfig {
  http: {
    routers: Record<string, TraefikRouter>;
    services: Record<string, TraefikService>;
    middlewares?: Record<string, TraefikMiddleware>;
  };
  tls?: { certificates: TlsCertificateFile[] };
}

export class RoutingRenderError extends Error {}

/** Ids that become part of Traefik names, file names and DNS names: lowercase letters, digits, inner hyphens. */
const ID = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
/** A Swarm service name as a DNS name on the edge network. */
const SERVICE_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$/;
const CERT_PATH = /^\/(?:[A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]+$/;

function checkId(kind: string, value: string): string {
  if (typeof value !== 'string' || !ID.test(value)) throw new RoutingRenderError(`${kind} must be lowercase letters, digits and inner hyphens`);
  return value;
}

/**
 * The only way a value enters a rule: wrapped in backticks (Traefik v3 rule syntax). Accepts printable ASCII without
 * spaces, backticks or quotes — validated hosts, paths and the regexes built here from them — and throws otherwise,
 * so a value that slipped past validation cannot close the literal and add `|| Host(…)`.
 */
export function ruleLiteral(value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024 || !/^[\x21-\x7e]+$/.test(value) || /[`'"]/.test(value)) {
    throw new RoutingRenderError('refusing a value that is not safe inside a Traefik rule');
  }
  return `\`${value}\``;
}

/** Escapes a validated host for use inside a Go regular expression. */
const regexEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function hostRule(host: string): string {
  if (host.startsWith('*.')) return `HostRegexp(${ruleLiteral(`^[a-z0-9-]+\\.${regexEscape(host.slice(2))}$`)})`;
  return `Host(${ruleLiteral(host)})`;
}

/** The priority of a router on `host` with `rule`: exact hosts above every wildcard; see EXACT_HOST_PRIORITY_BASE. */
export function routerPriority(host: string, rule: string): number {
  return host.startsWith('*.') ? rule.length : EXACT_HOST_PRIORITY_BASE + rule.length;
}

export function domainRule(host: string, pathPrefix: string): string {
  const h = hostRule(host);
  return pathPrefix === '/' ? h : `${h} && PathPrefix(${ruleLiteral(pathPrefix)})`;
}

/** The other form of a host for the www redirect: `www.x` ↔ `x`. */
export function alternateWwwHost(host: string): string {
  return host.startsWith('www.') ? host.slice(4) : `www.${host}`;
}

/** The name stem of one application's Traefik objects and file. */
export function applicationStem(installId: string, applicationId: string): string {
  return `wharf-${checkId('installId', installId)}-${checkId('applicationId', applicationId)}`;
}

/** The file key (without extension) of one application's dynamic file; see ProxyConfigPort. */
export function applicationFileKey(applicationId: string): string {
  return `app-${checkId('applicationId', applicationId)}`;
}

export const ACME_CHALLENGE_FILE_KEY = 'acme-challenge';

export interface ApplicationRoutingInput {
  installId: string;
  applicationId: string;
  /** The application's Swarm service name (resolvable on the organization's edge network). */
  serviceName: string;
  domains: readonly ValidDomainSpec[];
  /** Certificates Wharf obtained or was given for these domains, as files mounted into Traefik. */
  certificates?: readonly TlsCertificateFile[];
}

/**
 * Renders the dynamic configuration of one application. Per domain `d<i>`:
 *  - `…-d<i>-secure` on websecure (with https) and `…-d<i>-web` on web: either the same chain as the secure router or,
 *    with redirectHttpToHttps, only the redirect to HTTPS;
 *  - with wwwRedirect, `…-d<i>-www-web` (and `-www-secure`) for the other form of the host, redirecting to `host`.
 * Middleware order on a serving router: ipAllowList → rateLimit → headers → redirects → basicAuth → stripPrefix
 * (refuse early, headers also on 401/403 and redirects, strip last so the application sees its own paths).
 */
export function renderApplicationConfig(input: ApplicationRoutingInput): TraefikDynamicConfig {
  const stem = applicationStem(input.installId, input.applicationId);
  if (typeof input.serviceName !== 'string' || !SERVICE_NAME.test(input.serviceName)) throw new RoutingRenderError('serviceName is not a valid service name');
  const routers: Record<string, TraefikRouter> = {};
  const services: Record<string, TraefikService> = {};
  const middlewares: Record<string, TraefikMiddleware> = {};

  input.domains.forEach((d, i) => {
    if (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535) throw new RoutingRenderError(`domain ${i}: invalid port`);
    const service = `${stem}-p${d.port}`;
    services[service] ??= { loadBalancer: { servers: [{ url: `http://${input.serviceName}:${d.port}` }], passHostHeader: true } };
    const name = `${stem}-d${i}`;
    const chain: string[] = [];
    const add = (suffix: string, mw: TraefikMiddleware) => {
      middlewares[`${name}-${suffix}`] = mw;
      chain.push(`${name}-${suffix}`);
    };
    if (d.ipAllowList.length > 0) add('allow', { ipAllowList: { sourceRange: [...d.ipAllowList] } });
    if (d.rateLimit) add('ratelimit', { rateLimit: { average: d.rateLimit.average, burst: d.rateLimit.burst, period: `${d.rateLimit.periodSeconds}s` } });
    if (Object.keys(d.responseHeaders).length > 0) add('headers', { headers: { customResponseHeaders: { ...d.responseHeaders } } });
    d.redirects.forEach((r, j) => add(`redirect${j}`, { redirectRegex: { regex: r.regex, replacement: r.replacement, permanent: r.permanent } }));
    if (d.basicAuth.length > 0) add('auth', { basicAuth: { users: d.basicAuth.map((u) => `${u.username}:${u.passwordHash}`), removeHeader: true } });
    if (d.stripPrefix && d.pathPrefix !== '/') add('strip', { stripPrefix: { prefixes: [d.pathPrefix] } });

    const rule = domainRule(d.host, d.pathPrefix);
    const priority = routerPriority(d.host, rule);
    const withChain = (r: TraefikRouter): TraefikRouter => (chain.length > 0 ? { ...r, middlewares: [...chain] } : r);
    if (d.https) {
      routers[`${name}-secure`] = withChain({ entryPoints: [ENTRYPOINT_WEBSECURE], rule, priority, service, tls: {} });
      if (d.redirectHttpToHttps) {
        middlewares[`${name}-tohttps`] = { redirectScheme: { scheme: 'https', permanent: true } };
        routers[`${name}-web`] = { entryPoints: [ENTRYPOINT_WEB], rule, priority, service, middlewares: [`${name}-tohttps`] };
      } else {
        routers[`${name}-web`] = withChain({ entryPoints: [ENTRYPOINT_WEB], rule, priority, service });
      }
    } else {
      routers[`${name}-web`] = withChain({ entryPoints: [ENTRYPOINT_WEB], rule, priority, service });
    }

    if (d.wwwRedirect) {
      const other = alternateWwwHost(d.host);
      const scheme = d.https ? 'https' : 'http';
      // Built from the validated host only: matches the other form on either scheme and keeps path and query.
      middlewares[`${name}-www`] = {
        redirectRegex: { regex: `^https?://${regexEscape(other)}(?::[0-9]+)?(/.*)?$`, replacement: `${scheme}://${d.host}\${1}`, permanent: true },
      };
      const otherRule = domainRule(other, d.pathPrefix);
      const otherPriority = routerPriority(other, otherRule);
      routers[`${name}-www-web`] = { entryPoints: [ENTRYPOINT_WEB], rule: otherRule, priority: otherPriority, service, middlewares: [`${name}-www`] };
      if (d.https) routers[`${name}-www-secure`] = { entryPoints: [ENTRYPOINT_WEBSECURE], rule: otherRule, priority: otherPriority, service, middlewares: [`${name}-www`], tls: {} };
    }
  });

  const config: TraefikDynamicConfig = { http: { routers, services, ...(Object.keys(middlewares).length > 0 ? { middlewares } : {}) } };
  const certificates = checkCertificateFiles(input.certificates ?? []);
  if (certificates.length > 0) config.tls = { certificates };
  return config;
}

export interface AcmeChallengeInput {
  installId: string;
  /** The Wharf API's Swarm service name on the edge network. */
  apiServiceName?: string;
  apiPort?: number;
  /** Or the API's URL as Traefik reaches it (an API running on the host: the docker_gwbridge gateway), http only. */
  apiUrl?: string;
}

function upstreamOf(input: AcmeChallengeInput): string {
  if (input.apiUrl !== undefined) {
    let u: URL;
    try {
      u = new URL(input.apiUrl);
    } catch {
      throw new RoutingRenderError('apiUrl is not a URL');
    }
    if (u.protocol !== 'http:' || u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) throw new RoutingRenderError('apiUrl must be http://host[:port]');
    return `http://${u.host}`;
  }
  if (typeof input.apiServiceName !== 'string' || !SERVICE_NAME.test(input.apiServiceName)) throw new RoutingRenderError('apiServiceName is not a valid service name');
  if (!Number.isInteger(input.apiPort) || input.apiPort! < 1 || input.apiPort! > 65535) throw new RoutingRenderError('apiPort must be from 1 to 65535');
  return `http://${input.apiServiceName}:${input.apiPort}`;
}

/** The router that sends every `/.well-known/acme-challenge/` request on port 80, for any host, to Wharf's API. */
export function renderAcmeChallengeConfig(input: AcmeChallengeInput): TraefikDynamicConfig {
  const stem = `wharf-${checkId('installId', input.installId)}-acme`;
  const url = upstreamOf(input);
  return {
    http: {
      routers: {
        [`${stem}-challenge`]: {
          entryPoints: [ENTRYPOINT_WEB],
          rule: `PathPrefix(${ruleLiteral(ACME_CHALLENGE_PATH)})`,
          priority: ACME_CHALLENGE_PRIORITY,
          service: `${stem}-api`,
        },
      },
      services: { [`${stem}-api`]: { loadBalancer: { servers: [{ url }], passHostHeader: true } } },
    },
  };
}

function checkCertificateFiles(files: readonly TlsCertificateFile[]): TlsCertificateFile[] {
  return files.map((c, i) => {
    for (const [k, v] of [['certFile', c.certFile], ['keyFile', c.keyFile]] as const) {
      if (typeof v !== 'string' || v.length > 512 || !CERT_PATH.test(v) || v.split('/').some((s) => s === '..' || s === '.')) {
        throw new RoutingRenderError(`certificates[${i}].${k} must be an absolute path of letters, digits and . _ -`);
      }
    }
    return { certFile: c.certFile, keyFile: c.keyFile };
  });
}

export const INSTANCE_FILE_KEY = 'instance';

export interface InstanceRoutingInput extends AcmeChallengeInput {
  /** Wharf's own host (from an https WHARF_PUBLIC_URL), already validated as a domain name. */
  host: string;
  /** Its certificate as files mounted into Traefik; null until one is valid (then plain HTTP keeps serving). */
  certificate: TlsCertificateFile | null;
}

/**
 * Wharf's own portal and API behind the edge: `…-instance-secure` on websecure with TLS and, once a certificate is
 * valid, `…-instance-web` on web redirecting to HTTPS (before that it serves plain HTTP, so the portal stays reachable
 * while the first certificate is ordered). The ACME challenge router outranks both.
 */
export function renderInstanceConfig(input: InstanceRoutingInput): TraefikDynamicConfig {
  const stem = `wharf-${checkId('installId', input.installId)}-instance`;
  const url = upstreamOf(input);
  const host = normalizeHost(input.host);
  if ('error' in host || host.host.startsWith('*.')) throw new RoutingRenderError('host must be a domain name');
  const rule = hostRule(host.host);
  const priority = routerPriority(host.host, rule);
  const service = `${stem}-api`;
  const config: TraefikDynamicConfig = {
    http: {
      routers: { [`${stem}-secure`]: { entryPoints: [ENTRYPOINT_WEBSECURE], rule, priority, service, tls: {} } },
      services: { [service]: { loadBalancer: { servers: [{ url }], passHostHeader: true } } },
    },
  };
  if (input.certificate) {
    config.http.middlewares = { [`${stem}-tohttps`]: { redirectScheme: { scheme: 'https', permanent: true } } };
    config.http.routers[`${stem}-web`] = { entryPoints: [ENTRYPOINT_WEB], rule, priority, service, middlewares: [`${stem}-tohttps`] };
    config.tls = { certificates: checkCertificateFiles([input.certificate]) };
  } else {
    config.http.routers[`${stem}-web`] = { entryPoints: [ENTRYPOINT_WEB], rule, priority, service };
  }
  return config;
}

/** Serializes a config to YAML: no anchors/aliases, no line folding, no Go template actions, a header naming the owner. */
export function toTraefikYaml(config: TraefikDynamicConfig): string {
  const body = stringify(config, { aliasDuplicateObjects: false, lineWidth: 0, minContentWidth: 0 });
  // Traefik evaluates file-provider files as Go templates; the validator refuses `{{` in user values, and this keeps
  // any other path (a forged spec, a serializer quirk) from producing a template action.
  if (body.includes('{{')) throw new RoutingRenderError('refusing to write a Traefik file containing a Go template action');
  return `# Written by Wharf; changes are overwritten.\n${body}`;
}
