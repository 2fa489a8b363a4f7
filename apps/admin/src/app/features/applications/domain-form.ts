import type { CreateDomainBody, Domain } from '../../core/api/domains-api.service';
import type { FieldProblem, Problem } from '../../core/api/problem';

/**
 * The Domains tab's form as plain values, and the two mappings around it: form → request body, and the API's field
 * errors (JSON pointers into the body) → the form's controls. Pure: the component and its spec share it.
 */
export interface RedirectRow { regex: string; replacement: string; permanent: boolean }
/** `existing`: the username as stored on the server; its password is kept when the password field stays empty. */
export interface BasicAuthRow { username: string; password: string; existing: string | null }
export interface HeaderRow { name: string; value: string }
export interface RateLimitRow { enabled: boolean; average: number | null; burst: number | null; periodSeconds: number | null }

export interface DomainFormValue {
  host: string;
  pathPrefix: string;
  stripPrefix: boolean;
  port: number | null;
  https: boolean;
  redirectHttpToHttps: boolean;
  wwwRedirect: boolean;
  redirects: RedirectRow[];
  basicAuth: BasicAuthRow[];
  responseHeaders: HeaderRow[];
  /** One address or CIDR per line. */
  ipAllowList: string;
  rateLimit: RateLimitRow;
}

export const EMPTY_DOMAIN: DomainFormValue = {
  host: '', pathPrefix: '/', stripPrefix: false, port: null, https: true, redirectHttpToHttps: true, wwwRedirect: false,
  redirects: [], basicAuth: [], responseHeaders: [], ipAllowList: '', rateLimit: { enabled: false, average: null, burst: null, periodSeconds: null },
};

/** A stored domain as the form's value (passwords empty: the API never returns them). */
export function domainToForm(d: Domain): DomainFormValue {
  return {
    host: d.host,
    pathPrefix: d.pathPrefix,
    stripPrefix: d.stripPrefix,
    port: d.port,
    https: d.https,
    redirectHttpToHttps: d.redirectHttpToHttps,
    wwwRedirect: d.wwwRedirect,
    redirects: d.redirects.map((r) => ({ regex: r.regex, replacement: r.replacement, permanent: r.permanent })),
    basicAuth: d.basicAuth.map((u) => ({ username: u.username, password: '', existing: u.username })),
    responseHeaders: Object.entries(d.responseHeaders).map(([name, value]) => ({ name, value })),
    ipAllowList: d.ipAllowList.join('\n'),
    rateLimit: d.rateLimit ? { enabled: true, ...d.rateLimit } : { enabled: false, average: null, burst: null, periodSeconds: null },
  };
}

/** The lines of the allow-list field that hold something (trimmed), in order: what the body's `ipAllowList` is. */
export function allowListEntries(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

/** A wildcard host (`*.example.com`): one label under the base; HTTPS for it needs the DNS-01 challenge. */
export const isWildcardHost = (host: string): boolean => host.trim().startsWith('*.');

/** The hint under the Host field. */
export const WILDCARD_HINT = 'A wildcard (*.example.com) needs HTTPS through DNS-01';

const num = (v: number | string | null): number => (v === null || v === '' ? NaN : Number(v));

/**
 * The whole domain as a request body (the same for create and change: a change with every field replaces them all).
 * Rows keep their order and are never dropped, so a field error's index in the body is the row's index in the form.
 * A basic-auth user without a typed password is sent as `{ username }`: the server keeps that user's password.
 */
export function formToBody(v: DomainFormValue): CreateDomainBody & { rateLimit: CreateDomainBody['rateLimit'] } {
  const headers: Record<string, string> = {};
  for (const h of v.responseHeaders) headers[h.name.trim()] = h.value;
  const path = v.pathPrefix.trim();
  return {
    host: v.host.trim(),
    pathPrefix: path === '' ? '/' : path,
    stripPrefix: v.stripPrefix,
    port: num(v.port),
    https: v.https,
    redirectHttpToHttps: v.https && v.redirectHttpToHttps,
    // A wildcard has no www form (the server refuses the option on one); the form disables it too.
    wwwRedirect: v.wwwRedirect && !isWildcardHost(v.host),
    redirects: v.redirects.map((r) => ({ regex: r.regex, replacement: r.replacement.trim(), permanent: r.permanent })),
    basicAuth: v.basicAuth.map((u) => (u.password === '' ? { username: u.username.trim() } : { username: u.username.trim(), password: u.password })),
    responseHeaders: headers,
    ipAllowList: allowListEntries(v.ipAllowList),
    rateLimit: v.rateLimit.enabled
      ? { average: num(v.rateLimit.average), burst: num(v.rateLimit.burst), ...(v.rateLimit.periodSeconds === null ? {} : { periodSeconds: num(v.rateLimit.periodSeconds) }) }
      : null,
  };
}

const unescape = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');
/** The validator's own field name at the start of a detail (`ipAllowList[1] must be …`): the form says where instead. */
const withoutField = (detail: string) => detail.replace(/^[A-Za-z]+(\[[^\]]*\])*(\.[A-Za-z]+)?\s+/, '');

/**
 * The API's field errors rewritten to point at the form's controls, one error per control (several details joined):
 * - `/responseHeaders/<name>` → the row holding that name (its value field when the message is about the value);
 * - `/ipAllowList/<i>` → the allow-list text, naming the entry;
 * - `/stripPrefix` → the path prefix, `/wwwRedirect` → the host (the checkboxes show no messages);
 * - `/rateLimit` → its average field.
 * What names no field the form shows (a whole list, an unknown field) gets an empty pointer: shown above the form.
 */
export function domainErrorsToForm(problem: Problem, v: DomainFormValue): Problem {
  const entries = allowListEntries(v.ipAllowList);
  const out = new Map<string, FieldProblem>();
  for (const e of problem.errors ?? []) {
    const [field, ...rest] = e.pointer.split('/').filter(Boolean).map(unescape);
    let pointer = '';
    let detail = e.detail;
    if (field === 'host' || field === 'pathPrefix' || field === 'port') {
      pointer = `/${field}`;
    } else if (field === 'stripPrefix') {
      pointer = '/pathPrefix';
    } else if (field === 'wwwRedirect') {
      pointer = '/host';
    } else if ((field === 'redirects' || field === 'basicAuth') && rest.length === 2 && /^\d+$/.test(rest[0])) {
      const leaf = field === 'basicAuth' && rest[1] === 'passwordHash' ? 'password' : rest[1];
      const known = field === 'redirects' ? ['regex', 'replacement'] : ['username', 'password'];
      if (known.includes(leaf) && Number(rest[0]) < v[field].length) pointer = `/${field}/${rest[0]}/${leaf}`;
    } else if (field === 'responseHeaders' && rest.length === 1) {
      const name = rest[0];
      const i = v.responseHeaders.findIndex((h) => h.name.trim() === name || (name.endsWith('…') && h.name.trim().startsWith(name.slice(0, -1))));
      if (i >= 0) pointer = `/responseHeaders/${i}/${/the value/.test(detail) ? 'value' : 'name'}`;
    } else if (field === 'ipAllowList') {
      pointer = '/ipAllowList';
      if (rest.length === 1 && /^\d+$/.test(rest[0]) && entries[Number(rest[0])] !== undefined) detail = `${entries[Number(rest[0])]}: ${withoutField(detail)}`;
    } else if (field === 'rateLimit') {
      pointer = `/rateLimit/${rest.length === 1 && ['average', 'burst', 'periodSeconds'].includes(rest[0]) ? rest[0] : 'average'}`;
    }
    const prev = pointer ? out.get(pointer) : undefined;
    if (prev) prev.detail = `${prev.detail}; ${detail}`;
    else out.set(pointer || `#${out.size}`, { ...e, pointer, detail });
  }
  return { ...problem, errors: [...out.values()] };
}

/** The address a domain answers on, as a link: `https://host/path` (or `http://` without HTTPS). */
export function domainUrl(d: Pick<Domain, 'host' | 'pathPrefix' | 'https'>): string {
  return `${d.https ? 'https' : 'http'}://${d.host}${d.pathPrefix === '/' ? '/' : d.pathPrefix}`;
}

/** A short summary of a domain's options for its row in the list (empty when it has none beyond host and port). */
export function domainSummary(d: Domain): string[] {
  const parts = [`port ${d.port}`];
  if (d.https && d.redirectHttpToHttps) parts.push('HTTP → HTTPS');
  if (d.stripPrefix) parts.push('prefix stripped');
  if (d.wwwRedirect) parts.push(d.host.startsWith('www.') ? 'apex → www' : 'www → apex');
  if (d.redirects.length) parts.push(`${d.redirects.length} redirect${d.redirects.length === 1 ? '' : 's'}`);
  if (d.basicAuth.length) parts.push(`basic auth (${d.basicAuth.map((u) => u.username).join(', ')})`);
  const headers = Object.keys(d.responseHeaders).length;
  if (headers) parts.push(`${headers} response header${headers === 1 ? '' : 's'}`);
  if (d.ipAllowList.length) parts.push(`allow-list: ${d.ipAllowList.length} address${d.ipAllowList.length === 1 ? '' : 'es'}`);
  if (d.rateLimit) parts.push(`rate limit ${d.rateLimit.average}/${d.rateLimit.periodSeconds === 1 ? 's' : `${d.rateLimit.periodSeconds} s`} (burst ${d.rateLimit.burst})`);
  return parts;
}

/** How the portal names a domain: its host, and its path prefix when it has one (`app.example.com/api`). */
export function domainLabel(d: Pick<Domain, 'host' | 'pathPrefix'>): string {
  return d.pathPrefix === '/' ? d.host : `${d.host}${d.pathPrefix}`;
}

/** The header's "Open" links of an application's domains (one per address; a wildcard host has none to open). */
export function domainOpenLinks(domains: readonly Domain[] | null): Array<{ id: string; label: string; href: string }> {
  const seen = new Set<string>();
  const links: Array<{ id: string; label: string; href: string }> = [];
  for (const d of domains ?? []) {
    const href = domainUrl(d);
    if (isWildcardHost(d.host) || seen.has(href)) continue;
    seen.add(href);
    links.push({ id: d.id, label: domainLabel(d), href });
  }
  return links;
}
