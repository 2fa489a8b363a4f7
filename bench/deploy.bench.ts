/**
 * Deploy benchmark (run by `npm run bench`, not part of `npm test`): on the same local busybox image, in one run,
 *  - raw `docker service create` vs a Wharf deploy (API call → deployment `succeeded`);
 *  - raw `docker service update --force` vs a Wharf redeploy;
 * "raw" is measured two ways: the docker CLI itself (run with an argument array, `--detach=false`: it returns once the
 * service converged and its own "verify" wait of the update monitor period passed), and the Engine API through dockerode,
 * polling tasks until one of the current spec runs (the lower bound: nothing checks the task stays up);
 *  - 20 Wharf deployments at once: total time and the slowest one.
 *  - a Wharf redeploy from the request until the new task runs (the same observation as the Engine API side, with the
 *    raw services on Wharf's own environment overlay network and the same update order), goal ≤ 1.10 × the Engine API;
 * No health check on the benchmark service, so every side waits for running tasks. Wharf additionally keeps a new
 * service's task running for 0.5 s before it calls a deployment without a health check good (a container that exits at
 * once must not pass), and on an update waits, like the CLI, for Swarm's update monitor to end.
 * Writes its rows as JSON to $WHARF_BENCH_RESULT when set (scripts/bench.sh prints the summary).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import request from 'supertest';
import type Docker from 'dockerode';
import { startTestApp, TestApp } from '../test/support/app';
import { Session, setupOwner } from '../test/support/api';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../test/support/docker/busybox-image';
import { SwarmTestRun } from '../test/support/docker/swarm-test-run';
import { productionEnvironment, swarmRunFor } from '../test/support/deploy';

const RUNS = Number(process.env.WHARF_BENCH_RUNS ?? 5);
const CONCURRENT = 20;
const GOAL_RATIO = 1.15;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const COMMAND = ['/bin/sh', '-c', 'exec httpd -f -p 8080 -h /'];
const GRACE_MS = 500;

function rawSpec(name: string, labels: Record<string, string>, network: string): Record<string, unknown> {
  return {
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: { Image: BUSYBOX_IMAGE, Command: COMMAND, StopGracePeriod: GRACE_MS * 1e6 },
      RestartPolicy: { Condition: 'any', Delay: 500e6, MaxAttempts: 0 },
      Networks: [{ Target: network }],
      ForceUpdate: 0,
    },
    Mode: { Replicated: { Replicas: 1 } },
    UpdateConfig: { Parallelism: 1, Order: 'stop-first', FailureAction: 'pause', Monitor: 0 },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

const wharfSpec = {
  image: BUSYBOX_IMAGE,
  command: COMMAND,
  replicas: 1,
  ports: [],
  update: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 0 },
  restartPolicy: { condition: 'any', delayMs: 500, maxAttempts: 0 },
  stopGracePeriodMs: GRACE_MS,
  deployTimeoutMs: 120_000,
};

/** Polls the service's tasks until one task of the current spec (created after `since`) runs; ms since `since`. */
async function untilRunning(docker: Docker, serviceId: string, since: number): Promise<number> {
  for (;;) {
    const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [serviceId], 'desired-state': ['running'] }) } as object);
    const fresh = tasks.filter((t) => Date.parse(String(t.CreatedAt)) >= since - 1000 && t.Status?.State === 'running');
    if (fresh.length >= 1 && tasks.length === 1) return Date.now() - since;
    if (Date.now() - since > 120_000) throw new Error(`service ${serviceId} did not converge`);
    await sleep(50);
  }
}

const run$ = promisify(execFile);

/** The docker CLI, as an operator would type it (argument array, no shell); resolves when the command returns. */
async function cli(args: string[]): Promise<number> {
  const t0 = Date.now();
  await run$('docker', args, { timeout: 180_000 });
  return Date.now() - t0;
}

function cliCreateArgs(name: string, labels: Record<string, string>, network: string): string[] {
  return [
    'service', 'create', '--detach=false', '--quiet', '--name', name,
    ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    '--network', network, '--endpoint-mode', 'dnsrr', '--replicas', '1',
    '--restart-condition', 'any', '--restart-delay', '500ms', '--stop-grace-period', `${GRACE_MS}ms`,
    '--update-parallelism', '1', '--update-order', 'stop-first', '--update-failure-action', 'pause',
    BUSYBOX_IMAGE, ...COMMAND,
  ];
}

async function untilDeployed(t: TestApp, s: Session, id: string, since: number): Promise<number> {
  for (;;) {
    const d = (await request(t.server).get(`/api/v1/deployments/${id}`).set(s.auth)).body;
    if (d.status === 'succeeded') return Date.now() - since;
    if (['failed', 'cancelled', 'superseded'].includes(d.status)) throw new Error(`deployment ${id} ${d.status}: ${d.error}`);
    if (Date.now() - since > 180_000) throw new Error(`deployment ${id} still ${d.status}`);
    await sleep(50);
  }
}

async function main(): Promise<void> {
  const lock = new SwarmTestRun();
  await lock.start();
  let t: TestApp | undefined;
  let run: SwarmTestRun | undefined;
  const began = Date.now();
  try {
    await ensureBusyboxImage(lock.docker);
    t = await startTestApp();
    run = await swarmRunFor(t);
    const docker = run.docker;
    const owner = await setupOwner(t);
    const env = await productionEnvironment(t, owner, owner.organizationId);

    const createApp = async (name: string) =>
      (await request(t!.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name, spec: wharfSpec }).expect(201)).body.id as string;
    const post = async (appId: string, kind: 'deploy' | 'redeploy') =>
      (await request(t!.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({ kind }).expect(202)).body.id as string;

    // Warm-up (first network attach, first API calls), not measured.
    const warm = await createApp('warm-up');
    await untilDeployed(t, owner, await post(warm, 'deploy'), Date.now());
    // The raw services join the environment's own overlay network, as Wharf's do.
    const serviceOf = async (appId: string) => {
      const [svc] = await docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object);
      if (!svc) throw new Error(`no Swarm service for application ${appId}`);
      return svc;
    };
    const net = (await serviceOf(warm)).Spec!.TaskTemplate!.Networks![0].Target as string;

    const raw = { create: [] as number[], update: [] as number[] };
    const rawCli = { create: [] as number[], update: [] as number[] };
    const cliNames: string[] = [];
    const wharf = { create: [] as number[], update: [] as number[] };
    const wharfTaskRunning: number[] = [];
    const rawIds: string[] = [];
    const apps: string[] = [];
    for (let i = 0; i < RUNS; i++) apps.push(await createApp(`bench-${i}`));
    // Interleaved, so drift on the machine affects both sides alike.
    for (let i = 0; i < RUNS; i++) {
      let t0 = Date.now();
      const svc = await docker.createService(rawSpec(run.name('raw'), run.labels(), net) as never);
      raw.create.push(await untilRunning(docker, svc.id, t0));
      rawIds.push(svc.id);
      const cliName = run.name('cli');
      rawCli.create.push(await cli(cliCreateArgs(cliName, run.labels(), net)));
      cliNames.push(cliName);
      t0 = Date.now();
      wharf.create.push(await untilDeployed(t, owner, await post(apps[i], 'deploy'), t0));
    }
    for (let i = 0; i < RUNS; i++) {
      const s = docker.getService(rawIds[i]);
      const cur = await s.inspect();
      let t0 = Date.now();
      await s.update({ ...cur.Spec, version: cur.Version.Index, TaskTemplate: { ...cur.Spec.TaskTemplate, ForceUpdate: (cur.Spec.TaskTemplate.ForceUpdate ?? 0) + 1 } });
      raw.update.push(await untilRunning(docker, rawIds[i], t0));
      rawCli.update.push(await cli(['service', 'update', '--detach=false', '--quiet', '--force', cliNames[i]]));
      const wharfService = (await serviceOf(apps[i])).ID!;
      t0 = Date.now();
      const id = await post(apps[i], 'redeploy');
      const [taskMs, doneMs] = await Promise.all([untilRunning(docker, wharfService, t0), untilDeployed(t, owner, id, t0)]);
      wharfTaskRunning.push(taskMs);
      wharf.update.push(doneMs);
    }

    const fleet: string[] = [];
    for (let i = 0; i < CONCURRENT; i++) fleet.push(await createApp(`fleet-${i}`));
    const f0 = Date.now();
    const ids = await Promise.all(fleet.map((a) => post(a, 'deploy')));
    const latencies = await Promise.all(ids.map((id) => untilDeployed(t!, owner, id, f0)));
    const fleetTotal = Date.now() - f0;

    const rows: Array<{ metric: string; value: number; unit: string; goal?: string; ok?: boolean }> = [];
    const table: string[][] = [['operation', 'docker CLI', 'Engine API, tasks running', 'Wharf', 'Wharf / CLI', 'Wharf / API']];
    for (const [label, key] of [['create → converged', 'create'], ['update --force → converged', 'update']] as const) {
      const c = median(rawCli[key]);
      const r = median(raw[key]);
      const w = median(wharf[key]);
      table.push([label, `${c.toFixed(0)} ms`, `${r.toFixed(0)} ms`, `${w.toFixed(0)} ms`, (w / c).toFixed(2), (w / r).toFixed(2)]);
      rows.push({ metric: `${key}: docker CLI median`, value: c, unit: 'ms' });
      rows.push({ metric: `${key}: Engine API (tasks running) median`, value: r, unit: 'ms' });
      rows.push({ metric: `${key}: Wharf median`, value: w, unit: 'ms' });
      rows.push({ metric: `${key}: Wharf / docker CLI`, value: Number((w / c).toFixed(2)), unit: '×', goal: `≤ ${GOAL_RATIO}`, ok: w / c <= GOAL_RATIO });
      rows.push({ metric: `${key}: Wharf / Engine API`, value: Number((w / r).toFixed(2)), unit: '×', goal: `≤ ${GOAL_RATIO}`, ok: w / r <= GOAL_RATIO });
    }
    const taskRatio = median(wharfTaskRunning) / median(raw.update);
    rows.push({ metric: 'update: Wharf request → new task running, median', value: median(wharfTaskRunning), unit: 'ms' });
    rows.push({ metric: 'update: Wharf (request → new task running) / Engine API', value: Number(taskRatio.toFixed(2)), unit: '×', goal: '≤ 1.10', ok: taskRatio <= 1.1 });
    rows.push({ metric: `${CONCURRENT} concurrent deployments: total`, value: fleetTotal, unit: 'ms' });
    rows.push({ metric: `${CONCURRENT} concurrent deployments: max latency`, value: Math.max(...latencies), unit: 'ms' });

    const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  ');
    console.log(`\nDeploy benchmark (${RUNS} runs each, image ${BUSYBOX_IMAGE}, no health check)`);
    console.log(line(table[0]));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of table.slice(1)) console.log(line(r));
    console.log(`\ndocker CLI create runs: ${rawCli.create.join(', ')} ms\nEngine API create runs: ${raw.create.join(', ')} ms\nWharf deploy runs:      ${wharf.create.join(', ')} ms`);
    console.log(`docker CLI update runs: ${rawCli.update.join(', ')} ms\nEngine API update runs: ${raw.update.join(', ')} ms\nWharf redeploy runs:    ${wharf.update.join(', ')} ms`);
    console.log(`Wharf redeploy, request → new task running: ${wharfTaskRunning.join(', ')} ms (median ${median(wharfTaskRunning)} ms, ${taskRatio.toFixed(2)} × the Engine API; goal ≤ 1.10)`);
    console.log(`\n${CONCURRENT} concurrent Wharf deployments: total ${fleetTotal} ms, max latency ${Math.max(...latencies)} ms, median latency ${median(latencies)} ms`);
    console.log(`goal: Wharf / raw ≤ ${GOAL_RATIO}; benchmark took ${((Date.now() - began) / 1000).toFixed(0)} s\n`);
    if (process.env.WHARF_BENCH_RESULT) writeFileSync(process.env.WHARF_BENCH_RESULT, JSON.stringify({ name: 'deploy', rows }, null, 2));
  } finally {
    await t?.close().catch(() => undefined);
    await (run ?? lock).cleanup().catch((e: Error) => console.error(`cleanup: ${e.message}`));
    if (run) await lock.cleanup().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`deploy benchmark failed: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
