/**
 * The DNS side of ACME DNS-01 challenges: publish and remove `_acme-challenge` TXT values at a DNS provider.
 * Framework-free; adapters in adapters/dns implement it (RFC 2136 + TSIG, Cloudflare, Route 53, pebble-challtestsrv),
 * `dnsChallengeSolver(config)` picks one. Every call honours its AbortSignal; no secret ever appears in an error.
 */

export const DNS_CHALLENGE_SOLVER = Symbol('DnsChallengeSolver');

export interface DnsChallengeSolver {
  /** Publishes `value` as a TXT record at `fqdn` (e.g. `_acme-challenge.example.com`); idempotent. */
  setTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void>;
  /** Removes that TXT record value (other values at the same name stay); idempotent. */
  clearTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void>;
}


export { DnsChallengeError, normaliseDnsName, isInZone, TXT_VALUE, checkTxtArguments, validateDnsProviderConfig } from '@wharf/contracts';
export type { TsigAlgorithm, Rfc2136DnsProviderConfig, CloudflareDnsProviderConfig, Route53DnsProviderConfig, ChalltestsrvDnsProviderConfig, DnsProviderConfig, DnsProviderKind, DnsProviderConfigValidation } from '@wharf/contracts';
