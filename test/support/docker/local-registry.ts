import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { ensureDebianPackages, exec } from './host-tools';
import { freePort } from './swarm-test-run';

export interface LocalRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  username: string;
  password: string;
  auth: { username: string; password: string; serveraddress: string };
  /** Tags `source` as `host/repo:tag`, pushes it with the credentials, and returns the pushed reference. */
  push(docker: Docker, source: string, repoTag: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Debian's `docker-registry` (distribution 2.x) on 127.0.0.1:<free port> with htpasswd auth and storage in a temp dir.
 * The engine trusts plain-http registries on 127.0.0.0/8 by default.
 */
export async function startLocalRegistry(): Promise<LocalRegistry> {
  await ensureDebianPackages([
    { name: 'docker-registry', marker: '/usr/bin/docker-registry' },
    { name: 'apache2-utils', marker: '/usr/bin/htpasswd' },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'wharf-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const username = 'wharf';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const { stdout } = await exec('/usr/bin/htpasswd', ['-Bbn', username, password]);
  writeFileSync(join(dir, 'htpasswd'), stdout);
  mkdirSync(join(dir, 'data'));
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    'http:',
    `  addr: ${host}`,
    'auth:',
    '  htpasswd:',
    '    realm: wharf-test',
    `    path: ${join(dir, 'htpasswd')}`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config.yml'), config);
  const logFd = openSync(join(dir, 'registry.log'), 'a');
  const child = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', logFd, logFd], detached: true });
  closeSync(logFd);
  child.unref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 15_000;
  while ((await v2Status(host)) !== 401) {
    if (Date.now() > deadline || child.exitCode !== null) {
      const log = readFileSync(join(dir, 'registry.log'), 'utf8');
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start on ${host}: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const auth = { username, password, serveraddress: host };
  return {
    host,
    username,
    password,
    auth,
    async push(docker, source, repoTag) {
      const [repo, tag = 'latest'] = repoTag.split(':');
      const target = `${host}/${repo}`;
      await docker.getImage(source).tag({ repo: target, tag });
      const stream: NodeJS.ReadableStream = await docker.getImage(`${target}:${tag}`).push({ authconfig: auth } as object);
      const events = await new Promise<{ error?: string }[]>((resolve, reject) =>
        docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) => (err ? reject(err) : resolve(out as never))),
      );
      const failed = events.find((e) => e.error);
      if (failed) throw new Error(`Pushing ${target}:${tag} failed: ${failed.error}`);
      return `${target}:${tag}`;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function v2Status(host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(`http://${host}/v2/`, { timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
