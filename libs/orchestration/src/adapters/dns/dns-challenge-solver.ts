/** Picks the DnsChallengeSolver adapter for a provider configuration (validate untrusted input first). */
import { DnsChallengeError, DnsChallengeSolver, DnsProviderConfig, validateDnsProviderConfig } from '../../ports/dns-challenge.port';
import { ChalltestsrvDnsAdapter } from './challtestsrv.adapter';
import { CloudflareDnsAdapter } from './cloudflare.adapter';
import { Rfc2136DnsAdapter } from './rfc2136.adapter';
import { Route53DnsAdapter } from './route53.adapter';

/** Throws a DnsChallengeError (naming the fields, never their values) when `config` does not validate. */
export function dnsChallengeSolver(config: DnsProviderConfig): DnsChallengeSolver {
  const checked = validateDnsProviderConfig(config);
  if (!checked.ok) {
    throw new DnsChallengeError(`invalid DNS provider configuration: ${checked.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, 'INVALID_CONFIG');
  }
  const c = checked.value;
  switch (c.kind) {
    case 'rfc2136':
      return new Rfc2136DnsAdapter(c);
    case 'cloudflare':
      return new CloudflareDnsAdapter(c);
    case 'route53':
      return new Route53DnsAdapter(c);
    case 'challtestsrv':
      return new ChalltestsrvDnsAdapter(c);
  }
}
