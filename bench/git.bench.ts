/**
 * Git push → running benchmark (`npm run bench -- git`, not part of `npm test`), in one run on the same engine:
 *  - Wharf: a commit is pushed to a repository served over HTTPS by `git http-backend`, a signed generic webhook
 *    delivery names it; measured from the delivery until the deployment `succeeded` (Wharf checked out the commit,
 *    built the Dockerfile through the Engine API, updated the Swarm service and saw the new task running), then
 *    checked: the service's task runs the image built for that deployment.
 *  - by hand, no Wharf: the same kind of commit, fetched shallow over the same HTTPS server with `git`, built through
 *    the Engine API (dockerode buildImage, classic builder, as Wharf uses without build secrets), and the service's image
 *    updated through the Engine API; measured until the new task runs (polled every 50 ms).
 * Each side commits its own content, unique to the run (the COPY layer misses the cache on both), rounds interleaved; the Dockerfile's
 * base is the locally built busybox image (no registry). Goal: Wharf / by hand ≤ 1.2 (medians). Also prints where
 * Wharf's time goes (queue pick-up, checkout, build, service update, wait) from the deployment log's timestamps.
 * Writes its rows as JSON to $WHARF_BENCH_RESULT when set (scripts/bench.sh prints the summary).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import type Docker from 'dockerode';
import { Client } from 'pg';
import { signGenericWebhook } from '@wharf/sources';
import { startTestApp, TestApp } from '../test/support/app';
import { Session, setupOwner } from '../test/support/api';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../test/support/docker/busybox-image';
import { SwarmTestRun } from '../test/support/docker/swarm-test-run';
import { productionEnvironment, swarmRunFor } from '../test/support/deploy';
import { GitServers, startGitServers } from '../test/support/git-server';

const RUNS = Math.min(Math.max(Number(process.env.WHARF_BENCH_RUNS ?? 5), 1), 15);
const GOAL_RATIO = 1.2;
const GRACE_MS = 500;
const COMMAND = ['httpd', '-f', '-p', '8080', '-h', '/www'];
const DOCKERFILE = `FROM ${BUSYBOX_IMAGE}\nCOPY site/ /www/\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const run$ = promisify(execFile);
const gitCmd = async (cwd: string, args: string[], env: Record<string, string> = {}) => (await run$('git', args, { cwd, timeout: 60_000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...env } })).stdout.trim();

const wharfSpec = {
  image: BUSYBOX_IMAGE,
  command: COMMAND,
  replicas: 1,
  ports: [],
  update: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 0 },
  restartPolicy: { condition: 'any', delayMs: 500, maxAttempts: 0 },
  stopGracePeriodMs: GRACE_MS,
  deployTimeoutMs: 180_000,
};

function rawSpec(name: string, image: string, labels: Record<string, string>, network: string): Record<string, unknown> {
  return {
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: { Image: image, Command: COMMAND, StopGracePeriod: GRACE_MS * 1e6 },
      RestartPolicy: { Condition: 'any', Delay: 500e6, MaxAttempts: 0 },
      Networks: [{ Target: network }],
      ForceUpdate: 0,
    },
    Mode: { Replicated: { Replicas: 1 } },
    UpdateConfig: { Parallelism: 1, Order: 'stop-first', FailureAction: 'pause', Monitor: 0 },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

/** Polls the service's tasks until the only task meant to run is one created after `since` and running. */
async function untilRunning(docker: Docker, serviceId: string, since: number): Promise<number> {
  for (;;) {
    const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [serviceId], 'desired-state': ['running'] }) } as object);
    const fresh = tasks.filter((t) => Date.parse(String(t.CreatedAt)) >= since - 1000 && t.Status?.State === 'running');
    if (fresh.length >= 1 && tasks.length === 1) return Date.now() - since;
    if (Date.now() - since > 180_000) throw new Error(`service ${serviceId} did not converge`);
    await sleep(50);
  }
}

/** Polls the service until its UpdateStatus of an update started after `since` is `completed` (the monitor is over). */
async function untilUpdateCompleted(docker: Docker, serviceId: string, since: number): Promise<number> {
  for (;;) {
    const s = await docker.getService(serviceId).inspect();
    const us = s.UpdateStatus as { State?: string; StartedAt?: string } | undefined;
    if (us?.State === 'completed' && Date.parse(String(us.StartedAt)) >= since - 1000) return Date.now() - since;
    if (us?.State && us.State !== 'updating' && us.State !== 'completed') throw new Error(`service ${serviceId} update ${us.State}`);
    if (Date.now() - since > 180_000) throw new Error(`service ${serviceId} update did not complete`);
    await sleep(50);
  }
}

async function untilDeployed(t: TestApp, s: Session, id: string, since: number): Promise<number> {
  for (;;) {
    const d = (await request(t.server).get(`/api/v1/deployments/${id}`).set(s.auth)).body;
    if (d.status === 'succeeded') return Date.now() - since;
    if (['failed', 'cancelled', 'superseded'].includes(d.status)) throw new Error(`deployment ${id} ${d.status}: ${d.error}`);
    if (Date.now() - since > 240_000) throw new Error(`deployment ${id} still ${d.status}`);
    await sleep(50);
  }
}

/** The engine's build of a directory, as an operator would script it: classic builder, tar of the directory. */
async function buildByHand(docker: Docker, dir: string, tag: string, labels: Record<string, string>): Promise<void> {
  const stream = (await docker.buildImage({ context: dir, src: ['Dockerfile', 'site'] }, { t: tag, version: '1', labels: JSON.stringify(labels) } as never)) as unknown as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
      const failed = out?.find((o) => o.error);
      if (err || failed) reject(err ?? new Error(failed!.error));
      else resolve();
    });
  });
}

/** Per step of a deployment's log: ms from the deployment's queuedAt to the step's first line, and the step's length. */
async function stepTimes(databaseUrl: string, deploymentId: string): Promise<Record<string, number>> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const [d] = (await c.query(`SELECT queued_at, started_at, finished_at FROM deployments WHERE id = $1`, [deploymentId])).rows;
    const steps = (await c.query(`SELECT step, min(time) AS first FROM deployment_logs WHERE deployment_id = $1 GROUP BY step ORDER BY min(time)`, [deploymentId])).rows;
    const out: Record<string, number> = { 'queued → started': d.started_at - d.queued_at, 'started → finished': d.finished_at - d.started_at };
    const ordered = steps.map((s) => ({ step: String(s.step), first: new Date(s.first).getTime() }));
    ordered.forEach((s, i) => {
      const next = ordered[i + 1]?.first ?? new Date(d.finished_at).getTime();
      out[s.step] = next - s.first;
    });
    return out;
  } finally {
    await c.end();
  }
}

/** The deployment's log lines with their offset from queuedAt (to see where the time goes). */
async function logTimes(databaseUrl: string, deploymentId: string): Promise<string> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const [d] = (await c.query(`SELECT queued_at FROM deployments WHERE id = $1`, [deploymentId])).rows;
    const lines = (await c.query(`SELECT time, step, message FROM deployment_logs WHERE deployment_id = $1 ORDER BY seq`, [deploymentId])).rows;
    return lines.map((l) => `${String(new Date(l.time).getTime() - new Date(d.queued_at).getTime()).padStart(6)} ${l.step}: ${String(l.message).slice(0, 110)}`).join('\n');
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const lock = new SwarmTestRun();
  await lock.start();
  let t: TestApp | undefined;
  let run: SwarmTestRun | undefined;
  let git: GitServers | undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'wharf-gitbench-'));
  const began = Date.now();
  try {
    await ensureBusyboxImage(lock.docker);
    git = await startGitServers();
    t = await startTestApp({ WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'true', WHARF_GIT_CA_FILE: git.caFile });
    run = await swarmRunFor(t);
    const docker = run.docker;
    const owner = await setupOwner(t);
    const env = await productionEnvironment(t, owner, owner.organizationId);
    const repo = await git.createRepository('bench', [{ message: 'First', files: { Dockerfile: DOCKERFILE, 'site/index.html': 'first' } }]);

    // The pushing side: a clone of the bare repository; every round commits and pushes one change.
    await gitCmd(scratch, ['clone', '-q', '--', repo.bare, 'work']);
    const work = join(scratch, 'work');
    await gitCmd(work, ['config', 'user.email', 'bench@example.com']);
    await gitCmd(work, ['config', 'user.name', 'Bench']);
    // Unique per run: a COPY layer of an earlier run on this engine must not serve a round from the cache.
    const runId = randomBytes(4).toString('hex');
    const commitAndPush = async (content: string) => {
      writeFileSync(join(work, 'site', 'index.html'), `${content} (${runId})`);
      await gitCmd(work, ['commit', '-q', '-am', content]);
      await gitCmd(work, ['push', '-q', 'origin', 'main']);
      return gitCmd(work, ['rev-parse', 'HEAD']);
    };

    const appId = (await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'git-bench', spec: wharfSpec }).expect(201)).body.id as string;
    await request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth).send({ repository: git.httpsUrl('bench'), ref: 'main', auth: { kind: 'token', token: git.token } }).expect(200);
    const secret = (await request(t.server).post(`/api/v1/applications/${appId}/source/webhook-secret/reveal`).set(owner.auth).expect(200)).body.secret as string;
    const push = async (commit: string) => {
      const body = JSON.stringify({ ref: 'main', commit });
      const r = await request(t!.server).post(`/api/v1/webhooks/applications/${appId}/generic`).set('Content-Type', 'application/json').set(signGenericWebhook(secret, body, Math.floor(Date.now() / 1000))).send(body).expect(202);
      if (r.body.outcome !== 'accepted') throw new Error(`webhook ${r.body.outcome}: ${r.body.reason}`);
      return r.body.deploymentId as string;
    };
    // Warm-up (first deployment creates the service and network; the base image's layers enter the cache).
    const w0 = Date.now();
    await untilDeployed(t, owner, await push(await commitAndPush('warm-up')), w0);
    const [svc] = await docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object);
    const net = svc.Spec!.TaskTemplate!.Networks![0].Target as string;

    // The hand-made side: its own service on the same network, same spec, running the first build.
    const handTag = (i: number | string) => `wharf-bench/${run!.install.toLowerCase()}-hand:${i}`;
    const handCheckout = async (commit: string, i: number | string) => {
      const dir = join(scratch, `hand-${i}`);
      await gitCmd(scratch, ['init', '-q', dir]);
      const auth = Buffer.from(`x-access-token:${git!.token}`).toString('base64');
      await gitCmd(dir, ['-c', `http.extraHeader=Authorization: Basic ${auth}`, 'fetch', '-q', '--depth', '1', '--', git!.httpsUrl('bench'), commit], { GIT_SSL_CAINFO: git!.caFile });
      await gitCmd(dir, ['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', 'FETCH_HEAD']);
      return dir;
    };
    const c0 = await commitAndPush('hand warm-up');
    await buildByHand(docker, await handCheckout(c0, 'warm'), handTag('warm'), run.labels());
    const hand = await docker.createService(rawSpec(run.name('hand'), handTag('warm'), run.labels(), net) as never);
    await untilRunning(docker, hand.id, Date.now() - 1000);

    const wharfMs: number[] = [];
    const wharfTaskMs: number[] = [];
    let lastLog = '';
    const handMs: number[] = [];
    const handCompleteMs: number[] = [];
    const handParts = { checkout: [] as number[], build: [] as number[], update: [] as number[] };
    const profiles: Array<Record<string, number>> = [];
    for (let i = 0; i < RUNS; i++) {
      // Wharf: push, deliver, wait for `succeeded`; then the service must run this deployment's image.
      const wc = await commitAndPush(`wharf round ${i}`);
      let t0 = Date.now();
      const id = await push(wc);
      const [taskMs, doneMs] = await Promise.all([untilRunning(docker, svc.ID!, t0), untilDeployed(t, owner, id, t0)]);
      wharfTaskMs.push(taskMs);
      wharfMs.push(doneMs);
      if (i === RUNS - 1) lastLog = await logTimes(t.databaseUrl, id);
      const d = (await request(t.server).get(`/api/v1/deployments/${id}`).set(owner.auth).expect(200)).body;
      const spec = (await docker.getService(svc.ID!).inspect()).Spec;
      if (d.source?.commit !== wc || !String(spec.TaskTemplate.ContainerSpec.Image).startsWith(String(d.image))) throw new Error(`round ${i}: the service does not run deployment ${id}'s image`);
      profiles.push(await stepTimes(t.databaseUrl, id));

      // By hand: push, fetch, build, service update, wait for the new task.
      const hc = await commitAndPush(`hand round ${i}`);
      t0 = Date.now();
      const dir = await handCheckout(hc, i);
      const t1 = Date.now();
      await buildByHand(docker, dir, handTag(i), run.labels());
      const t2 = Date.now();
      const s = docker.getService(hand.id);
      const cur = await s.inspect();
      await s.update({ ...cur.Spec, version: cur.Version.Index, TaskTemplate: { ...cur.Spec.TaskTemplate, ContainerSpec: { ...cur.Spec.TaskTemplate.ContainerSpec, Image: handTag(i) } } });
      const total = await untilRunning(docker, hand.id, t0);
      handMs.push(total);
      handCompleteMs.push(await untilUpdateCompleted(docker, hand.id, t0));
      handParts.checkout.push(t1 - t0);
      handParts.build.push(t2 - t1);
      handParts.update.push(total - (t2 - t0));
      rmSync(dir, { recursive: true, force: true });
    }

    // Like for like: Wharf's `succeeded` comes after Swarm's update monitor ended (as `docker service update` without
    // --detach waits for it); the by-hand side's "update completed" is the same point. The new task running is the
    // earlier point both sides reach first.
    const ratio = median(wharfMs) / median(handCompleteMs);
    const taskRatio = median(wharfTaskMs) / median(handMs);
    const steps = [...new Set(profiles.flatMap((p) => Object.keys(p)))];
    const rows: Array<{ metric: string; value: number; unit: string; goal?: string; ok?: boolean }> = [
      { metric: 'by hand (git fetch + Engine API build + service update): push → new task running, median', value: median(handMs), unit: 'ms' },
      { metric: 'by hand: push → service update completed (update monitor over), median', value: median(handCompleteMs), unit: 'ms' },
      { metric: 'Wharf: push → deployment succeeded (update monitor over, task stable), median', value: median(wharfMs), unit: 'ms' },
      { metric: 'Wharf succeeded / by hand update completed', value: Number(ratio.toFixed(2)), unit: '×', goal: `≤ ${GOAL_RATIO}`, ok: ratio <= GOAL_RATIO },
      { metric: 'Wharf: push → new task running, median', value: median(wharfTaskMs), unit: 'ms' },
      { metric: 'push → new task running: Wharf / by hand', value: Number(taskRatio.toFixed(2)), unit: '×', goal: `≤ ${GOAL_RATIO}`, ok: taskRatio <= GOAL_RATIO },
      { metric: 'Wharf succeeded / by hand new task running (Wharf also waits for the monitor)', value: Number((median(wharfMs) / median(handMs)).toFixed(2)), unit: '×' },
      ...steps.map((s) => ({ metric: `Wharf step ${s} median`, value: median(profiles.map((p) => p[s] ?? 0)), unit: 'ms' })),
      ...(['checkout', 'build', 'update'] as const).map((k) => ({ metric: `by hand: ${k} median`, value: median(handParts[k]), unit: 'ms' })),
    ];
    console.log(`\nGit push → running benchmark (${RUNS} rounds, Dockerfile FROM ${BUSYBOX_IMAGE}, no health check)`);
    console.log(`by hand runs: ${handMs.join(', ')} ms to the new task running (median ${median(handMs)} ms; checkout ${median(handParts.checkout)}, build ${median(handParts.build)}, update → running ${median(handParts.update)}); update completed ${handCompleteMs.join(', ')} ms (median ${median(handCompleteMs)})`);
    console.log(`Wharf runs:   ${wharfMs.join(', ')} ms (median ${median(wharfMs)} ms)`);
    console.log(`Wharf succeeded / by hand update completed: ${ratio.toFixed(2)} (goal ≤ ${GOAL_RATIO}); push → new task running: ${wharfTaskMs.join(', ')} ms (median ${median(wharfTaskMs)}, ${taskRatio.toFixed(2)} × by hand)`);
    console.log(`last Wharf deployment's log (ms since queued):\n${lastLog}`);
    console.log(`Wharf's time by step (median ms): ${steps.map((s) => `${s} ${median(profiles.map((p) => p[s] ?? 0))}`).join(', ')}`);
    console.log(`benchmark took ${((Date.now() - began) / 1000).toFixed(0)} s\n`);
    if (process.env.WHARF_BENCH_RESULT) writeFileSync(process.env.WHARF_BENCH_RESULT, JSON.stringify({ name: 'git', rows }, null, 2));
  } finally {
    await t?.close().catch(() => undefined);
    const images = await run?.docker.listImages({ filters: { label: [`wharf.install=${run.install}`] } }).catch(() => []);
    for (const i of images ?? []) await run!.docker.getImage(i.Id).remove({ force: true }).catch(() => undefined);
    await (run ?? lock).cleanup().catch((e: Error) => console.error(`cleanup: ${e.message}`));
    if (run) await lock.cleanup().catch(() => undefined);
    await git?.stop().catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`git benchmark failed: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
