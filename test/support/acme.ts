/**
 * ACME test servers. pebble-challtestsrv (Debian's `pebble` package): a mock DNS server whose TXT answers are set over
 * its management API, for DNS-01 tests. Started on free 127.0.0.1 ports with only its DNS-01 and management listeners.
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

// ---------------------------------------------------------------------------------------------------------------------
// pebble, the ACME test CA (Debian's `pebble` package). It has no TLS certificate of its own in the package: a CA and a
// 127.0.0.1/localhost certificate are made here with openssl (argument arrays), and the CA file is what Wharf trusts
// through WHARF_ACME_CA_FILE.

export const PEBBLE_BIN = process.env.WHARF_TEST_PEBBLE ?? '/usr/bin/pebble';

export interface Pebble {
  directoryUrl: string;
  /** PEM file of the CA that signed pebble's own TLS certificate. */
  caFile: string;
  log(): string;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    execFile(cmd, args, (err, _stdout, stderr) => (err ? reject(new Error(`${cmd} ${args[0]}: ${stderr || err.message}`)) : resolveRun()));
  });
}

/** A CA and a leaf certificate for `names` (DNS:/IP: entries) signed by it, in `dir`. */
export async function makeCa(dir: string, cn: string): Promise<{ key: string; cert: string }> {
  const key = join(dir, `${cn}-ca.key`);
  const cert = join(dir, `${cn}-ca.pem`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { key, cert };
}
export async function makeLeaf(dir: string, ca: { key: string; cert: string }, name: string, altNames: string[], opts: { days?: number; ca?: boolean } = {}): Promise<{ key: string; cert: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, opts.ca ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' : `subjectAltName=${altNames.join(',')}\nbasicConstraints=CA:FALSE\n`);
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', String(opts.days ?? 10), '-extfile', ext]);
  return { key, cert };
}

/**
 * pebble on 127.0.0.1:<free port>, validating HTTP-01 on `httpPort` (where Wharf's API answers the challenge) and
 * resolving names through `dnsServer` (pebble-challtestsrv). No sleeps before validation, no rejected nonces, no
 * reused authorizations (every order really validates). `validitySeconds` makes short-lived certificates.
 */
export async function preparePebble(): Promise<{ directoryUrl: string; caFile: string; start(o: { httpPort: number; dnsServer: string; validitySeconds?: number }): Promise<Pebble> }> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-pebble-'));
  const ca = await makeCa(dir, 'pebble-tls');
  const tls = await makeLeaf(dir, ca, 'pebble-listener', ['IP:127.0.0.1', 'DNS:localhost']);
  const port = await freePort();
  return { directoryUrl: `https://127.0.0.1:${port}/dir`, caFile: ca.cert, start: (o) => startPebble({ ...o, dir, ca, tls, port }) };
}

async function startPebble(o: { dir: string; ca: { cert: string }; tls: { key: string; cert: string }; port: number; httpPort: number; dnsServer: string; validitySeconds?: number }): Promise<Pebble> {
  const { dir, ca, tls, port } = o;
  const config = join(dir, 'pebble.json');
  writeFileSync(config, JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${port}`, managementListenAddress: `127.0.0.1:${await freePort()}`, certificate: tls.cert, privateKey: tls.key,
      httpPort: o.httpPort, tlsPort: await freePort(), ocspResponderURL: '', externalAccountBindingRequired: false,
      ...(o.validitySeconds ? { certificateValidityPeriod: o.validitySeconds } : {}),
    },
  }));
  let output = '';
  const child = spawn(PEBBLE_BIN, ['-config', config, '-dnsserver', o.dnsServer], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const directoryUrl = `https://127.0.0.1:${port}/dir`;
  try {
    await until('pebble to listen', async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pebble exited:\n${output.slice(-2000)}`);
      return /Listening on/.test(output);
    }, 20_000, 50);
  } catch (e) {
    await stop();
    throw e;
  }
  return { directoryUrl, caFile: ca.cert, log: () => output, stop };
}

/** pebble-challtestsrv management calls (A records, CAA policies). */
export async function challtestsrvCall(s: Challtestsrv, path: string, body: unknown): Promise<void> {
  const r = await fetch(`${s.managementUrl}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
}

/** A self-signed certificate (its own complete chain) and key for `host`, made with openssl (argument arrays). */
export function selfSignedPem(host: string, days = 30): { certificatePem: string; privateKeyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-selfsigned-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', String(days), '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`], { stdio: 'ignore' });
    return { certificatePem: readFileSync(join(dir, 'c.pem'), 'utf8'), privateKeyPem: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
