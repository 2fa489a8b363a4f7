/**
 * SSRF policy for Git hosts (and self-hosted provider base URLs): a name is resolved and refused when any of its
 * addresses is loopback, private, link-local, carrier-grade NAT, multicast, unspecified, reserved or documentation
 * space — unless the instance administrator allows private hosts. IPv4-mapped, NAT64 and 6to4 IPv6 addresses are
 * judged by the IPv4 address inside them.
 *
 * A check before connecting cannot stop DNS rebinding between the check and git's own lookup; the git adapter also
 * turns off HTTP redirects so a public server cannot bounce git to an internal one.
 */
import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import { GitSourceError } from '../ports/git.port';

const V4_BLOCKED: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const V6_BLOCKED: Array<[string, number]> = [
  ['::', 128],
  ['::1', 128],
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, …)
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const blocked = new BlockList();
for (const [a, p] of V4_BLOCKED) blocked.addSubnet(a, p, 'ipv4');
for (const [a, p] of V6_BLOCKED) blocked.addSubnet(a, p, 'ipv6');

function expandV6(address: string): number[] | null {
  let a = address.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const o = v4[1].split('.').map(Number);
    a = a.slice(0, -v4[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const groups = [...h, ...Array<string>(Math.max(fill, 0)).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

function v4From(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** True when `address` (an IP literal) may be reached from Wharf without the instance allowing private hosts. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked.check(address, 'ipv4');
  if (family !== 6) return false;
  const g = expandV6(address);
  if (!g) return false;
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), 64:ff9b::/96 (NAT64), 2002:AB:CD::/16 (6to4).
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return isPublicAddress(v4From(g[6], g[7]));
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return isPublicAddress(v4From(g[6], g[7]));
  if (g[0] === 0x2002) return isPublicAddress(v4From(g[1], g[2]));
  return !blocked.check(address, 'ipv6');
}

export interface GitHostPolicyOptions {
  /** Instance setting: private, loopback and link-local hosts are allowed (self-hosted Git on the LAN, tests). */
  allowPrivate: boolean;
  /** Resolver; the system's by default (tests pass their own). */
  lookup?: (host: string) => Promise<string[]>;
}

const systemLookup = async (host: string): Promise<string[]> => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Resolves `host` and returns its addresses, or throws GitSourceError('host-refused') when it has none or when one of
 * them is not public (and private hosts are not allowed). Every address must pass: git may connect to any of them.
 */
export async function checkGitHost(host: string, options: GitHostPolicyOptions): Promise<string[]> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(bare)) addresses = [bare];
  else {
    try {
      addresses = await (options.lookup ?? systemLookup)(bare);
    } catch {
      addresses = [];
    }
  }
  if (addresses.length === 0) throw new GitSourceError(`the Git host ${bare} does not resolve`, 'host-refused');
  if (!options.allowPrivate) {
    const inner = addresses.find((a) => !isPublicAddress(a));
    if (inner !== undefined) {
      throw new GitSourceError(
        `the Git host ${bare} resolves to a private, loopback or reserved address (${inner}); an instance administrator can allow private Git hosts`,
        'host-refused',
      );
    }
  }
  return addresses;
}
