/**
 * Build types that need a tool on the build host: Nixpacks, Railpack and Cloud Native Buildpacks (`pack`). Each is
 * found on PATH (never installed by Wharf) and run with an argument array (no shell), inside the build's deadline and
 * cancel; its output goes to the deployment log. A tool that is not installed fails the build with `builder-missing`.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { ImageBuildError } from '../ports/image-builder.port';

export type ExternalBuilderKind = 'nixpacks' | 'railpack' | 'buildpacks';

export const EXTERNAL_BUILDER_COMMANDS: Record<ExternalBuilderKind, string> = { nixpacks: 'nixpacks', railpack: 'railpack', buildpacks: 'pack' };

/** The absolute path of `command` on `PATH` (absolute directories only), or null. */
export async function findOnPath(command: string, pathVar: string | undefined = process.env.PATH): Promise<string | null> {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, command);
    try {
      if (!(await stat(candidate)).isFile()) continue;
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return null;
}

export interface ExternalBuildInput {
  kind: ExternalBuilderKind;
  contextDir: string;
  tag: string;
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  /** `pack`'s builder image (WHARF_BUILD_PACK_BUILDER). */
  packBuilder: string;
  deadlineMs: number;
  signal?: AbortSignal;
  onLog: (line: string) => void;
  /** PATH to search (default the process's). */
  pathVar?: string;
}

/** The argument list for a tool (exported for tests); the context directory and tag come last or after their flag. */
export function externalBuilderArgs(input: Pick<ExternalBuildInput, 'kind' | 'contextDir' | 'tag' | 'labels' | 'buildArgs' | 'packBuilder'>): string[] {
  const env = Object.entries(input.buildArgs).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  const labels = Object.entries(input.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  switch (input.kind) {
    case 'nixpacks':
      return ['build', '--name', input.tag, ...labels, ...env, '--', input.contextDir];
    case 'railpack':
      return ['build', '--name', input.tag, ...env, '--', input.contextDir];
    case 'buildpacks':
      return ['build', input.tag, '--path', input.contextDir, '--builder', input.packBuilder, ...env, '--pull-policy', 'if-not-present'];
  }
}

/** Runs the tool; resolves when it exits 0, otherwise an ImageBuildError (builder-missing, timeout, cancelled, build-failed). */
export async function runExternalBuilder(input: ExternalBuildInput): Promise<void> {
  const command = EXTERNAL_BUILDER_COMMANDS[input.kind];
  const path = await findOnPath(command, input.pathVar);
  if (!path) throw new ImageBuildError(`${command} is not installed on the build host (build type ${input.kind}); install it there, or choose another build type`, 'builder-missing');
  if (input.signal?.aborted) throw new ImageBuildError('The build was cancelled before it started.', 'cancelled');
  const args = externalBuilderArgs(input);
  input.onLog(`Running ${command} ${input.kind === 'buildpacks' ? `(builder ${input.packBuilder})` : ''}`.trim());
  await new Promise<void>((resolve, reject) => {
    const child = spawn(path, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let why: 'timeout' | 'cancelled' | null = null;
    const stop = (reason: 'timeout' | 'cancelled') => {
      why ??= reason;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    };
    const timer = setTimeout(() => stop('timeout'), input.deadlineMs);
    const onAbort = () => stop('cancelled');
    input.signal?.addEventListener('abort', onAbort, { once: true });
    const tail: string[] = [];
    const lines = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split(/\r?\n/)) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        input.onLog(line.slice(0, 4000));
      }
    };
    child.stdout.on('data', lines);
    child.stderr.on('data', lines);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new ImageBuildError(`${command} could not be started: ${e.message}`, 'engine'));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      input.signal?.removeEventListener('abort', onAbort);
      if (why === 'timeout') reject(new ImageBuildError(`The build did not finish within ${Math.round(input.deadlineMs / 1000)} s and was stopped.`, 'timeout'));
      else if (why === 'cancelled') reject(new ImageBuildError('The build was cancelled.', 'cancelled'));
      else if (code !== 0) reject(new ImageBuildError(`${command} exited with code ${code}`, 'build-failed', { output: tail }));
      else resolve();
    });
  });
}
