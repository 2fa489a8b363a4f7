/**
 * Real Git servers for the Git source tests, all on 127.0.0.1 and in one temporary directory:
 * - repositories made by the test with `git` (execFile, never a shell), kept bare under `<dir>/repos`;
 * - HTTPS: node:https in front of `git http-backend` (a small CGI bridge) with a self-signed certificate the client
 *   trusts through GitCliAdapterOptions.caFile; every request must carry the token (Basic with any user, or Bearer),
 *   except repositories listed as public. `hang/…` paths accept the request and never answer (deadline tests);
 *   `slow/…` paths serve the repository at about 1 MB/s (limits that act during a transfer);
 * - SSH: a private sshd (`sshd -D -f CFG`, never the system service) with its own ed25519 host key; authorized keys are
 *   restricted to `git-shell` (as a Git host does), so a key can fetch and do nothing else.
 * Needs git and openssh-server (scripts/ensure-services.sh --test installs them).
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { userInfo, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './docker/swarm-test-run';
import { until } from './until';

const run = promisify(execFile);
export const HTTP_BACKEND = '/usr/lib/git-core/git-http-backend';
export const SSHD = '/usr/sbin/sshd';

export function gitServersAvailable(): boolean {
  return existsSync(HTTP_BACKEND) && existsSync(SSHD);
}

/** `git …` in `cwd` with a fixed identity and no user or system configuration. */
export async function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run('git', args, {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Ada Lovelace',
      GIT_AUTHOR_EMAIL: 'ada@example.com',
      GIT_COMMITTER_NAME: 'Ada Lovelace',
      GIT_COMMITTER_EMAIL: 'ada@example.com',
      ...env,
    },
  });
  return stdout.trim();
}

export interface TestRepository {
  name: string;
  /** Bare repository on disk. */
  bare: string;
  /** Commit ids, oldest first. */
  commits: string[];
}

export interface CommitSpec {
  files: Record<string, string | Buffer>;
  message: string;
  /** Annotated tag on this commit. */
  tag?: string;
  /** Submodule gitlinks: path → { url (as written in .gitmodules), commit }. */
  submodules?: Record<string, { url: string; commit: string }>;
}

export interface GitServers {
  dir: string;
  /** The HTTPS server's certificate (its own CA), for GitCliAdapterOptions.caFile. */
  caFile: string;
  httpsPort: number;
  sshPort: number;
  token: string;
  /** known_hosts line for the sshd. */
  knownHost: string;
  /** known_hosts line of an unrelated host key (for "unknown host key" tests). */
  otherKnownHost: string;
  sshUser: string;
  /** Requests seen by the HTTPS server (method, url, authorization header present/valid). */
  requests: Array<{ method: string; url: string; auth: 'none' | 'valid' | 'invalid' }>;
  httpsUrl(name: string): string;
  sshUrl(name: string): string;
  /** Makes a bare repository `name.git` with these commits (each on top of the previous one) on branch main. */
  createRepository(name: string, commits: CommitSpec[], options?: { public?: boolean }): Promise<TestRepository>;
  /** Lets `publicKey` (an `ssh-ed25519 …` line) fetch over SSH. */
  authorizeKey(publicKey: string): void;
  sshLog(): string;
  stop(): Promise<void>;
}

export async function startGitServers(): Promise<GitServers> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-gitsrv-'));
  const repos = join(dir, 'repos');
  mkdirSync(repos);
  const token = `tok_${randomBytes(16).toString('hex')}`;
  const publicRepos = new Set<string>();
  const requests: GitServers['requests'] = [];

  // --- HTTPS -----------------------------------------------------------------------------------------------------
  const caFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', caFile,
  ]);
  const hanging = new Set<ServerResponse>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const header = req.headers.authorization ?? '';
    let auth: 'none' | 'valid' | 'invalid' = 'none';
    if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      auth = decoded.slice(decoded.indexOf(':') + 1) === token ? 'valid' : 'invalid';
    } else if (header.startsWith('Bearer ')) auth = header.slice(7) === token ? 'valid' : 'invalid';
    else if (header) auth = 'invalid';
    requests.push({ method: req.method ?? '', url: req.url ?? '', auth });
    if (url.pathname.startsWith('/hang/')) {
      hanging.add(res); // never answered; closed by stop()
      return;
    }
    // `slow/…`: the same repository, its responses trickled out (about 1 MB/s) so a limit can act mid-transfer.
    const slow = url.pathname.startsWith('/slow/');
    if (slow) url.pathname = url.pathname.slice('/slow'.length);
    const repo = /^\/([^/]+\.git)\//.exec(url.pathname)?.[1];
    if (!(repo && publicRepos.has(repo)) && auth !== 'valid') {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="wharf-test-git"', 'Content-Type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    const cgi = spawn(HTTP_BACKEND, [], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: repos,
        GIT_HTTP_EXPORT_ALL: '1',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        HOME: dir,
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_USER: auth === 'valid' ? 'test' : '',
        REMOTE_ADDR: '127.0.0.1',
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    req.pipe(cgi.stdin!);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout!.on('data', (d: Buffer) => {
      if (slow) {
        cgi.stdout!.pause();
        setTimeout(() => cgi.stdout!.resume(), Math.ceil(d.length / 1024));
      }
      if (headersDone) {
        res.write(d);
        return;
      }
      head = Buffer.concat([head, d]);
      const m = /\r?\n\r?\n/.exec(head.toString('latin1'));
      if (!m) return;
      const lines = head.subarray(0, m.index).toString('latin1').split(/\r?\n/);
      let status = 200;
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        const k = l.slice(0, i).trim();
        const v = l.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = parseInt(v, 10);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      headersDone = true;
      const rest = head.subarray(m.index + m[0].length);
      if (rest.length) res.write(rest);
    });
    cgi.stderr!.resume();
    cgi.on('close', () => {
      if (!headersDone) res.writeHead(502);
      res.end();
    });
  };
  const https: Server = createHttpsServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, handler);
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  const httpsPort = (https.address() as { port: number }).port;

  // --- SSH -------------------------------------------------------------------------------------------------------
  const sshDir = join(dir, 'ssh');
  mkdirSync(sshDir, { mode: 0o700 });
  const hostKey = join(sshDir, 'host_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'wharf-test-host', '-f', hostKey]);
  const otherHostKey = join(sshDir, 'other_host_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'other', '-f', otherHostKey]);
  const authorizedKeys = join(sshDir, 'authorized_keys');
  writeFileSync(authorizedKeys, '', { mode: 0o600 });
  const sshPort = await freePort();
  const sshdLog = join(sshDir, 'sshd.log');
  writeFileSync(
    join(sshDir, 'sshd_config'),
    [
      `Port ${sshPort}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile ${join(sshDir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'PrintMotd no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true });
  const sshd: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(sshDir, 'sshd_config'), '-E', sshdLog], { stdio: 'ignore' });
  const sshdExited = new Promise<void>((r) => sshd.once('exit', () => r()));
  const sshLog = () => (existsSync(sshdLog) ? readFileSync(sshdLog, 'utf8') : '');
  await until('the test sshd to listen', async () => {
    if (sshd.exitCode !== null) throw Object.assign(new Error(`sshd exited: ${sshLog()}`), { fatal: true });
    return /Server listening/.test(sshLog());
  }, 15_000, 100);
  const pub = (f: string) => readFileSync(`${f}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const sshUser = userInfo().username;

  const servers: GitServers = {
    dir,
    caFile,
    httpsPort,
    sshPort,
    token,
    knownHost: `[127.0.0.1]:${sshPort} ${pub(hostKey)}`,
    otherKnownHost: `[127.0.0.1]:${sshPort} ${pub(otherHostKey)}`,
    sshUser,
    requests,
    httpsUrl: (name) => `https://127.0.0.1:${httpsPort}/${name}.git`,
    sshUrl: (name) => `ssh://${sshUser}@127.0.0.1:${sshPort}${join(repos, `${name}.git`)}`,
    async createRepository(name, commits, options = {}) {
      const work = mkdtempSync(join(dir, `work-${name}-`));
      await git(work, ['init', '-q', '-b', 'main']);
      const ids: string[] = [];
      for (const c of commits) {
        for (const [path, content] of Object.entries(c.files)) {
          mkdirSync(join(work, path, '..'), { recursive: true });
          writeFileSync(join(work, path), content);
          await git(work, ['add', '--', path]);
        }
        if (c.submodules) {
          const modules = Object.entries(c.submodules)
            .map(([path, s]) => `[submodule "${path}"]\n\tpath = ${path}\n\turl = ${s.url}\n`)
            .join('');
          writeFileSync(join(work, '.gitmodules'), modules);
          await git(work, ['add', '--', '.gitmodules']);
          for (const [path, s] of Object.entries(c.submodules)) await git(work, ['update-index', '--add', '--cacheinfo', `160000,${s.commit},${path}`]);
        }
        await git(work, ['commit', '-q', '-m', c.message]);
        ids.push(await git(work, ['rev-parse', 'HEAD']));
        if (c.tag) await git(work, ['tag', '-a', '-m', `release ${c.tag}`, c.tag]);
      }
      const bare = join(repos, `${name}.git`);
      await git(dir, ['clone', '-q', '--bare', '--', work, bare]);
      rmSync(work, { recursive: true, force: true });
      if (options.public) publicRepos.add(`${name}.git`);
      return { name, bare, commits: ids };
    },
    authorizeKey(publicKey) {
      const line = `restrict,command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"" ${publicKey.trim()}\n`;
      writeFileSync(authorizedKeys, readFileSync(authorizedKeys, 'utf8') + line, { mode: 0o600 });
    },
    sshLog,
    async stop() {
      for (const res of hanging) res.destroy();
      https.closeAllConnections();
      await new Promise((r) => https.close(r));
      if (sshd.exitCode === null) {
        sshd.kill('SIGTERM');
        const t = setTimeout(() => sshd.kill('SIGKILL'), 5_000);
        await sshdExited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return servers;
}

/** Processes (pid → command line) whose working directory is `dir` or below it, or whose command line mentions it. */
export function processesUnder(dir: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // not ours to read
      }
      if (cwd.startsWith(dir) || cmd.includes(dir)) found.set(Number(entry), cmd);
    } catch {
      // gone
    }
  }
  return found;
}

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}
