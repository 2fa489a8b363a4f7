/**
 * DnsChallengeSolver on pebble-challtestsrv's management API (tests and development): POST /set-txt and /clear-txt
 * with `{host, value}` (host with a trailing dot).
 *
 * challtestsrv's /clear-txt drops every value of a host, so clearTxt puts back the other values this solver set at that
 * host (it remembers them), which keeps "other values at the same name stay" for everything set through it.
 */
import { checkTxtArguments, ChalltestsrvDnsProviderConfig, DnsChallengeError, DnsChallengeSolver } from '../../ports/dns-challenge.port';
import { abortError, DEFAULT_DNS_CALL_TIMEOUT_MS, withDeadline } from './deadline';

export class ChalltestsrvDnsAdapter implements DnsChallengeSolver {
  private readonly base: string;
  private readonly values = new Map<string, Set<string>>();

  constructor(config: ChalltestsrvDnsProviderConfig, private readonly options: { timeoutMs?: number } = {}) {
    this.base = config.managementUrl.replace(/\/+$/, '');
  }

  async setTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const host = `${checkTxtArguments(fqdn, value)}.`;
    const deadline = withDeadline(this.options.timeoutMs ?? DEFAULT_DNS_CALL_TIMEOUT_MS, signal);
    const known = this.values.get(host) ?? new Set<string>();
    if (known.has(value)) return;
    await this.post('/set-txt', { host, value }, deadline);
    known.add(value);
    this.values.set(host, known);
  }

  async clearTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const host = `${checkTxtArguments(fqdn, value)}.`;
    const deadline = withDeadline(this.options.timeoutMs ?? DEFAULT_DNS_CALL_TIMEOUT_MS, signal);
    const known = this.values.get(host) ?? new Set<string>();
    await this.post('/clear-txt', { host, value }, deadline);
    known.delete(value);
    for (const other of known) await this.post('/set-txt', { host, value: other }, deadline);
    if (known.size === 0) this.values.delete(host);
  }

  private async post(path: string, body: unknown, signal: AbortSignal): Promise<void> {
    const what = `challtestsrv ${path}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal, redirect: 'error' });
    } catch (e) {
      if (signal.aborted) throw abortError(signal, what);
      throw new DnsChallengeError(`${what} at ${this.base} failed: ${(e as Error).message}`, 'NETWORK', { cause: e });
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) throw new DnsChallengeError(`${what} answered HTTP ${res.status}: ${text.slice(0, 200)}`, `HTTP_${res.status}`);
  }
}
