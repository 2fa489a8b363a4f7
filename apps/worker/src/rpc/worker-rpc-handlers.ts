import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApplicationEntity, ApplicationSourceEntity, registryAad, RegistryEntity } from '@wharf/applications';
import { NotFoundError, RpcHandler, SecretBox } from '@wharf/core';
import { GIT_PORT, GitPort, GitSourceError, LogLine, SWARM_PORT, SwarmPort } from '@wharf/orchestration';
import { timeOrderedLogs } from './time-ordered-logs';

/**
 * Short requests the API forwards to the worker (the API never talks to Docker). Callers have already passed the
 * tenant-scoped access check in the API; ids are re-read here, never trusted beyond existence.
 */
@Injectable()
export class WorkerRpcHandlers {
  constructor(
    private readonly ds: DataSource,
    private readonly box: SecretBox,
    @Inject(SWARM_PORT) private readonly swarm: SwarmPort,
    @Inject(GIT_PORT) private readonly git: GitPort,
  ) {}

  /**
   * The SSH host keys of a Git source's server (ssh-keyscan, after the host policy), for the user to compare with the
   * provider's published fingerprints before saving them as the source's known hosts. Never stored by this call.
   */
  @RpcHandler('source.scan-host-keys')
  async scanHostKeys(params: Record<string, unknown>): Promise<{ ok: boolean; lines: string[]; message: string }> {
    const s = await this.ds.getRepository(ApplicationSourceEntity).findOneBy({ applicationId: String(params.applicationId) });
    if (!s) throw new NotFoundError('Git source');
    try {
      const lines = await this.git.scanHostKeys({ repository: s.repository, deadlineMs: 15_000 });
      return { ok: lines.length > 0, lines, message: lines.length > 0 ? `${lines.length} host key${lines.length === 1 ? '' : 's'}` : 'the server offered no host key' };
    } catch (e) {
      return { ok: false, lines: [], message: e instanceof GitSourceError ? `${e.message} (${e.reason})` : (e as Error).message };
    }
  }

  @RpcHandler('registry.test')
  async testRegistry(params: Record<string, unknown>): Promise<{ ok: boolean; message: string }> {
    const r = await this.ds.getRepository(RegistryEntity).findOneBy({ id: String(params.registryId) });
    if (!r) throw new NotFoundError('Registry');
    return this.swarm.checkRegistryAuth({ serveraddress: r.host, username: r.username, password: this.box.decrypt(r.passwordEnc, registryAad(r.id)) });
  }

  @RpcHandler('application.logs')
  async applicationLogs(params: Record<string, unknown>, signal: AbortSignal): Promise<AsyncIterable<{ stream: string; line: string; time: string }>> {
    const app = await this.ds.getRepository(ApplicationEntity).findOneBy({ id: String(params.applicationId) });
    if (!app) throw new NotFoundError('Application');
    const service = await this.swarm.inspectService(app.serviceName);
    if (!service) throw new NotFoundError('Running service');
    // Merged by Docker's timestamps: several tasks' lines come task by task from the engine.
    const lines = timeOrderedLogs((o) => this.swarm.serviceLogs(service.id, o), {
      tail: Number(params.tail ?? 200),
      ...(params.since ? { since: new Date(String(params.since)) } : {}),
      follow: params.follow === true,
      signal,
    });
    return (async function* () {
      for await (const l of lines as AsyncIterable<LogLine>) yield { stream: l.stream, line: l.line, time: l.time.toISOString() };
    })();
  }
}
