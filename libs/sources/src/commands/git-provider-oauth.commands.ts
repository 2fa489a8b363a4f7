/**
 * GitLab connections through an OAuth application (authorization code flow with PKCE S256) and Bitbucket Cloud
 * connections through an OAuth consumer (authorization code flow; Bitbucket documents no PKCE, and takes the redirect
 * URI from the consumer's callback URL).
 *
 * Start (`POST /git-providers/{id}/oauth/authorize`, a member who may change the connection): a random state, stored
 * hashed for 10 minutes with the PKCE verifier (encrypted), the caller and the hash of the browser's binding cookie;
 * answers the provider's authorize URL. Complete (the redirect URI, a public GET the provider sends the browser to):
 * the state is consumed once, only by the browser that started (binding cookie) and, when the request carries a
 * session, only by the same caller; then the worker exchanges the code (host policy, pinned addresses, deadline,
 * size limit) and stores the tokens encrypted. Tokens never reach the API's answers, the audit log or a URL.
 */
import { Inject, Logger } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { type ActorRef, GIT_PROVIDER_OAUTH_CALLBACK_PATH, GIT_PROVIDER_OAUTH_KINDS, GITLAB_OAUTH_SCOPES, providerWebBase } from '@wharf/contracts';
import { ConflictError, randomToken, SecretBox, sha256, TransactionRunner, WHARF_CONFIG, WharfConfig, WorkerRpcClient } from '@wharf/core';
import { actorOf, ClientContext, Principal, TenantScope } from '@wharf/tenancy';
import { GitProviderEntity } from '@wharf/applications';

export const GIT_PROVIDER_OAUTH_STATE_TTL_MS = 10 * 60_000;
const STATE_RE = /^[A-Za-z0-9_-]{20,200}$/;
const CODE_RE = /^[\x21-\x7e]{1,2000}$/;

const verifierAad = (stateHash: string) => `git-provider-oauth:${stateHash}:code-verifier`;
const subjectOf = (r: { id: string; name: string }) => ({ type: 'git-provider', id: r.id, name: r.name });

export interface GitProviderOAuthStart {
  /** Where to send the browser: the provider's authorize page. */
  authorizationUrl: string;
  /** The redirect URI Wharf sends (register it in the provider's OAuth application). */
  redirectUri: string;
  /** Until when the authorization can be completed. */
  expiresAt: string;
}

export class StartGitProviderOAuthCommand extends Command<GitProviderOAuthStart> {
  /** `binder`: the random value of the browser's binding cookie; only a callback presenting it completes. */
  constructor(readonly principal: Principal, readonly providerId: string, readonly binder: string) {
    super();
  }
}

@CommandHandler(StartGitProviderOAuthCommand)
export class StartGitProviderOAuthHandler implements ICommandHandler<StartGitProviderOAuthCommand> {
  constructor(
    private readonly scope: TenantScope,
    private readonly tx: TransactionRunner,
    private readonly box: SecretBox,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  async execute({ principal: p, providerId, binder }: StartGitProviderOAuthCommand): Promise<GitProviderOAuthStart> {
    const r = await this.scope.findOne(p, GitProviderEntity, 'git-provider', providerId, 'update');
    if (!GIT_PROVIDER_OAUTH_KINDS.includes(r.kind) || r.settings.auth !== 'oauth' || !r.settings.clientId || !r.secretsSet.includes('clientSecret')) {
      throw new ConflictError('Only a GitLab connection with an OAuth application or a Bitbucket connection with an OAuth consumer is authorized this way', 'git-provider-not-oauth');
    }
    const state = randomToken(32);
    const verifier = randomToken(48);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const stateHash = sha256(state);
    const expiresAt = new Date(Date.now() + GIT_PROVIDER_OAUTH_STATE_TTL_MS);
    const redirectUri = `${this.config.publicUrl}${GIT_PROVIDER_OAUTH_CALLBACK_PATH}`;
    await this.tx.run(async (m, stage) => {
      await m.query(`DELETE FROM git_provider_oauth_states WHERE expires_at < now()`);
      await m.query(
        `INSERT INTO git_provider_oauth_states (state_hash, provider_id, organization_id, actor, binder_hash, code_verifier_enc, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [stateHash, r.id, r.organizationId, JSON.stringify(actorOf(p)), sha256(binder), this.box.encrypt(verifier, verifierAad(stateHash)), expiresAt],
      );
      await stage({ type: 'git-provider.authorization-started', organizationId: r.organizationId, actor: actorOf(p), subject: subjectOf(r), payload: {} }, { request: p.client });
    });
    const web = providerWebBase(r.kind, r.settings.baseUrl);
    const authorizationUrl = r.kind === 'bitbucket'
      // https://developer.atlassian.com/cloud/bitbucket/oauth-2/: scopes are the consumer's permissions; the callback URL is the consumer's.
      ? `${web}/site/oauth2/authorize?${new URLSearchParams({ client_id: r.settings.clientId, response_type: 'code', state }).toString()}`
      : `${web}/oauth/authorize?${new URLSearchParams({
        client_id: r.settings.clientId, redirect_uri: redirectUri, response_type: 'code', state, scope: GITLAB_OAUTH_SCOPES, code_challenge: challenge, code_challenge_method: 'S256',
      }).toString()}`;
    return { authorizationUrl, redirectUri, expiresAt: expiresAt.toISOString() };
  }
}

/**
 * How a callback ended. Reasons: oauth-invalid-state (missing, unknown, expired or already used), oauth-browser-mismatch
 * (started in another browser), oauth-user-mismatch (started by someone else), oauth-denied (the user or the provider
 * refused), oauth-exchange-failed (the provider did not give tokens for the code: wrong secret, PKCE mismatch, …).
 */
export interface GitProviderOAuthResult {
  ok: boolean;
  reason: string | null;
  organizationId: string | null;
  providerId: string | null;
}

export class CompleteGitProviderOAuthCommand extends Command<GitProviderOAuthResult> {
  /** `params`: the callback's query; `binder`: the binding cookie sent; `principal`: the caller, when a session came along. */
  constructor(readonly params: Record<string, string>, readonly binder: string | null, readonly principal: Principal | null, readonly client: ClientContext) {
    super();
  }
}

interface StateRow {
  provider_id: string;
  organization_id: string;
  actor: ActorRef;
  binder_hash: string;
  code_verifier_enc: string;
  expires_at: Date;
}

@CommandHandler(CompleteGitProviderOAuthCommand)
export class CompleteGitProviderOAuthHandler implements ICommandHandler<CompleteGitProviderOAuthCommand> {
  private readonly logger = new Logger('GitProviderOAuth');
  constructor(
    private readonly ds: DataSource,
    private readonly tx: TransactionRunner,
    private readonly box: SecretBox,
    private readonly rpc: WorkerRpcClient,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  async execute({ params, binder, principal, client }: CompleteGitProviderOAuthCommand): Promise<GitProviderOAuthResult> {
    const fail = (reason: string, row?: StateRow): GitProviderOAuthResult => ({ ok: false, reason, organizationId: row?.organization_id ?? null, providerId: row?.provider_id ?? null });
    const state = params.state;
    if (typeof state !== 'string' || !STATE_RE.test(state)) return fail('oauth-invalid-state');
    const stateHash = sha256(state);
    // Checked and consumed in one transaction (row lock): a state is used once, by the browser and the caller that
    // started it; a mismatch leaves it in place (a stranger cannot burn someone else's authorization).
    const checked = await this.ds.transaction(async (m) => {
      const [row] = (await m.query(`SELECT provider_id, organization_id, actor, binder_hash, code_verifier_enc, expires_at FROM git_provider_oauth_states WHERE state_hash = $1 FOR UPDATE`, [stateHash])) as StateRow[];
      if (!row || new Date(row.expires_at).getTime() <= Date.now()) return { reason: 'oauth-invalid-state', row: undefined };
      if (row.binder_hash !== sha256(binder ?? '')) return { reason: 'oauth-browser-mismatch', row };
      if (principal && actorOf(principal).id !== row.actor.id) return { reason: 'oauth-user-mismatch', row };
      await m.query(`DELETE FROM git_provider_oauth_states WHERE state_hash = $1`, [stateHash]);
      return { reason: null, row };
    });
    const row = checked.row;
    if (checked.reason || !row) {
      if (row) await this.audit(row, principal ? actorOf(principal) : row.actor, client, 'denied', checked.reason ?? 'oauth-invalid-state');
      return fail(checked.reason ?? 'oauth-invalid-state', row);
    }
    if (params.error || typeof params.code !== 'string' || !CODE_RE.test(params.code)) {
      await this.audit(row, row.actor, client, 'failed', params.error ? 'oauth-denied' : 'oauth-invalid-code');
      return fail(params.error ? 'oauth-denied' : 'oauth-exchange-failed', row);
    }
    let answer: { ok: boolean; message: string };
    try {
      answer = await this.rpc.call<{ ok: boolean; message: string }>('git-provider.oauth-exchange', {
        providerId: row.provider_id, code: params.code, codeVerifier: this.box.decrypt(row.code_verifier_enc, verifierAad(stateHash)),
        redirectUri: `${this.config.publicUrl}${GIT_PROVIDER_OAUTH_CALLBACK_PATH}`,
      }, 40_000);
    } catch (e) {
      answer = { ok: false, message: (e as Error).message };
    }
    if (!answer.ok) this.logger.warn(`OAuth code exchange failed for connection ${row.provider_id}: ${answer.message}`);
    await this.audit(row, row.actor, client, answer.ok ? 'succeeded' : 'failed', answer.ok ? null : 'oauth-exchange-failed');
    return answer.ok ? { ok: true, reason: null, organizationId: row.organization_id, providerId: row.provider_id } : fail('oauth-exchange-failed', row);
  }

  private async audit(row: StateRow, actor: ActorRef, client: ClientContext, outcome: 'succeeded' | 'failed' | 'denied', reason: string | null): Promise<void> {
    const [p] = (await this.ds.query(`SELECT id, name FROM git_providers WHERE id = $1`, [row.provider_id])) as Array<{ id: string; name: string }>;
    if (!p) return;
    await this.tx.run(async (_m, stage) => {
      await stage(
        { type: 'git-provider.authorized', organizationId: row.organization_id, actor, subject: subjectOf(p), payload: { ok: outcome === 'succeeded', reason } },
        { request: client, outcome },
      );
    });
  }
}
