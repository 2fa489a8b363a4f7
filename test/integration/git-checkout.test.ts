/**
 * GitCliAdapter against real Git servers (test/support/git-server.ts): git http-backend over HTTPS with a token, a
 * private sshd with a deploy key, tags and exact commits, submodules, the size limit and the deadline.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkGitHost, GitCliAdapter, GitSourceError } from '@wharf/orchestration';
import type { GitCheckoutInput } from '@wharf/orchestration';
import { generateDeployKey } from '@wharf/sources';
import { gitServersAvailable, GitServers, processesUnder, startGitServers, TestRepository } from '../support/git-server';
import { until } from '../support/until';

const describeIf = gitServersAvailable() ? describe : describe.skip;

describeIf('Git checkout (git-cli adapter) against real servers', () => {
  let servers: GitServers;
  let adapter: GitCliAdapter;
  let work: string;
  let app: TestRepository;
  let lib: TestRepository;
  let withSub: TestRepository;
  const deployKey = generateDeployKey('wharf-test');
  const dirs: string[] = [];
  const newDir = () => {
    const d = join(work, `co-${randomBytes(4).toString('hex')}`);
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    servers = await startGitServers();
    work = mkdtempSync(join(tmpdir(), 'wharf-git-co-'));
    adapter = new GitCliAdapter({ caFile: servers.caFile, hostPolicy: (h) => checkGitHost(h, { allowPrivate: true }), tmpRoot: work });
    app = await servers.createRepository('app', [
      { files: { 'README.md': 'first\n', 'web/index.html': '<h1>v1</h1>\n' }, message: 'First commit\n\nWith a body.', tag: 'v1.0' },
      { files: { 'web/index.html': '<h1>v2</h1>\n' }, message: 'Second commit' },
    ]);
    lib = await servers.createRepository('lib', [{ files: { 'lib.txt': 'library\n' }, message: 'lib' }]);
    withSub = await servers.createRepository('with-sub', [
      { files: { 'main.txt': 'main\n' }, submodules: { vendor: { url: '../lib.git', commit: lib.commits[0] } }, message: 'with a submodule' },
    ]);
    servers.authorizeKey(deployKey.publicKey);
  }, 60_000);

  afterAll(async () => {
    await servers?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const tokenInput = (over: Partial<GitCheckoutInput> = {}): GitCheckoutInput => ({
    repository: servers.httpsUrl('app'),
    ref: 'main',
    auth: { kind: 'token', token: servers.token },
    submodules: false,
    directory: newDir(),
    deadlineMs: 30_000,
    maxBytes: 10 * 1024 * 1024,
    ...over,
  });

  it('clones with a token over HTTPS: the tip of the branch, its metadata, the token never in a log line', async () => {
    const logs: string[] = [];
    const input = tokenInput({ onLog: (l) => logs.push(l) });
    const info = await adapter.checkout(input);
    expect(info).toEqual({
      commit: app.commits[1],
      message: 'Second commit',
      author: 'Ada Lovelace',
      authorEmail: 'ada@example.com',
      committedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/),
    });
    expect(readFileSync(join(input.directory, 'web/index.html'), 'utf8')).toBe('<h1>v2</h1>\n');
    // Shallow: only one commit came over.
    expect(existsSync(join(input.directory, '.git', 'shallow'))).toBe(true);
    expect(logs.join('\n')).toContain('checked out');
    expect(logs.join('\n')).not.toContain(servers.token);
    // The server saw the token on every request (it is sent pre-emptively, scoped to this origin).
    expect(servers.requests.filter((r) => r.url.startsWith('/app.git/')).every((r) => r.auth === 'valid')).toBe(true);
    // The private directory (HOME, key files) is gone.
    expect(processesUnder(work).size).toBe(0);
  });

  it('a wrong token fails with a clear reason, and neither the message nor the log holds the token', async () => {
    const wrong = `tok_${randomBytes(16).toString('hex')}`;
    const logs: string[] = [];
    const input = tokenInput({ auth: { kind: 'token', username: 'oauth2', token: wrong }, onLog: (l) => logs.push(l) });
    const e = (await adapter.checkout(input).catch((x) => x)) as GitSourceError;
    expect(e).toBeInstanceOf(GitSourceError);
    expect(e.reason).toBe('authentication');
    expect(e.message).toMatch(/refused the credentials/);
    const everything = `${e.message}\n${e.stack}\n${logs.join('\n')}`;
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(Buffer.from(`oauth2:${wrong}`).toString('base64'));
    expect(existsSync(input.directory)).toBe(false);
  });

  it('without a token a private repository is refused; a public one is cloned', async () => {
    const e = (await adapter.checkout(tokenInput({ auth: { kind: 'none' } })).catch((x) => x)) as GitSourceError;
    expect(e.reason).toBe('authentication');
    await servers.createRepository('open', [{ files: { 'a.txt': 'a\n' }, message: 'open' }], { public: true });
    const info = await adapter.checkout(tokenInput({ repository: servers.httpsUrl('open'), auth: { kind: 'none' } }));
    expect(info.message).toBe('open');
  });

  it('checks out a tag (short and full name) and an exact commit that is not the tip', async () => {
    for (const ref of ['v1.0', 'refs/tags/v1.0']) {
      const input = tokenInput({ ref });
      const info = await adapter.checkout(input);
      expect(info.commit).toBe(app.commits[0]);
      expect(info.message).toBe('First commit\n\nWith a body.');
      expect(readFileSync(join(input.directory, 'web/index.html'), 'utf8')).toBe('<h1>v1</h1>\n');
    }
    const exact = tokenInput({ ref: 'main', commit: app.commits[0] });
    expect((await adapter.checkout(exact)).commit).toBe(app.commits[0]);
    expect(readFileSync(join(exact.directory, 'web/index.html'), 'utf8')).toBe('<h1>v1</h1>\n');
    const byId = tokenInput({ ref: app.commits[0] });
    expect((await adapter.checkout(byId)).commit).toBe(app.commits[0]);
  });

  it('an unknown branch is "not found"; resolveRef reads branches and tags with ls-remote', async () => {
    const e = (await adapter.checkout(tokenInput({ ref: 'no-such-branch' })).catch((x) => x)) as GitSourceError;
    expect(e.reason).toBe('not-found');
    const common = { repository: servers.httpsUrl('app'), auth: { kind: 'token' as const, token: servers.token }, deadlineMs: 20_000 };
    await expect(adapter.resolveRef({ ...common, ref: 'main' })).resolves.toBe(app.commits[1]);
    await expect(adapter.resolveRef({ ...common, ref: 'v1.0' })).resolves.toBe(app.commits[0]);
    await expect(adapter.resolveRef({ ...common, ref: 'refs/heads/main' })).resolves.toBe(app.commits[1]);
    await expect(adapter.resolveRef({ ...common, ref: 'nope' })).resolves.toBeNull();
  });

  it('submodules: left empty when off; fetched shallow (relative URL, same origin and token) when on', async () => {
    const off = tokenInput({ repository: servers.httpsUrl('with-sub'), submodules: false });
    await adapter.checkout(off);
    expect(existsSync(join(off.directory, 'main.txt'))).toBe(true);
    expect(existsSync(join(off.directory, 'vendor', 'lib.txt'))).toBe(false);

    const on = tokenInput({ repository: servers.httpsUrl('with-sub'), submodules: true });
    const info = await adapter.checkout(on);
    expect(info.commit).toBe(withSub.commits[0]);
    expect(readFileSync(join(on.directory, 'vendor', 'lib.txt'), 'utf8')).toBe('library\n');
  });

  it('a submodule pointing at a refused host or transport is not fetched', async () => {
    const pwned = join(tmpdir(), `pwned-${randomBytes(6).toString('hex')}`);
    await servers.createRepository('evil-sub', [
      { files: { 'a.txt': 'a\n' }, submodules: { x: { url: `ext::sh -c touch% ${pwned}`, commit: lib.commits[0] } }, message: 'ext' },
    ]);
    await servers.createRepository('internal-sub', [
      { files: { 'a.txt': 'a\n' }, submodules: { x: { url: 'https://10.11.12.13/secret.git', commit: lib.commits[0] } }, message: 'internal' },
    ]);
    const e1 = (await adapter.checkout(tokenInput({ repository: servers.httpsUrl('evil-sub'), submodules: true })).catch((x) => x)) as GitSourceError;
    expect(e1.reason).toBe('submodule');
    expect(existsSync(pwned)).toBe(false);
    // Only 127.0.0.1 allowed: the submodule's private address is refused before git contacts it.
    const strict = new GitCliAdapter({
      caFile: servers.caFile,
      tmpRoot: work,
      hostPolicy: async (h) => {
        if (h !== '127.0.0.1') await checkGitHost(h, { allowPrivate: false });
      },
    });
    const e2 = (await strict.checkout(tokenInput({ repository: servers.httpsUrl('internal-sub'), submodules: true })).catch((x) => x)) as GitSourceError;
    expect(e2.reason).toBe('host-refused');
  });

  it('refuses a loopback repository host unless private hosts are allowed', async () => {
    const strict = new GitCliAdapter({ caFile: servers.caFile, tmpRoot: work, hostPolicy: (h) => checkGitHost(h, { allowPrivate: false }) });
    const before = servers.requests.length;
    const e = (await strict.checkout(tokenInput()).catch((x) => x)) as GitSourceError;
    expect(e.reason).toBe('host-refused');
    expect(servers.requests.length).toBe(before);
  });

  it('connects to the addresses the host policy checked, not to a second DNS answer (rebinding)', async () => {
    const byName = `https://localhost:${servers.httpsPort}/app.git`;
    // The policy "checked" 127.0.0.1: the clone goes there and works.
    const pinned = new GitCliAdapter({ caFile: servers.caFile, tmpRoot: work, hostPolicy: async () => ['127.0.0.1'] });
    const info = await pinned.checkout(tokenInput({ repository: byName }));
    expect(info.commit).toBe(app.commits[1]);
    // The policy checked 127.0.0.3 (nothing listens there): git must not fall back to what the system resolver says
    // for localhost (127.0.0.1, where the server is), so the clone fails without a request reaching the server.
    const before = servers.requests.length;
    const elsewhere = new GitCliAdapter({ caFile: servers.caFile, tmpRoot: work, hostPolicy: async () => ['127.0.0.3'] });
    const e = (await elsewhere.checkout(tokenInput({ repository: byName })).catch((x) => x)) as GitSourceError;
    expect(e).toBeInstanceOf(GitSourceError);
    expect(e.reason).toBe('unreachable');
    expect(servers.requests.length).toBe(before);
  });

  it('clones over SSH with a deploy key and the recorded host key; an unknown host key is refused', async () => {
    const dir = newDir();
    const info = await adapter.checkout({
      repository: servers.sshUrl('app'),
      ref: 'main',
      auth: { kind: 'deploy-key', privateKey: deployKey.privateKey, knownHosts: [servers.knownHost] },
      submodules: false,
      directory: dir,
      deadlineMs: 30_000,
      maxBytes: 10 * 1024 * 1024,
    });
    expect(info.commit).toBe(app.commits[1]);
    expect(readFileSync(join(dir, 'web/index.html'), 'utf8')).toBe('<h1>v2</h1>\n');

    for (const knownHosts of [[servers.otherKnownHost], []]) {
      const e = (await adapter
        .checkout({
          repository: servers.sshUrl('app'),
          ref: 'main',
          auth: { kind: 'deploy-key', privateKey: deployKey.privateKey, knownHosts },
          submodules: false,
          directory: newDir(),
          deadlineMs: 30_000,
          maxBytes: 10 * 1024 * 1024,
        })
        .catch((x) => x)) as GitSourceError;
      expect(e.reason).toBe('host-key');
    }

    // The host keys as ssh-keyscan reads them are the ones the server has; confirmed, they let the checkout through.
    const scanned = await adapter.scanHostKeys({ repository: servers.sshUrl('app'), deadlineMs: 10_000 });
    expect(scanned).toEqual([servers.knownHost]);
    const viaScan = await adapter.checkout({
      repository: servers.sshUrl('app'),
      ref: 'v1.0',
      auth: { kind: 'deploy-key', privateKey: deployKey.privateKey, knownHosts: scanned },
      submodules: false,
      directory: newDir(),
      deadlineMs: 30_000,
      maxBytes: 10 * 1024 * 1024,
    });
    expect(viaScan.commit).toBe(app.commits[0]);
    await expect(adapter.scanHostKeys({ repository: servers.httpsUrl('app'), deadlineMs: 5_000 })).rejects.toMatchObject({ reason: 'invalid-input' });

    // A key the server does not know.
    const stranger = generateDeployKey('stranger');
    const e = (await adapter
      .checkout({
        repository: servers.sshUrl('app'),
        ref: 'main',
        auth: { kind: 'deploy-key', privateKey: stranger.privateKey, knownHosts: [servers.knownHost] },
        submodules: false,
        directory: newDir(),
        deadlineMs: 30_000,
        maxBytes: 10 * 1024 * 1024,
      })
      .catch((x) => x)) as GitSourceError;
    expect(e.reason).toBe('authentication');
    expect(e.message).not.toContain(stranger.privateKey.split('\n')[1]);
  });

  it('the size limit stops a fetch that grows too large and refuses a working tree that would', async () => {
    // Incompressible: the pack itself exceeds the limit while it is being received.
    await servers.createRepository('big', [{ files: { 'blob.bin': randomBytes(6 * 1024 * 1024) }, message: 'big' }]);
    const big = tokenInput({ repository: `https://127.0.0.1:${servers.httpsPort}/slow/big.git`, maxBytes: 1024 * 1024 });
    const e1 = (await adapter.checkout(big).catch((x) => x)) as GitSourceError;
    expect(e1.reason).toBe('too-large');
    expect(e1.message).toMatch(/limit of 1 MiB while it was being fetched/);
    expect(existsSync(big.directory)).toBe(false);
    // Compresses to almost nothing, but the checkout would write 20 MB: refused before it is written.
    await servers.createRepository('zeros', [{ files: { 'zeros.bin': Buffer.alloc(20 * 1024 * 1024) }, message: 'zeros' }]);
    const zeros = tokenInput({ repository: servers.httpsUrl('zeros'), maxBytes: 2 * 1024 * 1024 });
    const e2 = (await adapter.checkout(zeros).catch((x) => x)) as GitSourceError;
    expect(e2.reason).toBe('too-large');
    expect(e2.message).toMatch(/limit of 2 MiB once checked out \(refused before writing it\)/);
  });

  it('the deadline kills the whole process group: no git process is left behind', async () => {
    const input = tokenInput({ repository: `https://127.0.0.1:${servers.httpsPort}/hang/app.git`, deadlineMs: 1_500 });
    const seen = new Map<number, string>();
    const watching = (async () => {
      const stop = Date.now() + 10_000;
      while (Date.now() < stop) {
        for (const [pid, cmd] of processesUnder(work)) seen.set(pid, cmd);
        if ([...seen.values()].some((c) => /git-remote-https|remote-https/.test(c))) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const started = Date.now();
    const e = (await adapter.checkout(input).catch((x) => x)) as GitSourceError;
    const took = Date.now() - started;
    await watching;
    expect(e.reason).toBe('timeout');
    expect(e.message).toMatch(/longer than 1.5 s/);
    expect(took).toBeLessThan(10_000);
    // The hanging fetch was running (git and its https helper) and none of those processes survived.
    expect([...seen.values()].some((c) => /remote-https/.test(c))).toBe(true);
    await until('every git process of the checkout to be gone', async () => [...seen.keys()].every((pid) => !alive(pid)), 5_000, 100);
    expect(processesUnder(work).size).toBe(0);
  });

  it('cancel (abort signal) stops a fetch the same way', async () => {
    const controller = new AbortController();
    const input = tokenInput({ repository: `https://127.0.0.1:${servers.httpsPort}/hang/app.git`, signal: controller.signal, deadlineMs: 30_000 });
    const p = adapter.checkout(input).catch((x) => x);
    await until('git to be running', async () => [...processesUnder(work).values()].some((c) => /remote-https/.test(c)), 10_000, 50);
    controller.abort();
    const e = (await p) as GitSourceError;
    expect(e.reason).toBe('aborted');
    await until('no git process left', async () => processesUnder(work).size === 0, 5_000, 100);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is dead for our purposes (its parent has not reaped it yet).
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
