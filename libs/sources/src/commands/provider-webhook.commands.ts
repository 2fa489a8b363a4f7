/**
 * A GitHub App's webhook: GitHub sends every event of every repository the App is installed on to one URL per
 * connection, signed with the App's webhook secret (stored on the connection). Public (no session): the signature is
 * the authentication; a connection without a webhook secret refuses every delivery. A verified delivery is recorded on
 * the connection (a delivery id seen before is answered as a duplicate without acting) and handed, through the same
 * path as an application's own webhook (ApplicationWebhookDispatcher), to every application of the connection's
 * organization whose source uses this connection and whose repository is the payload's repository; each of them
 * records it in its delivery history. `ping` and `installation*` events, and deliveries no application matches, are
 * recorded on the connection as ignored with the reason; rejected ones (within REJECTED_RECORDED_PER_10_MIN) too.
 */
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource, In } from 'typeorm';
import { newId, NotFoundError, SecretBox } from '@wharf/core';
import { ClientContext, Principal, TenantScope } from '@wharf/tenancy';
import { ApplicationEntity, ApplicationSourceEntity, GitProviderEntity, gitProviderSecretsAad } from '@wharf/applications';
import { Headers, verifyWebhook } from '../webhooks/webhook-signatures';
import { parseWebhookEvent } from '../webhooks/webhook-events';
import { ApplicationDeliveryResult, ApplicationWebhookDispatcher, mayRecordRejected, rejectionStatus, WebhookOutcome } from './webhook.commands';

/** The path of a connection's webhook (append to Wharf's public URL); GitHub App connections only. */
export const gitProviderWebhookPath = (kind: string, providerId: string): string | null => (kind === 'github' ? `/api/v1/webhooks/git-providers/${providerId}/github` : null);

export interface ProviderWebhookResult {
  outcome: WebhookOutcome;
  reason: string | null;
  deliveryId: string | null;
  /** What each matching application made of the delivery. */
  applications: Array<ApplicationDeliveryResult & { applicationId: string }>;
  /** HTTP status: 202 accepted/ignored, 200 duplicate, 401 bad or missing signature, 413 too large, 400 otherwise. */
  status: number;
}

export class ReceiveProviderWebhookCommand extends Command<ProviderWebhookResult> {
  constructor(readonly providerId: string, readonly headers: Headers, readonly body: Buffer, readonly client: ClientContext) {
    super();
  }
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);

/** `host/owner/name` in lower case (GitHub's names are case-insensitive), from an https URL; null for anything else. */
export function repositoryKey(url: unknown): string | null {
  if (typeof url !== 'string' || url.length > 2048) return null;
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
    const path = u.pathname.replace(/\/+$/, '').replace(/\.git$/i, '');
    return path.length > 1 ? `${u.host}${path}`.toLowerCase() : null;
  } catch {
    return null;
  }
}

/** The payload's repository: its name and the keys its URLs give (clone and html URL). */
function payloadRepository(body: Buffer): { fullName: string | null; keys: Set<string> } {
  let p: Obj | null = null;
  try {
    p = obj(JSON.parse(body.toString('utf8')));
  } catch {
    p = null;
  }
  const repo = obj(p?.repository);
  const fullName = typeof repo?.full_name === 'string' && repo.full_name.length <= 500 ? repo.full_name : null;
  const keys = new Set([repositoryKey(repo?.clone_url), repositoryKey(repo?.html_url)].filter((k): k is string => k !== null));
  return { fullName, keys };
}

/** Events of the App itself (installed, repositories added or removed, suspended): nothing to deploy. */
const isInstallationEvent = (event: string) => event === 'installation' || event.startsWith('installation_') || event === 'github_app_authorization';

@CommandHandler(ReceiveProviderWebhookCommand)
export class ReceiveProviderWebhookHandler implements ICommandHandler<ReceiveProviderWebhookCommand> {
  constructor(private readonly ds: DataSource, private readonly box: SecretBox, private readonly dispatcher: ApplicationWebhookDispatcher) {}

  async execute({ providerId, headers, body, client }: ReceiveProviderWebhookCommand): Promise<ProviderWebhookResult> {
    const provider = await this.ds.manager.findOneBy(GitProviderEntity, { id: providerId });
    // Unknown, or not a GitHub App connection: the same 404 (an unknown id tells nothing).
    if (!provider || provider.kind !== 'github') throw new NotFoundError('Webhook');
    const secrets = provider.secretsBox ? (JSON.parse(this.box.decrypt(provider.secretsBox, gitProviderSecretsAad(provider.id))) as Record<string, string>) : {};
    const secret = secrets.webhookSecret ?? '';
    const verified = verifyWebhook('github', headers, body, secret);
    if (!verified.ok) {
      const detail = secret || verified.reason === 'too-large' ? verified.detail : "the connection has no webhook secret: set the GitHub App's webhook secret on it";
      // The delivery id of a rejected delivery is the sender's word: recorded under an id of its own, within the cap.
      if (await mayRecordRejected(this.ds, 'git_provider_deliveries', provider.id)) {
        await this.record(provider, { deliveryId: `rejected:${newId()}`, event: null, outcome: 'rejected', reason: detail, repository: null });
      }
      return { outcome: 'rejected', reason: detail, deliveryId: null, applications: [], status: rejectionStatus(verified.reason) };
    }

    const { fullName, keys } = payloadRepository(body);
    const ignoredFor = verified.event === 'ping' ? 'ping' : isInstallationEvent(verified.event) ? `event "${verified.event}" concerns the App's installation: nothing to deploy` : null;
    const rowId = await this.record(provider, { deliveryId: verified.deliveryId, event: verified.event, outcome: 'ignored', reason: ignoredFor, repository: fullName });
    if (rowId === null) return { outcome: 'duplicate', reason: 'this delivery was already received', deliveryId: verified.deliveryId, applications: [], status: 200 };
    if (ignoredFor) return { outcome: 'ignored', reason: ignoredFor, deliveryId: verified.deliveryId, applications: [], status: 202 };

    const matches = await this.applicationsOf(provider, keys);
    const event = parseWebhookEvent('github', verified.event, body);
    const applications: ProviderWebhookResult['applications'] = [];
    for (const { app, src } of matches) {
      const r = await this.dispatcher.deliver(app, src, 'github', verified, event, client, provider.id);
      applications.push({ applicationId: app.id, ...r });
    }
    let outcome: 'accepted' | 'ignored' = 'ignored';
    let reason: string | null;
    if (matches.length === 0) {
      reason = fullName ? `no application of this connection uses the repository ${fullName}` : 'the delivery names no repository';
    } else if (applications.some((a) => a.outcome === 'accepted')) {
      outcome = 'accepted';
      reason = null;
    } else {
      reason = `no application acted on it: ${applications.map((a) => a.reason ?? a.outcome).filter((x, i, all) => all.indexOf(x) === i).join('; ')}`;
    }
    await this.ds.query(`UPDATE git_provider_deliveries SET outcome = $2, reason = $3, applications = $4 WHERE id = $1`, [rowId, outcome, reason?.slice(0, 500) ?? null, matches.length]);
    return { outcome, reason, deliveryId: verified.deliveryId, applications, status: 202 };
  }

  /**
   * Applications of the connection's organization (not previews, not being deleted) whose source uses this connection
   * and names the payload's repository.
   */
  private async applicationsOf(provider: GitProviderEntity, keys: Set<string>): Promise<Array<{ app: ApplicationEntity; src: ApplicationSourceEntity }>> {
    if (keys.size === 0) return [];
    const sources = await this.ds.manager.find(ApplicationSourceEntity, { where: { providerId: provider.id, organizationId: provider.organizationId }, order: { applicationId: 'ASC' } });
    const matching = sources.filter((s) => keys.has(repositoryKey(s.repository) ?? ''));
    if (!matching.length) return [];
    const apps = await this.ds.manager.find(ApplicationEntity, { where: { id: In(matching.map((s) => s.applicationId)), organizationId: provider.organizationId, deleting: false } });
    const byId = new Map(apps.filter((a) => !a.previewOf).map((a) => [a.id, a]));
    return matching.filter((s) => byId.has(s.applicationId)).map((s) => ({ app: byId.get(s.applicationId)!, src: s }));
  }

  private async record(provider: GitProviderEntity, row: { deliveryId: string; event: string | null; outcome: 'accepted' | 'ignored' | 'rejected'; reason: string | null; repository: string | null }): Promise<string | null> {
    const id = newId();
    const inserted: unknown[] = await this.ds.query(
      `INSERT INTO git_provider_deliveries (id, git_provider_id, organization_id, delivery_id, event, outcome, reason, repository)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (git_provider_id, delivery_id) DO NOTHING RETURNING id`,
      [id, provider.id, provider.organizationId, row.deliveryId, row.event, row.outcome, row.reason?.slice(0, 500) ?? null, row.repository],
    );
    return inserted.length > 0 ? id : null;
  }
}

export interface GitProviderDeliveryView {
  id: string;
  deliveryId: string;
  event: string | null;
  outcome: 'accepted' | 'ignored' | 'rejected';
  reason: string | null;
  /** The payload's repository (owner/name). */
  repository: string | null;
  /** How many applications the delivery was handed to (each records it in its own delivery history). */
  applications: number;
  receivedAt: string;
}

export class ListGitProviderDeliveriesQuery extends Query<GitProviderDeliveryView[]> {
  constructor(readonly principal: Principal, readonly providerId: string) {
    super();
  }
}
/** The connection's last 100 webhook deliveries, newest first. */
@QueryHandler(ListGitProviderDeliveriesQuery)
export class ListGitProviderDeliveriesHandler implements IQueryHandler<ListGitProviderDeliveriesQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource) {}
  async execute({ principal: p, providerId }: ListGitProviderDeliveriesQuery): Promise<GitProviderDeliveryView[]> {
    const provider = await this.scope.findOne(p, GitProviderEntity, 'git-provider', providerId);
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT id, delivery_id, event, outcome, reason, repository, applications, received_at FROM git_provider_deliveries
        WHERE git_provider_id = $1 ORDER BY received_at DESC, id DESC LIMIT 100`,
      [provider.id],
    );
    return rows.map((r) => ({
      id: String(r.id), deliveryId: String(r.delivery_id), event: (r.event as string | null) ?? null, outcome: r.outcome as GitProviderDeliveryView['outcome'],
      reason: (r.reason as string | null) ?? null, repository: (r.repository as string | null) ?? null, applications: Number(r.applications), receivedAt: (r.received_at as Date).toISOString(),
    }));
  }
}
