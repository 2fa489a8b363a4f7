import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The 20.10 client that matches the engine (`/usr/local/bin/docker` may be a newer one first on PATH). */
export const DOCKER_CLI = '/usr/bin/docker';
export const DOCKER_SOCKET = process.env.WHARF_TEST_DOCKER_SOCKET ?? '/var/run/docker.sock';

/** argv only, never a shell string. */
export async function exec(file: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ stdout: string; stderr: string }> {
  return run(file, args, { timeout: options.timeoutMs ?? 120_000, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024 });
}

let aptUpdated = false;

/** Installs Debian packages whose `marker` file is missing (root only; otherwise says what to install). */
export async function ensureDebianPackages(packages: { name: string; marker: string }[]): Promise<void> {
  const missing = packages.filter((p) => !existsSync(p.marker)).map((p) => p.name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`Missing Debian packages: ${missing.join(' ')}. Install them with: sudo apt-get install -y ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    await exec('apt-get', ['update', '-qq'], { env, timeoutMs: 300_000 });
    aptUpdated = true;
  }
  await exec('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 300_000 });
}
