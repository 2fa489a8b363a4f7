/**
 * Hostile repository URLs, refs and paths: refused by validation (validateGitSource), refused again by the adapter's
 * own check, and — forced past both straight into `git` — inert: no marker file appears, whatever the value asked a
 * shell or an option to do. Against real servers (test/support/git-server.ts).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateGitSource } from '@wharf/contracts';
import type { GitRepositoryUrl } from '@wharf/contracts';
import { GitCliAdapter, GitSourceError } from '@wharf/orchestration';
import type { GitCheckoutAuth, GitCheckoutInput } from '@wharf/orchestration';
import { generateDeployKey } from '@wharf/sources';
import { git, gitServersAvailable, GitServers, processesUnder, startGitServers } from '../support/git-server';

const describeIf = gitServersAvailable() ? describe : describe.skip;

/**
 * What git made of a value forced past validation: refused (a GitSourceError), or a harmless ordinary checkout (e.g. a
 * refspec `main:refs/heads/x` or credentials in the URL, which validation refuses for other reasons). Anything else —
 * a crash, a hang — fails the test; a marker file proves a command ran.
 */
function outcome(r: unknown): string {
  if (r instanceof GitSourceError) return 'refused';
  if (r && typeof r === 'object' && typeof (r as { commit?: unknown }).commit === 'string') return 'harmless';
  return `unexpected: ${String(r)}`;
}

/** The adapter with its own input check switched off: what `git` does with the raw values. */
class UncheckedGitCliAdapter extends GitCliAdapter {
  protected override checkInput(input: { repository: string; auth: GitCheckoutAuth }): GitRepositoryUrl {
    return { transport: input.auth.kind === 'deploy-key' ? 'ssh' : 'https', host: '127.0.0.1', port: null, user: null, path: '/', url: input.repository };
  }
}

describeIf('hostile Git sources are refused, and inert when forced through', () => {
  let servers: GitServers;
  let work: string;
  let markerDir: string;
  let checked: GitCliAdapter;
  let unchecked: UncheckedGitCliAdapter;
  const key = generateDeployKey('hostile');
  const marker = () => join(markerDir, `pwned-${randomBytes(6).toString('hex')}`);

  beforeAll(async () => {
    servers = await startGitServers();
    work = mkdtempSync(join(tmpdir(), 'wharf-git-hostile-'));
    // Markers go to /tmp (where an attacker's `touch /tmp/pwned` would land) in a directory of their own.
    markerDir = mkdtempSync(join(tmpdir(), 'wharf-pwned-'));
    await servers.createRepository('app', [{ files: { 'a.txt': 'a\n' }, message: 'a' }]);
    servers.authorizeKey(key.publicKey);
    const options = { caFile: servers.caFile, tmpRoot: work };
    checked = new GitCliAdapter(options);
    unchecked = new UncheckedGitCliAdapter(options);
  }, 60_000);

  afterAll(async () => {
    await servers?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    if (markerDir) rmSync(markerDir, { recursive: true, force: true });
  });

  const shellish = (p: string) => [
    `; touch ${p}`,
    `$(touch ${p})`,
    `\`touch ${p}\``,
    `| touch ${p}`,
    `&& touch ${p}`,
    `main\ntouch ${p}`,
    `main\r\ntouch ${p}`,
  ];

  function hostileRefs(p: string): string[] {
    return [
      ...shellish(p),
      `--upload-pack=touch ${p}`,
      `--upload-pack=touch${'\t'}${p}`,
      `-oProxyCommand=touch ${p}`,
      '--help',
      '-',
      '../../../etc/passwd',
      'main..evil',
      'main@{1}',
      `main:refs/heads/x`,
      `+refs/heads/*:refs/heads/*`,
    ];
  }

  function hostileRepositories(p: string): string[] {
    const base = servers.httpsUrl('app');
    return [
      ...shellish(p),
      ...shellish(p).map((s) => `${base}${s}`),
      `--upload-pack=touch ${p}`,
      `--upload-pack=touch${'\t'}${p}`,
      `-oProxyCommand=touch ${p}`,
      `ext::sh -c touch% ${p}`,
      `ext::sh -c touch\\ ${p}`,
      `ssh://-oProxyCommand=touch%20${p}/x`,
      `ssh://git@-oProxyCommand=touch%20${p}/x`,
      `git@-oProxyCommand=touch ${p}:x`,
      `-oProxyCommand=touch ${p}@127.0.0.1:x`,
      `fd::0`,
      `file:///etc`,
      servers.dir,
      `https://127.0.0.1:${servers.httpsPort}/../../etc/passwd`,
      `https://x:${servers.token}@127.0.0.1:${servers.httpsPort}/app.git`,
    ];
  }

  const input = (over: Partial<GitCheckoutInput>): GitCheckoutInput => ({
    repository: servers.httpsUrl('app'),
    ref: 'main',
    auth: { kind: 'token', token: servers.token },
    submodules: false,
    directory: join(work, `co-${randomBytes(4).toString('hex')}`),
    deadlineMs: 20_000,
    maxBytes: 10 * 1024 * 1024,
    ...over,
  });

  it('the payloads are live: with git\'s protocol allow-list opened, the ext:: URL does run its command', async () => {
    const p = marker();
    await git(work, ['-c', 'protocol.ext.allow=always', 'ls-remote', '--', `ext::sh -c touch% ${p}`]).catch(() => undefined);
    expect(existsSync(p)).toBe(true);
    rmSync(p);
  });

  it('validation refuses every hostile ref, repository and build path', () => {
    const p = marker();
    const valid = { repository: servers.httpsUrl('app'), ref: 'main', auth: { kind: 'none' } };
    for (const ref of hostileRefs(p)) expect({ ref, ok: validateGitSource({ ...valid, ref }).ok }).toEqual({ ref, ok: false });
    for (const repository of hostileRepositories(p)) {
      expect({ repository, ok: validateGitSource({ ...valid, repository }).ok }).toEqual({ repository, ok: false });
    }
    for (const buildPath of [...shellish(p), `--upload-pack=touch ${p}`, '../..', '/etc', 'a/../../b', '-rf', 'a\nb', 'a\0b']) {
      expect({ buildPath, ok: validateGitSource({ ...valid, buildPath }).ok }).toEqual({ buildPath, ok: false });
    }
    for (const watch of ['../x/**', '/etc/**', '-x', 'a\nb']) {
      expect({ watch, ok: validateGitSource({ ...valid, watchPaths: [watch] }).ok }).toEqual({ watch, ok: false });
    }
  });

  it('the adapter refuses them on its own (a caller that skipped validation)', async () => {
    const p = marker();
    for (const ref of hostileRefs(p)) {
      const e = await checked.checkout(input({ ref })).catch((x) => x);
      expect({ ref, reason: (e as GitSourceError).reason }).toEqual({ ref, reason: 'invalid-input' });
    }
    for (const repository of hostileRepositories(p)) {
      const e = await checked.checkout(input({ repository, auth: { kind: 'none' } })).catch((x) => x);
      expect({ repository, reason: (e as GitSourceError).reason }).toEqual({ repository, reason: 'invalid-input' });
    }
    expect(readdirSync(markerDir)).toEqual([]);
  });

  it('forced straight into git over HTTPS, hostile refs and URLs are inert', async () => {
    const markers: string[] = [];
    for (const ref of hostileRefs((markers[markers.length] = marker()))) {
      const e = await unchecked.checkout(input({ ref })).catch((x) => x);
      expect({ ref, outcome: outcome(e) }).toEqual({ ref, outcome: expect.stringMatching(/^(refused|harmless)$/) });
    }
    for (const repository of hostileRepositories((markers[markers.length] = marker()))) {
      const e = await unchecked.checkout(input({ repository, auth: { kind: 'none' } })).catch((x) => x);
      expect({ repository, outcome: outcome(e) }).toEqual({ repository, outcome: expect.stringMatching(/^(refused|harmless)$/) });
    }
    for (const m of markers) expect(existsSync(m)).toBe(false);
    expect(readdirSync(markerDir)).toEqual([]);
    expect(processesUnder(work).size).toBe(0);
  }, 120_000);

  it('forced straight into git over SSH (deploy key, known host), hostile refs and paths are inert', async () => {
    const auth: GitCheckoutAuth = { kind: 'deploy-key', privateKey: key.privateKey, knownHosts: [servers.knownHost] };
    const p = marker();
    for (const ref of hostileRefs(p)) {
      const e = await unchecked.checkout(input({ repository: servers.sshUrl('app'), ref, auth })).catch((x) => x);
      expect({ ref, outcome: outcome(e) }).toEqual({ ref, outcome: expect.stringMatching(/^(refused|harmless)$/) });
    }
    const q = marker();
    const prefix = `ssh://${servers.sshUser}@127.0.0.1:${servers.sshPort}`;
    for (const path of [`/tmp/x'; touch ${q}; '`, `/$(touch ${q})`, `/\`touch ${q}\``, `/x" ; touch ${q} ; "`, `/x\ntouch ${q}`]) {
      const e = await unchecked.checkout(input({ repository: `${prefix}${path}`, auth })).catch((x) => x);
      expect({ path, outcome: outcome(e) }).toEqual({ path, outcome: 'refused' });
    }
    expect(existsSync(p)).toBe(false);
    expect(existsSync(q)).toBe(false);
    expect(readdirSync(markerDir)).toEqual([]);
    // And the ordinary clone through the same adapter still works, so the refusals above are not a broken setup.
    const ok = await unchecked.checkout(input({ repository: servers.sshUrl('app'), auth }));
    expect(ok.message).toBe('a');
  }, 120_000);

  it('the token never appears in any process command line while git runs', async () => {
    const seen: string[] = [];
    let running = true;
    const watcher = (async () => {
      while (running) {
        for (const cmd of processesUnder(work).values()) seen.push(cmd);
        for (const cmd of processesUnder(servers.dir).values()) seen.push(cmd);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    for (let i = 0; i < 3; i++) await checked.checkout(input({}));
    running = false;
    await watcher;
    expect(seen.some((c) => /git/.test(c))).toBe(true);
    expect(seen.filter((c) => c.includes(servers.token))).toEqual([]);
  });
});
