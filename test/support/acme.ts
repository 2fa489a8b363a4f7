/**
 * ACME test servers. pebble-challtestsrv (Debian's `pebble` package): a mock DNS server whose TXT answers are set over
 * its management API, for DNS-01 tests. Started on free 127.0.0.1 ports with only its DNS-01 and management listeners.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { freePort } from './docker/swarm-test-run';
import { until } from './until';

export const CHALLTESTSRV_BIN = process.env.WHARF_TEST_CHALLTESTSRV ?? '/usr/bin/pebble-challtestsrv';

export interface Challtestsrv {
  /** e.g. http://127.0.0.1:8055 */
  managementUrl: string;
  managementPort: number;
  /** Its DNS server (UDP and TCP on 127.0.0.1). */
  dnsPort: number;
  /** A resolver that asks only its DNS server. */
  resolver(): Resolver;
  /** The TXT values it answers at `name`, sorted; [] when none. */
  txt(name: string): Promise<string[]>;
  log(): string;
  stop(): Promise<void>;
}

export function challtestsrvAvailable(): boolean {
  return existsSync(CHALLTESTSRV_BIN);
}

export async function startChalltestsrv(): Promise<Challtestsrv> {
  const managementPort = await freePort();
  const dnsPort = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    CHALLTESTSRV_BIN,
    ['-management', `127.0.0.1:${managementPort}`, '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  const resolver = () => {
    const r = new Resolver({ timeout: 1000, tries: 1 });
    r.setServers([`127.0.0.1:${dnsPort}`]);
    return r;
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };
  try {
    await until('pebble-challtestsrv to answer', async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pebble-challtestsrv exited:\n${output.slice(-2000)}`);
      // Both listeners: the management API (any HTTP answer) and the DNS server (an A query gets defaultIPv4).
      await fetch(`${managementUrl}/`, { signal: AbortSignal.timeout(1000) });
      return (await resolver().resolve4('ready.challtestsrv.test')).includes('127.0.0.1');
    }, 20_000, 100);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n--- pebble-challtestsrv ---\n${output.slice(-2000)}`);
  }
  return {
    managementUrl, managementPort, dnsPort, resolver,
    async txt(name: string) {
      try {
        return (await resolver().resolveTxt(name)).map((chunks) => chunks.join('')).sort();
      } catch (e) {
        if (['ENODATA', 'ENOTFOUND'].includes((e as NodeJS.ErrnoException).code ?? '')) return [];
        throw e;
      }
    },
    log: () => output,
    stop,
  };
}
