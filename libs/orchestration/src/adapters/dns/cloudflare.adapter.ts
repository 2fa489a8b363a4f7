/**
 * DnsChallengeSolver on Cloudflare's REST API v4 (fetch, bearer API token).
 *
 * - The zone is `zoneId`, or else the zone whose name is the longest suffix of the record name (GET /zones?name=…,
 *   longest candidate first), remembered per record name and zone name.
 * - setTxt lists the TXT records at the name and creates one only when the value is missing (an "identical record
 *   already exists" answer counts as done); clearTxt deletes the records with that value only.
 * - Errors carry Cloudflare's codes and messages (never the token); each call honours its deadline/AbortSignal.
 */
import { checkTxtArguments, CloudflareDnsProviderConfig, DnsChallengeError, DnsChallengeSolver } from '../../ports/dns-challenge.port';
import { abortError, DEFAULT_DNS_CALL_TIMEOUT_MS, withDeadline } from './deadline';

const DEFAULT_API_BASE = 'https://api.cloudflare.com/client/v4';
/** "An identical record already exists." */
const IDENTICAL_RECORD = 81058;
/** "Record does not exist." */
const RECORD_NOT_FOUND = 81044;

interface CfEnvelope<T> {
  success: boolean;
  errors?: Array<{ code?: number; message?: string }>;
  result?: T;
}
interface CfRecord {
  id: string;
  type: string;
  name: string;
  content: string;
}

/** A TXT content as Cloudflare may return it, with or without the surrounding quotes. */
const unquote = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

export class CloudflareDnsAdapter implements DnsChallengeSolver {
  private readonly base: string;
  private readonly zoneIds = new Map<string, string>();

  constructor(private readonly config: CloudflareDnsProviderConfig, private readonly options: { timeoutMs?: number; ttl?: number } = {}) {
    this.base = (config.apiBase ?? DEFAULT_API_BASE).replace(/\/+$/, '');
  }

  async setTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const name = checkTxtArguments(fqdn, value);
    const deadline = withDeadline(this.options.timeoutMs ?? DEFAULT_DNS_CALL_TIMEOUT_MS, signal);
    const zoneId = await this.zoneOf(name, deadline);
    const existing = await this.records(zoneId, name, deadline);
    if (existing.some((r) => unquote(r.content) === value)) return;
    await this.call('POST', `/zones/${encodeURIComponent(zoneId)}/dns_records`, `create the TXT record at ${name}`, deadline, {
      body: { type: 'TXT', name, content: `"${value}"`, ttl: this.options.ttl ?? 60, comment: 'ACME DNS-01 challenge (Wharf)' },
      okCodes: [IDENTICAL_RECORD],
    });
  }

  async clearTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const name = checkTxtArguments(fqdn, value);
    const deadline = withDeadline(this.options.timeoutMs ?? DEFAULT_DNS_CALL_TIMEOUT_MS, signal);
    const zoneId = await this.zoneOf(name, deadline);
    for (const r of await this.records(zoneId, name, deadline)) {
      if (unquote(r.content) !== value) continue;
      await this.call('DELETE', `/zones/${encodeURIComponent(zoneId)}/dns_records/${encodeURIComponent(r.id)}`, `delete the TXT record at ${name}`, deadline, {
        okCodes: [RECORD_NOT_FOUND],
        okStatus: [404],
      });
    }
  }

  private async records(zoneId: string, name: string, signal: AbortSignal): Promise<CfRecord[]> {
    const q = new URLSearchParams({ type: 'TXT', name, per_page: '100' });
    const result = await this.call<CfRecord[]>('GET', `/zones/${encodeURIComponent(zoneId)}/dns_records?${q}`, `list the TXT records at ${name}`, signal);
    return (result ?? []).filter((r) => r.type === 'TXT' && r.name.toLowerCase() === name);
  }

  private async zoneOf(name: string, signal: AbortSignal): Promise<string> {
    if (this.config.zoneId) return this.config.zoneId;
    const known = this.zoneIds.get(name);
    if (known) return known;
    const labels = name.split('.');
    for (let i = 0; i < labels.length - 1; i++) {
      if (labels[i].startsWith('_')) continue; // `_acme-challenge` and the like are never a zone's apex
      const candidate = labels.slice(i).join('.');
      const cached = this.zoneIds.get(candidate);
      if (cached) return cached;
      const q = new URLSearchParams({ name: candidate, per_page: '5' });
      const zones = await this.call<Array<{ id: string; name: string }>>('GET', `/zones?${q}`, `look up the zone of ${name}`, signal);
      const zone = (zones ?? []).find((z) => z.name.toLowerCase() === candidate);
      if (zone) {
        this.zoneIds.set(candidate, zone.id);
        this.zoneIds.set(name, zone.id);
        return zone.id;
      }
    }
    throw new DnsChallengeError(
      `no Cloudflare zone this API token can read holds ${name}: add the zone to the account, give the token Zone:Read on it, or set zoneId`,
      'ZONE_NOT_FOUND',
    );
  }

  private async call<T>(
    method: string,
    path: string,
    what: string,
    signal: AbortSignal,
    opts: { body?: unknown; okCodes?: number[]; okStatus?: number[] } = {},
  ): Promise<T | undefined> {
    const action = `Cloudflare: could not ${what}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.config.apiToken}`, accept: 'application/json', ...(opts.body ? { 'content-type': 'application/json' } : {}) },
        body: opts.body ? JSON.stringify(opts.body) : undefined,
        signal,
        redirect: 'error',
      });
    } catch (e) {
      if (signal.aborted) throw abortError(signal, `the Cloudflare request to ${what}`);
      throw new DnsChallengeError(`${action}: ${this.redact((e as Error).message)}`, 'NETWORK');
    }
    let envelope: CfEnvelope<T> | undefined;
    try {
      envelope = (await res.json()) as CfEnvelope<T>;
    } catch {
      if (signal.aborted) throw abortError(signal, `the Cloudflare request to ${what}`);
      envelope = undefined;
    }
    if (res.ok && envelope?.success) return envelope.result;
    const errors = Array.isArray(envelope?.errors) ? envelope!.errors : [];
    if (errors.length > 0 && errors.every((e) => opts.okCodes?.includes(Number(e.code)))) return undefined;
    if (opts.okStatus?.includes(res.status)) return undefined;
    const detail = errors.map((e) => `${e.code ?? '?'} ${String(e.message ?? '').slice(0, 300)}`).join('; ') || 'no error details';
    const hint = res.status === 401 || res.status === 403 ? ' (check that the API token is valid and may edit DNS of this zone)' : '';
    throw new DnsChallengeError(this.redact(`${action}: HTTP ${res.status}: ${detail}${hint}`), errors[0]?.code ? `CLOUDFLARE_${errors[0].code}` : `HTTP_${res.status}`);
  }

  private redact(s: string): string {
    return this.config.apiToken ? s.split(this.config.apiToken).join('[token]') : s;
  }
}
