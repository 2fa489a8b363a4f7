import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import {
  IMAGE_BUILD_REQUIRED_LABELS,
  ImageBuildError,
  type ImageBuilderPort,
  type ImageBuildInput,
  type ImageBuildResult,
  type ImagePushInput,
  type RemoveImagesResult,
} from '../ports/image-builder.port';
import { BuildProgressParser } from './build-progress';
import { formatBytes, packContext, readDockerignore, resolveBuildPaths, scanContext } from './build-context';
import { openBuildkitSession, type BuildkitSession } from './buildkit-session';
import { dockerignoreWithLabelled, LABELLED_DOCKERFILE, labelledDockerfile } from './build-labels';

/** `host[:port]/repository:tag` (lowercase repository path, Docker's tag characters): what a push may target. */
const PUSH_TARGET = /^((?:[a-z0-9.-]+|\[[0-9a-f:]+\])(?::\d{1,5})?\/[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/;

export interface DockerBuildAdapterOptions {
  /** A ready dockerode client (e.g. over SSH); otherwise one is made for `socketPath`. */
  docker?: Docker;
  /** Default `/var/run/docker.sock`. */
  socketPath?: string;
  /** Largest build context sent to the engine (default 1 GiB). */
  maxContextBytes?: number;
  /** Most files, directories and links in a context (default 200 000). */
  maxContextEntries?: number;
  /** How long one short Engine API call (inspect, list, remove) may take (default 60 s). */
  callTimeoutMs?: number;
}

const TAG = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;
const TARGET = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const BUILD_ARG = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;
const SECRET_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;
const MAX_VALUE = 64 * 1024;
/** Where files Wharf generated go in the context (see ImageBuildInput.generatedFiles). */
const GENERATED_DIR = '.wharf-build';
const GENERATED_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
/** How long a cancelled or timed-out build may spend removing a tag that raced the cancel. */
const UNTAG_AFTER_ABORT_MS = 5_000;

/**
 * Image builds through the Engine API (`POST /build`): the context is packed here from lstat'ed entries (links stay
 * links, nothing outside the context is read) and streamed as a tar; the JSON progress goes to `onLog` line by line.
 * Deadline and cancel abort the HTTP request, which makes dockerd cancel the build and stop the running step (its
 * container is removed, `forcerm`); the image is only tagged when the build completes.
 *
 * Builds without secrets use the classic builder (`version=1`; its layer cache, "Using cache"), with the labels in one
 * `LABEL` step of a labelled copy of the Dockerfile where it can be made (see build-labels.ts; the `labels` parameter
 * would cost one step per label). Builds with secrets use
 * BuildKit (`version=2`) with a session this process serves (see openBuildkitSession): the values reach only
 * `RUN --mount=type=secret,id=…` steps (as files under /run/secrets), never a layer, the build arguments or the image
 * history, and every occurrence of a value (4+ characters) is replaced by `[secret]` in the log and the error. An engine
 * that refuses BuildKit fails such a build with `secrets-unsupported`. BuildKit's cache key ignores secret values, and
 * the engine's cache is shared by every organization, so builds with secrets run without the cache (`nocache`).
 */
export class DockerBuildAdapter implements ImageBuilderPort {
  private readonly docker: Docker;
  private readonly maxContextBytes: number;
  private readonly maxContextEntries: number;
  private readonly callTimeoutMs: number;

  constructor(options: DockerBuildAdapterOptions = {}) {
    this.docker = options.docker ?? new Docker({ socketPath: options.socketPath ?? '/var/run/docker.sock' });
    this.maxContextBytes = options.maxContextBytes ?? 1024 ** 3;
    this.maxContextEntries = options.maxContextEntries ?? 200_000;
    this.callTimeoutMs = options.callTimeoutMs ?? 60_000;
  }

  async build(input: ImageBuildInput): Promise<ImageBuildResult> {
    checkBuildInput(input);
    const secrets = input.secrets ?? {};
    const useBuildkit = Object.keys(secrets).length > 0;
    const onLog = useBuildkit ? redacting(input.onLog, Object.values(secrets)) : input.onLog;
    if (input.signal?.aborted) throw new ImageBuildError('The build was cancelled before it started.', 'cancelled');

    const abort = new AbortController();
    let why: 'timeout' | 'cancelled' | null = null;
    const timer = setTimeout(() => {
      why ??= 'timeout';
      abort.abort(new Error('build deadline'));
    }, input.deadlineMs);
    const onCancel = () => {
      why ??= 'cancelled';
      abort.abort(new Error('build cancelled'));
    };
    input.signal?.addEventListener('abort', onCancel, { once: true });
    const aborted = () =>
      why === 'timeout'
        ? new ImageBuildError(`The build did not finish within ${Math.round(input.deadlineMs / 1000)} s and was stopped.`, 'timeout')
        : new ImageBuildError('The build was cancelled.', 'cancelled');

    let session: BuildkitSession | undefined;
    try {
      const generated = input.generatedFiles ? { dir: GENERATED_DIR, files: input.generatedFiles } : undefined;
      const paths = await resolveBuildPaths({ ...input, generatedDockerfile: !!generated && input.dockerfile.startsWith(`${GENERATED_DIR}/`) });
      const ignore = await readDockerignore(paths.contextDir);
      const scan = await scanContext(paths.contextDir, {
        maxBytes: this.maxContextBytes,
        maxEntries: this.maxContextEntries,
        signal: abort.signal,
        ignore,
        keep: [paths.dockerfile],
      }).catch((e: unknown) => {
        throw abort.signal.aborted ? aborted() : e;
      });
      const ignoredNote = scan.ignored > 0 ? `, ${scan.ignored} left out by .dockerignore` : '';
      onLog(`Sending build context: ${scan.entries.length} entries, ${formatBytes(scan.bytes)}${ignoredNote}${useBuildkit ? ' (BuildKit, for the build secrets)' : ''}`);
      if (scan.skipped.length > 0) onLog(`Left out of the context (not files, directories or links): ${scan.skipped.slice(0, 5).join(', ')}${scan.skipped.length > 5 ? ', …' : ''}`);
      if (abort.signal.aborted) throw aborted();

      // The repository's own `.wharf-build/` (if any) is left out: the generated files take that place.
      let entries = generated ? scan.entries.filter((e) => e.name !== GENERATED_DIR && !e.name.startsWith(`${GENERATED_DIR}/`)) : scan.entries;
      // The classic builder's labels in one step: a labelled copy of the Dockerfile (see build-labels.ts).
      let dockerfile = paths.dockerfile;
      let labels: Record<string, string> | undefined = input.labels;
      let replaced: Record<string, string> = {};
      if (!useBuildkit) {
        const own = generated && dockerfile.startsWith(`${GENERATED_DIR}/`) ? (generated.files[dockerfile.slice(GENERATED_DIR.length + 1)] ?? null) : await readDockerfile(paths.contextDir, dockerfile);
        const labelled = own === null ? null : labelledDockerfile(own, input.labels, input.target);
        if (labelled !== null) {
          // The engine removes the Dockerfile it builds when .dockerignore matches it; the repository's own is removed here then.
          const drop = (name: string) => name === LABELLED_DOCKERFILE || name.startsWith(`${LABELLED_DOCKERFILE}/`) || (name === paths.dockerfile && !!ignore?.ignores(name));
          entries = entries.filter((e) => !drop(e.name));
          replaced = { [LABELLED_DOCKERFILE]: labelled, '.dockerignore': dockerignoreWithLabelled(ignore?.text ?? null) };
          dockerfile = LABELLED_DOCKERFILE;
          labels = undefined;
        }
      }
      const tar = packContext(paths.contextDir, entries, abort.signal, generated, replaced);
      let tarError: Error | null = null;
      tar.on('error', (e: Error) => (tarError ??= e));
      const contextFailed = () =>
        tarError && !abort.signal.aborted ? new ImageBuildError(`The build context could not be sent: ${tarError.message}`, 'invalid-input') : null;
      const parser = new BuildProgressParser(onLog);
      let response: NodeJS.ReadableStream;
      const query = {
        dockerfile,
        t: input.tags,
        target: input.target,
        buildargs: input.buildArgs,
        labels,
        rm: true,
        forcerm: true,
      };
      try {
        if (useBuildkit) {
          session = await openBuildkitSession(this.docker, secrets, abort.signal);
          // BuildKit's cache key leaves secret values out: a step's output made with one secret (one organization's
          // token) would be reused for anyone building the same steps. Builds with secrets therefore skip the cache.
          response = await dialBuild(this.docker, tar, { ...query, version: '2', session: session.id, nocache: true }, abort.signal);
        } else {
          response = await this.docker.buildImage(tar, { ...query, t: input.tags as unknown as string, version: '1', abortSignal: abort.signal });
        }
      } catch (e) {
        tar.destroy();
        if (abort.signal.aborted) throw aborted();
        throw contextFailed() ?? engineError(e, useBuildkit);
      }
      await readBody(response, parser, abort.signal).catch((e: unknown) => {
        throw abort.signal.aborted ? aborted() : (contextFailed() ?? new ImageBuildError(`The build's output stream failed: ${(e as Error).message}`, 'engine'));
      });
      if (abort.signal.aborted) throw aborted();
      const state = parser.end();
      if (state.error !== undefined) {
        const step = state.step ? ` at ${state.step}` : '';
        const message = useBuildkit ? redact(state.error, Object.values(secrets)) : state.error;
        const output = useBuildkit ? state.output.map((l) => redact(l, Object.values(secrets))) : state.output;
        throw new ImageBuildError(`The build failed${step}: ${message}`, 'build-failed', { step: state.step, output });
      }
      const inspected = await this.inspectImage(input.tags[0]).catch(() => null);
      const imageId = state.imageId ?? inspected?.Id;
      if (!imageId || !inspected || inspected.Id !== imageId) {
        throw new ImageBuildError('The build ended without producing the tagged image.', 'build-failed', { step: state.step, output: state.output });
      }
      onLog(`Built ${imageId} (${input.tags.join(', ')})`);
      return { imageId, tags: [...input.tags] };
    } catch (e) {
      if (why) {
        // Bounded: a cancel must end promptly even when the engine hangs.
        let t: NodeJS.Timeout | undefined;
        await Promise.race([this.untagAborted(input).catch(() => undefined), new Promise((r) => (t = setTimeout(r, UNTAG_AFTER_ABORT_MS)))]);
        clearTimeout(t);
      }
      if (e instanceof ImageBuildError) throw e;
      if (why) throw aborted();
      throw e;
    } finally {
      session?.close();
      clearTimeout(timer);
      input.signal?.removeEventListener('abort', onCancel);
    }
  }

  /**
   * A cancel that raced the end of the build may find the image already tagged: a tag of this deployment's image is
   * removed again, so a cancelled build never leaves a usable tag behind.
   */
  private async untagAborted(input: ImageBuildInput): Promise<void> {
    const deployment = input.labels['wharf.deployment'];
    const install = input.labels['wharf.install'];
    for (const tag of input.tags) {
      const img = await this.inspectImage(tag).catch(() => null);
      const labels = (img?.Config?.Labels ?? {}) as Record<string, string>;
      if (img && labels['wharf.deployment'] === deployment && labels['wharf.install'] === install) {
        await this.call((signal) => this.docker.getImage(tag).remove({ abortSignal: signal } as object)).catch(() => undefined);
      }
    }
  }

  async pushImage(input: ImagePushInput): Promise<{ digest: string | null }> {
    const m = PUSH_TARGET.exec(input.target);
    if (!m) throw new ImageBuildError('The push target must be host[:port]/repository:tag.', 'invalid-input');
    const [, repo, tag] = m;
    if (input.signal?.aborted) throw new ImageBuildError('The push was cancelled before it started.', 'cancelled');
    await this.call((signal) => this.docker.getImage(input.source).tag({ repo, tag, abortSignal: signal } as { repo: string; tag: string }) as Promise<unknown>);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('push deadline')), input.deadlineMs);
    const onCancel = () => abort.abort(new Error('push cancelled'));
    input.signal?.addEventListener('abort', onCancel, { once: true });
    try {
      const stream = (await this.docker.getImage(`${repo}:${tag}`).push({ authconfig: input.auth, abortSignal: abort.signal } as object)) as unknown as NodeJS.ReadableStream;
      let digest: string | null = null;
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()), (ev: { status?: string; error?: string; aux?: { Digest?: string } }) => {
          if (ev.error) reject(new ImageBuildError(`The registry refused the push: ${ev.error}`, 'build-failed'));
          if (ev.aux?.Digest && /^sha256:[0-9a-f]{64}$/.test(ev.aux.Digest)) digest = ev.aux.Digest;
          if (ev.status && !/^(Preparing|Waiting|Pushing)$/.test(ev.status)) input.onLog(ev.status.slice(0, 500));
        });
      });
      return { digest };
    } catch (e) {
      if (abort.signal.aborted) throw new ImageBuildError(input.signal?.aborted ? 'The push was cancelled.' : `The push did not finish within ${Math.round(input.deadlineMs / 1000)} s.`, input.signal?.aborted ? 'cancelled' : 'timeout');
      if (e instanceof ImageBuildError) throw e;
      throw new ImageBuildError(`The push failed: ${(e as Error).message}`, 'build-failed');
    } finally {
      clearTimeout(timer);
      input.signal?.removeEventListener('abort', onCancel);
    }
  }

  async activeNodes(): Promise<number> {
    const nodes = await this.call((signal) => this.docker.listNodes({ abortSignal: signal } as object));
    return nodes.filter((n) => n.Status?.State === 'ready' && n.Spec?.Availability === 'active').length;
  }

  async removeImages(filterLabels: Record<string, string>, keep: { newest: number }): Promise<RemoveImagesResult> {
    if (!filterLabels['wharf.install']) throw new ImageBuildError('Image retention needs the install label (wharf.install) in its filter.', 'invalid-input');
    if (!Number.isInteger(keep.newest) || keep.newest < 0) throw new ImageBuildError('keep.newest must be a whole number ≥ 0.', 'invalid-input');
    for (const [k, v] of Object.entries(filterLabels)) {
      if (!LABEL_KEY.test(k) || typeof v !== 'string' || v.length === 0 || /[\u0000\n\r]/.test(v)) throw new ImageBuildError(`Label filter "${k}" is not valid.`, 'invalid-input');
    }
    const filters = JSON.stringify({ label: Object.entries(filterLabels).map(([k, v]) => `${k}=${v}`) });
    const listed = await this.call((signal) => this.docker.listImages({ filters, abortSignal: signal } as object));
    // The filter is the engine's; the labels are checked again here before anything is removed.
    const ours = listed.filter((img) => {
      const labels = (img.Labels ?? {}) as Record<string, string>;
      return Object.entries(filterLabels).every(([k, v]) => labels[k] === v);
    });
    // The list's creation times are whole seconds: only images that share their second with another are inspected
    // for the precise time (the order between different seconds is already known).
    const perSecond = new Map<number, number>();
    for (const img of ours) perSecond.set(img.Created, (perSecond.get(img.Created) ?? 0) + 1);
    const withTimes = await Promise.all(
      ours.map(async (img) => {
        const inspected = (perSecond.get(img.Created) ?? 0) > 1 ? await this.inspectImage(img.Id).catch(() => null) : null;
        return { img, created: createdKey(inspected?.Created, img.Created) };
      }),
    );
    withTimes.sort((a, b) => (a.created === b.created ? b.img.Id.localeCompare(a.img.Id) : b.created > a.created ? 1 : -1));
    const result: RemoveImagesResult = { removed: [], kept: [], failed: [] };
    for (const [i, { img }] of withTimes.entries()) {
      if (i < keep.newest) {
        result.kept.push(img.Id);
        continue;
      }
      try {
        // An image a container uses (a stopped Swarm task's too) stays whole: untagging it first would strip an image
        // with two tags (the build's and the pushed registry reference) of both and still fail on the id.
        const users = await this.call((signal) => this.docker.listContainers({ all: true, filters: JSON.stringify({ ancestor: [img.Id] }), abortSignal: signal } as object));
        const user = users.find((c) => c.ImageID === img.Id);
        if (user) throw new Error(`container ${user.Id.slice(0, 12)} uses it`);
        const tags = (img.RepoTags ?? []).filter((t) => t && t !== '<none>:<none>');
        // Untag one by one (removing an id with several tags needs force, which would also hit a running container's image).
        for (const tag of tags) await this.call((signal) => this.docker.getImage(tag).remove({ abortSignal: signal } as object)).catch(ignore404);
        await this.call((signal) => this.docker.getImage(img.Id).remove({ abortSignal: signal } as object)).catch(ignore404);
        result.removed.push(img.Id);
      } catch (e) {
        result.kept.push(img.Id);
        result.failed.push({ imageId: img.Id, message: (e as Error).message });
      }
    }
    return result;
  }

  /** GET /images/{ref}/json with the call deadline (dockerode's inspect takes no abort signal). */
  private inspectImage(ref: string): Promise<Docker.ImageInspectInfo> {
    const modem = this.docker.modem as unknown as { dial(o: object, cb: (err: Error | null, res: Docker.ImageInspectInfo) => void): void };
    return this.call(
      (signal) =>
        new Promise((resolve, reject) =>
          modem.dial(
            { path: `/images/${ref}/json`, method: 'GET', abortSignal: signal, statusCodes: { 200: true, 404: 'no such image', 500: 'server error' } },
            (err, res) => (err ? reject(err) : resolve(res)),
          ),
        ),
    );
  }

  /**
   * One short engine call with the deadline: the signal aborts its request, and the promise gives up at the deadline
   * even if a call ignores the signal.
   */
  private async call<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`The Docker engine did not answer within ${this.callTimeoutMs} ms`);
        ac.abort(err);
        reject(err);
      }, this.callTimeoutMs);
    });
    try {
      return await Promise.race([fn(ac.signal), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Checks what the caller passed (tags, labels, target, build arguments, deadline) before anything touches the disk. */
export function checkBuildInput(input: ImageBuildInput): void {
  const bad = (m: string) => new ImageBuildError(m, 'invalid-input');
  if (!Array.isArray(input.tags) || input.tags.length === 0) throw bad('A build needs at least one tag.');
  if (input.tags.length > 20) throw bad('Too many tags.');
  for (const t of input.tags) if (typeof t !== 'string' || t.length > 255 || !TAG.test(t)) throw bad(`"${String(t).slice(0, 80)}" is not a valid image reference.`);
  if (input.target !== undefined && !TARGET.test(input.target)) throw bad('The build target is not a valid stage name.');
  if (!Number.isFinite(input.deadlineMs) || input.deadlineMs <= 0) throw bad('The build deadline must be a positive number of milliseconds.');
  const args = Object.entries(input.buildArgs ?? {});
  if (args.length > 200) throw bad('Too many build arguments.');
  for (const [k, v] of args) {
    if (!BUILD_ARG.test(k)) throw bad(`Build argument name "${k.slice(0, 80)}" is not valid (letters, digits and _; not starting with a digit).`);
    if (typeof v !== 'string' || v.length > MAX_VALUE || v.includes('\u0000')) throw bad(`Build argument ${k} has an invalid value.`);
  }
  const labels = Object.entries(input.labels ?? {});
  if (labels.length > 100) throw bad('Too many labels.');
  for (const [k, v] of labels) {
    if (!LABEL_KEY.test(k)) throw bad(`Label name "${k.slice(0, 80)}" is not valid.`);
    if (typeof v !== 'string' || v.length > MAX_VALUE || v.includes('\u0000')) throw bad(`Label ${k} has an invalid value.`);
  }
  for (const k of IMAGE_BUILD_REQUIRED_LABELS) if (!input.labels?.[k]) throw bad(`Built images must carry the label ${k}.`);
  const generated = Object.entries(input.generatedFiles ?? {});
  if (generated.length > 20) throw bad('Too many generated files.');
  for (const [k, v] of generated) {
    if (!GENERATED_NAME.test(k)) throw bad(`Generated file name "${k.slice(0, 80)}" is not valid.`);
    if (typeof v !== 'string' || v.length > MAX_VALUE) throw bad(`Generated file ${k} is too large.`);
  }
  if (input.generatedFiles && input.dockerfile.startsWith(`${GENERATED_DIR}/`) && !(input.dockerfile.slice(GENERATED_DIR.length + 1) in input.generatedFiles)) {
    throw bad('The generated Dockerfile is missing.');
  }
  const secrets = Object.entries(input.secrets ?? {});
  if (secrets.length > 100) throw bad('Too many build secrets.');
  for (const [k, v] of secrets) {
    if (!SECRET_ID.test(k)) throw bad(`Build secret id "${k.slice(0, 80)}" is not valid (letters, digits, _, . and -).`);
    if (typeof v !== 'string' || v.length > MAX_VALUE) throw bad(`Build secret ${k} has an invalid value.`);
  }
}

/** The Dockerfile's text (a regular file inside the context, checked by resolveBuildPaths), or null when it is not plain UTF-8 or too large to copy. */
async function readDockerfile(contextDir: string, dockerfile: string): Promise<string | null> {
  const handle = await open(join(contextDir, ...dockerfile.split('/')), constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
  if (!handle) return null;
  try {
    if ((await handle.stat()).size > 1024 * 1024) return null;
    const bytes = await handle.readFile();
    const text = bytes.toString('utf8');
    return Buffer.from(text, 'utf8').equals(bytes) ? text : null;
  } finally {
    await handle.close();
  }
}

function readBody(stream: NodeJS.ReadableStream, parser: BuildProgressParser, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const s = stream as NodeJS.ReadableStream & { destroy?: (e?: Error) => void };
    const onAbort = () => {
      s.destroy?.();
      reject(new Error('aborted'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = (err?: Error) => {
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    let ended = false;
    s.on('data', (chunk: Buffer | string) => parser.push(chunk));
    s.on('end', () => {
      ended = true;
      finish();
    });
    s.on('error', (e: Error) => finish(e));
    s.on('close', () => finish(ended ? undefined : new Error(signal.aborted ? 'aborted' : 'the engine closed the connection before the build ended')));
  });
}

function engineError(e: unknown, buildkit: boolean): ImageBuildError {
  const err = e as { statusCode?: number; message?: string; json?: { message?: string } };
  const message = err.json?.message ?? err.message ?? String(e);
  if (buildkit && err.statusCode && /buildkit|session/i.test(message)) {
    return new ImageBuildError(`Build secrets need BuildKit, which this Docker engine refused: ${message}`, 'secrets-unsupported');
  }
  if (err.statusCode && /Cannot locate specified Dockerfile/i.test(message)) return new ImageBuildError(message, 'dockerfile-missing');
  // The engine answered (a Dockerfile it cannot parse, an unknown target): the build itself failed.
  if (err.statusCode && err.statusCode < 500) return new ImageBuildError(`The build failed: ${message}`, 'build-failed');
  if (err.statusCode === 500 && !/connect|socket/i.test(message)) return new ImageBuildError(`The build failed: ${message.replace(/^\(HTTP code 500\) server error - /, '')}`, 'build-failed');
  return new ImageBuildError(`The Docker engine could not run the build: ${message}`, 'engine');
}

/** Sortable creation time: RFC 3339 with nanoseconds (inspect) → `seconds.nnnnnnnnn`, else the list's seconds. */
export function createdKey(rfc3339: string | undefined, seconds: number): string {
  const m = rfc3339 ? /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339) : null;
  const whole = m ? Date.parse(`${m[1]}${m[3]}`) / 1000 : NaN;
  if (m && Number.isFinite(whole)) return `${String(Math.floor(whole)).padStart(12, '0')}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}`;
  return `${String(seconds).padStart(12, '0')}.000000000`;
}

/** POST /build with the query as given (dockerode's buildImage would open a session of its own for version 2). */
function dialBuild(docker: Docker, body: NodeJS.ReadableStream, query: Record<string, unknown>, signal: AbortSignal): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    const modem = docker.modem as unknown as { dial(o: object, cb: (err: Error | null, res: NodeJS.ReadableStream) => void): void };
    modem.dial(
      { path: '/build?', method: 'POST', file: body, options: query, abortSignal: signal, isStream: true, statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' } },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

/** Secret values (4 characters or more) are replaced in everything a build with secrets logs. */
function redacting(onLog: (line: string) => void, values: string[]): (line: string) => void {
  return (line) => onLog(redact(line, values));
}

export function redact(text: string, values: string[]): string {
  let out = text;
  for (const v of values.filter((x) => x.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(v).join('[secret]');
  return out;
}

function ignore404(e: { statusCode?: number }): void {
  if (e.statusCode !== 404) throw e;
}
