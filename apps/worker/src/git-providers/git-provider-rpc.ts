import { Inject, Injectable } from '@nestjs/common';
import { RpcHandler, UnavailableError, ValidationError } from '@wharf/core';
import { GIT_PROVIDER_PORT, GitProviderError, GitProviderPort, ProviderBranch, ProviderRepository } from '@wharf/orchestration';
import { ProviderConnections } from './provider-connections';

/**
 * The API's provider calls (test connection, repositories, branches), made here so the host policy runs where the
 * requests leave from. The API has already checked the caller's access to the connection; ids are re-read here.
 */
@Injectable()
export class GitProviderRpcHandlers {
  constructor(private readonly connections: ProviderConnections, @Inject(GIT_PROVIDER_PORT) private readonly provider: GitProviderPort) {}

  @RpcHandler('git-provider.test')
  async test(params: Record<string, unknown>, signal: AbortSignal): Promise<{ ok: boolean; message: string }> {
    const { connection } = await this.connections.load(String(params.providerId));
    return this.provider.test(connection, signal);
  }

  @RpcHandler('git-provider.repositories')
  async repositories(params: Record<string, unknown>, signal: AbortSignal): Promise<ProviderRepository[]> {
    const { connection } = await this.connections.load(String(params.providerId));
    return this.answer(() => this.provider.listRepositories(connection, String(params.search ?? ''), signal));
  }

  @RpcHandler('git-provider.branches')
  async branches(params: Record<string, unknown>, signal: AbortSignal): Promise<ProviderBranch[]> {
    const { connection } = await this.connections.load(String(params.providerId));
    return this.answer(() => this.provider.listBranches(connection, String(params.repository ?? ''), signal));
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
