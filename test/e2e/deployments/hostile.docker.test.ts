import request from 'supertest';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';
import { BUSYBOX_IMAGE } from '../../support/docker/busybox-image';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { logText, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';
import { until } from '../../support/processes';

jest.setTimeout(180_000);

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Runs argv inside the container (the Engine's exec, no shell of ours) and returns its stdout. */
async function execIn(docker: Docker, containerId: string, cmd: string[]): Promise<string> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.resume();
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  return Buffer.concat(out).toString('utf8');
}

describe('hostile values in every field that reaches Docker', () => {
  const lock = new SwarmTestRun();
  let t: TestApp;
  let run: SwarmTestRun;
  let owner: Session & { organizationId: string };
  let env: { projectId: string; environmentId: string };

  beforeAll(async () => {
    ({ t, run, owner, env } = await startSwarmSuite(lock));
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await stopSwarmSuite(lock, { t, run });
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  const base = (extra: Record<string, unknown> = {}) => ({ image: BUSYBOX_IMAGE, command: ['/bin/sleep', '3600'], replicas: 1, ports: [], stopGracePeriodMs: 500, deployTimeoutMs: 60_000, ...extra });
  const create = (name: string, spec: Record<string, unknown>) => request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name, spec });

  it('image references with shell syntax, spaces or uppercase are refused with a 400 naming /spec/image', async () => {
    for (const image of ['$(x)', 'busybox:$(id)', '`id`', 'busy`id`box', 'busy box', 'BusyBox:1', 'Wharf-Test/busybox:1', `${BUSYBOX_IMAGE}; rm -rf /`, `${BUSYBOX_IMAGE}\nrm -rf /`, '--help']) {
      const res = await create('img', base({ image }));
      expect({ image, status: res.status }).toEqual({ image, status: 400 });
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain('/spec/image');
    }
    // The same on a partial update.
    const ok = await create('img-ok', base()).expect(201);
    const patched = await request(t.server).patch(`/api/v1/applications/${ok.body.id}`).set(owner.auth).send({ spec: { image: '$(reboot)' } }).expect(400);
    expect(patched.body.errors.map((e: { pointer: string }) => e.pointer)).toContain('/spec/image');
  });

  it('reserved wharf.* label keys and malformed variable keys are refused with a 400', async () => {
    for (const key of ['wharf.install', 'wharf.service', 'WHARF.organization', 'Wharf.deployment']) {
      const res = await create('labels', base({ labels: { [key]: 'x' } })).expect(400);
      expect(res.body.errors[0].pointer).toBe(`/spec/labels/${key}`);
    }
    const app = (await create('keys', base()).expect(201)).body.id;
    for (const key of ['A=B', '$(x)', 'a b', '1ABC', 'K\nX', 'K`id`', '']) {
      const res = await request(t.server).put(`/api/v1/applications/${app}/variables`).set(owner.auth).send({ variables: [{ key, value: 'v' }] });
      expect({ key, status: res.status }).toEqual({ key, status: 400 });
    }
  });

  it('names, env values, labels and args arrive verbatim and are never interpreted', async () => {
    const name = "'; touch /pwned0; $(reboot) `id` Ünïcødé ${HOME} -- ../.. " + 'x'.repeat(40);
    const values: Record<string, string> = {
      QUOTES: `he said "hi" and 'bye' \\"escaped\\"`,
      SUBST: '$(touch /pwned1)',
      TICKS: '`touch /pwned2`',
      // Swarm expands Go templates in env values: these must still arrive as typed.
      BRACES: '${HOME} $HOME %PATH% {{.Name}} {{.Service.Name}} {{{{ }} {{"{{"}}',
      NEWLINES: 'line1\nline2\r\n\tindented\n',
      UNICODE: '🚢 Wharf — مرحبا e\u0301\u0308 漢字 \u202Eevil\u202C',
      SEMI: 'a; touch /pwned3 && echo b | cat',
      EQUALS: 'a=b=c',
      BIG: `${'0123456789abcdef'.repeat(640)}$(touch /pwned4)`,
    };
    const labels = {
      'com.example.note': `"$(touch /pwned5)" \`id\` ; rm -rf / \n é 🚢`,
      'com.example/path-like_key': "it's ${HOME}",
      empty: '',
    };
    const args = ['; touch /pwned6', '$(touch /pwned7)', '`touch /pwned8`', '&& touch /pwned9', '| touch /pwned10', "'quoted' \"double\"", '--flag=$(id)', '', 'with\nnewline'];
    const res = await create(name, {
      ...base(),
      // The script writes its own argv (everything after the script) one per line; the args are data, never code.
      command: ['/bin/sh', '-c', 'for a in "$@"; do printf "%s\\0" "$a"; done > /args; exec sleep 3600', 'sh'],
      args,
      labels,
    });
    expect({ status: res.status, body: res.status === 201 ? null : res.body }).toEqual({ status: 201, body: null });
    const app = res.body;
    expect(app.name).toBe(name);
    expect(app.serviceName).toMatch(DNS_LABEL);
    expect(app.serviceName.length).toBeLessThanOrEqual(63);
    // A name with nothing usable in it still gives a valid service name.
    const bare = (await create('日本語 🚢 $()', base()).expect(201)).body;
    expect(bare.serviceName).toMatch(DNS_LABEL);

    await request(t.server).put(`/api/v1/applications/${app.id}/variables`).set(owner.auth).send({ variables: Object.entries(values).map(([key, value]) => ({ key, value, secret: key === 'SUBST' })) }).expect(200);
    const dep = await request(t.server).post(`/api/v1/applications/${app.id}/deployments`).set(owner.auth).send({}).expect(202);
    const done = await waitForDeployment(t, owner, dep.body.id, 90_000);
    if (done.status !== 'succeeded') throw new Error(`deployment ${done.status}: ${done.error}\n${await logText(t, owner, dep.body.id)}`);

    // The Swarm service: its name is the derived DNS label; labels and args verbatim.
    const [svc] = await run.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${app.id}`] }) } as object);
    expect(svc.Spec!.Name).toBe(app.serviceName);
    expect(svc.Spec!.Labels).toMatchObject(labels);
    const container = (svc.Spec!.TaskTemplate as { ContainerSpec: { Args?: string[] } }).ContainerSpec;
    expect(container.Args).toEqual(args);

    // Inside the running container: its own view of argv, environment and filesystem.
    const task = await until('a running task', async () => {
      const tasks = await run.docker.listTasks({ filters: JSON.stringify({ service: [svc.ID], 'desired-state': ['running'] }) } as object);
      return tasks.find((x) => x.Status?.State === 'running' && x.Status?.ContainerStatus?.ContainerID);
    });
    const cid = task.Status!.ContainerStatus!.ContainerID!;
    const argv = await until('the container to write /args', async () => {
      const out = await execIn(run.docker, cid, ['/bin/cat', '/args']);
      return out.length ? out : null;
    });
    expect(argv.split('\0').slice(0, -1)).toEqual(args);
    const environ = await execIn(run.docker, cid, ['/bin/cat', '/proc/1/environ']);
    const seen = new Map(environ.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    for (const [k, v] of Object.entries(values)) expect({ k, v: seen.get(k) }).toEqual({ k, v });
    expect(seen.get('BIG')!.length).toBe(10 * 1024 + '$(touch /pwned4)'.length);
    const root = await execIn(run.docker, cid, ['/bin/ls', '-a', '/']);
    expect(root).not.toMatch(/pwned/);
    expect(root).toMatch(/args/);
  });
});
