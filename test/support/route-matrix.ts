/**
 * The route matrix: every operation of the running app's OpenAPI document, a two-organization fixture with one of each
 * resource seeded in organization A, and helpers that fill path parameters, derive request bodies from the schemas,
 * and snapshot the database. The security suites (test/e2e/security) iterate over it, so a route added anywhere in
 * the app is covered without touching the tests.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { Client } from 'pg';
import request from 'supertest';
import type { TestApp } from './app';
import { addMember, PASSWORD, Session, setupOwner } from './api';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export const MUTATING: readonly Method[] = ['post', 'put', 'patch', 'delete'];

export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  nullable?: boolean;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  additionalProperties?: boolean | Schema;
  default?: unknown;
  example?: unknown;
}

export interface OpenApiDoc {
  paths: Record<string, Record<string, { operationId?: string; summary?: string; parameters?: Array<{ in: string; name: string; required?: boolean; schema?: Schema }>; requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> } }>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Operation {
  method: Method;
  /** Path template as in the document, e.g. `/api/v1/organizations/{orgId}/roles/{roleId}`. */
  path: string;
  label: string;
  operationId?: string;
  pathParams: string[];
  requiredQuery: Array<{ name: string; schema?: Schema }>;
  /** Resolved JSON body schema (null: the operation takes no JSON body). */
  body: Schema | null;
}

/** Routes that take no tenant id from the path, with the reason they are outside the tenant matrices. */
export const OUTSIDE_TENANT_MATRIX: Array<{ re: RegExp; reason: string }> = [
  { re: /^\/api\/v1\/auth(\/|$)/, reason: 'authentication endpoints (setup, login, refresh, logout, OIDC sign-in): no tenant ids; covered by escalation/hostile-input suites' },
  { re: /^\/api\/v1\/me(\/|$)/, reason: "the caller's own account (sessions, personal keys, 2FA): scoped by the caller, not by a path id" },
  { re: /^\/api\/v1\/invitations\/accept$/, reason: 'public, bound to the invitation token and email; covered by escalation.test.ts' },
  { re: /^\/health(\/|$)/, reason: 'public liveness/readiness probes' },
  { re: /^\/metrics$/, reason: 'Prometheus scrape endpoint, no tenant data' },
  { re: /^\/api\/v1\/webhooks(\/|$)/, reason: 'public, authenticated by HMAC signature rather than a principal' },
  { re: /^\/api\/v1\/git-providers\/oauth\/callback$/, reason: "public OAuth redirect URI: bound to a single-use state, the browser's binding cookie and the caller who started it; covered by test/e2e/sources/gitlab-oauth.test.ts" },
];

/**
 * Instance-scoped routes (instance admins only): another organization's id in the path must not be an existence
 * oracle, so the answer must be the same as for a random id (403 for non-admins, whatever the id).
 */
export const INSTANCE_SCOPED: Array<{ re: RegExp; reason: string }> = [
  { re: /^\/api\/v1\/audit-events(\/|$)/, reason: 'the instance audit chain: instance admins only' },
  { re: /^\/api\/v1\/instance(\/|$)/, reason: 'instance settings: instance admins only' },
];

export function instanceScoped(op: Operation): boolean {
  return INSTANCE_SCOPED.some((r) => r.re.test(op.path));
}

export function outsideReason(op: Operation): string | null {
  return OUTSIDE_TENANT_MATRIX.find((r) => r.re.test(op.path))?.reason ?? null;
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAPI document

export async function loadOpenApi(t: TestApp): Promise<OpenApiDoc> {
  const res = await request(t.server).get('/api/docs-json');
  if (res.status !== 200) throw new Error(`GET /api/docs-json answered ${res.status}`);
  return res.body as OpenApiDoc;
}

export function resolve(doc: OpenApiDoc, s: Schema | undefined, depth = 0): Schema {
  if (!s || depth > 12) return {};
  if (s.$ref) {
    const name = s.$ref.replace('#/components/schemas/', '');
    return resolve(doc, doc.components?.schemas?.[name], depth + 1);
  }
  if (s.allOf?.length) {
    const merged: Schema = { type: 'object', properties: {}, required: [] };
    for (const part of s.allOf.map((p) => resolve(doc, p, depth + 1))) {
      Object.assign(merged.properties!, part.properties ?? {});
      merged.required!.push(...(part.required ?? []));
    }
    return { ...s, ...merged, allOf: undefined };
  }
  return s;
}

export function operationsOf(doc: OpenApiDoc): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [m, o] of Object.entries(item)) {
      const method = m.toLowerCase() as Method;
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const json = o.requestBody?.content?.['application/json']?.schema;
      ops.push({
        method,
        path,
        label: `${method.toUpperCase()} ${path}`,
        operationId: o.operationId,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((x) => x[1]),
        requiredQuery: (o.parameters ?? []).filter((p) => p.in === 'query' && p.required).map((p) => ({ name: p.name, schema: p.schema })),
        body: json ? resolve(doc, json) : null,
      });
    }
  }
  return ops.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** Every string-valued property of a body schema, as JSON pointers (nested objects followed one level down). */
export function stringPointers(doc: OpenApiDoc, schema: Schema | null, prefix = '', depth = 0): string[] {
  if (!schema || depth > 2) return [];
  const s = resolve(doc, schema);
  const out: string[] = [];
  for (const [name, raw] of Object.entries(s.properties ?? {})) {
    const p = resolve(doc, raw);
    if (p.type === 'string' || (!p.type && p.enum?.every((e) => typeof e === 'string'))) out.push(`${prefix}/${name}`);
    else if (p.type === 'object' || p.properties) out.push(...stringPointers(doc, p, `${prefix}/${name}`, depth + 1));
    else if (p.type === 'array' && p.items) {
      const item = resolve(doc, p.items);
      if (item.type === 'object' || item.properties) out.push(...stringPointers(doc, item, `${prefix}/${name}/0`, depth + 1));
    }
  }
  return out;
}

export function getPointer(obj: unknown, pointer: string): unknown {
  let cur: unknown = obj;
  for (const k of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

export function setPointer(obj: Record<string, unknown>, pointer: string, value: unknown): void {
  const keys = pointer.split('/').slice(1);
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (!cur[k] || typeof cur[k] !== 'object') cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]] = value;
}

// ---------------------------------------------------------------------------------------------------------------
// Values and bodies

let seq = 0;
export const unique = (): string => `${Date.now().toString(36)}${(++seq).toString(36)}${randomBytes(2).toString('hex')}`;

/** Property-name conventions: values that pass the usual validators for such names. */
const NAMED: Array<[RegExp, () => unknown]> = [
  [/email/i, () => `sec-${unique()}@example.com`],
  [/^(newPassword|password|currentPassword)$/i, () => `pw-${unique()}-long-enough`],
  [/(issuer|url|uri|endpoint|homepage)$/i, () => 'https://issuer.example.com'],
  [/^slug$/i, () => `seed-${unique()}`],
  [/^(key|variableKey)$/i, () => `SEED_${unique().toUpperCase()}`],
  [/clientId$/i, () => `client-${unique()}`],
  [/secret$/i, () => `secret-${unique()}`],
  [/^code$/i, () => '123456'],
  [/token$/i, () => `tok_${unique()}_${randomBytes(8).toString('hex')}`],
  [/^(name|title|displayName|label)$/i, () => `seed-${unique()}`],
  [/^(value|description|comment|note)$/i, () => `seed value ${unique()}`],
  [/(image|imageRef)$/i, () => 'registry.example.com/app:1'],
  [/^(host|hostname|domain)$/i, () => `seed-${unique()}.example.com`],
  [/branch$/i, () => 'main'],
];

/** Enum preferences (least privileged / most plausible first). */
const ENUM_PREFERENCE = ['viewer', 'read', 'developer', 'plain', 'staging', 'production'];

/** Resource ids inside bodies are filled from the fixture when the property names the resource. */
export type IdLookup = (propertyName: string) => string | undefined;

function fromPattern(pattern: string): string | undefined {
  const re = new RegExp(pattern);
  const u = unique();
  for (const c of [`seed-${u}`, `SEED_${u.toUpperCase()}`, `seed_${u}`, `seed${u}`, 'seed', 'SEED', 'a', 'A', '1', `${u}`]) if (re.test(c)) return c;
  return undefined;
}

export function valueFor(doc: OpenApiDoc, name: string, raw: Schema, ids: IdLookup, depth = 0): unknown {
  const s = resolve(doc, raw);
  if (s.enum?.length) {
    const pref = ENUM_PREFERENCE.find((p) => s.enum!.includes(p));
    return pref ?? s.enum[0];
  }
  if (s.oneOf?.length || s.anyOf?.length) return valueFor(doc, name, (s.oneOf ?? s.anyOf)![0], ids, depth + 1);
  const type = s.type ?? (s.properties ? 'object' : 'string');
  if (type === 'array') {
    const item = s.items ? resolve(doc, s.items) : { type: 'string' };
    const singular = name.replace(/ies$/, 'y').replace(/s$/, '');
    if (/Ids$/.test(name)) {
      const id = ids(singular);
      return id ? [id] : [];
    }
    return [valueFor(doc, singular, item, ids, depth + 1)];
  }
  if (type === 'object') return minimalObject(doc, s, ids, depth + 1);
  if (type === 'integer' || type === 'number') {
    const min = s.minimum ?? 1;
    return s.maximum !== undefined && s.maximum < min ? s.maximum : Math.max(min, Math.min(s.maximum ?? 1, 1));
  }
  if (type === 'boolean') return false;
  // strings
  if (s.format === 'uuid' || /Id$/.test(name)) return ids(name) ?? randomUUID();
  if (s.format === 'email') return `sec-${unique()}@example.com`;
  if (s.format === 'date-time') return new Date(Date.now() + 7 * 86400_000).toISOString();
  if (s.format === 'uri' || s.format === 'url') return 'https://issuer.example.com';
  const named = NAMED.find(([re]) => re.test(name));
  let v = named ? String(named[1]()) : `seed-${unique()}`;
  if (s.pattern && !new RegExp(s.pattern).test(v)) v = fromPattern(s.pattern) ?? v;
  if (s.maxLength !== undefined && v.length > s.maxLength) v = v.slice(-s.maxLength);
  if (s.minLength !== undefined && v.length < s.minLength) v = v.padEnd(s.minLength, 'x');
  return v;
}

export function minimalObject(doc: OpenApiDoc, raw: Schema, ids: IdLookup, depth = 0): Record<string, unknown> {
  const s = resolve(doc, raw);
  const out: Record<string, unknown> = {};
  if (depth > 4) return out;
  for (const name of s.required ?? []) {
    const p = s.properties?.[name];
    if (p) out[name] = valueFor(doc, name, p, ids, depth);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Fixture

export interface Seed {
  noun: string;
  id: string;
  op: string;
  request: Record<string, unknown>;
  response: Record<string, unknown>;
}

export interface Fixture {
  t: TestApp;
  doc: OpenApiDoc;
  ops: Operation[];
  orgA: string;
  orgB: string;
  owner: Session;
  admin: Session;
  developer: Session;
  viewer: Session;
  /** Owner of organization B and member of nothing else. */
  bOwner: Session;
  /** A personal API key of A's owner with scope `read` (header set). */
  readKey: { id: string; key: string; auth: Record<string, string> } | null;
  /** Seeded resources of organization A, by collection noun (`roles`, `invitations`, `projects`, …). */
  seeds: Record<string, Seed>;
  /** What the fixture could not seed or fill, for the reports. */
  notes: string[];
}

/** Path parameter names → the collection noun they identify, for params that do not follow a collection segment. */
const PARAM_NOUNS: Record<string, string> = {
  orgId: 'organizations', organizationId: 'organizations', userId: 'members', memberId: 'members', projectId: 'projects',
  environmentId: 'environments', envId: 'environments', roleId: 'roles', invitationId: 'invitations', keyId: 'api-keys',
  apiKeyId: 'api-keys', providerId: 'oidc-providers', oidcProviderId: 'oidc-providers', variableId: 'variables',
  serviceId: 'services', applicationId: 'applications', eventId: 'audit-events', auditEventId: 'audit-events',
  deploymentId: 'deployments',
};

/** Which noun a body property such as `projectId` or `customRoleId` refers to. */
function nounOfProperty(name: string): string | undefined {
  if (PARAM_NOUNS[name]) return PARAM_NOUNS[name];
  if (/roleId$/i.test(name)) return 'roles';
  const m = /^(.*)Ids?$/.exec(name);
  if (!m) return undefined;
  const base = m[1].replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  return base.endsWith('y') ? `${base.slice(0, -1)}ies` : `${base}s`;
}

export function idLookup(fx: Pick<Fixture, 'seeds' | 'orgA'>): IdLookup {
  return (name) => {
    const noun = nounOfProperty(name);
    if (!noun) return undefined;
    if (noun === 'organizations') return fx.orgA;
    return fx.seeds[noun]?.id;
  };
}

export interface FilledPath {
  url: string;
  /** Params filled with a random UUID because nothing in the fixture matched. */
  unknown: string[];
  /** Params filled with a seeded id of organization A (or A itself). */
  fromA: string[];
}

/** Fills path params with organization A's seeded ids (`overrides` by param name win). */
export function fillPath(fx: Fixture, op: Operation, overrides: Record<string, string> = {}): FilledPath {
  const segs = op.path.split('/');
  const unknown: string[] = [];
  const fromA: string[] = [];
  const filled = segs.map((seg, i) => {
    const m = /^\{(.+)\}$/.exec(seg);
    if (!m) return seg;
    const param = m[1];
    if (overrides[param] !== undefined) return encodeURIComponent(overrides[param]);
    const prev = segs[i - 1] && !segs[i - 1].startsWith('{') ? segs[i - 1] : undefined;
    const nouns = [prev ? signature(segs.slice(0, i).join('/')) : undefined, prev, PARAM_NOUNS[param]].filter((x): x is string => !!x);
    for (const noun of nouns) {
      if (noun === 'organizations') {
        fromA.push(param);
        return fx.orgA;
      }
      if (noun === 'members') {
        fromA.push(param);
        return fx.developer.userId;
      }
      const seed = fx.seeds[noun];
      if (seed) {
        fromA.push(param);
        const v = /(^id|Id)$/.test(param) ? seed.id : (seed.response[param] ?? seed.request[param] ?? seed.id);
        return encodeURIComponent(String(v));
      }
    }
    unknown.push(param);
    return randomUUID();
  });
  let url = filled.join('/');
  if (op.requiredQuery.length) {
    const q = new URLSearchParams();
    for (const p of op.requiredQuery) q.set(p.name, String(valueFor(fx.doc, p.name, p.schema ?? { type: 'string' }, idLookup(fx))));
    url += `?${q.toString()}`;
  }
  return { url, unknown, fromA };
}

export function bodyFor(fx: Fixture, op: Operation, extra: Record<string, unknown> = {}): Record<string, unknown> | undefined {
  if (!op.body) return undefined;
  const hint = BODY_HINTS[op.path.replace(/\{[^}]+\}/g, '{}')]?.[op.method];
  return { ...minimalObject(fx.doc, op.body, idLookup(fx)), ...(hint ? hint(fx) : {}), ...extra };
}

/**
 * Per-route body hints where the schema alone cannot produce a plausible body (cross-field rules, typed confirmations,
 * least-privileged choices). Keys: the path with `{}` for every parameter.
 */
export const BODY_HINTS: Record<string, Partial<Record<Method, (fx: Fixture) => Record<string, unknown>>>> = {
  '/api/v1/organizations/{}/api-keys': { post: () => ({ role: 'viewer', scopes: ['read'] }) },
  '/api/v1/organizations/{}/invitations': { post: () => ({ role: 'viewer' }) },
  '/api/v1/organizations/{}/members/{}': { patch: () => ({ role: 'viewer' }) },
  '/api/v1/organizations/{}/roles': { post: () => ({ permissions: ['project:read'] }) },
  '/api/v1/me/api-keys': { post: () => ({ scopes: ['read'] }) },
  // A Gitea connection needs only a base URL and a token (GitHub needs an app id, installation and key).
  '/api/v1/organizations/{}/git-providers': { post: () => ({ kind: 'gitea', baseUrl: 'https://git.example.com', token: `tok_${unique()}` }) },
  '/api/v1/applications/{}/source': { put: () => ({ repository: 'https://git.example.com/acme/shop.git', ref: 'main', auth: { kind: 'none' } }) },
  // One variable ({key, value}) or many ({variables}): neither is "required" in the schema.
  '/api/v1/projects/{}/variables': { put: () => ({ key: `SEED_${unique().toUpperCase()}`, value: `seed value ${unique()}` }) },
  '/api/v1/environments/{}/variables': { put: () => ({ key: `SEED_${unique().toUpperCase()}`, value: `seed value ${unique()}` }) },
  // A domain's host is unique across the install: every seed or sweep asks for a fresh one.
  '/api/v1/applications/{}/domains': { post: () => ({ host: `seed-${unique()}.example.com`, port: 8080, https: false }) },
  '/api/v1/domains/{}': { patch: () => ({ port: 8081 }) },
  // Deleting a project is confirmed by typing its slug.
  '/api/v1/projects/{}': { delete: (fx) => ({ confirm: String(fx.seeds.projects?.response.slug ?? '') }) },
};

export interface Call {
  status: number;
  body: any;
  text: string;
  headers: Record<string, string>;
}

/** Routes that answer an endless Server-Sent-Events stream when allowed (the organization's live events). */
const ENDLESS_STREAM = /^\/api\/v1\/organizations\/[^/?]+\/events(\?|$)/;

/** A GET of an endless stream: its status and headers; a 200 stream is closed at once (its body never ends). */
function callStream(t: TestApp, url: string, headers: Record<string, string>): Promise<Call> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(url, t.baseUrl), { headers }, (res) => {
      const out = { status: res.statusCode ?? 0, headers: res.headers as Record<string, string> };
      if (out.status === 200) {
        req.destroy();
        return resolve({ ...out, body: {}, text: '' });
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown = {};
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ ...out, body: body as Call['body'], text });
      });
    });
    req.on('error', reject);
  });
}

export async function call(t: TestApp, method: Method, url: string, auth: Record<string, string>, body?: unknown, headers: Record<string, string> = {}): Promise<Call> {
  if (method === 'get' && ENDLESS_STREAM.test(url)) return callStream(t, url, { ...auth, ...headers });
  let r = request(t.server)[method](url).set(auth).set(headers);
  if (body !== undefined && method !== 'get') r = r.send(body as object);
  const res = await r;
  return { status: res.status, body: res.body, text: res.text ?? '', headers: res.headers as Record<string, string> };
}

/** The collection noun a POST creates into (`/x/{id}/roles` → `roles`), or null when the path ends in a parameter. */
export function collectionNoun(path: string): string | null {
  const last = path.split('/').pop()!;
  return last.startsWith('{') ? null : last;
}

/** `/api/v1/projects/{id}/variables` → `projects/variables`: the nouns of a path, identifying a collection. */
export function signature(path: string): string {
  return path.split('/').filter((x) => x && !x.startsWith('{') && x !== 'api' && x !== 'v1').join('/');
}

/** The created/listed object of an answer: the body itself, the first element, or the first of `items`. */
export function firstItem(body: unknown): Record<string, unknown> | null {
  const b = body as { id?: unknown; items?: unknown[] } | unknown[] | null;
  const cand = Array.isArray(b) ? b[0] : b && typeof b === 'object' && Array.isArray((b as { items?: unknown[] }).items) && !(b as { id?: unknown }).id ? (b as { items: unknown[] }).items[0] : b;
  return cand && typeof cand === 'object' && typeof (cand as { id?: unknown }).id === 'string' ? (cand as Record<string, unknown>) : null;
}

/** The first object of an answer (an element of a list or of `items`, or the body), with or without an id. */
export function firstObject(body: unknown): Record<string, unknown> | null {
  const b = body as { items?: unknown[] } | unknown[] | null;
  const cand = Array.isArray(b) ? b[0] : b && typeof b === 'object' && Array.isArray(b.items) ? b.items[0] : b;
  return cand && typeof cand === 'object' && !Array.isArray(cand) ? (cand as Record<string, unknown>) : null;
}

/**
 * POST routes the fixture never calls to seed: actions rather than collections, and collections whose creation starts
 * real work on the worker (a deployment runs against Docker and writes asynchronously, racing the snapshots).
 */
export const NOT_COLLECTIONS = /\/(accept|login|logout|setup|refresh|password|enable|disable|reveal|export|test|verify|restart|start|stop|scale|redeploy|rollback|cancel|deployments|builds|backups|restores|runs|generate|authorize)$/;

/**
 * Two organizations and one of each resource in A. Organization B's owner signs up through an invitation to A, creates
 * B, then leaves A, so they are a member of B only.
 */
export async function buildFixture(t: TestApp, opts: { readKey?: boolean; deployment?: boolean } = {}): Promise<Fixture> {
  const doc = await loadOpenApi(t);
  const ops = operationsOf(doc);
  const owner = await setupOwner(t, 'owner@example.com', 'Acme');
  const orgA = owner.organizationId;
  const admin = await addMember(t, owner, orgA, 'admin@example.com', 'admin');
  const developer = await addMember(t, owner, orgA, 'developer@example.com', 'developer');
  const viewer = await addMember(t, owner, orgA, 'viewer@example.com', 'viewer');
  const bOwner = await addMember(t, owner, orgA, 'beta-founder@example.net', 'viewer');
  const orgB = (await request(t.server).post('/api/v1/organizations').set(bOwner.auth).send({ name: 'Beta' }).expect(201)).body.id as string;
  await request(t.server).delete(`/api/v1/organizations/${orgA}/members/${bOwner.userId}`).set(bOwner.auth).expect(204);
  const me = await request(t.server).get('/api/v1/me').set(bOwner.auth).expect(200);
  const orgsOfB = (me.body.memberships as Array<{ organizationId: string; role: string }>).map((x) => `${x.organizationId}:${x.role}`);
  if (orgsOfB.length !== 1 || orgsOfB[0] !== `${orgB}:owner`) throw new Error(`organization B's owner should belong to B only, has ${orgsOfB.join(', ')}`);

  const fx: Fixture = { t, doc, ops, orgA, orgB, owner, admin, developer, viewer, bOwner, readKey: null, seeds: {}, notes: [] };

  // Seed one of each collection in A, in dependency order: a POST (or PUT upsert on a collection) is tried once all its
  // path params can be filled.
  const creators = ops.filter((o) => (o.method === 'post' || o.method === 'put') && !outsideReason(o) && o.path !== '/api/v1/organizations' && collectionNoun(o.path) && !NOT_COLLECTIONS.test(o.path));
  const pending = new Set(creators);
  for (let round = 0; round < 6 && pending.size; round++) {
    let progress = false;
    for (const op of [...pending]) {
      const noun = collectionNoun(op.path)!;
      const sig = signature(op.path);
      if (fx.seeds[sig]) {
        pending.delete(op);
        continue;
      }
      const filled = fillPath(fx, op);
      if (filled.unknown.length) continue;
      pending.delete(op);
      progress = true;
      const body = bodyFor(fx, op) ?? {};
      const res = await call(t, op.method, filled.url, owner.auth, body);
      const item = firstItem(res.body) ?? firstObject(res.body);
      const seedId = item ? String(item.id ?? item.key ?? item.name ?? '') : '';
      if (res.status >= 200 && res.status < 300 && item && !seedId) {
        // A singleton setting (PUT /organizations/{orgId}/acme): nothing with an id to seed.
        fx.notes.push(`not a resource with an id: ${sig} via ${op.label}`);
      } else if (res.status >= 200 && res.status < 300 && item) {
        const seed: Seed = { noun, id: seedId, op: op.label, request: body, response: item };
        fx.seeds[sig] = seed;
        fx.seeds[noun] ??= seed;
      } else {
        fx.notes.push(`could not seed ${sig} via ${op.label}: ${res.status} ${res.text.slice(0, 300)}`);
      }
    }
    if (!progress) break;
  }
  for (const op of pending) fx.notes.push(`not seeded (path params unresolvable): ${op.label}`);
  await seedPreview(fx);

  // Resources that are not created directly (audit events, …): take the first one a list of A shows its owner. Log
  // tails are streams read through the worker, not lists of resources (without a worker they wait for its answer).
  // A provider connection's repositories and branches are asked of the provider through the worker, not stored.
  for (const op of ops.filter((o) => o.method === 'get' && !outsideReason(o) && collectionNoun(o.path) && o.pathParams.length && !o.path.endsWith('/logs') && !/\/git-providers\/\{[^}]+\}\/(repositories|branches)$/.test(o.path))) {
    const sig = signature(op.path);
    const noun = collectionNoun(op.path)!;
    if (fx.seeds[sig] || fx.seeds[noun]) continue;
    const filled = fillPath(fx, op);
    if (filled.unknown.length || !filled.fromA.length) continue;
    const res = await call(t, 'get', filled.url, owner.auth);
    const item = res.status === 200 ? firstItem(res.body) : null;
    if (item) {
      const seed: Seed = { noun, id: item.id as string, op: op.label, request: {}, response: item };
      fx.seeds[sig] = seed;
      fx.seeds[noun] = seed;
    }
  }

  if (opts.deployment) await seedDeployment(fx);

  if (opts.readKey) {
    const k = await request(t.server).post('/api/v1/me/api-keys').set(owner.auth).send({ name: 'read-only', scopes: ['read'] }).expect(201);
    fx.readKey = { id: k.body.id, key: k.body.key, auth: { 'X-API-Key': k.body.key } };
  }
  return fx;
}

export { PASSWORD };

/** The app runs no worker (WHARF_ROLE=api): queued deployments stay queued, so nothing changes behind a sweep's back. */
export const NO_WORKER = { WHARF_ROLE: 'api' } as const;

/**
 * A real deployment of A's seeded application, requested through the API (`POST /applications/{id}/deployments`), so
 * the sweeps reach every `/deployments/{deploymentId}…` route. The app must run without a worker: the deployment
 * then stays queued instead of running against Docker while the sweep compares database snapshots.
 */
async function seedDeployment(fx: Fixture): Promise<void> {
  if (fx.t.env.WHARF_ROLE !== 'api') throw new Error(`seeding a deployment needs an app without a worker (startTestApp(NO_WORKER)); this one runs role ${fx.t.env.WHARF_ROLE}`);
  const app = fx.seeds.applications;
  if (!app) throw new Error(`cannot seed a deployment: no application was seeded\n${fx.notes.join('\n')}`);
  const res = await call(fx.t, 'post', `/api/v1/applications/${app.id}/deployments`, fx.owner.auth, {});
  if (res.status !== 202 || res.body?.status !== 'queued') throw new Error(`cannot seed a deployment: ${res.status} ${res.text.slice(0, 300)}`);
  const seed: Seed = { noun: 'deployments', id: res.body.id, op: `POST /api/v1/applications/{applicationId}/deployments`, request: {}, response: res.body };
  fx.seeds['applications/deployments'] = seed;
  fx.seeds.deployments = seed;
}

/**
 * A pull request preview of A's seeded application (previews enabled, a signed GitHub pull request from a fork), so
 * `/applications/{applicationId}/previews/{number}…` routes resolve. A fork's preview awaits an approval: nothing is
 * deployed behind a sweep's back.
 */
async function seedPreview(fx: Fixture): Promise<void> {
  const app = fx.seeds.applications;
  if (!app) return;
  const settings = await call(fx.t, 'put', `/api/v1/applications/${app.id}/previews/settings`, fx.owner.auth, { enabled: true });
  const secret = await call(fx.t, 'post', `/api/v1/applications/${app.id}/source/webhook-secret/reveal`, fx.owner.auth, {});
  if (settings.status !== 200 || secret.status !== 200) return void fx.notes.push(`could not seed a preview: settings ${settings.status}, webhook secret ${secret.status}`);
  const sha = 'c'.repeat(40);
  const body = JSON.stringify({
    action: 'opened', number: 7,
    pull_request: {
      number: 7, title: 'seed', merged: false, author_association: 'NONE', user: { login: 'stranger' },
      head: { ref: 'seed', sha, repo: { full_name: 'stranger/shop', fork: true } }, base: { ref: 'main', sha, repo: { full_name: 'acme/shop', fork: false } },
    },
  });
  const res = await request(fx.t.server).post(`/api/v1/webhooks/applications/${app.id}/github`).set('Content-Type', 'application/json').set('X-GitHub-Event', 'pull_request')
    .set('X-GitHub-Delivery', `seed-${unique()}`).set('X-Hub-Signature-256', `sha256=${createHmac('sha256', secret.body.secret as string).update(body).digest('hex')}`).send(body);
  if (res.status !== 202 || res.body?.outcome !== 'accepted') fx.notes.push(`could not seed a preview: ${res.status} ${res.text.slice(0, 300)}`);
}

/**
 * Operations that name a resource in their path but that the fixture cannot point at organization A: a matrix must
 * fail on these (a route it cannot reach is a route it does not check), not skip them.
 */
export function unresolvable(fx: Fixture, ops: Operation[]): string[] {
  const out: string[] = [];
  for (const op of ops) {
    if (!op.pathParams.length) continue;
    const { unknown, fromA } = fillPath(fx, op);
    if (!fromA.length || unknown.length) out.push(`${op.label}: ${unknown.join(', ') || '?'} not resolvable to a resource of organization A`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Database snapshots

/** Tables whose rows legitimately change on any request (sessions, delivery bookkeeping) or are checked separately. */
export const VOLATILE_TABLES = new Set(['outbox_events', 'audit_events', 'refresh_tokens', 'migrations', 'oidc_logins', 'typeorm_metadata', 'rate_limits', 'login_attempts', 'idempotency_keys']);
/** Runtime state the worker keeps current from Docker (reconciler, server probes), independent of any request. */
export const VOLATILE_TABLE_RE = /(_runtime|_runtime_state|_leases|_samples|_metrics)$/;
/** Columns that change on reads (last use of a key, delivery attempts) or by observation of the runtime. */
export const VOLATILE_COLUMNS = new Set(['last_used_at', 'last_seen_at', 'published_at', 'attempts', 'last_login_at', 'observed_at']);
/** Per-table observed columns (the worker's probe of the local server). */
export const VOLATILE_TABLE_COLUMNS: Record<string, string[]> = { servers: ['status', 'status_message', 'capabilities'] };

export type Snapshot = Map<string, string[]>;

export async function openDb(t: TestApp): Promise<Client> {
  const c = new Client({ connectionString: t.databaseUrl });
  await c.connect();
  return c;
}

export async function tableNames(c: Client): Promise<string[]> {
  const r = await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`);
  return r.rows.map((x) => x.table_name as string);
}

export async function columnsOf(c: Client, table: string): Promise<string[]> {
  const r = await c.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`, [table]);
  return r.rows.map((x) => x.column_name as string);
}

/** Every row of every non-volatile table (volatile columns dropped), sorted: compare two with `diffSnapshots`. */
export async function snapshot(c: Client): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const table of await tableNames(c)) {
    if (VOLATILE_TABLES.has(table) || VOLATILE_TABLE_RE.test(table)) continue;
    const r = await c.query(`SELECT row_to_json(x)::jsonb AS j FROM "${table}" x`);
    const rows = r.rows.map((x) => {
      const j = x.j as Record<string, unknown>;
      for (const col of [...VOLATILE_COLUMNS, ...(VOLATILE_TABLE_COLUMNS[table] ?? [])]) delete j[col];
      return JSON.stringify(j);
    });
    out.set(table, rows.sort());
  }
  return out;
}

export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const diffs: string[] = [];
  for (const table of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(table) ?? [];
    const b = after.get(table) ?? [];
    const sa = new Set(a);
    const sb = new Set(b);
    for (const row of a) if (!sb.has(row)) diffs.push(`${table}: - ${row.slice(0, 400)}`);
    for (const row of b) if (!sa.has(row)) diffs.push(`${table}: + ${row.slice(0, 400)}`);
  }
  return diffs;
}

/** Rows of organization A per table (tables with an organization_id column), for the reports. */
export async function orgRowCounts(c: Client, orgId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of await tableNames(c)) {
    const cols = await columnsOf(c, table);
    if (!cols.includes('organization_id')) continue;
    const r = await c.query(`SELECT count(*)::int AS n FROM "${table}" WHERE organization_id = $1`, [orgId]);
    out[table] = r.rows[0].n;
  }
  return out;
}

/** Audit entries of an organization (optionally with an outcome); null when the audit log does not exist yet. */
export async function auditCount(c: Client, orgId: string, outcome?: string): Promise<number | null> {
  const cols = await columnsOf(c, 'audit_events');
  if (!cols.length) return null;
  const orgCol = cols.includes('organization_id') ? 'organization_id' : null;
  if (!orgCol) return null;
  if (outcome && cols.includes('outcome')) {
    const r = await c.query(`SELECT count(*)::int AS n FROM audit_events WHERE ${orgCol} = $1 AND outcome = $2`, [orgId, outcome]);
    return r.rows[0].n;
  }
  const r = await c.query(`SELECT count(*)::int AS n FROM audit_events WHERE ${orgCol} = $1`, [orgId]);
  return r.rows[0].n;
}

export async function outboxCount(c: Client, orgId: string): Promise<number> {
  const r = await c.query(`SELECT count(*)::int AS n FROM outbox_events WHERE envelope->>'organizationId' = $1`, [orgId]);
  return r.rows[0].n;
}

/** Every error answer is application/problem+json with the documented members. */
export function problemViolation(res: Call): string | null {
  if (res.status < 400) return null;
  const ct = res.headers['content-type'] ?? '';
  if (!ct.startsWith('application/problem+json')) return `content-type ${ct || '(none)'} on ${res.status}`;
  let body: any;
  try {
    body = JSON.parse(res.text);
  } catch {
    return 'body is not JSON';
  }
  for (const k of ['type', 'title', 'status', 'detail', 'code']) if (body[k] === undefined) return `problem without ${k}`;
  if (body.status !== res.status) return `problem status ${body.status} ≠ HTTP ${res.status}`;
  return null;
}

export function summarizeFixture(fx: Fixture): string {
  return [
    `seeded in A: ${Object.entries(fx.seeds).filter(([k, s]) => k.includes('/') || fx.seeds[s.noun] !== s || !Object.entries(fx.seeds).some(([k2, s2]) => k2 !== k && s2 === s)).map(([k, s]) => `${k}=${s.id}`).join(', ') || '(nothing)'}`,
    ...fx.notes.map((n) => `note: ${n}`),
  ].join('\n');
}
