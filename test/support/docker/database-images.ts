import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import { ensureDebianPackages, exec } from './host-tools';

/**
 * Database images for tests, built without any registry: the host's installed engine binaries, the shared libraries
 * `ldd` names for them and the data files they read, copied into a FROM scratch image with Debian's static busybox
 * (for the entry script). The tag carries a hash of every copied file, so an image is only rebuilt when the host's
 * binaries change; otherwise the engine's existing image is reused (`built: false`).
 *
 * Both images run as the unprivileged user 999 (`postgres`); credentials come from the environment only:
 * - postgres: POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required), POSTGRES_DB (default the user);
 *   scram-sha-256 over TCP on 0.0.0.0:5432, data in /var/lib/postgresql/data (PGDATA).
 * - redis: REDIS_PASSWORD (required), port 6379, data in /data.
 */
export interface EnsuredImage {
  tag: string;
  id: string;
  /** false when the engine already had the tag (a cache hit). */
  built: boolean;
}

const BUSYBOX_BIN = '/bin/busybox';
const TEST_UID = 999;

const PASSWD = `root:x:0:0:root:/root:/bin/sh\npostgres:x:${TEST_UID}:${TEST_UID}:postgres:/var/lib/postgresql:/bin/sh\n`;
const GROUP = `root:x:0:\npostgres:x:${TEST_UID}:\n`;

// The entry scripts only ever expand the credentials as quoted parameters ("$VAR") into argv or files: they are never
// parsed as shell code. pg_ctl's -o string is a constant.
const POSTGRES_ENTRY = `#!/bin/sh
set -eu
: "\${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
POSTGRES_USER="\${POSTGRES_USER:-postgres}"
POSTGRES_DB="\${POSTGRES_DB:-$POSTGRES_USER}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  umask 077
  pwfile="$(mktemp)"
  printf '%s\\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \\
    --encoding=UTF8 --locale=C --no-sync >/dev/null
  rm -f "$pwfile"
  printf '%s\\n' "host all all 0.0.0.0/0 scram-sha-256" "host all all ::/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    pg_ctl --pgdata="$PGDATA" --wait --silent -o "-c listen_addresses= -k /tmp" start
    createdb --host=/tmp --username="$POSTGRES_USER" -- "$POSTGRES_DB"
    pg_ctl --pgdata="$PGDATA" --wait --silent --mode=fast stop
  fi
fi
unset POSTGRES_PASSWORD
exec postgres -D "$PGDATA" -c listen_addresses='*' -c port=5432 -k /tmp "$@"
`;

const REDIS_ENTRY = `#!/bin/sh
set -eu
: "\${REDIS_PASSWORD:?REDIS_PASSWORD is required}"
umask 077
conf=/tmp/redis.conf
# A double-quoted value in redis.conf: backslashes and double quotes are escaped, everything else is literal.
escaped="$(printf '%s' "$REDIS_PASSWORD" | sed 's/[\\\\"]/\\\\&/g')"
{
  printf '%s\\n' 'bind 0.0.0.0' 'port 6379' 'dir /data' 'protected-mode no' 'save ""' 'appendonly no'
  printf 'requirepass "%s"\\n' "$escaped"
} > "$conf"
unset REDIS_PASSWORD escaped
exec redis-server "$conf" "$@"
`;

interface ImageSpec {
  name: string;
  version: string;
  /** Host files and directories copied to the same path in the image. */
  files: string[];
  /** Executables and modules whose shared libraries (ldd) are copied too. */
  linked: string[];
  entry: string;
  env: string[];
  /** Directories owned by the test user. */
  ownedDirs: string[];
  exposedPort: number;
}

async function postgresSpec(): Promise<ImageSpec> {
  let bindir = '/usr/lib/postgresql/15/bin';
  let pkglibdir = '/usr/lib/postgresql/15/lib';
  let sharedir = '/usr/share/postgresql/15';
  try {
    const cfg = await exec('pg_config', ['--bindir', '--pkglibdir', '--sharedir']);
    const [b, l, s] = cfg.stdout.trim().split('\n');
    // pg_config on PATH may belong to another major version; only trust it for 15.
    if (b?.includes('/15/') && l && s) [bindir, pkglibdir, sharedir] = [b, l, s];
  } catch {
    // no pg_config: the Debian layout
  }
  const bins = ['postgres', 'initdb', 'pg_ctl', 'pg_dump', 'pg_restore', 'pg_dumpall', 'psql', 'pg_isready', 'createdb'].map((b) => join(bindir, b));
  const missing = bins.filter((b) => !existsSync(b));
  if (missing.length) throw new Error(`PostgreSQL 15 binaries missing on the host: ${missing.join(', ')} (apt-get install postgresql-15)`);
  // (initdb runs with --no-sync: these are throwaway test databases, and syncing the new cluster took seconds.)
  // Server modules loaded at run time (plpgsql, dict_snowball for initdb's text search setup, encoding conversions);
  // llvmjit drags in LLVM and is not needed (jit is switched off by its absence).
  const modules = readdirSync(pkglibdir)
    .filter((f) => f.endsWith('.so') && !f.startsWith('llvmjit'))
    .map((f) => join(pkglibdir, f));
  return {
    name: 'postgres',
    version: '15',
    files: [...bins, ...modules, sharedir, '/usr/share/zoneinfo'],
    linked: [...bins, ...modules],
    entry: POSTGRES_ENTRY,
    env: [`PATH=${bindir}:/bin`, 'PGDATA=/var/lib/postgresql/data', 'TZ=UTC', 'LANG=C'],
    ownedDirs: ['/var/lib/postgresql', '/var/run/postgresql'],
    exposedPort: 5432,
  };
}

function redisSpec(): ImageSpec {
  const bins = ['/usr/bin/redis-server', '/usr/bin/redis-cli'];
  const missing = bins.filter((b) => !existsSync(b));
  if (missing.length) throw new Error(`Redis binaries missing on the host: ${missing.join(', ')} (apt-get install redis-server)`);
  return {
    name: 'redis',
    version: '7',
    files: bins,
    linked: bins,
    entry: REDIS_ENTRY,
    env: ['PATH=/usr/bin:/bin'],
    ownedDirs: ['/data'],
    exposedPort: 6379,
  };
}

export async function ensurePostgresImage(docker: Docker): Promise<EnsuredImage> {
  return ensureImage(docker, await postgresSpec());
}

export async function ensureRedisImage(docker: Docker): Promise<EnsuredImage> {
  return ensureImage(docker, redisSpec());
}

/** The absolute paths of the shared libraries (and the dynamic loader) that `ldd` lists for `files`. */
async function sharedLibraries(files: string[]): Promise<string[]> {
  const libs = new Set<string>();
  for (let i = 0; i < files.length; i += 50) {
    const { stdout } = await exec('ldd', files.slice(i, i + 50));
    for (const line of stdout.split('\n')) {
      if (line.includes('not found')) throw new Error(`ldd: ${line.trim()}`);
      const m = /(\/\S+) \(0x[0-9a-f]+\)/.exec(line);
      if (m) libs.add(m[1]);
    }
  }
  return [...libs];
}

/** Every regular file under the given paths (directories walked, symlinks followed). */
function expand(paths: string[]): string[] {
  const out = new Set<string>();
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const child of readdirSync(p)) walk(join(p, child));
    else if (st.isFile()) out.add(p);
  };
  paths.forEach(walk);
  return [...out].sort();
}

function dockerfile(spec: ImageSpec): string {
  const setup = [
    '/bin/busybox --install -s /bin',
    `mkdir -p /tmp ${spec.ownedDirs.join(' ')}`,
    'chmod 1777 /tmp',
    `chown -R ${TEST_UID}:${TEST_UID} ${spec.ownedDirs.join(' ')}`,
    'chmod 0755 /usr/local/bin/entrypoint.sh',
  ].join(' && ');
  return [
    `# wharf-test/${spec.name}: the host's ${spec.name} binaries and their libraries in a scratch image (see database-images.ts).`,
    'FROM scratch',
    'COPY rootfs/ /',
    `RUN ["/bin/busybox", "sh", "-c", ${JSON.stringify(setup)}]`,
    `ENV ${spec.env.map((e) => e.replace('=', '="') + '"').join(' ')}`,
    `USER ${TEST_UID}:${TEST_UID}`,
    `EXPOSE ${spec.exposedPort}`,
    'ENTRYPOINT ["/bin/sh", "/usr/local/bin/entrypoint.sh"]',
    '',
  ].join('\n');
}

async function ensureImage(docker: Docker, spec: ImageSpec): Promise<EnsuredImage> {
  await ensureDebianPackages([{ name: 'busybox-static', marker: BUSYBOX_BIN }]);
  const hostFiles = expand([...spec.files, ...(await sharedLibraries(spec.linked))]);
  const df = dockerfile(spec);
  const hash = createHash('sha256');
  hash.update(df).update('\0').update(spec.entry).update('\0').update(PASSWD).update(GROUP);
  for (const f of [BUSYBOX_BIN, ...hostFiles]) hash.update('\0').update(f).update('\0').update(readFileSync(f));
  const tag = `wharf-test/${spec.name}:${spec.version}-${hash.digest('hex').slice(0, 16)}`;
  try {
    return { tag, id: (await docker.getImage(tag).inspect()).Id, built: false };
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
  }

  const ctx = mkdtempSync(join(tmpdir(), `wharf-${spec.name}-image-`));
  try {
    const rootfs = join(ctx, 'rootfs');
    const put = (path: string, from: string | { content: string }) => {
      const to = join(rootfs, path);
      mkdirSync(dirname(to), { recursive: true });
      if (typeof from === 'string') copyFileSync(from, to);
      else writeFileSync(to, from.content);
    };
    put(BUSYBOX_BIN, BUSYBOX_BIN);
    for (const f of hostFiles) put(f, f);
    put('/usr/local/bin/entrypoint.sh', { content: spec.entry });
    put('/etc/passwd', { content: PASSWD });
    put('/etc/group', { content: GROUP });
    writeFileSync(join(ctx, 'Dockerfile'), df);
    const stream = await docker.buildImage(
      { context: ctx, src: ['Dockerfile', 'rootfs'] },
      { t: tag, rm: true, forcerm: true, labels: { 'wharf.test-image': spec.name } },
    );
    const events = await new Promise<{ error?: string; errorDetail?: { message: string } }[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) => (err ? reject(err) : resolve(out as never))),
    );
    const failed = events.find((e) => e.error || e.errorDetail);
    if (failed) throw new Error(`Building ${tag} failed: ${failed.errorDetail?.message ?? failed.error}`);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return { tag, id: (await docker.getImage(tag).inspect()).Id, built: true };
}
