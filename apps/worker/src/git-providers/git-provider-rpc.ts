import { Inject, Injectable } from '@nestjs/common';
import { RpcHandler, UnavailableError, ValidationError } from '@wharf/core';
import { GIT_PROVIDER_PORT, GitProviderError, GitProviderPort, ProviderBranch, ProviderRepository } from '@wharf/orchestration';
import { ProviderConnections } from './provider-connections';

/**
 * The API's provider calls (test connection, repositories, branches, the OAuth code exchange), made here so the host
 * policy runs where the requests leave from. The API has already checked the caller's access to the connection (or,
 * for the code exchange, the single-use state bound to the caller and the browser); ids are re-read here.
 */
@Injectable()
export class GitProviderRpcHandlers {
  constructor(private readonly connections: ProviderConnections, @Inject(GIT_PROVIDER_PORT) private readonly provider: GitProviderPort) {}

  @RpcHandler('git-provider.test')
  async test(params: Record<string, unknown>, signal: AbortSignal): Promise<{ ok: boolean; message: string }> {
    try {
      const { connection } = await this.connections.load(String(params.providerId), signal);
      return await this.provider.test(connection, signal);
    } catch (e) {
      if (e instanceof GitProviderError) return { ok: false, message: `${e.message} (${e.reason})` };
      throw e;
    }
  }

  @RpcHandler('git-provider.repositories')
  async repositories(params: Record<string, unknown>, signal: AbortSignal): Promise<ProviderRepository[]> {
    return this.answer(() => this.connections.use(String(params.providerId), (c) => this.provider.listRepositories(c, String(params.search ?? ''), signal), signal));
  }

  @RpcHandler('git-provider.branches')
  async branches(params: Record<string, unknown>, signal: AbortSignal): Promise<ProviderBranch[]> {
    return this.answer(() => this.connections.use(String(params.providerId), (c) => this.provider.listBranches(c, String(params.repository ?? ''), signal), signal));
  }

  /** Exchanges an OAuth authorization code (with its PKCE verifier) and stores the tokens; never answers them. */
  @RpcHandler('git-provider.oauth-exchange')
  async oauthExchange(params: Record<string, unknown>, signal: AbortSignal): Promise<{ ok: boolean; message: string }> {
    const { row, connection } = await this.connections.stored(String(params.providerId));
    if (connection.auth !== 'oauth') return { ok: false, message: 'the connection does not use an OAuth application' };
    try {
      const t = await this.provider.oauthToken(connection, {
        grantType: 'authorization_code', code: String(params.code ?? ''), codeVerifier: String(params.codeVerifier ?? ''), redirectUri: String(params.redirectUri ?? ''),
      }, signal);
      const username = await this.provider.currentUser({ ...connection, token: t.accessToken }, signal).catch(() => null);
      await this.connections.storeAuthorization(row.id, t, username);
      return { ok: true, message: `authorized as ${username ?? 'an unknown user'}` };
    } catch (e) {
      if (e instanceof GitProviderError) return { ok: false, message: `${e.message} (${e.reason})` };
      throw e;
    }
  }

  /** A provider's refusal becomes a 400 (invalid input) or a 503 naming the reason, never a 500. */
  private async answer<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof GitProviderError)) throw e;
      if (e.reason === 'invalid-input') throw ValidationError.field('/repository', 'invalid', e.message);
      throw new UnavailableError(`The Git provider could not be asked: ${e.message} (${e.reason})`);
    }
  }
}
