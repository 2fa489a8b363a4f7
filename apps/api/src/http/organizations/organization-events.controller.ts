import { Controller, Get, Injectable, Logger, Param, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { LiveEvent, PROJECT_SCOPED_SUBJECTS, Subject, SUBJECTS } from '@wharf/contracts';
import { LiveEventHub, UnavailableError } from '@wharf/core';
import { asSubject, Authenticator, Principal, TenantScope } from '@wharf/tenancy';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';

/** A comment line this often keeps proxies from closing an idle stream. */
export const LIVE_HEARTBEAT_MS = 25_000;
/** Abilities are read again at least this often (and at once when a member, role or key event of the org passes). */
export const LIVE_ABILITY_REFRESH_MS = 60_000;
/** What EventSource waits before reconnecting after a drop. */
export const LIVE_RETRY_MS = 3_000;

const REFRESH_ON = new Set(['member.updated', 'member.removed', 'member.left', 'role.updated', 'role.deleted', 'api-key.revoked', 'organization.updated']);

type Place = { projectId: string; environmentId: string };

/**
 * Where an application lives (project and environment), for events whose payload names only the application
 * (deployments, application updates). Cached briefly: an application never moves, and the entry outlives its deletion
 * long enough for `application.deleted` (the row is gone by then) to be placed from `application.delete-requested`.
 */
@Injectable()
export class ApplicationPlaces {
  private readonly cache = new Map<string, { place: Place | null; at: number }>();
  private static readonly TTL_MS = 10 * 60_000;
  private static readonly MAX = 5000;

  constructor(private readonly ds: DataSource) {}

  async of(organizationId: string, applicationId: string): Promise<Place | null> {
    const key = `${organizationId}:${applicationId}`;
    const hit = this.cache.get(key);
    if (hit && (hit.place || Date.now() - hit.at < 5_000) && Date.now() - hit.at < ApplicationPlaces.TTL_MS) return hit.place;
    // Not a caller's read: the result only decides whether an event reaches a stream (by the caller's ability).
    const [row] = await this.ds.query(`SELECT project_id, environment_id FROM applications WHERE id = $1 AND organization_id = $2`, [applicationId, organizationId]);
    const place = row ? { projectId: row.project_id as string, environmentId: row.environment_id as string } : (hit?.place ?? null);
    if (this.cache.size >= ApplicationPlaces.MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { place, at: Date.now() });
    return place;
  }
}

/**
 * Whether the caller may read what the event is about, by the same fields the abilities use (organization, project,
 * environment). An event whose subject is not a permission subject (sessions, users) is never sent; a project-scoped
 * event that cannot be placed in a project reaches only members who see the whole organization.
 */
export function mayRead(p: Principal, e: LiveEvent): boolean {
  // A domain and its certificate are read with their application's permission (as their API routes are).
  if ((e.subject.type === 'domain' || e.subject.type === 'certificate') && e.payload.applicationId) {
    return mayRead(p, { ...e, subject: { type: 'application', id: e.payload.applicationId, name: e.subject.name } });
  }
  const type = e.subject.type as Subject;
  if (!(SUBJECTS as readonly string[]).includes(type)) return false;
  if (type === 'organization') return p.ability.can('read', asSubject('organization', { id: e.organizationId, organizationId: e.organizationId }) as never);
  const obj: Record<string, unknown> = { organizationId: e.organizationId };
  if (e.subject.id) obj.id = e.subject.id;
  if (PROJECT_SCOPED_SUBJECTS.includes(type)) {
    if (e.payload.projectId) obj.projectId = e.payload.projectId;
    if (e.payload.environmentId) obj.environmentId = e.payload.environmentId;
    if (type === 'project') obj.id = e.payload.projectId ?? e.subject.id;
    if (type === 'environment') obj.id = e.payload.environmentId ?? e.subject.id;
  }
  return p.ability.can('read', asSubject(type, obj) as never);
}

@ApiTags('organizations')
@ApiErrors(401, 404)
@Controller('organizations/:orgId/events')
export class OrganizationEventsController {
  private readonly logger = new Logger('LiveEvents');

  constructor(
    private readonly hub: LiveEventHub,
    private readonly scope: TenantScope,
    private readonly authenticator: Authenticator,
    private readonly places: ApplicationPlaces,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Live domain events of the organization (Server-Sent Events): what changed, filtered by what you may read',
    description:
      'After `event: ready` (subscribed), each committed event you may read arrives as `event: domain` with `id` and JSON data ' +
      '{ id, type, occurredAt, organizationId, subject { type, id, name }, actor { type, name }, payload { projectId?, environmentId?, applicationId?, deploymentId?, status?, kind?, error? } } — ' +
      'ids and names only, never values. Delivery is at least once (dedupe by id) and there is no replay: after a reconnect, reload what you show. ' +
      'A comment line every 25 s keeps the connection open; `event: end` closes it (membership removed, session ended, shutdown).',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'Server-Sent Events: ready, domain (one per event), end', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  async stream(@CurrentPrincipal() principal: Principal, @Param('orgId', IdPipe) orgId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    this.scope.assertOrganizationReadable(principal, orgId);
    let p = principal;
    let ended = false;
    let unsubscribe: (() => void) | null = null;
    const timers: NodeJS.Timeout[] = [];
    let chain: Promise<void> = Promise.resolve();

    const end = (reason: string): void => {
      if (ended) return;
      ended = true;
      for (const timer of timers) clearInterval(timer);
      unsubscribe?.();
      unsubscribe = null;
      this.hub.shutdown.removeEventListener('abort', onShutdown);
      if (!res.writableEnded && !res.destroyed) {
        if (reason !== 'client') res.write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
        res.end();
      }
    };
    const onShutdown = (): void => end('shutdown');
    const write = (chunk: string): void => {
      if (!ended && !res.writableEnded && !res.destroyed) res.write(chunk);
    };
    const refresh = async (): Promise<void> => {
      const next = await this.authenticator.refresh(p).catch((e: Error) => {
        this.logger.warn(`live stream: abilities not re-read: ${e.message}`);
        return p;
      });
      if (!next) return end('unauthenticated');
      p = next;
      try {
        this.scope.assertOrganizationReadable(p, orgId);
      } catch {
        end('not-a-member');
      }
    };
    const handle = async (e: LiveEvent): Promise<void> => {
      if (ended) return;
      if (REFRESH_ON.has(e.type)) await refresh();
      if (ended) return;
      const live: LiveEvent = { ...e, payload: { ...e.payload } };
      const applicationId = live.payload.applicationId ?? (live.subject.type === 'application' ? live.subject.id : null);
      if (applicationId && !live.payload.projectId) {
        const place = await this.places.of(orgId, applicationId).catch(() => null);
        if (place) Object.assign(live.payload, place);
      }
      if (live.subject.type === 'application' && live.subject.id) live.payload.applicationId = live.subject.id;
      if (!mayRead(p, live)) return;
      write(`id: ${live.id}\nevent: domain\ndata: ${JSON.stringify(live)}\n\n`);
    };

    if (this.hub.shutdown.aborted) throw new UnavailableError('The server is shutting down');
    req.on('close', () => end('client'));
    res.on('close', () => end('client'));
    this.hub.shutdown.addEventListener('abort', onShutdown);

    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    write(`retry: ${LIVE_RETRY_MS}\n\n`);
    try {
      const off = await this.hub.subscribe(orgId, (e) => {
        // One event at a time, in order (placing an application may wait for the database).
        chain = chain.then(() => handle(e)).catch((err: Error) => this.logger.warn(`live stream: ${err.message}`));
      });
      if (ended) return off();
      unsubscribe = off;
    } catch (e) {
      write(`event: error\ndata: ${JSON.stringify({ message: 'Live events are unavailable' })}\n\n`);
      this.logger.warn(`live stream: subscribe failed: ${(e as Error).message}`);
      return end('unavailable');
    }
    timers.push(
      setInterval(() => write(': keep-alive\n\n'), LIVE_HEARTBEAT_MS),
      setInterval(() => {
        chain = chain.then(refresh).catch(() => undefined);
      }, LIVE_ABILITY_REFRESH_MS),
    );
    for (const timer of timers) timer.unref();
    write(`event: ready\ndata: {}\n\n`);
  }
}
