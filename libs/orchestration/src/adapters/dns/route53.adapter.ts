/**
 * DnsChallengeSolver on Amazon Route 53 (@aws-sdk/client-route-53).
 *
 * Route 53 keeps all TXT values of a name in one record set, and UPSERT replaces the whole set. So setTxt reads the
 * set (ListResourceRecordSets), adds the quoted value and UPSERTs; clearTxt removes the value and UPSERTs the rest, or
 * DELETEs the set (exactly as read) when it was the last value. Then both poll GetChange until INSYNC, within the
 * call's deadline (default 3 minutes; Route 53 usually needs under 60 s). Concurrent changes to the same name from
 * elsewhere can race with the read-modify-write; Route 53 rejects a DELETE that no longer matches, which surfaces as
 * an error to retry. The SDK is loaded on first use, so processes that never use Route 53 do not pay for it.
 */
import type { ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import { checkTxtArguments, DnsChallengeError, DnsChallengeSolver, Route53DnsProviderConfig } from '../../ports/dns-challenge.port';
import { abortError, delay, withDeadline } from './deadline';

export interface Route53AdapterOptions {
  /** Deadline of one setTxt/clearTxt including the wait for INSYNC (default 180 s). */
  timeoutMs?: number;
  /** GetChange polling interval (default 2 s). */
  pollIntervalMs?: number;
  /** TTL of the record set (default 60 s). */
  ttl?: number;
}

const quote = (v: string) => `"${v}"`;

type Route53Sdk = typeof import('@aws-sdk/client-route-53');
let sdkLoading: Promise<Route53Sdk> | undefined;
const loadSdk = () => (sdkLoading ??= import('@aws-sdk/client-route-53'));

export class Route53DnsAdapter implements DnsChallengeSolver {
  private readonly zoneId: string;
  private sdk?: { lib: Route53Sdk; client: Route53Client };

  constructor(private readonly config: Route53DnsProviderConfig, private readonly options: Route53AdapterOptions = {}) {
    this.zoneId = config.hostedZoneId.replace(/^\/hostedzone\//, '');
  }

  private async route53(): Promise<{ lib: Route53Sdk; client: Route53Client }> {
    if (!this.sdk) {
      const lib = await loadSdk();
      const client = new lib.Route53Client({
        region: this.config.region ?? 'us-east-1',
        credentials: { accessKeyId: this.config.accessKeyId, secretAccessKey: this.config.secretAccessKey },
        ...(this.config.endpoint ? { endpoint: this.config.endpoint } : {}),
        maxAttempts: 3,
      });
      this.sdk = { lib, client };
    }
    return this.sdk;
  }

  async setTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const name = checkTxtArguments(fqdn, value);
    const deadline = withDeadline(this.options.timeoutMs ?? 180_000, signal);
    const current = await this.current(name, deadline);
    const values = current?.ResourceRecords?.map((r) => r.Value ?? '') ?? [];
    if (values.includes(quote(value))) return;
    await this.change(name, 'UPSERT', { Name: `${name}.`, Type: 'TXT', TTL: current?.TTL ?? this.options.ttl ?? 60, ResourceRecords: [...values, quote(value)].map((Value) => ({ Value })) }, deadline);
  }

  async clearTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const name = checkTxtArguments(fqdn, value);
    const deadline = withDeadline(this.options.timeoutMs ?? 180_000, signal);
    const current = await this.current(name, deadline);
    const values = current?.ResourceRecords?.map((r) => r.Value ?? '') ?? [];
    if (!current || !values.includes(quote(value))) return;
    const rest = values.filter((v) => v !== quote(value));
    if (rest.length === 0) {
      await this.change(name, 'DELETE', { Name: current.Name, Type: 'TXT', TTL: current.TTL, ResourceRecords: current.ResourceRecords }, deadline);
    } else {
      await this.change(name, 'UPSERT', { Name: current.Name, Type: 'TXT', TTL: current.TTL, ResourceRecords: rest.map((Value) => ({ Value })) }, deadline);
    }
  }

  /** The TXT record set at `name`, or null. */
  private async current(name: string, signal: AbortSignal): Promise<ResourceRecordSet | null> {
    const { lib, client } = await this.route53();
    const out = await this.send(
      () => client.send(new lib.ListResourceRecordSetsCommand({ HostedZoneId: this.zoneId, StartRecordName: `${name}.`, StartRecordType: 'TXT', MaxItems: 1 }), { abortSignal: signal }),
      `read the TXT records at ${name}`,
      signal,
    );
    const set = out.ResourceRecordSets?.[0];
    return set && set.Type === 'TXT' && (set.Name ?? '').toLowerCase().replace(/\.$/, '') === name ? set : null;
  }

  private async change(name: string, action: 'UPSERT' | 'DELETE', set: ResourceRecordSet, signal: AbortSignal): Promise<void> {
    const { lib, client } = await this.route53();
    const out = await this.send(
      () => client.send(new lib.ChangeResourceRecordSetsCommand({
        HostedZoneId: this.zoneId,
        ChangeBatch: { Comment: 'ACME DNS-01 challenge (Wharf)', Changes: [{ Action: action, ResourceRecordSet: set }] },
      }), { abortSignal: signal }),
      `${action === 'DELETE' ? 'delete' : 'write'} the TXT records at ${name}`,
      signal,
    );
    let info = out.ChangeInfo;
    const what = `waiting for Route 53 to apply the change of ${name} (INSYNC)`;
    while (info?.Status !== 'INSYNC') {
      if (!info?.Id) throw new DnsChallengeError(`Route 53 answered the change of ${name} without a change id`, 'BAD_RESPONSE');
      await delay(this.options.pollIntervalMs ?? 2_000, signal, what);
      const id = info.Id.replace(/^\/change\//, '');
      info = (await this.send(() => client.send(new lib.GetChangeCommand({ Id: id }), { abortSignal: signal }), `read the status of change ${id}`, signal)).ChangeInfo;
    }
  }

  private async send<T>(op: () => Promise<T>, what: string, signal: AbortSignal): Promise<T> {
    if (signal.aborted) throw abortError(signal, `the Route 53 request to ${what}`);
    try {
      return await op();
    } catch (e) {
      if (signal.aborted) throw abortError(signal, `the Route 53 request to ${what}`);
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const code = err.name && err.name !== 'Error' ? err.name : `HTTP_${err.$metadata?.httpStatusCode ?? '?'}`;
      const hint = /AccessDenied|InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient/.test(code)
        ? ' (check accessKeyId/secretAccessKey and that the key may change record sets in this hosted zone)'
        : code === 'NoSuchHostedZone' ? ' (check hostedZoneId)' : '';
      throw new DnsChallengeError(this.redact(`Route 53: could not ${what}: ${code}: ${String(err.message ?? '').slice(0, 500)}${hint}`), code);
    }
  }

  private redact(s: string): string {
    let out = s;
    for (const secret of [this.config.secretAccessKey]) if (secret) out = out.split(secret).join('[secret]');
    return out;
  }
}
