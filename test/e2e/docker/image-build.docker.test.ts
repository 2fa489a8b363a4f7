/**
 * The docker-build adapter against the real dockerd: a Dockerfile build FROM the local busybox image with a COPY and a
 * build argument (run afterwards), cache reuse, a failing step, refused paths, links out of the context, cancel and
 * deadline that stop the build (no leftover container or process, no tag), and the retention of old build images.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerBuildAdapter, ImageBuildError, type ImageBuildInput } from '@wharf/orchestration';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../../support/docker/busybox-image';
import { DOCKER_SOCKET } from '../../support/docker/host-tools';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { until } from '../../support/until';

jest.setTimeout(120_000);

const run = new SwarmTestRun();
const builder = new DockerBuildAdapter({ socketPath: DOCKER_SOCKET });
const OTHER_INSTALL = `${run.install}-other`;
let dir: string;
const extraTags: string[] = [];

beforeAll(async () => {
  await run.start();
  await ensureBusyboxImage(run.docker);
  dir = mkdtempSync(join(tmpdir(), 'wharf-image-build-'));
}, 300_000);

afterAll(async () => {
  try {
    for (const install of [run.install, OTHER_INSTALL]) {
      const images = await run.docker.listImages({ filters: JSON.stringify({ label: [`wharf.install=${install}`] }) } as object);
      for (const img of images) await run.docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
    }
    for (const tag of extraTags) await run.docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    await run.cleanup();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

/** A build context made of `files` (name → content) in its own directory. */
function context(name: string, files: Record<string, string>): string {
  const ctx = join(dir, name);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(join(ctx, file, '..'), { recursive: true });
    writeFileSync(join(ctx, file), content);
  }
  return ctx;
}

function tag(name: string): string {
  return `wharf-build-test/${run.install}:${name}`;
}

function input(contextDir: string, over: Partial<ImageBuildInput> & { deployment: string }, log: string[] = []): ImageBuildInput {
  const { deployment, ...rest } = over;
  return {
    contextDir,
    dockerfile: 'Dockerfile',
    buildArgs: {},
    tags: [tag(deployment)],
    labels: { 'wharf.install': run.install, 'wharf.application': 'app-1', 'wharf.deployment': deployment },
    deadlineMs: 60_000,
    onLog: (l) => log.push(l),
    ...rest,
  };
}

async function buildError(p: Promise<unknown>): Promise<ImageBuildError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ImageBuildError) return e;
    throw e;
  }
  throw new Error('the build succeeded');
}

/** Runs `image` once as a plain container and returns what it printed (stdout and stderr). */
async function runOnce(image: string): Promise<string> {
  const c = await run.docker.createContainer({ Image: image, Labels: run.labels(), HostConfig: { AutoRemove: false } });
  try {
    await c.start();
    await c.wait();
    const out = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return out.toString('utf8');
  } finally {
    await c.remove({ force: true });
  }
}

async function tagExists(ref: string): Promise<boolean> {
  try {
    await run.docker.getImage(ref).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

/** Processes on this machine whose command line contains `marker` (the build step's shell runs here under runc). */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found.filter((p) => p !== process.pid);
}

async function containersWith(marker: string): Promise<string[]> {
  const all = await run.docker.listContainers({ all: true });
  return all.filter((c) => (c.Command ?? '').includes(marker)).map((c) => `${c.Id.slice(0, 12)} ${c.State}`);
}

const APP_DOCKERFILE = [
  `FROM ${BUSYBOX_IMAGE}`,
  'ARG GREETING',
  'COPY app.txt /app.txt',
  'RUN echo "greeting=$GREETING" > /greeting.txt',
  'CMD ["/bin/sh", "-c", "cat /app.txt /greeting.txt"]',
].join('\n');

test('a Dockerfile build with a COPY and a build argument: labelled, tagged, runs and prints the argument verbatim', async () => {
  const ctx = context('app', { Dockerfile: APP_DOCKERFILE, 'app.txt': 'copied-file-content\n' });
  // Shell characters in a build argument reach the step as data: no shell ever evaluates them.
  const greeting = 'hello; $(id) `uname` && rm -rf / #';
  const log: string[] = [];
  const started = Date.now();
  const first = await builder.build(input(ctx, { deployment: 'dep-1', buildArgs: { GREETING: greeting } }, log));
  const firstMs = Date.now() - started;
  expect(first.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(first.tags).toEqual([tag('dep-1')]);
  expect(log.some((l) => /^Step 3\/\d+ : COPY app.txt \/app.txt/.test(l))).toBe(true);
  expect(log[log.length - 1]).toBe(`Built ${first.imageId} (${tag('dep-1')})`);

  const inspected = await run.docker.getImage(tag('dep-1')).inspect();
  expect(inspected.Id).toBe(first.imageId);
  expect(inspected.Config.Labels).toMatchObject({ 'wharf.install': run.install, 'wharf.application': 'app-1', 'wharf.deployment': 'dep-1' });

  const out = await runOnce(first.imageId);
  expect(out).toContain('copied-file-content');
  expect(out).toContain(`greeting=${greeting}`);

  // The same context again (another deployment): the layers are reused.
  const again: string[] = [];
  const t2 = Date.now();
  const second = await builder.build(input(ctx, { deployment: 'dep-2', buildArgs: { GREETING: greeting } }, again));
  const secondMs = Date.now() - t2;
  console.log(`image build: first ${firstMs} ms, second (cached) ${secondMs} ms`);
  // ARG, COPY and RUN come from the cache (only the final label step runs).
  const after = (step: RegExp) => again[again.findIndex((l) => step.test(l)) + 1];
  expect(after(/^Step \d+\/\d+ : COPY app.txt/)).toBe(' ---> Using cache');
  expect(after(/^Step \d+\/\d+ : RUN echo "greeting/)).toBe(' ---> Using cache');
  expect(secondMs).toBeLessThan(60_000);
  expect(second.imageId).not.toBe(first.imageId); // its own deployment label
  expect((await run.docker.getImage(second.imageId).inspect()).Config.Labels?.['wharf.deployment']).toBe('dep-2');
});

test('the labels take one LABEL step (a labelled copy of the Dockerfile that never reaches the image); a target build is labelled too', async () => {
  const labels = (d: string) => ({ 'wharf.install': run.install, 'wharf.organization': 'org-1', 'wharf.application': 'app-1', 'wharf.deployment': d, 'wharf.commit': 'c'.repeat(40) });
  const history = async (id: string): Promise<string[]> => (await run.docker.getImage(id).history()).map((h: { CreatedBy: string }) => h.CreatedBy);
  // Unique per run: the COPY must not come from an earlier run's cache (the listing below is its output).
  const unique = randomBytes(6).toString('hex');
  const dockerfile = `FROM ${BUSYBOX_IMAGE}\nCOPY . /ctx/\nCMD ["/bin/sh", "-c", "cd /ctx && find . | sort && cat .dockerignore"]`;

  // Without a .dockerignore: the one Wharf adds excludes itself and the copy.
  const plain = context('one-label', { Dockerfile: dockerfile, 'app.txt': unique });
  const log: string[] = [];
  const built = await builder.build(input(plain, { deployment: 'dep-lbl', labels: labels('dep-lbl') }, log));
  const inspected = await run.docker.getImage(built.imageId).inspect();
  expect(inspected.Config.Labels).toMatchObject(labels('dep-lbl'));
  const steps = (await history(built.imageId)).filter((c) => / LABEL /.test(c));
  const base = (await history(BUSYBOX_IMAGE)).filter((c) => / LABEL /.test(c));
  expect(steps.length - base.length).toBe(1);
  expect(steps[0]).toContain('wharf.deployment=dep-lbl');
  expect(log.filter((l) => /^Step \d+\/\d+ : LABEL /.test(l))).toHaveLength(1);
  // runOnce returns the engine's multiplexed frames: their 8-byte headers are dropped here.
  const output = async (id: string) => (await runOnce(id)).replace(/[\u0001\u0002]\u0000\u0000\u0000[\s\S]{4}/g, '');
  const listing = await output(built.imageId);
  expect(listing).toContain('./app.txt');
  expect(listing).toContain('./Dockerfile');
  expect(listing).not.toContain('wharf-labels');
  expect(listing).not.toContain('./.dockerignore');

  // With the repository's own .dockerignore (not excluding itself, excluding the Dockerfile): it reaches the image
  // with only the copy's line added, and the Dockerfile it names stays out as before.
  const own = context('one-label-ignore', { Dockerfile: dockerfile, 'app.txt': unique, 'secret.txt': 'x', '.dockerignore': 'secret.txt\nDockerfile' });
  const second = await builder.build(input(own, { deployment: 'dep-lbl2', labels: labels('dep-lbl2') }));
  expect((await run.docker.getImage(second.imageId).inspect()).Config.Labels).toMatchObject(labels('dep-lbl2'));
  const listed = await output(second.imageId);
  expect(listed).toContain('./app.txt');
  expect(listed).not.toContain('./Dockerfile');
  expect(listed).not.toContain('secret.txt\n./');
  expect(listed).not.toContain('./secret.txt');
  expect(listed).toContain('secret.txt\nDockerfile\n.wharf-labels.Dockerfile');

  // A build target keeps the labels parameter (one step per label), on the target stage.
  const staged = context('one-label-target', { Dockerfile: `FROM ${BUSYBOX_IMAGE} AS first\nRUN echo ${unique} > /first\nFROM ${BUSYBOX_IMAGE} AS second\nRUN echo second > /second\n` });
  const targeted = await builder.build(input(staged, { deployment: 'dep-lbl3', labels: labels('dep-lbl3'), target: 'first' }));
  expect((await run.docker.getImage(targeted.imageId).inspect()).Config.Labels).toMatchObject(labels('dep-lbl3'));
  expect((await history(targeted.imageId)).some((c) => c.includes('echo second'))).toBe(false);
});

test('a failing RUN reports build-failed with the step and its output; nothing is tagged', async () => {
  const ctx = context('fails', { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN echo about-to-fail && echo to-stderr >&2 && exit 3\n` });
  const log: string[] = [];
  const err = await buildError(builder.build(input(ctx, { deployment: 'dep-fail' }, log)));
  expect(err.reason).toBe('build-failed');
  expect(err.message).toMatch(/RUN echo about-to-fail/);
  expect(err.message).toMatch(/returned a non-zero code: 3/);
  expect(err.details.step).toMatch(/^Step 2\/\d+ : RUN echo about-to-fail/);
  expect(err.details.output).toEqual(expect.arrayContaining(['about-to-fail', 'to-stderr']));
  expect(log.some((l) => l.startsWith('ERROR: '))).toBe(true);
  expect(await tagExists(tag('dep-fail'))).toBe(false);

  // A Dockerfile the engine cannot parse fails as a build failure too.
  const bad = context('unparsable', { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nNOSUCHINSTRUCTION x\n` });
  const parseErr = await buildError(builder.build(input(bad, { deployment: 'dep-parse' })));
  expect(parseErr.reason).toBe('build-failed');
  expect(parseErr.message).toMatch(/unknown instruction/i);
});

test('a missing Dockerfile, a path with .. and a Dockerfile linked from outside are refused before the engine is asked', async () => {
  const outside = context('outside', { Dockerfile: `FROM ${BUSYBOX_IMAGE}\n` });
  const ctx = context('refused', { 'app.txt': 'x' });
  symlinkSync(join(outside, 'Dockerfile'), join(ctx, 'linked.Dockerfile'));
  symlinkSync('../outside', join(ctx, 'up'));

  expect(await buildError(builder.build(input(ctx, { deployment: 'dep-r1' })))).toMatchObject({ reason: 'dockerfile-missing' });
  expect(await buildError(builder.build(input(ctx, { deployment: 'dep-r2', dockerfile: '../outside/Dockerfile' })))).toMatchObject({ reason: 'invalid-input' });
  expect(await buildError(builder.build(input(ctx, { deployment: 'dep-r3', dockerfile: join(outside, 'Dockerfile') })))).toMatchObject({ reason: 'invalid-input' });
  expect(await buildError(builder.build(input(ctx, { deployment: 'dep-r4', dockerfile: 'linked.Dockerfile' })))).toMatchObject({ reason: 'invalid-input' });
  expect(await buildError(builder.build(input(ctx, { deployment: 'dep-r5', dockerfile: 'up/Dockerfile' })))).toMatchObject({ reason: 'invalid-input' });
  expect(await buildError(builder.build(input(ctx, { deployment: 'dep-r6', rootDir: ctx, contextDir: outside })))).toMatchObject({ reason: 'invalid-input' });
  expect(await buildError(builder.build(input(outside, { deployment: 'dep-r7', secrets: { 'bad id': 'x' } })))).toMatchObject({ reason: 'invalid-input' });
  for (const d of ['dep-r1', 'dep-r2', 'dep-r3', 'dep-r4', 'dep-r5', 'dep-r6', 'dep-r7']) expect(await tagExists(tag(d))).toBe(false);
});

test('build secrets reach only RUN --mount=type=secret steps: not in a layer, the history, the config or the log', async () => {
  const secret = `npm-s3cr3t-${randomBytes(8).toString('hex')}`;
  const ctx = context('secrets', {
    Dockerfile: [
      `FROM ${BUSYBOX_IMAGE}`,
      'ARG VISIBLE',
      'RUN --mount=type=secret,id=npm_token echo "secret-length=$(wc -c < /run/secrets/npm_token)" > /secret-length && cat /run/secrets/npm_token && echo',
      'RUN ls /run/secrets > /listing 2>&1 || echo none > /listing',
      'CMD ["/bin/sh", "-c", "cat /secret-length /listing"]',
    ].join('\n'),
  });
  const log: string[] = [];
  const built = await builder.build(input(ctx, { deployment: 'dep-secret', buildArgs: { VISIBLE: 'not-a-secret' }, secrets: { npm_token: secret } }, log));
  const text = log.join('\n');
  if (process.env.WHARF_TEST_SHOW_BUILD_LOG) console.log(text);
  expect(text).toContain('BuildKit');
  // The step printed the secret: the log shows it redacted.
  expect(text).toContain('[secret]');
  expect(text).not.toContain(secret);

  const out = await runOnce(built.imageId);
  expect(out).toContain(`secret-length=${secret.length}`);
  expect(out).not.toContain(secret);
  expect(out).not.toContain('npm_token'); // not left under /run/secrets for the next step
  expect((await run.docker.getImage(tag('dep-secret')).inspect()).Config.Labels).toMatchObject({ 'wharf.deployment': 'dep-secret', 'wharf.install': run.install });

  // Every byte of the image (layers, config, history) as `docker save` exports it.
  const saved = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    run.docker.getImage(built.imageId).get().then((s) => {
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
    }, reject);
  });
  expect(saved.length).toBeGreaterThan(1000);
  expect(saved.indexOf(secret)).toBe(-1);
  expect(JSON.stringify(await run.docker.getImage(built.imageId).history())).not.toContain(secret);

  // The same steps with another secret (another organization's token) are not served from the cache: BuildKit's cache
  // key ignores secret values, so a cached layer would carry what the first secret produced.
  const other = `${secret}-longer`;
  const second = await builder.build(input(ctx, { deployment: 'dep-secret-2', secrets: { npm_token: other } }));
  expect(await runOnce(second.imageId)).toContain(`secret-length=${other.length}`);

  // A failing step that prints the secret: the error and its output are redacted too.
  const failing = context('secrets-fail', { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN --mount=type=secret,id=npm_token cat /run/secrets/npm_token && exit 4\n` });
  const failLog: string[] = [];
  const err = await buildError(builder.build(input(failing, { deployment: 'dep-secret-fail', secrets: { npm_token: secret } }, failLog)));
  expect(err.reason).toBe('build-failed');
  expect(err.message).toMatch(/exit code: 4/);
  expect(JSON.stringify({ m: err.message, d: err.details, l: failLog })).not.toContain(secret);
  expect(failLog.join('\n')).toContain('[secret]');
  expect(await tagExists(tag('dep-secret-fail'))).toBe(false);
});

test('links in the context that point outside it are inert (nothing from outside reaches the image); .dockerignore is applied', async () => {
  const secret = `host-secret-${randomBytes(6).toString('hex')}`;
  writeFileSync(join(dir, 'host-secret.txt'), `${secret}\n`);
  const ctx = context('links', {
    Dockerfile: [`FROM ${BUSYBOX_IMAGE}`, 'COPY . /ctx/', 'CMD ["/bin/sh", "-c", "cat /ctx/abs-link /ctx/rel-link /ctx/dir-link/host-secret.txt; ls -l /ctx"]'].join('\n'),
    'app.txt': 'inside\n',
    // .dockerignore keeps files out of the context sent to the engine.
    '.dockerignore': 'ignored.env\n',
    'ignored.env': 'IGNORED=1\n',
  });
  symlinkSync(join(dir, 'host-secret.txt'), join(ctx, 'abs-link'));
  symlinkSync('../host-secret.txt', join(ctx, 'rel-link'));
  symlinkSync(dir, join(ctx, 'dir-link'));
  const log: string[] = [];
  const built = await builder.build(input(ctx, { deployment: 'dep-links' }, log));
  const out = await runOnce(built.imageId);
  expect(out).toContain('abs-link ->');
  expect(out).toContain('app.txt');
  expect(out).not.toContain('ignored.env');
  expect(log.some((l) => /left out by \.dockerignore/.test(l))).toBe(true);
  expect(out).not.toContain(secret);
  expect(log.join('\n')).not.toContain(secret);

  // COPY of a link itself: the engine resolves it inside the context, so either the step fails or copies nothing secret.
  const direct = context('links-direct', { Dockerfile: [`FROM ${BUSYBOX_IMAGE}`, 'COPY abs-link /a', 'COPY rel-link /b', 'CMD ["/bin/sh", "-c", "cat /a /b"]'].join('\n') });
  symlinkSync(join(dir, 'host-secret.txt'), join(direct, 'abs-link'));
  symlinkSync('../host-secret.txt', join(direct, 'rel-link'));
  try {
    const img = await builder.build(input(direct, { deployment: 'dep-links-direct' }));
    expect(await runOnce(img.imageId)).not.toContain(secret);
  } catch (e) {
    expect(e).toBeInstanceOf(ImageBuildError);
    expect((e as ImageBuildError).reason).toBe('build-failed');
    expect((e as Error).message).not.toContain(secret);
  }
});

test.each([
  ['cancel through the AbortSignal', 'cancelled' as const, false],
  ['the deadline', 'timeout' as const, false],
  ['cancel of a BuildKit build (with secrets)', 'cancelled' as const, true],
])('%s stops a running step: ends quickly, no build container or process is left, nothing is tagged', async (_what, reason, withSecrets) => {
  const marker = `build-marker-${randomBytes(5).toString('hex')}`;
  const ctx = context(`slow-${reason}-${withSecrets}`, { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN echo ${marker} && sleep 300 && echo ${marker}-not-reached\n` });
  const ac = new AbortController();
  const log: string[] = [];
  const deployment = `dep-${reason}${withSecrets ? '-bk' : ''}`;
  const secrets = withSecrets ? { token: 'cancel-test-secret' } : undefined;
  const running = builder.build(input(ctx, { deployment, secrets, signal: ac.signal, deadlineMs: reason === 'timeout' ? 4_000 : 60_000 }, log));
  const settled = running.catch((e: unknown) => e);
  // The step is running once its output arrives.
  await until('the slow step to print its marker', async () => log.includes(marker) || (await Promise.race([settled.then(() => 'settled'), Promise.resolve(null)])), 30_000, 50);
  expect(log).toContain(marker);
  expect(processesWith(marker).length).toBeGreaterThan(0);
  const t0 = Date.now();
  if (reason === 'cancelled') ac.abort();
  const err = await settled;
  const tookMs = Date.now() - t0;
  expect(err).toBeInstanceOf(ImageBuildError);
  expect((err as ImageBuildError).reason).toBe(reason);
  expect(tookMs).toBeLessThan(reason === 'cancelled' ? 3_000 : 8_000);

  await until('the build step process to end', async () => processesWith(marker).length === 0, 20_000);
  await until('the build container to be removed', async () => (await containersWith(marker)).length === 0, 20_000);
  expect(await tagExists(tag(deployment))).toBe(false);
  const labelled = await run.docker.listImages({ filters: JSON.stringify({ label: [`wharf.deployment=${deployment}`] }) } as object);
  expect(labelled).toHaveLength(0);
});

test('retention removes the older images of this install and application only, keeps the newest N and never touches unlabelled images', async () => {
  const ctx = context('retention', { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN echo retention > /r.txt\n` });
  const labels = (install: string, deployment: string) => ({ 'wharf.install': install, 'wharf.application': 'app-retention', 'wharf.deployment': deployment });
  const ids: string[] = [];
  for (const d of ['ret-1', 'ret-2', 'ret-3', 'ret-4']) {
    ids.push((await builder.build(input(ctx, { deployment: d, labels: labels(run.install, d) }))).imageId);
  }
  const otherInstall = await builder.build(input(ctx, { deployment: 'ret-other', tags: [tag('ret-other')], labels: labels(OTHER_INSTALL, 'ret-other') }));
  // Another application of this install is not in the filter either.
  const otherApp = await builder.build(input(ctx, { deployment: 'ret-app2', labels: { ...labels(run.install, 'ret-app2'), 'wharf.application': 'app-2' } }));
  // An image without Wharf's labels (same steps, so it is the cached parent of the labelled ones), given a tag.
  const unlabelledTag = `wharf-build-test/${run.install}-unlabelled:1`;
  extraTags.push(unlabelledTag);
  const stream = await run.docker.buildImage({ context: ctx, src: ['Dockerfile'] }, { t: unlabelledTag, rm: true, forcerm: true });
  await new Promise((resolve, reject) => run.docker.modem.followProgress(stream, (e: Error | null, out: unknown) => (e ? reject(e) : resolve(out))));
  const unlabelled = (await run.docker.getImage(unlabelledTag).inspect()).Id;

  await expect(builder.removeImages({ 'wharf.application': 'app-retention' }, { newest: 1 })).rejects.toMatchObject({ reason: 'invalid-input' });

  const result = await builder.removeImages({ 'wharf.install': run.install, 'wharf.application': 'app-retention' }, { newest: 2 });
  expect(result.failed).toEqual([]);
  expect(result.kept).toEqual([ids[3], ids[2]]);
  expect(result.removed.sort()).toEqual([ids[0], ids[1]].sort());
  for (const d of ['ret-1', 'ret-2']) expect(await tagExists(tag(d))).toBe(false);
  for (const d of ['ret-3', 'ret-4', 'ret-other', 'ret-app2']) expect(await tagExists(tag(d))).toBe(true);
  expect((await run.docker.getImage(otherInstall.imageId).inspect()).Id).toBe(otherInstall.imageId);
  expect((await run.docker.getImage(otherApp.imageId).inspect()).Id).toBe(otherApp.imageId);
  expect((await run.docker.getImage(unlabelledTag).inspect()).Id).toBe(unlabelled);

  // Idempotent: a second pass finds nothing more to remove.
  const again = await builder.removeImages({ 'wharf.install': run.install, 'wharf.application': 'app-retention' }, { newest: 2 });
  expect(again).toEqual({ removed: [], kept: [ids[3], ids[2]], failed: [] });
});
