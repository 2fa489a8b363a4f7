/**
 * The registry-free database images (test/support/docker/database-images.ts): built from the host's binaries, a second
 * ensure is a cache hit, and each runs as a plain container that takes its credentials from the environment — a
 * password with quotes, `$()` and spaces works through a real client, a wrong one is refused.
 */
import Redis from 'ioredis';
import { Client } from 'pg';
import { ensurePostgresImage, ensureRedisImage } from '../../support/docker/database-images';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { until } from '../../support/until';

jest.setTimeout(60_000);

const run = new SwarmTestRun();
const containers: string[] = [];
const PASSWORD = `p"a's $(touch /tmp/pwned) \`id\` \\ ;x`;

beforeAll(async () => {
  await run.start();
}, 180_000);

afterAll(async () => {
  try {
    for (const id of containers) await run.docker.getContainer(id).remove({ force: true, v: true }).catch(() => undefined);
  } finally {
    await run.cleanup();
  }
}, 60_000);

/** Starts `image` as a plain container on the default bridge and returns its id and IP. */
async function start(image: string, env: Record<string, string>): Promise<{ id: string; ip: string }> {
  const c = await run.docker.createContainer({
    Image: image,
    name: run.name('db'),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: run.labels(),
  });
  containers.push(c.id);
  await c.start();
  const ip = (await c.inspect()).NetworkSettings.Networks.bridge?.IPAddress;
  expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  return { id: c.id, ip };
}

async function logsOf(id: string): Promise<string> {
  const buf = await run.docker.getContainer(id).logs({ stdout: true, stderr: true, tail: 50 });
  return buf.toString('utf8');
}

async function execIn(id: string, cmd: string[]): Promise<{ exitCode: number; output: string }> {
  const ex = await run.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await ex.start({});
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  const info = await ex.inspect();
  return { exitCode: info.ExitCode ?? -1, output: Buffer.concat(chunks).toString('utf8') };
}

describe('postgres image', () => {
  it('is built once, then reused; takes its credentials from the environment', async () => {
    const first = await ensurePostgresImage(run.docker);
    expect(first.tag).toMatch(/^wharf-test\/postgres:15-[0-9a-f]{16}$/);
    const again = await ensurePostgresImage(run.docker);
    expect(again).toEqual({ tag: first.tag, id: first.id, built: false });
    const labels = (await run.docker.getImage(first.tag).inspect()).Config.Labels;
    expect(labels?.['wharf.test-image']).toBe('postgres');

    const user = 'app user';
    const database = `app "db" $(x)`;
    const { id, ip } = await start(first.tag, { POSTGRES_USER: user, POSTGRES_PASSWORD: PASSWORD, POSTGRES_DB: database });
    const connect = async (password: string) => {
      const client = new Client({ host: ip, port: 5432, user, password, database, connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
      } catch (e) {
        await client.end().catch(() => undefined);
        throw e;
      }
      return client;
    };

    const client = await until('postgres to accept the credentials', () => connect(PASSWORD), 40_000, 250).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await logsOf(id)}`);
    });
    try {
      await client.query('CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
      await client.query('INSERT INTO notes (body) VALUES ($1)', ['hello']);
      expect((await client.query<{ body: string }>('SELECT body FROM notes')).rows).toEqual([{ body: 'hello' }]);
      const who = await client.query<{ u: string; d: string }>('SELECT current_user AS u, current_database() AS d');
      expect(who.rows[0]).toEqual({ u: user, d: database });
    } finally {
      await client.end();
    }

    await expect(connect('wrong password')).rejects.toThrow(/password authentication failed/);
    const ready = await execIn(id, ['pg_isready', '-h', '127.0.0.1', '-p', '5432']);
    expect(ready.exitCode).toBe(0);
    // The password was never run as shell code inside the container.
    expect((await execIn(id, ['ls', '/tmp/pwned'])).exitCode).not.toBe(0);
  });
});

describe('redis image', () => {
  it('is built once, then reused; requires the password from the environment', async () => {
    const first = await ensureRedisImage(run.docker);
    expect(first.tag).toMatch(/^wharf-test\/redis:7-[0-9a-f]{16}$/);
    expect(await ensureRedisImage(run.docker)).toEqual({ tag: first.tag, id: first.id, built: false });

    const { id, ip } = await start(first.tag, { REDIS_PASSWORD: PASSWORD });
    const redis = await until(
      'redis to accept connections',
      async () => {
        const r = new Redis({ host: ip, port: 6379, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
        r.on('error', () => undefined);
        try {
          await r.connect();
          return r;
        } catch (e) {
          r.disconnect();
          throw e;
        }
      },
      30_000,
      250,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await logsOf(id)}`);
    });
    try {
      await expect(redis.get('greeting')).rejects.toThrow(/NOAUTH/);
      await expect(redis.auth('wrong password')).rejects.toThrow(/WRONGPASS/);
      expect(await redis.auth(PASSWORD)).toBe('OK');
      expect(await redis.set('greeting', 'hello')).toBe('OK');
      expect(await redis.get('greeting')).toBe('hello');
    } finally {
      redis.disconnect();
    }
    expect((await execIn(id, ['ls', '/tmp/pwned'])).exitCode).not.toBe(0);
  });
});
