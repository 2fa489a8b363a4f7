/**
 * GitPort over the `git` command line. The rules that keep user values away from a shell and from git's options:
 *
 * - `git` runs through spawn with an argument array, never a shell; user values come after `--` (or after a fixed
 *   option that takes them as its argument) and are re-validated here with the same rules as the API
 *   (`parseGitRepository`, `checkGitRef`).
 * - Only https and ssh transports (`protocol.allow=never` plus explicit allows, also through GIT_ALLOW_PROTOCOL so
 *   submodule processes inherit it): no `file:`, `ext::`, `fd::` or other remote helpers; HTTP redirects are off.
 * - A private temporary directory per call (0700) is git's HOME; no system or global configuration is read, no
 *   credential helper, no hooks, no terminal prompts, and the environment is built from scratch (no GIT_TRACE*, no
 *   SSH agent).
 * - A token never appears in argv (/proc/<pid>/cmdline is world-readable): it travels as an `Authorization` header in
 *   GIT_CONFIG_VALUE_0, scoped by git's URL matching to the repository's own origin
 *   (`http.https://host:port/.extraHeader`), so a submodule on another host never receives it. Log lines and error
 *   messages are scrubbed of the token and the header.
 * - SSH uses a per-call private key file (0600) and known_hosts in the private directory. GIT_SSH_COMMAND is built only
 *   from constants and the paths of that directory (checked to be plain path characters): no user value enters it.
 *   Host keys are checked strictly (`StrictHostKeyChecking=yes`); an unknown host key is refused.
 * - Every git process runs in its own process group; the deadline, the abort signal and the size limit kill the
 *   whole group (git-remote-https, ssh, index-pack included).
 * - Submodule URLs (from the repository, i.e. untrusted) are read before `git submodule update`, resolved, validated
 *   like the main repository and checked by the host policy, one level at a time.
 */
import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { isIP } from 'node:net';
import { checkGitRef, isCommitId, parseGitRepository } from '@wharf/contracts';
import type { GitRepositoryUrl } from '@wharf/contracts';
import {
  GitCheckoutAuth,
  GitCheckoutInput,
  GitCommitInfo,
  GitFailureReason,
  GitPort,
  GitResolveRefInput,
  GitScanHostKeysInput,
  GitSourceError,
} from '../ports/git.port';

export interface GitCliAdapterOptions {
  /** Default `git` (from PATH). */
  gitBinary?: string;
  /** Default `ssh`. */
  sshBinary?: string;
  /** Default `ssh-keyscan`. */
  sshKeyscanBinary?: string;
  /** Where the private per-call directories are made. Default os.tmpdir(). */
  tmpRoot?: string;
  /**
   * Called with every host git is about to contact (the repository's and each submodule's); throws to refuse. Wire
   * `(host) => checkGitHost(host, { allowPrivate })` in production.
   */
  hostPolicy?: (host: string) => Promise<unknown>;
  /** A PEM bundle used instead of the system's CAs for https (a self-hosted server's private CA; tests). */
  caFile?: string;
  /** How often the size of a running fetch is measured. Default 250 ms. */
  sizePollMs?: number;
  /** Nested submodule levels followed. Default 3. */
  maxSubmoduleDepth?: number;
}

const MAX_MESSAGE = 64 * 1024;
/** Paths that go into GIT_SSH_COMMAND (a shell string git runs): only these characters. */
const SAFE_PATH = /^[A-Za-z0-9/._-]+$/;

interface Context {
  repo: GitRepositoryUrl;
  env: NodeJS.ProcessEnv;
  secrets: string[];
  deadline: number;
  deadlineMs: number;
  signal?: AbortSignal;
  onLog: (line: string) => void;
  privateDir: string;
}

interface RunOptions {
  cwd: string;
  /** Kill the process group when this directory grows beyond maxBytes. */
  sizeLimit?: { directory: string; maxBytes: number };
  maxStdout?: number;
  /** Log stderr lines (progress) as they come. Default true. */
  log?: boolean;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class GitCliAdapter implements GitPort {
  private readonly git: string;
  private readonly ssh: string;
  private readonly tmpRoot: string;

  constructor(private readonly options: GitCliAdapterOptions = {}) {
    this.git = options.gitBinary ?? 'git';
    this.ssh = options.sshBinary ?? 'ssh';
    this.tmpRoot = options.tmpRoot ?? tmpdir();
  }

  async checkout(input: GitCheckoutInput): Promise<GitCommitInfo> {
    const repo = this.checkInput(input);
    if (!isAbsolute(input.directory)) throw new GitSourceError('the checkout directory must be an absolute path', 'invalid-input');
    if (!Number.isFinite(input.maxBytes) || input.maxBytes <= 0) throw new GitSourceError('the size limit must be positive', 'invalid-input');
    const ctx = await this.open(repo, input);
    const dir = input.directory;
    let ok = false;
    try {
      await this.policy(repo.host, { ctx, transport: repo.transport, port: repo.port });
      await mkdir(dir, { recursive: true, mode: 0o700 });
      if ((await readdir(dir)).length > 0) throw new GitSourceError('the checkout directory is not empty', 'invalid-input');
      const limit = { directory: dir, maxBytes: input.maxBytes };

      await this.must(ctx, 'git init', ['init', '-q', '--template='], { cwd: dir });
      const want = input.commit ?? input.ref;
      ctx.onLog(`fetching ${input.commit ? `commit ${input.commit}` : input.ref} from ${repo.url}`);
      // Fetched by URL (the `origin` remote is only needed for submodules' relative URLs, and added then).
      await this.must(ctx, 'git fetch', ['fetch', '--depth=1', '--no-tags', '--no-recurse-submodules', '--progress', '--', repo.url, want], {
        cwd: dir,
        sizeLimit: limit,
      });
      // Side by side (both only read): the fetched commit (an annotated tag peeled) with what is recorded about it, and
      // its tree, whose blob sizes tell the working tree's size before anything is written.
      const [shown, listed] = await Promise.allSettled([
        this.must(ctx, 'git log', ['log', '-1', '--no-show-signature', '--format=%H%x00%an%x00%ae%x00%cI%x00%B', 'FETCH_HEAD^{commit}', '--'], { cwd: dir, log: false }),
        this.must(ctx, 'git ls-tree', ['ls-tree', '-r', '-l', '-z', '--full-tree', 'FETCH_HEAD^{commit}'], { cwd: dir, log: false, maxStdout: 256 * 1024 * 1024 }),
      ]);
      if (shown.status === 'rejected') throw shown.reason;
      if (listed.status === 'rejected') throw listed.reason;
      const [commit, author, authorEmail, committedAt, ...rest] = shown.value.stdout.split('\0');
      if (!isCommitId(commit)) throw new GitSourceError('git did not report the fetched commit', 'other');
      if (input.commit && commit !== input.commit) throw new GitSourceError('the server sent another commit than the one asked for', 'other');

      const tree = listed.value;
      let treeBytes = 0;
      for (const entry of tree.stdout.split('\0')) {
        const m = /^\d+ blob [0-9a-f]+ +(\d+)\t/.exec(entry);
        if (m) treeBytes += Number(m[1]);
      }
      if (treeBytes + (await directorySize(dir)) > input.maxBytes) throw tooLarge(input.maxBytes, 'once checked out (refused before writing it)');

      await this.must(ctx, 'git checkout', ['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', commit, '--'], { cwd: dir, sizeLimit: limit });
      if (input.submodules) {
        await this.must(ctx, 'git remote add', ['remote', 'add', 'origin', '--', repo.url], { cwd: dir });
        await this.submodules(ctx, dir, repo, limit, 1);
      }
      if ((await directorySize(dir)) > input.maxBytes) throw tooLarge(input.maxBytes, 'with its submodules');

      const message = rest.join('\0').replace(/\s+$/, '');
      ctx.onLog(`checked out ${commit}`);
      ok = true;
      return { commit, author, authorEmail, committedAt, message: message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE) : message };
    } finally {
      await rm(ctx.privateDir, { recursive: true, force: true });
      if (!ok) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async resolveRef(input: GitResolveRefInput): Promise<string | null> {
    const repo = this.checkInput({ ...input, ref: input.ref });
    if (isCommitId(input.ref)) return input.ref;
    const ctx = await this.open(repo, input);
    try {
      await this.policy(repo.host, { ctx, transport: repo.transport, port: repo.port });
      const patterns = input.ref.startsWith('refs/') ? [input.ref] : [`refs/heads/${input.ref}`, `refs/tags/${input.ref}`];
      // `<tag>^{}` is the commit an annotated tag points at; ls-remote lists it only when asked by that name.
      const r = await this.must(ctx, 'git ls-remote', ['ls-remote', '--', repo.url, ...patterns.flatMap((p) => [p, `${p}^{}`])], { cwd: ctx.privateDir, log: false });
      const refs = new Map<string, string>();
      for (const line of r.stdout.split('\n')) {
        const m = /^([0-9a-f]{40}|[0-9a-f]{64})\t(\S+)$/.exec(line);
        if (m) refs.set(m[2], m[1]);
      }
      for (const p of patterns) {
        const v = refs.get(`${p}^{}`) ?? refs.get(p);
        if (v) return v;
      }
      return null;
    } finally {
      await rm(ctx.privateDir, { recursive: true, force: true });
    }
  }

  async scanHostKeys(input: GitScanHostKeysInput): Promise<string[]> {
    const parsed = parseGitRepository(input.repository);
    if (!parsed.ok) throw new GitSourceError(`the repository ${parsed.message}`, 'invalid-input');
    const repo = parsed.value;
    if (repo.transport !== 'ssh') throw new GitSourceError('host keys exist only for SSH repositories', 'invalid-input');
    await this.policy(repo.host);
    const ctx = await this.open(repo, { auth: { kind: 'none' }, deadlineMs: input.deadlineMs, signal: input.signal });
    try {
      const seconds = String(Math.max(1, Math.min(60, Math.floor(input.deadlineMs / 1000))));
      const args = ['-T', seconds, '-t', 'ed25519,ecdsa,rsa', ...(repo.port !== null ? ['-p', String(repo.port)] : []), '--', repo.host];
      const r = await this.run(ctx, args, { cwd: ctx.privateDir, log: false }, this.options.sshKeyscanBinary ?? 'ssh-keyscan');
      const lines = r.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^\S+ (ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+$/.test(l));
      if (lines.length === 0) throw new GitSourceError(`no SSH host key could be read from ${repo.host}${repo.port !== null ? ` port ${repo.port}` : ''}`, 'unreachable');
      return lines;
    } finally {
      await rm(ctx.privateDir, { recursive: true, force: true });
    }
  }

  /**
   * Re-checks what the API validated (a caller that skipped it cannot inject options); returns the parsed repository.
   * Protected so tests can prove the layers below are inert on their own.
   */
  protected checkInput(input: { repository: string; ref: string; commit?: string; auth: GitCheckoutAuth }): GitRepositoryUrl {
    const repo = parseGitRepository(input.repository);
    if (!repo.ok) throw new GitSourceError(`the repository ${repo.message}`, 'invalid-input');
    const refError = checkGitRef(input.ref);
    if (refError) throw new GitSourceError(`the ref ${refError}`, 'invalid-input');
    if (input.commit !== undefined && !isCommitId(input.commit)) throw new GitSourceError('the commit must be a full commit id', 'invalid-input');
    const a = input.auth;
    if (a.kind === 'token') {
      if (repo.value.transport !== 'https') throw new GitSourceError('a token works only with an https:// repository', 'invalid-input');
      if (!/^[\x21-\x7e]{1,4096}$/.test(a.token)) throw new GitSourceError('the token must be printable characters without spaces or line breaks', 'invalid-input');
      if (a.username !== undefined && !/^[A-Za-z0-9._@+-]{1,128}$/.test(a.username)) throw new GitSourceError('the token user name is not valid', 'invalid-input');
    } else if (a.kind === 'deploy-key') {
      if (repo.value.transport !== 'ssh') throw new GitSourceError('a deploy key works only with an SSH repository', 'invalid-input');
      if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END [A-Z ]*PRIVATE KEY-----\n?$/.test(a.privateKey)) {
        throw new GitSourceError('the deploy key is not a PEM private key', 'invalid-input');
      }
      if (a.knownHosts.some((l) => !/^[\x20-\x7e]{1,16384}$/.test(l))) throw new GitSourceError('a known host line has control characters', 'invalid-input');
    } else if (repo.value.transport === 'ssh') {
      throw new GitSourceError('an SSH repository needs a deploy key', 'invalid-input');
    }
    return repo.value;
  }

  // -------------------------------------------------------------------------------------------------------------------

  /**
   * Runs the host policy. When it answers with the addresses it checked and the repository is https, those addresses
   * are pinned for the call (`http.curloptResolve`): git connects to what was checked, so a DNS answer that changes
   * between the check and the connection (rebinding to an internal address) cannot redirect it. SSH connections are
   * not pinned this way; their host key is checked against the source's known hosts.
   */
  private async policy(host: string, pin?: { ctx: Context; transport: 'https' | 'ssh'; port: number | null }): Promise<void> {
    if (!this.options.hostPolicy) return;
    let checked: unknown;
    try {
      checked = await this.options.hostPolicy(host);
    } catch (e) {
      if (e instanceof GitSourceError) throw e;
      throw new GitSourceError(`the Git host ${host} is not allowed: ${(e as Error).message}`, 'host-refused');
    }
    if (!pin || pin.transport !== 'https' || isIP(host) !== 0) return;
    if (!Array.isArray(checked) || checked.length === 0 || !checked.every((a) => typeof a === 'string' && isIP(a) !== 0)) return;
    const addresses = (checked as string[]).map((a) => (isIP(a) === 6 ? `[${a}]` : a)).join(',');
    addConfig(pin.ctx.env, 'http.curloptResolve', `${host}:${pin.port ?? 443}:${addresses}`);
  }

  /** The private directory, the environment and the secrets to scrub for one call. */
  private async open(repo: GitRepositoryUrl, input: { auth: GitCheckoutAuth; deadlineMs: number; signal?: AbortSignal; onLog?: (l: string) => void }): Promise<Context> {
    const privateDir = await realpath(await mkdtemp(join(this.tmpRoot, 'wharf-git-')));
    await chmod(privateDir, 0o700);
    if (!SAFE_PATH.test(privateDir)) {
      await rm(privateDir, { recursive: true, force: true });
      throw new GitSourceError('the temporary directory has characters that cannot be used safely in GIT_SSH_COMMAND', 'other');
    }
    const home = join(privateDir, 'home');
    await mkdir(home, { mode: 0o700 });
    const knownHosts = join(privateDir, 'known_hosts');
    const identity = join(privateDir, 'id_deploy');
    const secrets: string[] = [];
    const config: Array<[string, string]> = [
      ['protocol.allow', 'never'],
      ['protocol.https.allow', 'always'],
      ['protocol.ssh.allow', 'always'],
      ['http.followRedirects', 'false'],
      ['core.hooksPath', '/dev/null'],
      ['core.fsmonitor', 'false'],
      ['credential.helper', ''],
      ['submodule.recurse', 'false'],
      ['fetch.fsckObjects', 'true'],
      ['init.defaultBranch', 'wharf'],
    ];
    if (this.options.caFile) config.push(['http.sslCAInfo', this.options.caFile]);

    let keyWritten = false;
    if (input.auth.kind === 'token') {
      const header = `Basic ${Buffer.from(`${input.auth.username ?? 'x-access-token'}:${input.auth.token}`).toString('base64')}`;
      secrets.push(input.auth.token, header, header.slice('Basic '.length));
      const origin = `https://${repo.host.includes(':') ? `[${repo.host}]` : repo.host}${repo.port !== null ? `:${repo.port}` : ''}/`;
      config.push([`http.${origin}.extraHeader`, `Authorization: ${header}`]);
    } else if (input.auth.kind === 'deploy-key') {
      const key = input.auth.privateKey.endsWith('\n') ? input.auth.privateKey : `${input.auth.privateKey}\n`;
      await writeFile(identity, key, { mode: 0o600 });
      keyWritten = true;
      secrets.push(...key.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----')));
    }
    await writeFile(knownHosts, input.auth.kind === 'deploy-key' ? input.auth.knownHosts.map((l) => `${l}\n`).join('') : '', { mode: 0o600 });

    // Only constants and the private directory's paths (SAFE_PATH) — nothing a user typed.
    const sshCommand = [
      this.ssh,
      '-F', '/dev/null',
      '-o', 'BatchMode=yes',
      '-o', 'IdentitiesOnly=yes',
      '-o', 'IdentityAgent=none',
      ...(keyWritten ? ['-o', `IdentityFile=${identity}`] : ['-o', 'IdentityFile=/dev/null']),
      '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'UpdateHostKeys=no',
      '-o', 'PasswordAuthentication=no',
      '-o', 'KbdInteractiveAuthentication=no',
      '-o', 'ProxyCommand=none',
      '-o', 'ProxyJump=none',
      '-o', 'PermitLocalCommand=no',
      '-o', 'ClearAllForwardings=yes',
      '-o', 'ControlMaster=no',
      '-o', 'ControlPath=none',
      '-o', 'ConnectTimeout=30',
      '-o', 'LogLevel=ERROR',
    ];
    if (!SAFE_PATH.test(this.ssh) || sshCommand.some((a) => !/^[A-Za-z0-9/._=-]+$/.test(a))) {
      await rm(privateDir, { recursive: true, force: true });
      throw new GitSourceError('the ssh command would contain unsafe characters', 'other');
    }

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      LANG: 'C',
      LC_ALL: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ALLOW_PROTOCOL: 'https:ssh',
      GIT_PROTOCOL_FROM_USER: '0',
      GIT_SSH_COMMAND: sshCommand.join(' '),
      GIT_SSH_VARIANT: 'ssh',
      GIT_LFS_SKIP_SMUDGE: '1',
      GIT_CONFIG_COUNT: String(config.length),
    };
    config.forEach(([k, v], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = k;
      env[`GIT_CONFIG_VALUE_${i}`] = v;
    });
    const redact = (s: string) => secrets.reduce((acc, x) => (x ? acc.split(x).join('[redacted]') : acc), s);
    const onLog = input.onLog ?? (() => undefined);
    return {
      repo,
      env,
      secrets,
      deadline: Date.now() + input.deadlineMs,
      deadlineMs: input.deadlineMs,
      signal: input.signal,
      onLog: (line) => onLog(redact(line)),
      privateDir,
    };
  }

  private redact(ctx: Context, s: string): string {
    return ctx.secrets.reduce((acc, x) => (x ? acc.split(x).join('[redacted]') : acc), s);
  }

  /** Runs git; a non-zero exit becomes a GitSourceError with a reason and git's last words (scrubbed). */
  private async must(ctx: Context, what: string, args: string[], options: RunOptions): Promise<RunResult> {
    const r = await this.run(ctx, args, options);
    if (r.code !== 0) {
      const stderr = this.redact(ctx, r.stderr);
      const lines = stderr.split(/[\r\n]+/).map((l) => l.trim()).filter((l) => l && !/^(remote: )?(Counting|Compressing|Receiving|Resolving|Enumerating|Total)/.test(l));
      const detail = lines.slice(-3).join(' / ').slice(0, 600);
      throw new GitSourceError(`${what} failed: ${explain(classify(stderr))}${detail ? ` (git: ${detail})` : ''}`, classify(stderr));
    }
    return r;
  }

  private run(ctx: Context, args: string[], options: RunOptions, binary = this.git): Promise<RunResult> {
    const remaining = ctx.deadline - Date.now();
    if (remaining <= 0) return Promise.reject(new GitSourceError('the Git checkout ran out of time', 'timeout'));
    if (ctx.signal?.aborted) return Promise.reject(new GitSourceError('the Git checkout was cancelled', 'aborted'));
    return new Promise<RunResult>((resolveRun, rejectRun) => {
      const child = spawn(binary, args, { cwd: options.cwd, env: ctx.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], shell: false });
      let stdout = '';
      let stderr = '';
      let partial = '';
      let stopped: GitSourceError | null = null;
      const maxStdout = options.maxStdout ?? 16 * 1024 * 1024;
      const killGroup = () => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const stop = (e: GitSourceError) => {
        if (!stopped) stopped = e;
        killGroup();
      };
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString('utf8');
        if (stdout.length > maxStdout) stop(new GitSourceError('git printed more than expected', 'too-large'));
      });
      child.stderr!.on('data', (d: Buffer) => {
        const text = d.toString('utf8');
        if (stderr.length < 1024 * 1024) stderr += text;
        if (options.log === false) return;
        partial += text;
        const parts = partial.split(/[\r\n]/);
        partial = parts.pop() ?? '';
        for (const p of parts) if (p.trim()) ctx.onLog(p.trimEnd());
      });
      const timer = setTimeout(() => stop(new GitSourceError(`the Git checkout took longer than ${formatSeconds(ctx.deadlineMs)} and was stopped`, 'timeout')), remaining);
      const onAbort = () => stop(new GitSourceError('the Git checkout was cancelled', 'aborted'));
      ctx.signal?.addEventListener('abort', onAbort, { once: true });
      let poll: NodeJS.Timeout | undefined;
      if (options.sizeLimit) {
        const { directory, maxBytes } = options.sizeLimit;
        let measuring = false;
        poll = setInterval(() => {
          if (measuring) return;
          measuring = true;
          directorySize(directory)
            .then((n) => {
              if (n > maxBytes) stop(tooLarge(maxBytes, 'while it was being fetched'));
            })
            .catch(() => undefined)
            .finally(() => (measuring = false));
        }, this.options.sizePollMs ?? 250);
      }
      const finish = () => {
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        ctx.signal?.removeEventListener('abort', onAbort);
        // Whatever the outcome, nothing of this command outlives it (a helper that kept running, a stuck ssh).
        killGroup();
      };
      child.once('error', (e) => {
        finish();
        rejectRun(new GitSourceError(`git could not be started: ${e.message}`, 'other'));
      });
      child.once('close', (code) => {
        finish();
        if (partial.trim() && options.log !== false) ctx.onLog(partial.trimEnd());
        if (stopped) rejectRun(stopped);
        else resolveRun({ code, stdout, stderr });
      });
    });
  }

  /** Checks .gitmodules' URLs (untrusted), then fetches the submodules one level at a time, shallow. */
  private async submodules(ctx: Context, dir: string, parent: GitRepositoryUrl, limit: { directory: string; maxBytes: number }, level: number): Promise<void> {
    const list = await this.run(ctx, ['config', '-f', '.gitmodules', '-z', '--get-regexp', '^submodule\\..*\\.(url|path)$'], { cwd: dir, log: false });
    if (list.code !== 0) return; // no .gitmodules (exit 1) or none configured
    const entries = list.stdout.split('\0').filter(Boolean).map((e) => {
      const nl = e.indexOf('\n');
      return { key: e.slice(0, nl), value: e.slice(nl + 1) };
    });
    const paths: string[] = [];
    for (const { key, value } of entries) {
      if (key.endsWith('.url')) {
        const url = resolveSubmoduleUrl(parent, value);
        const parsed = url === null ? null : parseGitRepository(url);
        if (!parsed || !parsed.ok) throw new GitSourceError(`a submodule URL in .gitmodules is not an https:// or SSH repository (${key.slice(10, -4).slice(0, 100)})`, 'submodule');
        await this.policy(parsed.value.host, { ctx, transport: parsed.value.transport, port: parsed.value.port });
      } else {
        paths.push(value);
      }
    }
    if (level > (this.options.maxSubmoduleDepth ?? 3)) throw new GitSourceError('submodules are nested too deeply', 'submodule');
    ctx.onLog(`fetching submodules${level > 1 ? ` (level ${level})` : ''}`);
    await this.must(ctx, 'git submodule update', ['submodule', '--quiet', 'update', '--init', '--depth', '1', '--no-recommend-shallow', '--jobs', '1'], { cwd: dir, sizeLimit: limit });
    const root = await realpath(dir);
    for (const p of paths) {
      const sub = resolve(root, p);
      if (!sub.startsWith(root + sep)) throw new GitSourceError('a submodule path leaves the repository', 'submodule');
      const st = await lstat(sub).catch(() => null);
      if (!st || !st.isDirectory()) continue;
      if ((await realpath(sub)) !== sub) throw new GitSourceError('a submodule path goes through a symbolic link', 'submodule');
      const url = await this.run(ctx, ['config', '--get', 'remote.origin.url'], { cwd: sub, log: false });
      const parsed = parseGitRepository(url.stdout.trim());
      if (!parsed.ok) continue;
      await this.submodules(ctx, sub, parsed.value, limit, level + 1);
    }
  }
}

/** Appends one `-c key=value` through the environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n), as `open` sets the others. */
function addConfig(env: NodeJS.ProcessEnv, key: string, value: string): void {
  const i = Number(env.GIT_CONFIG_COUNT ?? '0');
  env[`GIT_CONFIG_KEY_${i}`] = key;
  env[`GIT_CONFIG_VALUE_${i}`] = value;
  env.GIT_CONFIG_COUNT = String(i + 1);
}

/** `../other.git` and `./x` resolve against the parent repository's URL as git does; other values are kept. */
export function resolveSubmoduleUrl(parent: GitRepositoryUrl, url: string): string | null {
  if (!url.startsWith('./') && !url.startsWith('../')) return url;
  const scp = parent.url === `${parent.user}@${parent.host}:${parent.path}`;
  const base = parent.path.replace(/\/+$/, '').split('/');
  for (const part of url.split('/')) {
    if (part === '.' || part === '') continue;
    if (part === '..') {
      if (base.length <= (scp ? 0 : 1)) return null;
      base.pop();
    } else base.push(part);
  }
  const path = base.join('/');
  if (scp) return `${parent.user}@${parent.host}:${path}`;
  const host = parent.host.includes(':') ? `[${parent.host}]` : parent.host;
  return `${parent.transport}://${parent.user ? `${parent.user}@` : ''}${host}${parent.port !== null ? `:${parent.port}` : ''}${path}`;
}

function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function tooLarge(maxBytes: number, when: string): GitSourceError {
  const mib = maxBytes >= 1024 * 1024 ? `${Math.round(maxBytes / 1024 / 1024)} MiB` : `${Math.round(maxBytes / 1024)} KiB`;
  return new GitSourceError(`the repository grew larger than the limit of ${mib} ${when}`, 'too-large');
}

/** Bytes of the files below `dir` (symbolic links are not followed). */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else {
        const st = await lstat(p).catch(() => null);
        if (st) total += st.size;
      }
    }
  }
  return total;
}

function classify(stderr: string): GitFailureReason {
  if (/Host key verification failed|host key .* (not known|changed)|No \S+ host key is known/i.test(stderr)) return 'host-key';
  if (/could not read (Username|Password)|Authentication failed|HTTP Basic: Access denied|Permission denied \(publickey|returned error: 40[13]|\b401\b/i.test(stderr)) return 'authentication';
  if (/transport '[^']*' not allowed|strange (hostname|pathname)|unsupported URL protocol|protocol '[^']*' is not supported/i.test(stderr)) return 'invalid-input';
  if (/couldn't find remote ref|not our ref|Repository not found|does not appear to be a git repository|returned error: 404|\b404\b|no such ref|did not contain/i.test(stderr)) return 'not-found';
  if (/Could not resolve host|Connection refused|Connection timed out|Failed to connect|Couldn't connect|Network is unreachable|SSL certificate problem|unable to access/i.test(stderr)) return 'unreachable';
  if (/submodule/i.test(stderr)) return 'submodule';
  return 'other';
}

function explain(reason: GitFailureReason): string {
  switch (reason) {
    case 'host-key': return 'the server\'s SSH host key is not one of the recorded host keys';
    case 'authentication': return 'the server refused the credentials (check the token or that the deploy key is added to the repository)';
    case 'invalid-input': return 'git refused the repository URL';
    case 'not-found': return 'the repository, branch, tag or commit was not found';
    case 'unreachable': return 'the Git server could not be reached';
    case 'submodule': return 'a submodule could not be fetched';
    default: return 'git reported an error';
  }
}
