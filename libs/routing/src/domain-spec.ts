/**
 * What a user may configure for one domain of an application, and the validator that turns untrusted input into a
 * `ValidDomainSpec`. Only validated values ever reach the Traefik renderer (its parameter type is the branded
 * `ValidDomainSpec`), and the renderer re-checks every value it places inside a rule (see `ruleLiteral`).
 *
 * Framework-free and pure: no Nest, no database. The API's DTOs and the worker both call `validateDomainSpec`.
 */
import { domainToASCII } from 'node:url';
import { BlockList, isIP } from 'node:net';

export interface RegexRedirect {
  /** A Go RE2 regular expression matched against the full request URL (`https://host/path?query`). */
  regex: string;
  /** The target URL; may use `${1}` / `$1` / `${name}` group references. */
  replacement: string;
  /** 301/308 when true, 302/307 when false. */
  permanent: boolean;
}

export interface BasicAuthUser {
  username: string;
  /** A bcrypt hash (`$2a$`/`$2b$`/`$2y$`, cost 4–31). Plain passwords are never stored: see `hashBasicAuthPassword`. */
  passwordHash: string;
}

export interface RateLimit {
  /** Requests allowed per period on average (per client IP). */
  average: number;
  /** Requests allowed in a burst above the average. */
  burst: number;
  /** The period in seconds (default 1). */
  periodSeconds?: number;
}

export interface DomainSpec {
  /** The host name (lowercase ASCII after validation; IDNs become punycode). `*.example.com` only where allowed. */
  host: string;
  /** Path prefix the domain answers on; `/` (default) for the whole host. Stored without a trailing slash. */
  pathPrefix?: string;
  /** Remove the path prefix before the request reaches the application. */
  stripPrefix?: boolean;
  /** The port the application listens on inside its container. */
  port: number;
  /** Serve on the websecure entry point with TLS. */
  https: boolean;
  /** With https: answer plain HTTP with a permanent redirect to HTTPS (otherwise plain HTTP serves the app too). */
  redirectHttpToHttps?: boolean;
  /**
   * Also answer on the other form of the host (`www.<host>`, or `<host>` without `www.` when the host starts with
   * `www.`) and redirect it permanently to `host`, keeping path and query.
   */
  wwwRedirect?: boolean;
  redirects?: RegexRedirect[];
  basicAuth?: BasicAuthUser[];
  /** Response headers set on every response; an empty value removes the header. */
  responseHeaders?: Record<string, string>;
  /** Client addresses or CIDRs allowed; empty or absent = everyone. */
  ipAllowList?: string[];
  rateLimit?: RateLimit;
}

declare const validated: unique symbol;
/** A `DomainSpec` that went through `validateDomainSpec` (normalized: lowercase host, defaults filled in). */
export type ValidDomainSpec = Readonly<Required<Omit<DomainSpec, 'rateLimit'>>> & {
  readonly rateLimit?: Readonly<Required<RateLimit>>;
  readonly [validated]: true;
};

export interface FieldError {
  /** Field path from the domain object, e.g. `host`, `redirects[2].regex`, `responseHeaders["X-Foo"]`. */
  field: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** A wildcard host (`*.example.com`): it answers on every name one label under `example.com`. */
export const isWildcardHost = (host: string): boolean => host.startsWith('*.');

/** Why a wildcard cannot get a certificate on HTTP-01 (the API refuses such a domain; the issuer fails such an order). */
export const WILDCARD_NEEDS_DNS01 = "wildcard certificates need the DNS-01 challenge; set a DNS provider in the organization's ACME settings";

export interface DomainValidationOptions {
  /** Accept a leading `*.` (wildcard certificates need DNS-01). Default false. */
  allowWildcard?: boolean;
}

export const LIMITS = {
  hostInput: 1024,
  host: 253,
  label: 63,
  pathPrefix: 256,
  redirects: 20,
  regex: 512,
  replacement: 1024,
  basicAuthUsers: 100,
  username: 64,
  headers: 50,
  headerName: 100,
  headerValue: 4096,
  ipAllowList: 100,
  rateLimitValue: 1_000_000,
  rateLimitPeriodSeconds: 3600,
  /** bcrypt ignores bytes after the 72nd: a longer password would be silently shortened. */
  passwordBytes: 72,
} as const;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Characters refused in host input before IDNA mapping (which would percent-decode or drop some of them). */
const HOST_INPUT_REFUSED = /[\p{C}\p{Z}\s%/\\@:?#[\]`'"(){}<>|&*!$;,=+^~]/u;
const PATH_PREFIX = /^\/(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2}|\/)*$/;
/** RFC 7230 `token`. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII, space and tab: no CR, LF, NUL or other control characters, no non-ASCII (not valid in HTTP/1.1). */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** Headers that frame the message or belong to the proxy: setting them from user input would break responses. */
const FORBIDDEN_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'host', 'te', 'trailer', 'proxy-authenticate']);
const USERNAME = /^[A-Za-z0-9._@-]+$/;
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;
/**
 * Traefik runs every file-provider file through Go's text/template before parsing it: `{{ env "X" }}` in a header value
 * would be evaluated (and could leak Traefik's environment). No user value may contain the opening delimiter.
 */
const TEMPLATE_MESSAGE = 'must not contain {{ (Traefik would evaluate it as a template)';
/** Printable ASCII without spaces: a URL template (redirect replacement). */
const URL_TEMPLATE = /^[\x21-\x7e]+$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const quoteKey = (k: string) => JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k);

/** Validates and normalizes a host name. Returns the ASCII (punycode) form or an error message. */
export function normalizeHost(input: unknown, options: DomainValidationOptions = {}): { host: string } | { error: string } {
  if (typeof input !== 'string' || input.length === 0) return { error: 'must be a non-empty string' };
  if (input.length > LIMITS.hostInput) return { error: `must be at most ${LIMITS.host} characters` };
  let rest = input;
  let wildcard = false;
  if (rest.startsWith('*.')) {
    if (!options.allowWildcard) return { error: 'wildcards are not allowed here' };
    wildcard = true;
    rest = rest.slice(2);
  }
  if (HOST_INPUT_REFUSED.test(rest)) return { error: 'contains a character that is not allowed in a host name' };
  const ascii = domainToASCII(rest);
  if (ascii === '') return { error: 'is not a valid host name' };
  if (ascii.endsWith('.')) return { error: 'must not end with a dot' };
  const labels = ascii.split('.');
  if (labels.length < 2) return { error: 'must have at least two labels (a name like app.example.com)' };
  for (const label of labels) {
    if (label.length === 0) return { error: 'must not contain empty labels' };
    if (label.length > LIMITS.label) return { error: `labels must be at most ${LIMITS.label} characters` };
    if (!LABEL.test(label)) return { error: 'labels may contain only letters, digits and inner hyphens' };
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]) || isIP(ascii) !== 0) return { error: 'must be a name, not an IP address' };
  const host = wildcard ? `*.${ascii}` : ascii;
  if (host.length > LIMITS.host) return { error: `must be at most ${LIMITS.host} characters` };
  return { host };
}

/** Validates a path prefix; returns it without a trailing slash (`/` stays `/`). */
export function normalizePathPrefix(input: unknown): { pathPrefix: string } | { error: string } {
  if (input === undefined || input === null || input === '') return { pathPrefix: '/' };
  if (typeof input !== 'string') return { error: 'must be a string' };
  if (input.length > LIMITS.pathPrefix) return { error: `must be at most ${LIMITS.pathPrefix} characters` };
  if (!input.startsWith('/')) return { error: 'must start with /' };
  if (!PATH_PREFIX.test(input)) return { error: 'may contain only letters, digits, - . _ ~ / and %XX escapes' };
  if (input.includes('//')) return { error: 'must not contain //' };
  const segments = input.split('/');
  if (segments.some((s) => s === '.' || s === '..' || /%2e/i.test(s) || /%2f/i.test(s) || /%5c/i.test(s) || /%00/.test(s))) {
    return { error: 'must not contain . or .. segments or encoded dots, slashes or NUL' };
  }
  const trimmed = input.length > 1 ? input.replace(/\/+$/, '') : input;
  return { pathPrefix: trimmed === '' ? '/' : trimmed };
}

/** Parses `a.b.c.d`, `a.b.c.d/n`, `ipv6` or `ipv6/n`; returns the CIDR with an explicit prefix. */
export function normalizeCidr(input: unknown): { cidr: string } | { error: string } {
  if (typeof input !== 'string' || input.length === 0 || input.length > 64) return { error: 'must be an IP address or CIDR' };
  const [address, prefixText, ...extra] = input.split('/');
  if (extra.length > 0 || address.includes('%')) return { error: 'must be an IP address or CIDR' };
  const family = isIP(address);
  if (family === 0) return { error: 'must be an IP address or CIDR' };
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (prefixText !== undefined) {
    if (!/^[0-9]{1,3}$/.test(prefixText)) return { error: 'has an invalid prefix length' };
    prefix = Number(prefixText);
    if (prefix > max) return { error: `prefix length must be at most ${max}` };
  }
  try {
    new BlockList().addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return { error: 'must be an IP address or CIDR' };
  }
  return { cidr: `${address.toLowerCase()}/${prefix}` };
}

/**
 * Checks a redirect regex: length, no control characters, compiles, and uses only what RE2 (Go, Traefik) supports —
 * JavaScript's lookaround and backreferences are refused because Traefik would reject the whole file.
 */
export function checkRedirectRegex(input: unknown): { regex: string } | { error: string } {
  if (typeof input !== 'string' || input.length === 0) return { error: 'must be a non-empty string' };
  if (input.length > LIMITS.regex) return { error: `must be at most ${LIMITS.regex} characters` };
  if (/[\p{C}]/u.test(input) || /[^\x20-\x7e]/.test(input)) return { error: 'must contain only printable ASCII (write other characters as \\x{…})' };
  if (input.includes('{{')) return { error: TEMPLATE_MESSAGE };
  if (/\(\?<?[=!]/.test(input)) return { error: 'lookahead and lookbehind are not supported by Traefik (RE2)' };
  if (/\\[1-9]|\\k</.test(input)) return { error: 'backreferences are not supported by Traefik (RE2)' };
  // RE2 spells named groups (?P<name>…); JavaScript accepts only (?<name>…). Compile the JavaScript equivalent.
  // RE2 also allows leading flags `(?i)`/`(?s)`/`(?m)` and `\A`/`\z`; map them to JavaScript's equivalents.
  const flags = /^\(\?([ims]+)\)/.exec(input);
  const js = (flags ? input.slice(flags[0].length) : input).replace(/\(\?P</g, '(?<').replace(/\\A/g, '^').replace(/\\z/g, '$');
  try {
    new RegExp(js, `u${flags ? [...new Set(flags[1])].join('') : ''}`);
  } catch (e) {
    return { error: `does not compile: ${(e as Error).message.replace(/^Invalid regular expression: /, '').slice(0, 120)}` };
  }
  return { regex: input };
}

/** Validates a domain; on success the value is normalized (lowercase punycode host, defaults filled in). */
export function validateDomainSpec(input: unknown, options: DomainValidationOptions = {}): ValidationResult<ValidDomainSpec> {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  if (!isObject(input)) return { ok: false, errors: [{ field: '', message: 'must be an object' }] };

  const known = new Set(['host', 'pathPrefix', 'stripPrefix', 'port', 'https', 'redirectHttpToHttps', 'wwwRedirect', 'redirects', 'basicAuth', 'responseHeaders', 'ipAllowList', 'rateLimit']);
  for (const key of Object.keys(input)) if (!known.has(key)) fail(key.length > 40 ? `${key.slice(0, 40)}…` : key, 'is not a known field');

  const host = normalizeHost(input.host, options);
  if ('error' in host) fail('host', host.error);
  const path = normalizePathPrefix(input.pathPrefix);
  if ('error' in path) fail('pathPrefix', path.error);

  const bool = (field: string, fallback: boolean): boolean => {
    const v = input[field];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') fail(field, 'must be true or false');
    return v === true;
  };
  const stripPrefix = bool('stripPrefix', false);
  const https = input.https === undefined ? (fail('https', 'is required'), false) : bool('https', false);
  const redirectHttpToHttps = bool('redirectHttpToHttps', false);
  const wwwRedirect = bool('wwwRedirect', false);
  if (redirectHttpToHttps && !https) fail('redirectHttpToHttps', 'needs https');
  if (stripPrefix && 'pathPrefix' in path && path.pathPrefix === '/') fail('stripPrefix', 'needs a path prefix other than /');

  if (!Number.isInteger(input.port) || (input.port as number) < 1 || (input.port as number) > 65535) fail('port', 'must be an integer from 1 to 65535');

  if ('host' in host && wwwRedirect) {
    if (host.host.startsWith('*.')) fail('wwwRedirect', 'is not possible on a wildcard host');
    else if (host.host.startsWith('www.') && host.host.split('.').length < 3) fail('wwwRedirect', 'the host without www. would not be a valid name');
    else if (!host.host.startsWith('www.') && host.host.length + 4 > LIMITS.host) fail('wwwRedirect', 'www. plus the host would be too long');
  }

  const redirects: RegexRedirect[] = [];
  if (input.redirects !== undefined) {
    if (!Array.isArray(input.redirects)) fail('redirects', 'must be a list');
    else if (input.redirects.length > LIMITS.redirects) fail('redirects', `must have at most ${LIMITS.redirects} entries`);
    else input.redirects.forEach((r: unknown, i: number) => {
      const at = `redirects[${i}]`;
      if (!isObject(r)) return fail(at, 'must be an object');
      for (const key of Object.keys(r)) if (!['regex', 'replacement', 'permanent'].includes(key)) fail(`${at}.${key.slice(0, 40)}`, 'is not a known field');
      const regex = checkRedirectRegex(r.regex);
      if ('error' in regex) fail(`${at}.regex`, regex.error);
      const replacement = r.replacement;
      if (typeof replacement !== 'string' || replacement.length === 0) fail(`${at}.replacement`, 'must be a non-empty string');
      else if (replacement.length > LIMITS.replacement) fail(`${at}.replacement`, `must be at most ${LIMITS.replacement} characters`);
      else if (!URL_TEMPLATE.test(replacement)) fail(`${at}.replacement`, 'must be printable ASCII without spaces (percent-encode the rest)');
      else if (replacement.includes('{{')) fail(`${at}.replacement`, TEMPLATE_MESSAGE);
      if (r.permanent !== undefined && typeof r.permanent !== 'boolean') fail(`${at}.permanent`, 'must be true or false');
      if ('regex' in regex && typeof replacement === 'string') redirects.push({ regex: regex.regex, replacement, permanent: r.permanent === true });
    });
  }

  const basicAuth: BasicAuthUser[] = [];
  if (input.basicAuth !== undefined) {
    if (!Array.isArray(input.basicAuth)) fail('basicAuth', 'must be a list');
    else if (input.basicAuth.length > LIMITS.basicAuthUsers) fail('basicAuth', `must have at most ${LIMITS.basicAuthUsers} users`);
    else {
      const seen = new Set<string>();
      input.basicAuth.forEach((u: unknown, i: number) => {
        const at = `basicAuth[${i}]`;
        if (!isObject(u)) return fail(at, 'must be an object');
        for (const key of Object.keys(u)) if (!['username', 'passwordHash'].includes(key)) fail(`${at}.${key.slice(0, 40)}`, 'is not a known field');
        const { username, passwordHash } = u;
        let ok = true;
        if (typeof username !== 'string' || username.length === 0 || username.length > LIMITS.username || !USERNAME.test(username)) {
          fail(`${at}.username`, `must be 1–${LIMITS.username} letters, digits or . _ @ -`);
          ok = false;
        } else if (seen.has(username)) {
          fail(`${at}.username`, 'is listed twice');
          ok = false;
        }
        // Never echo the value: it may be a password typed into the wrong field.
        if (typeof passwordHash !== 'string' || !BCRYPT.test(passwordHash)) {
          fail(`${at}.passwordHash`, 'must be a bcrypt hash');
          ok = false;
        }
        if (ok) {
          seen.add(username as string);
          basicAuth.push({ username: username as string, passwordHash: passwordHash as string });
        }
      });
    }
  }

  const responseHeaders: Record<string, string> = {};
  if (input.responseHeaders !== undefined) {
    if (!isObject(input.responseHeaders)) fail('responseHeaders', 'must be an object of header names to values');
    else {
      const entries = Object.entries(input.responseHeaders);
      if (entries.length > LIMITS.headers) fail('responseHeaders', `must have at most ${LIMITS.headers} headers`);
      else {
        const seen = new Set<string>();
        for (const [name, value] of entries) {
          const at = `responseHeaders[${quoteKey(name)}]`;
          if (name.length === 0 || name.length > LIMITS.headerName || !HEADER_NAME.test(name)) {
            fail(at, 'the header name must be an HTTP token (letters, digits and !#$%&\'*+-.^_`|~)');
            continue;
          }
          if (FORBIDDEN_HEADERS.has(name.toLowerCase())) {
            fail(at, 'this header is managed by the proxy and cannot be set');
            continue;
          }
          if (seen.has(name.toLowerCase())) {
            fail(at, 'is set twice (header names are case-insensitive)');
            continue;
          }
          if (typeof value !== 'string') fail(at, 'the value must be a string');
          else if (value.length > LIMITS.headerValue) fail(at, `the value must be at most ${LIMITS.headerValue} characters`);
          else if (!HEADER_VALUE.test(value)) fail(at, 'the value must be printable ASCII (no line breaks or control characters)');
          else if (value.includes('{{')) fail(at, `the value ${TEMPLATE_MESSAGE}`);
          else {
            seen.add(name.toLowerCase());
            responseHeaders[name] = value.trim();
          }
        }
      }
    }
  }

  const ipAllowList: string[] = [];
  if (input.ipAllowList !== undefined) {
    if (!Array.isArray(input.ipAllowList)) fail('ipAllowList', 'must be a list');
    else if (input.ipAllowList.length > LIMITS.ipAllowList) fail('ipAllowList', `must have at most ${LIMITS.ipAllowList} entries`);
    else input.ipAllowList.forEach((c: unknown, i: number) => {
      const cidr = normalizeCidr(c);
      if ('error' in cidr) fail(`ipAllowList[${i}]`, cidr.error);
      else if (!ipAllowList.includes(cidr.cidr)) ipAllowList.push(cidr.cidr);
    });
  }

  let rateLimit: Required<RateLimit> | undefined;
  if (input.rateLimit !== undefined && input.rateLimit !== null) {
    const r = input.rateLimit;
    if (!isObject(r)) fail('rateLimit', 'must be an object');
    else {
      for (const key of Object.keys(r)) if (!['average', 'burst', 'periodSeconds'].includes(key)) fail(`rateLimit.${key.slice(0, 40)}`, 'is not a known field');
      const int = (field: string, v: unknown, min: number, max: number) => {
        if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
          fail(`rateLimit.${field}`, `must be an integer from ${min} to ${max}`);
          return false;
        }
        return true;
      };
      const a = int('average', r.average, 1, LIMITS.rateLimitValue);
      const b = int('burst', r.burst, 1, LIMITS.rateLimitValue);
      const p = r.periodSeconds === undefined || int('periodSeconds', r.periodSeconds, 1, LIMITS.rateLimitPeriodSeconds);
      if (a && b && p) rateLimit = { average: r.average as number, burst: r.burst as number, periodSeconds: (r.periodSeconds as number | undefined) ?? 1 };
    }
  }

  if (errors.length > 0 || !('host' in host) || !('pathPrefix' in path)) return { ok: false, errors };
  const value = {
    host: host.host,
    pathPrefix: path.pathPrefix,
    stripPrefix,
    port: input.port as number,
    https,
    redirectHttpToHttps,
    wwwRedirect,
    redirects,
    basicAuth,
    responseHeaders,
    ipAllowList,
    ...(rateLimit ? { rateLimit } : {}),
  } as unknown as ValidDomainSpec;
  return { ok: true, value };
}

/** Validates several domains of one application; refuses the same host+path twice. Field paths start with `[i]`. */
export function validateDomainSpecs(input: unknown, options: DomainValidationOptions = {}): ValidationResult<ValidDomainSpec[]> {
  if (!Array.isArray(input)) return { ok: false, errors: [{ field: '', message: 'must be a list' }] };
  const errors: FieldError[] = [];
  const values: ValidDomainSpec[] = [];
  const seen = new Map<string, number>();
  input.forEach((d, i) => {
    const r = validateDomainSpec(d, options);
    if (!r.ok) {
      errors.push(...r.errors.map((e) => ({ field: e.field ? `[${i}].${e.field}` : `[${i}]`, message: e.message })));
      return;
    }
    const key = `${r.value.host}${r.value.pathPrefix}`;
    if (seen.has(key)) errors.push({ field: `[${i}].host`, message: `the same host and path as domain ${seen.get(key)}` });
    else seen.set(key, i);
    values.push(r.value);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: values };
}
