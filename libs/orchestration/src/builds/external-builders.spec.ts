import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { externalBuilderArgs, findOnPath, runExternalBuilder } from './external-builders';

describe('external builders (nixpacks, railpack, pack)', () => {
  let bin: string;
  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), 'wharf-builders-'));
    // A stand-in `nixpacks` that prints its arguments one per line, and a `pack` that fails, and a `railpack` that hangs.
    writeFileSync(join(bin, 'nixpacks'), '#!/bin/sh\nfor a in "$@"; do echo "arg:$a"; done\n');
    writeFileSync(join(bin, 'pack'), '#!/bin/sh\necho "pack went wrong" >&2\nexit 3\n');
    writeFileSync(join(bin, 'railpack'), '#!/bin/sh\nexec sleep 30\n');
    writeFileSync(join(bin, 'not-executable'), 'x');
    for (const f of ['nixpacks', 'pack', 'railpack']) chmodSync(join(bin, f), 0o755);
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  const base = { contextDir: '/tmp/ctx', tag: 'wharf/x-app:dep', labels: { 'wharf.install': 'i' }, buildArgs: { A: '$(id); rm -rf /' }, packBuilder: 'builder:1', deadlineMs: 10_000 };

  it('finds tools only in absolute PATH directories, as executable files', async () => {
    expect(await findOnPath('nixpacks', `relative:${bin}`)).toBe(join(bin, 'nixpacks'));
    expect(await findOnPath('nixpacks', 'relative/dir')).toBeNull();
    expect(await findOnPath('not-executable', bin)).toBeNull();
    expect(await findOnPath('nixpacks', '')).toBeNull();
  });

  it('a missing tool is builder-missing, naming it', async () => {
    await expect(runExternalBuilder({ ...base, kind: 'buildpacks', pathVar: '/nonexistent', onLog: () => undefined })).rejects.toMatchObject({
      reason: 'builder-missing', message: expect.stringContaining('pack is not installed on the build host'),
    });
  });

  it('runs the tool with an argument array: hostile values stay single arguments, the context after --', async () => {
    const log: string[] = [];
    await runExternalBuilder({ ...base, kind: 'nixpacks', pathVar: bin, onLog: (l) => log.push(l) });
    expect(log).toEqual(expect.arrayContaining(['arg:build', 'arg:--name', 'arg:wharf/x-app:dep', 'arg:--env', 'arg:A=$(id); rm -rf /', 'arg:--', 'arg:/tmp/ctx']));
    expect(externalBuilderArgs({ ...base, kind: 'buildpacks' })).toEqual(['build', 'wharf/x-app:dep', '--path', '/tmp/ctx', '--builder', 'builder:1', '--env', 'A=$(id); rm -rf /', '--pull-policy', 'if-not-present']);
  });

  it('a failing tool is build-failed with its output; the deadline and cancel stop it', async () => {
    await expect(runExternalBuilder({ ...base, kind: 'buildpacks', pathVar: bin, onLog: () => undefined })).rejects.toMatchObject({ reason: 'build-failed', details: { output: ['pack went wrong'] } });
    await expect(runExternalBuilder({ ...base, kind: 'railpack', pathVar: bin, deadlineMs: 300, onLog: () => undefined })).rejects.toMatchObject({ reason: 'timeout' });
    const ac = new AbortController();
    const p = runExternalBuilder({ ...base, kind: 'railpack', pathVar: bin, signal: ac.signal, onLog: () => undefined });
    setTimeout(() => ac.abort(), 100);
    await expect(p).rejects.toMatchObject({ reason: 'cancelled' });
  });
});
