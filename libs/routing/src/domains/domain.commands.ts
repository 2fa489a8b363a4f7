/**
 * Domains of an application: create, change, delete, list, read. Every read goes through TenantScope with the
 * application's permissions (reading domains needs `application:read`, changing them `application:update`), so a
 * domain outside the caller's scope is a 404 exactly like an unknown id. Basic-auth passwords are hashed here
 * (bcrypt) and only the hashes are stored; views and audit entries carry usernames only.
 *
 * Across the install one host + path prefix has one holder, and a host used by one organization is refused to every
 * other (any path): both are a 409 naming `/host` that never says which application or organization holds it. A
 * wildcard `*.example.com` counts as every name one label under `example.com` (see `claimHost`).
 */
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Inject } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EnvironmentEntity } from '@wharf/projects';
import type { FieldError } from '@wharf/contracts';
import { checkVersion, ConflictError, newId, NotFoundError, TransactionRunner, ValidationError, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { actorOf, Principal, TenantScope } from '@wharf/tenancy';
import { ApplicationEntity } from '@wharf/applications';
import { BasicAuthPasswordError, hashBasicAuthPassword } from '../basic-auth';
import { BasicAuthUser, DomainSpec, isWildcardHost, validateDomainSpec, ValidDomainSpec, WILDCARD_NEEDS_DNS01 } from '../domain-spec';
import { alternateWwwHost } from '../traefik/traefik-config';
import { AcmeSettingsEntity } from '../certificates/certificate.entity';
import { DomainEntity, StoredDomainOptions } from './domain.entity';

/** Domains one application may have. */
export const MAX_DOMAINS_PER_APPLICATION = 50;

export interface DomainView {
  id: string;
  organizationId: string;
  projectId: string;
  environmentId: string;
  applicationId: string;
  host: string;
  pathPrefix: string;
  stripPrefix: boolean;
  port: number;
  https: boolean;
  redirectHttpToHttps: boolean;
  wwwRedirect: boolean;
  redirects: Array<{ regex: string; replacement: string; permanent: boolean }>;
  /** Usernames only: the password (and its hash) is never returned. */
  basicAuth: Array<{ username: string; passwordSet: true }>;
  responseHeaders: Record<string, string>;
  ipAllowList: string[];
  rateLimit: { average: number; burst: number; periodSeconds: number } | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export function domainView(d: DomainEntity): DomainView {
  const o = d.options;
  return {
    id: d.id, organizationId: d.organizationId, projectId: d.projectId, environmentId: d.environmentId, applicationId: d.applicationId,
    host: d.host, pathPrefix: d.pathPrefix, stripPrefix: o.stripPrefix, port: o.port, https: o.https, redirectHttpToHttps: o.redirectHttpToHttps,
    wwwRedirect: o.wwwRedirect, redirects: o.redirects.map((r) => ({ regex: r.regex, replacement: r.replacement, permanent: r.permanent })),
    basicAuth: d.basicAuth.map((u) => ({ username: u.username, passwordSet: true as const })),
    responseHeaders: { ...o.responseHeaders }, ipAllowList: [...o.ipAllowList], rateLimit: o.rateLimit ? { ...o.rateLimit } : null,
    createdAt: d.createdAt.toISOString(), updatedAt: d.updatedAt.toISOString(), version: d.version,
  };
}

/** The stored domain as the validated spec the renderer takes (re-validated: a row that no longer passes is null). */
export function domainSpecOf(d: DomainEntity): ValidDomainSpec | null {
  const r = validateDomainSpec({ ...d.options, host: d.host, pathPrefix: d.pathPrefix, basicAuth: d.basicAuth.map((u) => ({ username: u.username, passwordHash: u.passwordHash })) }, { allowWildcard: true });
  return r.ok ? r.value : null;
}

/** `redirects[2].regex` → `/redirects/2/regex`; `responseHeaders["X-A"]` → `/responseHeaders/X-A` (RFC 6901 escaping). */
export function fieldPathToPointer(field: string): string {
  if (field === '') return '';
  const parts: string[] = [];
  const re = /\.?([A-Za-z0-9_…]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < field.length && (m = re.exec(field))) {
    at = re.lastIndex;
    if (m[1] !== undefined) parts.push(m[1]);
    else if (m[2] !== undefined) parts.push(m[2]);
    else {
      try {
        parts.push(JSON.parse(m[3]) as string);
      } catch {
        parts.push(m[3]);
      }
    }
  }
  if (at < field.length) return `/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  return parts.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** A bcrypt-shaped placeholder: lets the validator check everything else before any (slow) hashing. */
const PLACEHOLDER_HASH = `$2b$12$${'.'.repeat(53)}`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Turns API input into a validated spec: basic-auth users come as `{ username, password }` (hashed here) or, on a
 * change, `{ username }` alone to keep that user's current password. Every problem is a 400 naming its field.
 */
export async function domainSpecFromInput(input: unknown, existing: BasicAuthUser[] = []): Promise<ValidDomainSpec> {
  if (!isObject(input)) throw ValidationError.field('', 'type', 'the body must be an object');
  const errors: FieldError[] = [];
  const passwords: Array<string | null> = [];
  let basicAuth: unknown = input.basicAuth;
  if (Array.isArray(input.basicAuth)) {
    basicAuth = input.basicAuth.map((u: unknown, i: number) => {
      if (!isObject(u)) return u;
      for (const k of Object.keys(u)) if (k !== 'username' && k !== 'password') errors.push({ pointer: `/basicAuth/${i}/${k.slice(0, 40).replace(/~/g, '~0').replace(/\//g, '~1')}`, code: 'unknown-field', detail: 'is not a known field' });
      const password = u.password;
      if (password !== undefined) {
        if (typeof password !== 'string' || password.length === 0) errors.push({ pointer: `/basicAuth/${i}/password`, code: 'format', detail: 'must be a non-empty string' });
        else if (Buffer.byteLength(password, 'utf8') > 72) errors.push({ pointer: `/basicAuth/${i}/password`, code: 'too-long', detail: 'must be at most 72 bytes' });
        passwords.push(typeof password === 'string' ? password : null);
        return { username: u.username, passwordHash: PLACEHOLDER_HASH };
      }
      passwords.push(null);
      const kept = existing.find((e) => e.username === u.username);
      if (!kept) errors.push({ pointer: `/basicAuth/${i}/password`, code: 'required', detail: 'is required for a new user' });
      return { username: u.username, passwordHash: kept?.passwordHash ?? PLACEHOLDER_HASH };
    });
  }
  const result = validateDomainSpec({ ...input, ...(input.basicAuth !== undefined ? { basicAuth } : {}) } as unknown as DomainSpec, { allowWildcard: true });
  if (!result.ok) {
    for (const e of result.errors) {
      // The validator names the stored field; the API's field is `password`.
      const pointer = fieldPathToPointer(e.field).replace(/^(\/basicAuth\/\d+)\/passwordHash$/, '$1/password');
      errors.push({ pointer, code: 'invalid', detail: `${e.field || 'body'} ${e.message}` });
    }
  }
  if (errors.length) throw new ValidationError(errors.map((e) => `${e.pointer || '/'}: ${e.detail}`).join('; '), errors);
  const users: BasicAuthUser[] = [];
  for (const [i, u] of result.ok ? result.value.basicAuth.entries() : []) {
    const password = passwords[i];
    try {
      users.push({ username: u.username, passwordHash: password ? await hashBasicAuthPassword(password) : u.passwordHash });
    } catch (e) {
      if (e instanceof BasicAuthPasswordError) throw ValidationError.field(`/basicAuth/${i}/password`, 'invalid', e.message);
      throw e;
    }
  }
  return { ...(result as { value: ValidDomainSpec }).value, basicAuth: users };
}

function optionsOf(s: ValidDomainSpec): StoredDomainOptions {
  return {
    stripPrefix: s.stripPrefix, port: s.port, https: s.https, redirectHttpToHttps: s.redirectHttpToHttps, wwwRedirect: s.wwwRedirect,
    redirects: s.redirects.map((r) => ({ ...r })), responseHeaders: { ...s.responseHeaders }, ipAllowList: [...s.ipAllowList],
    ...(s.rateLimit ? { rateLimit: { ...s.rateLimit } } : {}),
  };
}

/** What the audit log records of a domain: everything but the basic-auth secrets (usernames only). */
function auditableOf(host: string, pathPrefix: string, o: StoredDomainOptions, users: BasicAuthUser[]): Record<string, unknown> {
  return { host, pathPrefix, ...o, basicAuth: users.map((u) => u.username) };
}

const IN_USE = (host: string) => `${host} is already in use on this install`;

/** `x.example.com` → `example.com`: the name a wildcard `*.example.com` covers one label of. */
const parentOf = (name: string) => name.slice(name.indexOf('.') + 1);

/**
 * What a wildcard host needs, checked inside the transaction that stores it: with HTTPS, the organization's ACME
 * settings on DNS-01 with a DNS provider (a CA validates wildcards only through DNS); and never `*.<the instance's
 * wildcard domain>`, which would cover every organization's generated domains. Refused with 400/409 naming `/host`.
 */
async function checkWildcardHost(m: EntityManager, d: { organizationId: string; host: string; options: StoredDomainOptions }, config: WharfConfig): Promise<void> {
  if (!isWildcardHost(d.host)) return;
  const instanceWildcard = config.acme.wildcardDomain;
  if (instanceWildcard && parentOf(d.host) === instanceWildcard.toLowerCase()) {
    throw new DomainConflictError(IN_USE(d.host), [{ pointer: '/host', code: 'domain-taken', detail: `${d.host} covers this install's generated domains and cannot be used` }]);
  }
  if (!d.options.https) return;
  const settings = await m.findOneBy(AcmeSettingsEntity, { organizationId: d.organizationId });
  if (settings?.challenge !== 'dns-01' || !settings.dnsProviderBox) {
    throw new ValidationError(`/host: ${WILDCARD_NEEDS_DNS01}`, [{ pointer: '/host', code: 'wildcard-needs-dns-01', detail: WILDCARD_NEEDS_DNS01 }]);
  }
}

/**
 * What a domain on `host` claims: the names it answers on (`names`: the host and, with wwwRedirect, its other www
 * form), the bases of the wildcards among them (`*.example.com` → `example.com`: another organization's name one label
 * under it conflicts), the wildcards that would cover its specific names (`x.example.com` → `*.example.com`: held by
 * another organization, a conflict) and the advisory locks to take (sorted): the names and those covering wildcards, so
 * a wildcard and a name under it lock one common key.
 */
export function hostClaim(host: string, wwwRedirect: boolean): { names: string[]; wildcardBases: string[]; coveringWildcards: string[]; locks: string[] } {
  const names = [...new Set([host, ...(wwwRedirect ? [alternateWwwHost(host)] : [])])].sort();
  const wildcardBases = names.filter(isWildcardHost).map(parentOf);
  const coveringWildcards = [...new Set(names.filter((n) => !isWildcardHost(n)).map((n) => `*.${parentOf(n)}`))].sort();
  return { names, wildcardBases, coveringWildcards, locks: [...new Set([...names, ...coveringWildcards])].sort() };
}

/**
 * Refuses a host another organization uses (any path) and a host + path another domain holds, without naming either.
 * A domain with wwwRedirect also answers on the other form of its host (`www.` added or removed): that name counts as
 * used too, both ways. Wildcards count for what they answer: `*.example.com` is refused while another organization
 * answers on a name one label under `example.com`, and such a name is refused while another organization holds
 * `*.example.com` (within one organization a wildcard and specific names coexist: the specific router wins in
 * Traefik, see `routerPriority`). Holds transaction-scoped advisory locks on every name it answers on and on the
 * wildcard that would cover each (sorted, so two requests never wait on each other crosswise): two requests for one
 * name, or for a wildcard and a name under it, are decided one after the other.
 */
async function claimHost(m: EntityManager, d: { id: string; organizationId: string; host: string; pathPrefix: string; options: StoredDomainOptions }): Promise<void> {
  const { names, wildcardBases, coveringWildcards, locks } = hostClaim(d.host, d.options.wwwRedirect);
  for (const name of locks) await m.query(`SELECT pg_advisory_xact_lock(hashtext('wharf.domain-host'), hashtext($1))`, [name]);
  const rows: unknown[] = await m.query(
    `SELECT 1 FROM (
        SELECT organization_id, path_prefix, host AS name FROM domains WHERE id <> $3
        UNION ALL
        SELECT organization_id, path_prefix, CASE WHEN host LIKE 'www.%' THEN substr(host, 5) ELSE 'www.' || host END FROM domains
         WHERE id <> $3 AND COALESCE((options->>'wwwRedirect')::boolean, false)
      ) answered
      WHERE (name = ANY($1::text[]) AND (organization_id <> $2 OR path_prefix = $4))
         OR (organization_id <> $2
             AND (name = ANY($5::text[]) OR (name NOT LIKE '*.%' AND substr(name, strpos(name, '.') + 1) = ANY($6::text[]))))
      LIMIT 1`,
    [names, d.organizationId, d.id, d.pathPrefix, coveringWildcards, wildcardBases],
  );
  if (rows.length) throw new DomainConflictError(IN_USE(d.host), [{ pointer: '/host', code: 'domain-taken', detail: IN_USE(d.host) }]);
}

/** A host (and path) held elsewhere: 409 naming the field, never the holder. */
export class DomainConflictError extends ConflictError {
  constructor(message: string, override readonly errors: FieldError[]) {
    super(message, 'domain-taken');
  }
}

const subjectOf = (d: { id: string; host: string; pathPrefix: string }) => ({ type: 'domain', id: d.id, name: d.pathPrefix === '/' ? d.host : `${d.host}${d.pathPrefix}` });
const payloadOf = (d: DomainEntity) => ({ applicationId: d.applicationId, projectId: d.projectId, environmentId: d.environmentId });

export class ListDomainsQuery extends Query<DomainView[]> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
@QueryHandler(ListDomainsQuery)
export class ListDomainsHandler implements IQueryHandler<ListDomainsQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, applicationId }: ListDomainsQuery) {
    // The application first: outside your scope it is a 404, not an empty list.
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId);
    const rows = await this.scope.query(p, DomainEntity, 'application').andWhere('x.application_id = :a', { a: app.id }).orderBy('x.created_at', 'ASC').addOrderBy('x.id', 'ASC').getMany();
    return rows.map(domainView);
  }
}

export class GetDomainQuery extends Query<DomainView> {
  constructor(readonly principal: Principal, readonly domainId: string) {
    super();
  }
}
@QueryHandler(GetDomainQuery)
export class GetDomainHandler implements IQueryHandler<GetDomainQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, domainId }: GetDomainQuery) {
    return domainView(await this.scope.findOne(p, DomainEntity, 'application', domainId, 'read', { what: 'Domain' }));
  }
}

export class CreateDomainCommand extends Command<DomainView> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly input: unknown) {
    super();
  }
}
@CommandHandler(CreateDomainCommand)
export class CreateDomainHandler implements ICommandHandler<CreateDomainCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p, applicationId, input }: CreateDomainCommand) {
    await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'update');
    const spec = await domainSpecFromInput(input);
    return this.tx.run(async (m, stage) => {
      const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'read', { m, lock: true });
      if (app.deleting) throw new ConflictError('The application is being deleted', 'application-deleting');
      const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM domains WHERE application_id = $1`, [app.id]);
      if (n >= MAX_DOMAINS_PER_APPLICATION) throw new ConflictError(`An application has at most ${MAX_DOMAINS_PER_APPLICATION} domains`, 'too-many-domains');
      const now = new Date();
      const d = m.create(DomainEntity, {
        id: newId(), organizationId: app.organizationId, projectId: app.projectId, environmentId: app.environmentId, applicationId: app.id,
        host: spec.host, pathPrefix: spec.pathPrefix, options: optionsOf(spec), basicAuth: spec.basicAuth.map((u) => ({ ...u })), createdAt: now, updatedAt: now, version: 1,
      });
      await checkWildcardHost(m, d, this.config);
      await claimHost(m, d);
      await m.insert(DomainEntity, d);
      await stage({ type: 'domain.created', organizationId: d.organizationId, actor: actorOf(p), subject: subjectOf(d), payload: payloadOf(d) }, { request: p.client, changes: auditableOf(d.host, d.pathPrefix, d.options, d.basicAuth) });
      return domainView(d);
    });
  }
}

export class UpdateDomainCommand extends Command<DomainView> {
  constructor(readonly principal: Principal, readonly domainId: string, readonly patch: Record<string, unknown>, readonly expectedVersion?: number) {
    super();
  }
}
@CommandHandler(UpdateDomainCommand)
export class UpdateDomainHandler implements ICommandHandler<UpdateDomainCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p, domainId, patch, expectedVersion }: UpdateDomainCommand) {
    const before = await this.scope.findOne(p, DomainEntity, 'application', domainId, 'read', { what: 'Domain' });
    await this.scope.findOne(p, ApplicationEntity, 'application', before.applicationId, 'update');
    checkVersion(before.version, expectedVersion);
    // A change is the whole domain with the given fields replaced (absent fields keep their value).
    const current = { ...before.options, host: before.host, pathPrefix: before.pathPrefix, basicAuth: before.basicAuth.map((u) => ({ username: u.username })) } as Record<string, unknown>;
    if (current.rateLimit === undefined) delete current.rateLimit;
    const merged: Record<string, unknown> = { ...current, ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === null && (k === 'rateLimit' || k === 'pathPrefix')) delete merged[k];
    const spec = await domainSpecFromInput(merged, before.basicAuth);
    return this.tx.run(async (m, stage) => {
      const d = await this.scope.findOne(p, DomainEntity, 'application', domainId, 'read', { m, lock: true, what: 'Domain' });
      checkVersion(d.version, expectedVersion);
      const app = await m.findOneBy(ApplicationEntity, { id: d.applicationId });
      if (!app) throw new NotFoundError('Domain');
      if (app.deleting) throw new ConflictError('The application is being deleted', 'application-deleting');
      const from = auditableOf(d.host, d.pathPrefix, d.options, d.basicAuth);
      const oldHashes = new Map(d.basicAuth.map((u) => [u.username, u.passwordHash]));
      d.host = spec.host;
      d.pathPrefix = spec.pathPrefix;
      d.options = optionsOf(spec);
      d.basicAuth = spec.basicAuth.map((u) => ({ ...u }));
      // A wildcard that already served HTTPS under this host keeps working when something else changes.
      if (from.host !== d.host || from.https !== d.options.https) await checkWildcardHost(m, d, this.config);
      if (from.host !== d.host || from.pathPrefix !== d.pathPrefix || from.wwwRedirect !== d.options.wwwRedirect) await claimHost(m, d);
      const to = auditableOf(d.host, d.pathPrefix, d.options, d.basicAuth);
      const changes: Record<string, unknown> = {};
      for (const k of Object.keys({ ...from, ...to })) if (JSON.stringify(from[k]) !== JSON.stringify(to[k])) changes[k] = { from: from[k] ?? null, to: to[k] ?? null };
      // Users whose password was replaced (names only; "password" in a key would be redacted by the audit log).
      const passwordsChanged = d.basicAuth.filter((u) => oldHashes.has(u.username) && oldHashes.get(u.username) !== u.passwordHash).map((u) => u.username);
      if (passwordsChanged.length) changes.basicAuthReset = passwordsChanged;
      d.updatedAt = new Date();
      d.version += 1;
      await m.save(DomainEntity, d);
      await stage({ type: 'domain.updated', organizationId: d.organizationId, actor: actorOf(p), subject: subjectOf(d), payload: payloadOf(d) }, { request: p.client, changes });
      return domainView(d);
    });
  }
}

export class DeleteDomainCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly domainId: string) {
    super();
  }
}
@CommandHandler(DeleteDomainCommand)
export class DeleteDomainHandler implements ICommandHandler<DeleteDomainCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, domainId }: DeleteDomainCommand) {
    const before = await this.scope.findOne(p, DomainEntity, 'application', domainId, 'read', { what: 'Domain' });
    await this.scope.findOne(p, ApplicationEntity, 'application', before.applicationId, 'update');
    await this.tx.run(async (m, stage) => {
      const d = await this.scope.findOne(p, DomainEntity, 'application', domainId, 'read', { m, lock: true, what: 'Domain' });
      await m.delete(DomainEntity, { id: d.id });
      await stage({ type: 'domain.deleted', organizationId: d.organizationId, actor: actorOf(p), subject: subjectOf(d), payload: payloadOf(d) }, { request: p.client, changes: { host: d.host, pathPrefix: d.pathPrefix } });
    });
  }
}

/**
 * The generated default host of an application: `<app>-<environment>.<wildcard>` (one DNS label for the first part,
 * at most 63 characters, lowercase letters, digits and inner hyphens), with `-<n>` when that name is taken.
 */
export function defaultHostFor(appName: string, environmentSlug: string, wildcard: string, attempt = 0): string {
  const clean = (s: string) => s.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const suffix = attempt > 0 ? `-${attempt + 1}` : '';
  const label = `${clean(appName) || 'app'}-${clean(environmentSlug) || 'env'}`.slice(0, 63 - suffix.length).replace(/-+$/, '');
  return `${label}${suffix}.${wildcard}`;
}

export class GenerateDomainCommand extends Command<DomainView> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
/**
 * "Generate domain": a domain on the instance's wildcard name (WHARF_WILDCARD_DOMAIN, e.g. an sslip.io name of the
 * server's address), HTTPS on, to the application's first container port (80 without one). A taken name gets `-2`, `-3`…
 */
@CommandHandler(GenerateDomainCommand)
export class GenerateDomainHandler implements ICommandHandler<GenerateDomainCommand> {
  constructor(private readonly scope: TenantScope, private readonly create: CreateDomainHandler, private readonly ds: DataSource, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p, applicationId }: GenerateDomainCommand) {
    // Authorization first: a caller who may not change the application learns nothing about the instance.
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'update');
    const wildcard = this.config.acme.wildcardDomain;
    if (!wildcard) throw new ConflictError('No wildcard domain is configured on this instance (WHARF_WILDCARD_DOMAIN)', 'no-wildcard-domain');
    const env = await this.ds.manager.findOneBy(EnvironmentEntity, { id: app.environmentId });
    const port = app.spec.ports?.[0]?.target ?? 80;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.create.execute(new CreateDomainCommand(p, app.id, { host: defaultHostFor(app.name, env?.slug ?? 'env', wildcard, attempt), port, https: true, redirectHttpToHttps: true }));
      } catch (e) {
        if (!(e instanceof DomainConflictError) || attempt >= 20) throw e;
      }
    }
  }
}

/** The validated domains of one application, oldest first, for the renderer (rows that no longer validate are skipped). */
export async function applicationDomains(m: EntityManager, applicationId: string): Promise<{ domains: ValidDomainSpec[]; skipped: string[] }> {
  const rows = await m.getRepository(DomainEntity).find({ where: { applicationId }, order: { createdAt: 'ASC', id: 'ASC' } });
  const domains: ValidDomainSpec[] = [];
  const skipped: string[] = [];
  for (const r of rows) {
    const spec = domainSpecOf(r);
    if (spec) domains.push(spec);
    else skipped.push(`${r.host}${r.pathPrefix === '/' ? '' : r.pathPrefix}`);
  }
  return { domains, skipped };
}
