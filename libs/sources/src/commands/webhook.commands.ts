/**
 * A webhook delivery for an application, from its Git provider (or anything that signs like the generic sender).
 * Public (no session): the signature with the application's webhook secret is the authentication. Every delivery is
 * recorded in webhook_deliveries — accepted (with the deployment it queued), ignored (with the reason: another branch,
 * no watched path changed, an event Wharf does not act on) or rejected (bad or missing signature, stale timestamp,
 * oversized) — and a delivery id already seen is answered as a duplicate without acting again. An accepted push queues
 * a deployment of exactly the pushed commit (a pushed tag deploys when its name matches one of the source's
 * `deployTags` globs, else it is ignored with the reason); a burst of pushes collapses to the newest (a newer request supersedes
 * queued ones). The deployment is requested as a principal that may only read and deploy this application's
 * environment, named after the provider and the delivery.
 */
import { Injectable } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { isCommitId } from '@wharf/contracts';
import { newId, NotFoundError, SecretBox } from '@wharf/core';
import { buildAbility, ClientContext, Grant, Principal } from '@wharf/tenancy';
import { ApplicationEntity, ApplicationSourceEntity, RequestDeploymentCommand, webhookSecretAad } from '@wharf/applications';
import { Headers, verifyWebhook, WebhookProvider, WebhookRejection, WEBHOOK_PROVIDERS } from '../webhooks/webhook-signatures';
import { parseWebhookEvent, pushDecision, WebhookEvent } from '../webhooks/webhook-events';
import { PreviewDeployer } from '../previews/preview.commands';

export type WebhookOutcome = 'accepted' | 'ignored' | 'rejected' | 'duplicate';
export interface WebhookResult {
  outcome: WebhookOutcome;
  reason: string | null;
  deliveryId: string | null;
  deploymentId: string | null;
  /** HTTP status for the answer: 202 accepted/ignored, 200 duplicate, 401 bad signature, 413 too large, 400 otherwise. */
  status: number;
}

export const isWebhookProvider = (p: string): p is WebhookProvider => (WEBHOOK_PROVIDERS as readonly string[]).includes(p);

/** A branch name when the source tracks one (a tag or a commit id never moves with a push). */
const trackedBranch = (ref: string): string | null => (isCommitId(ref) || ref.startsWith('refs/tags/') ? null : ref.replace(/^refs\/heads\//, ''));

export class ReceiveWebhookCommand extends Command<WebhookResult> {
  constructor(
    readonly provider: WebhookProvider,
    readonly applicationId: string,
    readonly headers: Headers,
    readonly body: Buffer,
    readonly client: ClientContext,
  ) {
    super();
  }
}

/** Rejected deliveries recorded per application (or per connection) in any 10 minutes; more are answered the same but not stored. */
export const REJECTED_RECORDED_PER_10_MIN = 50;

/** The answer's status for a refused delivery: 413 too large, 401 for a signature or timestamp problem, else 400. */
export const rejectionStatus = (reason: WebhookRejection): number =>
  reason === 'too-large' ? 413 : reason === 'bad-signature' || reason === 'missing-signature' || reason === 'stale-timestamp' ? 401 : 400;

/**
 * Whether one more rejected delivery may be recorded for this owner (an application's or a connection's deliveries):
 * anyone can send one, so at most REJECTED_RECORDED_PER_10_MIN are stored in any 10 minutes.
 */
export async function mayRecordRejected(ds: DataSource, table: 'webhook_deliveries' | 'git_provider_deliveries', ownerId: string): Promise<boolean> {
  const column = table === 'webhook_deliveries' ? 'application_id' : 'git_provider_id';
  const [{ n }] = await ds.query(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${table} WHERE ${column} = $1 AND received_at > now() - interval '10 minutes' AND outcome = 'rejected' LIMIT $2) recent`,
    [ownerId, REJECTED_RECORDED_PER_10_MIN],
  );
  return n < REJECTED_RECORDED_PER_10_MIN;
}

/** What one application made of a verified delivery (`duplicate`: its id was already recorded for the application). */
export interface ApplicationDeliveryResult {
  outcome: 'accepted' | 'ignored' | 'duplicate';
  reason: string | null;
  deploymentId: string | null;
}

/**
 * The one path from a verified delivery to an application's action, shared by the application's own webhook and a Git
 * provider connection's (GitHub App) webhook: records the delivery on the application (a delivery id it has seen is a
 * duplicate), then a push to the tracked branch or a deploying tag that touches a watched path queues a deployment of
 * that commit (a newer one supersedes it), a pull request goes to the previews (fork and author approval rules), and
 * anything else is ignored with the reason.
 */
@Injectable()
export class ApplicationWebhookDispatcher {
  constructor(private readonly ds: DataSource, private readonly commands: CommandBus, private readonly previews: PreviewDeployer) {}

  /** Records a rejected delivery on the application (within the cap); the caller answers it. */
  async recordRejected(app: ApplicationEntity, provider: WebhookProvider, detail: string): Promise<void> {
    // A rejected delivery's id is the sender's word, not to be trusted: it is recorded under an id of its own.
    if (await mayRecordRejected(this.ds, 'webhook_deliveries', app.id)) {
      await this.insert(app, provider, { deliveryId: `rejected:${newId()}`, event: null, outcome: 'rejected', reason: detail }, null);
    }
  }

  async deliver(
    app: ApplicationEntity, src: ApplicationSourceEntity, provider: WebhookProvider, delivery: { deliveryId: string; event: string }, event: WebhookEvent, client: ClientContext,
    gitProviderId: string | null = null,
  ): Promise<ApplicationDeliveryResult> {
    let outcome: 'accepted' | 'ignored' = 'ignored';
    let reason: string | null = null;
    let ref: string | null = null;
    let commit: string | null = null;
    if (event.kind === 'push') {
      ref = event.ref;
      commit = event.commit;
      const decision = pushDecision(event, { branch: trackedBranch(src.ref), tagPatterns: src.deployTags ?? [], watchPaths: src.watchPaths });
      if (decision.deploy) outcome = 'accepted';
      else reason = decision.reason;
    } else if (event.kind === 'ping') {
      reason = 'ping';
    } else if (event.kind === 'pull-request') {
      // Recorded first (a replayed delivery stops here), then handed to the previews; the row gets their outcome.
      outcome = 'accepted';
      ref = event.headRef.slice(0, 1024);
      commit = event.headSha;
    } else {
      reason = event.reason;
    }
    const rowId = await this.insert(app, provider, { deliveryId: delivery.deliveryId, event: delivery.event, outcome, reason, ref, commit }, gitProviderId);
    if (rowId === null) return { outcome: 'duplicate', reason: 'this delivery was already received', deploymentId: null };
    if (outcome === 'ignored') return { outcome, reason, deploymentId: null };
    if (event.kind === 'pull-request') {
      let r: { outcome: 'accepted' | 'ignored'; reason: string | null; deploymentId: string | null };
      try {
        r = await this.previews.onPullRequest(app, provider, event, delivery.deliveryId, client);
      } catch (e) {
        r = { outcome: 'ignored', reason: `the preview was refused: ${(e as Error).message}`.slice(0, 500), deploymentId: null };
      }
      await this.ds.query(`UPDATE webhook_deliveries SET outcome = $2, reason = $3, deployment_id = $4 WHERE id = $1`, [rowId, r.outcome, r.reason?.slice(0, 500) ?? null, r.deploymentId]);
      return r;
    }

    const principal = webhookPrincipal(app, provider, delivery.deliveryId, client);
    try {
      // A tag's push deploys that tag (its commit when the provider named it), whatever ref the source tracks.
      const tagRef = event.kind === 'push' && event.tag !== null ? { ref: event.ref } : {};
      const d = await this.commands.execute(new RequestDeploymentCommand(principal, app.id, { kind: 'deploy', ...(commit ? { commit } : {}), ...tagRef }));
      await this.ds.query(`UPDATE webhook_deliveries SET deployment_id = $2 WHERE id = $1`, [rowId, d.id]);
      return { outcome: 'accepted', reason: null, deploymentId: d.id };
    } catch (e) {
      const message = (e as Error).message;
      await this.ds.query(`UPDATE webhook_deliveries SET outcome = 'ignored', reason = $2 WHERE id = $1`, [rowId, `the deployment was refused: ${message}`.slice(0, 500)]);
      return { outcome: 'ignored', reason: `the deployment was refused: ${message}`, deploymentId: null };
    }
  }

  /** The delivery's row on the application; null when this delivery id is already recorded for it. */
  private async insert(
    app: ApplicationEntity, provider: WebhookProvider,
    row: { deliveryId: string; event: string | null; outcome: 'accepted' | 'ignored' | 'rejected'; reason: string | null; ref?: string | null; commit?: string | null },
    gitProviderId: string | null,
  ): Promise<string | null> {
    const id = newId();
    const inserted: unknown[] = await this.ds.query(
      `INSERT INTO webhook_deliveries (id, application_id, organization_id, project_id, environment_id, provider, delivery_id, event, outcome, reason, ref, commit, git_provider_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (application_id, provider, delivery_id) DO NOTHING RETURNING id`,
      [id, app.id, app.organizationId, app.projectId, app.environmentId, provider, row.deliveryId, row.event, row.outcome, row.reason?.slice(0, 500) ?? null, row.ref ?? null, row.commit ?? null, gitProviderId],
    );
    return inserted.length > 0 ? id : null;
  }
}

@CommandHandler(ReceiveWebhookCommand)
export class ReceiveWebhookHandler implements ICommandHandler<ReceiveWebhookCommand> {
  constructor(private readonly ds: DataSource, private readonly box: SecretBox, private readonly dispatcher: ApplicationWebhookDispatcher) {}

  async execute({ provider, applicationId, headers, body, client }: ReceiveWebhookCommand): Promise<WebhookResult> {
    const app = await this.ds.manager.findOneBy(ApplicationEntity, { id: applicationId });
    const src = app ? await this.ds.manager.findOneBy(ApplicationSourceEntity, { applicationId }) : null;
    // No application, or no Git source: the same 404 (an unknown id tells nothing). A preview takes no webhooks of its own.
    if (!app || !src || src.kind === 'upload' || app.deleting || app.previewOf) throw new NotFoundError('Webhook');

    const verified = verifyWebhook(provider, headers, body, this.box.decrypt(src.webhookSecretBox, webhookSecretAad(app.id)));
    if (!verified.ok) {
      await this.dispatcher.recordRejected(app, provider, verified.detail);
      return { outcome: 'rejected', reason: verified.detail, deliveryId: null, deploymentId: null, status: rejectionStatus(verified.reason) };
    }
    const event = parseWebhookEvent(provider, verified.event, body);
    const r = await this.dispatcher.deliver(app, src, provider, verified, event, client);
    return { ...r, deliveryId: verified.deliveryId, status: r.outcome === 'duplicate' ? 200 : 202 };
  }
}

/** Read and deploy in the application's environment, nothing else; named after the delivery for the audit log. */
function webhookPrincipal(app: ApplicationEntity, provider: WebhookProvider, deliveryId: string, client: ClientContext): Principal {
  const grants: Grant[] = [{
    organizationId: app.organizationId, role: 'webhook', customRoleId: null, permissions: ['application:read', 'application:deploy'],
    projectIds: null, environmentIds: [app.environmentId], environmentProjectIds: [app.projectId], blockedByTwoFactor: false,
  }];
  return {
    kind: 'api-key', userId: null, apiKeyId: null, name: `webhook:${provider} ${deliveryId.slice(0, 80)}`, sessionId: null, isInstanceAdmin: false,
    scopes: null, grants, ability: buildAbility(grants, null), client,
  };
}
