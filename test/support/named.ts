/**
 * A private BIND 9 (`named -g`) for DNS UPDATE tests: its own temporary directory, a free port on 127.0.0.1 (TCP and
 * UDP), a TSIG key, a zone the key may update (TXT records), and a zone nobody may update. Never the system service.
 * Needs the bind9 package (scripts/ensure-services.sh --test installs it).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './docker/swarm-test-run';
import { until } from './until';

export const NAMED_BIN = process.env.WHARF_TEST_NAMED ?? '/usr/sbin/named';

export interface NamedServer {
  port: number;
  /** The zone the key may update (TXT records at and below it). */
  zone: string;
  /** A zone served here that refuses every update. */
  lockedZone: string;
  keyName: string;
  algorithm: 'hmac-sha256';
  /** base64 */
  secret: string;
  /** A second key, hmac-sha512, with the same rights. */
  key512: { name: string; algorithm: 'hmac-sha512'; secret: string };
  /** A resolver that asks only this server. */
  resolver(): Resolver;
  /** The TXT values at `name` (each record's strings joined), sorted; [] when there are none. */
  txt(name: string): Promise<string[]>;
  log(): string;
  stop(): Promise<void>;
}

export function namedAvailable(): boolean {
  return existsSync(NAMED_BIN);
}

export async function startNamed(): Promise<NamedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-named-'));
  const port = await freePort();
  const zone = 'example.test';
  const lockedZone = 'locked.test';
  const keyName = 'wharf-test-key';
  const secret = randomBytes(32).toString('base64');
  const key512 = { name: 'wharf-test-key512', algorithm: 'hmac-sha512' as const, secret: randomBytes(64).toString('base64') };
  const zoneFile = (z: string) =>
    [`$TTL 60`, `@ IN SOA ns.${z}. hostmaster.${z}. 1 3600 600 86400 60`, `@ IN NS ns.${z}.`, `ns IN A 127.0.0.1`, ''].join('\n');
  writeFileSync(join(dir, `${zone}.zone`), zoneFile(zone));
  writeFileSync(join(dir, `${lockedZone}.zone`), zoneFile(lockedZone));
  writeFileSync(
    join(dir, 'named.conf'),
    [
      'options {',
      `  directory "${dir}";`,
      `  pid-file "${join(dir, 'named.pid')}";`,
      `  session-keyfile "${join(dir, 'session.key')}";`,
      `  managed-keys-directory "${dir}";`,
      `  listen-on port ${port} { 127.0.0.1; };`,
      '  listen-on-v6 { none; };',
      '  recursion no;',
      '  dnssec-validation no;',
      '  allow-query { any; };',
      '  notify no;',
      '};',
      'controls { };',
      `key "${keyName}" { algorithm hmac-sha256; secret "${secret}"; };`,
      `key "${key512.name}" { algorithm hmac-sha512; secret "${key512.secret}"; };`,
      `zone "${zone}" { type primary; file "${join(dir, `${zone}.zone`)}"; update-policy { grant ${keyName} zonesub TXT; grant ${key512.name} zonesub TXT; }; };`,
      `zone "${lockedZone}" { type primary; file "${join(dir, `${lockedZone}.zone`)}"; };`,
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn(NAMED_BIN, ['-g', '-4', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const resolver = () => {
    const r = new Resolver({ timeout: 1000, tries: 1 });
    r.setServers([`127.0.0.1:${port}`]);
    return r;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until('named to answer', async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw Object.assign(new Error(`named exited:\n${output.slice(-3000)}`), { fatal: true });
      const soa = await resolver().resolveSoa(zone);
      return soa.nsname === `ns.${zone}`;
    }, 20_000, 100);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n--- named ---\n${output.slice(-3000)}`);
  }
  return {
    port, zone, lockedZone, keyName, algorithm: 'hmac-sha256', secret, key512, resolver,
    async txt(name: string) {
      try {
        return (await resolver().resolveTxt(name)).map((chunks) => chunks.join('')).sort();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENODATA' || (e as NodeJS.ErrnoException).code === 'ENOTFOUND') return [];
        throw e;
      }
    },
    log: () => output,
    stop,
  };
}
