import type { AcmeSettings, UpdateAcmeSettingsBody } from '../../core/api/certificates-api.service';
import type { FieldProblem, Problem } from '../../core/api/problem';

/**
 * The organization's ACME settings form as plain values and its mappings (settings → form, form → PUT body, the API's
 * field errors → the form's controls). Pure: the Certificates screen and its spec share it.
 *
 * DNS provider secrets are write-only and the API replaces the whole provider on PUT. So the provider is only sent
 * when the user chose to change it (`providerMode: 'edit'`), and then with every secret typed again; 'keep' leaves the
 * stored provider alone (no `dnsProvider` in the body), 'remove' sends null.
 */
export type ProviderKind = 'rfc2136' | 'cloudflare' | 'route53' | 'challtestsrv';
export type ProviderMode = 'keep' | 'edit' | 'remove';

export interface ProviderFormValue {
  kind: ProviderKind;
  // rfc2136
  server: string;
  port: number | null;
  transport: 'tcp' | 'udp';
  zone: string;
  tsigKeyName: string;
  tsigAlgorithm: 'hmac-sha256' | 'hmac-sha512';
  tsigSecret: string;
  // cloudflare
  apiToken: string;
  zoneId: string;
  // route53
  accessKeyId: string;
  secretAccessKey: string;
  hostedZoneId: string;
  region: string;
  // challtestsrv (tests and development)
  managementUrl: string;
}

export interface AcmeFormValue {
  email: string;
  staging: boolean;
  challenge: 'http-01' | 'dns-01';
  providerMode: ProviderMode;
  provider: ProviderFormValue;
}

/** The secret field of each kind: empty in the form, shown as "set" when stored, typed again on every change. */
export const PROVIDER_SECRETS: Record<ProviderKind, readonly (keyof ProviderFormValue)[]> = {
  rfc2136: ['tsigSecret'],
  cloudflare: ['apiToken'],
  route53: ['secretAccessKey'],
  challtestsrv: [],
};
/** The fields each kind uses (required ones first; `port`, `transport`, `zoneId` and `region` may stay empty). */
export const PROVIDER_FIELDS: Record<ProviderKind, readonly (keyof ProviderFormValue)[]> = {
  rfc2136: ['server', 'zone', 'tsigKeyName', 'tsigAlgorithm', 'tsigSecret', 'port', 'transport'],
  cloudflare: ['apiToken', 'zoneId'],
  route53: ['accessKeyId', 'secretAccessKey', 'hostedZoneId', 'region'],
  challtestsrv: ['managementUrl'],
};
export const REQUIRED_PROVIDER_FIELDS: Record<ProviderKind, readonly (keyof ProviderFormValue)[]> = {
  rfc2136: ['server', 'zone', 'tsigKeyName', 'tsigSecret'],
  cloudflare: ['apiToken'],
  route53: ['accessKeyId', 'secretAccessKey', 'hostedZoneId'],
  challtestsrv: ['managementUrl'],
};

export const PROVIDER_LABELS: Record<ProviderKind, string> = {
  rfc2136: 'RFC 2136 (BIND, Knot, PowerDNS… with TSIG)',
  cloudflare: 'Cloudflare',
  route53: 'Amazon Route 53',
  challtestsrv: 'pebble-challtestsrv (tests only)',
};

export const EMPTY_PROVIDER: ProviderFormValue = {
  kind: 'rfc2136', server: '', port: null, transport: 'tcp', zone: '', tsigKeyName: '', tsigAlgorithm: 'hmac-sha256', tsigSecret: '',
  apiToken: '', zoneId: '', accessKeyId: '', secretAccessKey: '', hostedZoneId: '', region: '', managementUrl: '',
};

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Stored settings as the form's value: the provider's non-secret fields filled, its secrets empty, mode 'keep' (nothing sent). */
export function acmeToForm(s: AcmeSettings): AcmeFormValue {
  const p = s.dnsProvider;
  const kind = (p && typeof p['kind'] === 'string' ? p['kind'] : 'rfc2136') as ProviderKind;
  const provider: ProviderFormValue = p
    ? {
      ...EMPTY_PROVIDER,
      kind,
      server: text(p['server']),
      port: typeof p['port'] === 'number' ? p['port'] : null,
      transport: p['transport'] === 'udp' ? 'udp' : 'tcp',
      zone: text(p['zone']),
      tsigKeyName: text(p['tsigKeyName']),
      tsigAlgorithm: p['tsigAlgorithm'] === 'hmac-sha512' ? 'hmac-sha512' : 'hmac-sha256',
      zoneId: text(p['zoneId']),
      accessKeyId: text(p['accessKeyId']),
      hostedZoneId: text(p['hostedZoneId']),
      region: text(p['region']),
      managementUrl: text(p['managementUrl']),
    }
    : { ...EMPTY_PROVIDER };
  return { email: s.email ?? '', staging: s.staging, challenge: s.challenge, providerMode: 'keep', provider };
}

/** The stored provider in one line without secrets: "Cloudflare · zone id … · API token set". */
export function providerSummary(p: AcmeSettings['dnsProvider']): string {
  if (!p) return 'none';
  const kind = p['kind'] as ProviderKind;
  const parts = [PROVIDER_LABELS[kind] ?? String(kind)];
  const show = (k: string, label: string) => {
    const v = p[k];
    if (v && typeof v === 'object' && (v as { set?: boolean }).set) parts.push(`${label} set`);
    else if (typeof v === 'string' || typeof v === 'number') parts.push(`${label} ${v}`);
  };
  for (const [k, label] of [
    ['server', 'server'], ['port', 'port'], ['zone', 'zone'], ['tsigKeyName', 'key'], ['tsigAlgorithm', 'algorithm'], ['tsigSecret', 'TSIG secret'],
    ['apiToken', 'API token'], ['zoneId', 'zone id'], ['accessKeyId', 'access key'], ['secretAccessKey', 'secret access key'], ['hostedZoneId', 'hosted zone'], ['region', 'region'],
    ['managementUrl', 'management URL'],
  ] as const) show(k, label);
  return parts.join(' · ');
}

/** The provider as the API takes it: only the fields of its kind, optional ones left out when empty. */
export function providerToBody(p: ProviderFormValue): Record<string, unknown> {
  const t = (s: string) => s.trim();
  switch (p.kind) {
    case 'rfc2136':
      return {
        kind: 'rfc2136', server: t(p.server), zone: t(p.zone), tsigKeyName: t(p.tsigKeyName), tsigAlgorithm: p.tsigAlgorithm, tsigSecret: t(p.tsigSecret),
        ...(p.port === null || (p.port as unknown) === '' ? {} : { port: Number(p.port) }),
        ...(p.transport === 'udp' ? { transport: 'udp' } : {}),
      };
    case 'cloudflare':
      return { kind: 'cloudflare', apiToken: t(p.apiToken), ...(t(p.zoneId) ? { zoneId: t(p.zoneId) } : {}) };
    case 'route53':
      return { kind: 'route53', accessKeyId: t(p.accessKeyId), secretAccessKey: t(p.secretAccessKey), hostedZoneId: t(p.hostedZoneId), ...(t(p.region) ? { region: t(p.region) } : {}) };
    case 'challtestsrv':
      return { kind: 'challtestsrv', managementUrl: t(p.managementUrl) };
  }
}

/** The PUT body: an empty e-mail is null (no contact); the provider only when it is being changed or removed. */
export function acmeFormToBody(v: AcmeFormValue): UpdateAcmeSettingsBody {
  const email = v.email.trim();
  return {
    email: email === '' ? null : email,
    staging: v.staging,
    challenge: v.challenge,
    ...(v.providerMode === 'edit' ? { dnsProvider: providerToBody(v.provider) } : v.providerMode === 'remove' ? { dnsProvider: null } : {}),
  };
}

/**
 * The API's field errors at the form's controls: `/email`, `/staging`, `/challenge` as they are; `/dnsProvider/<field>`
 * at that provider field when the form shows it (else at the kind); `/dnsProvider` itself ("DNS-01 needs a DNS
 * provider") at the challenge. What names nothing the form shows gets an empty pointer (shown above the form).
 */
export function acmeErrorsToForm(problem: Problem, v: AcmeFormValue): Problem {
  const out = new Map<string, FieldProblem>();
  const shown = v.providerMode === 'edit' ? PROVIDER_FIELDS[v.provider.kind] : [];
  for (const e of problem.errors ?? []) {
    const [field, sub] = e.pointer.split('/').filter(Boolean);
    let pointer = '';
    if (field === 'email' || field === 'staging' || field === 'challenge') pointer = `/${field}`;
    else if (field === 'dnsProvider' && sub === undefined) pointer = '/challenge';
    else if (field === 'dnsProvider' && v.providerMode === 'edit') pointer = `/provider/${(shown as readonly string[]).includes(sub) ? sub : 'kind'}`;
    const prev = pointer ? out.get(pointer) : undefined;
    if (prev) prev.detail = `${prev.detail}; ${e.detail}`;
    else out.set(pointer || `#${out.size}`, { ...e, pointer });
  }
  return { ...problem, errors: [...out.values()] };
}
