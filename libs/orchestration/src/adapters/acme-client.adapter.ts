import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import { AcmeFailureReason, AcmeOrderError, AcmeOrderInput, AcmeOrderResult, AcmePort } from '../ports/acme.port';

export interface AcmeClientAdapterOptions {
  /** Extra CA certificates (PEM) trusted for the ACME directory, beside the system's (a private CA, pebble in tests). */
  caPem?: string | null;
  /** Polling of pending authorizations and orders (acme-client's backoff). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  backoffAttempts?: number;
}

/** The ACME problem document seen last in this order (acme-client keeps only the detail text in its errors). */
interface Problem {
  type?: string;
  detail?: string;
  retryAfter?: number | null;
}
const lastProblem = new AsyncLocalStorage<{ problem: Problem | null }>();
let interceptorInstalled = false;

function installProblemInterceptor(): void {
  if (interceptorInstalled) return;
  interceptorInstalled = true;
  const remember = (headers: Record<string, unknown> | undefined, data: unknown) => {
    const store = lastProblem.getStore();
    if (!store || typeof data !== 'object' || data === null) return;
    const d = data as { type?: unknown; detail?: unknown };
    if (typeof d.type !== 'string' || !d.type.startsWith('urn:ietf:params:acme:error:')) return;
    const ra = Number(headers?.['retry-after']);
    store.problem = { type: d.type, detail: typeof d.detail === 'string' ? d.detail : undefined, retryAfter: Number.isFinite(ra) && ra > 0 ? ra : null };
  };
  acme.axios.interceptors.response.use(
    (res) => {
      remember(res.headers as Record<string, unknown>, res.data);
      return res;
    },
    (err: { response?: { headers?: Record<string, unknown>; data?: unknown } }) => {
      remember(err.response?.headers, err.response?.data);
      return Promise.reject(err);
    },
  );
}

const TYPE_REASONS: Record<string, AcmeFailureReason> = {
  rateLimited: 'rate-limited',
  caa: 'caa-forbidden',
  connection: 'challenge-unreachable',
  unauthorized: 'challenge-failed',
  incorrectResponse: 'challenge-failed',
  dns: 'dns',
  rejectedIdentifier: 'rejected-identifier',
  unsupportedIdentifier: 'rejected-identifier',
};

/** An ACME problem type (`urn:ietf:params:acme:error:<name>`) as a failure reason. */
export function reasonOfProblemType(type: string | undefined): AcmeFailureReason {
  const name = (type ?? '').replace('urn:ietf:params:acme:error:', '');
  return TYPE_REASONS[name] ?? 'other';
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

/**
 * AcmePort on acme-client 5. The order is driven step by step (not `auto`), so a failed authorization is read back and
 * its challenge's problem type becomes the reason (connection refused, wrong answer, CAA, DNS), and the CA's rate-limit
 * answer with its Retry-After is kept. Challenges are published before and removed after validation, whatever
 * happened. acme-client takes no abort signal: the whole order is bounded by `deadlineMs`.
 */
export class AcmeClientAdapter implements AcmePort {
  private readonly agent: Agent | undefined;
  constructor(private readonly options: AcmeClientAdapterOptions = {}) {
    installProblemInterceptor();
    if (options.caPem) this.agent = new Agent({ ca: [...rootCertificates, options.caPem], keepAlive: false });
  }

  async order(input: AcmeOrderInput): Promise<AcmeOrderResult> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AcmeOrderError(`The ACME order did not finish within ${Math.round(input.deadlineMs / 1000)} s`, 'timeout')), input.deadlineMs);
    });
    try {
      return await Promise.race([lastProblem.run({ problem: null }, () => this.run(input)), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(input: AcmeOrderInput): Promise<AcmeOrderResult> {
    // acme-client's axios instance is shared by the process: the private CA is set on it, not per request.
    if (this.agent) acme.axios.defaults.httpsAgent = this.agent;
    try {
      const accountKeyPem = input.accountKeyPem ?? (await acme.crypto.createPrivateEcdsaKey()).toString();
      const client = new acme.Client({
        directoryUrl: input.directoryUrl,
        accountKey: accountKeyPem,
        ...(input.accountUrl ? { accountUrl: input.accountUrl } : {}),
        backoffMin: this.options.backoffMinMs ?? 1000,
        backoffMax: this.options.backoffMaxMs ?? 10_000,
        backoffAttempts: this.options.backoffAttempts ?? 12,
      });
      if (!input.accountUrl) await client.createAccount({ termsOfServiceAgreed: true, ...(input.email ? { contact: [`mailto:${input.email}`] } : {}) });
      const accountUrl = client.getAccountUrl();

      const [keyBuf, csr] = await acme.crypto.createCsr({ commonName: input.hosts[0], altNames: input.hosts }, await acme.crypto.createPrivateEcdsaKey());
      const order = await client.createOrder({ identifiers: input.hosts.map((value) => ({ type: 'dns', value })) });
      const authorizations = await client.getAuthorizations(order);
      for (const authz of authorizations) {
        if (authz.status === 'valid') continue;
        const challenge = authz.challenges.find((c) => c.type === input.challenge);
        if (!challenge) throw new AcmeOrderError(`The CA offers no ${input.challenge} challenge for ${authz.identifier.value}`, 'rejected-identifier');
        const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
        const fqdn = `_acme-challenge.${authz.identifier.value.replace(/^\*\./, '')}`;
        const publish = async () => {
          if (input.challenge === 'http-01') await input.http01!.publish(challenge.token, keyAuthorization);
          else await input.dns01!.setTxt(fqdn, keyAuthorization);
        };
        const unpublish = async () => {
          if (input.challenge === 'http-01') await input.http01!.unpublish(challenge.token);
          else await input.dns01!.clearTxt(fqdn, keyAuthorization);
        };
        if (input.challenge === 'http-01' && !input.http01) throw new Error('HTTP-01 needs a challenge store');
        if (input.challenge === 'dns-01' && !input.dns01) throw new Error('DNS-01 needs a DNS provider');
        await publish();
        try {
          await client.completeChallenge(challenge);
          await client.waitForValidStatus(authz);
        } catch (e) {
          throw await this.authorizationFailure(client, authz, e);
        } finally {
          await unpublish().catch(() => undefined);
        }
      }
      const finalized = await client.finalizeOrder(order, csr);
      const chainPem = await client.getCertificate(finalized);
      return { chainPem, keyPem: keyBuf.toString(), accountKeyPem, accountUrl };
    } catch (e) {
      throw this.failure(e);
    }
  }

  /** The authorization read back after it failed: its challenge's error says why (the thrown text often does not). */
  private async authorizationFailure(client: acme.Client, authz: acme.Authorization, e: unknown): Promise<unknown> {
    if (e instanceof AcmeOrderError) return e;
    try {
      const [fresh] = await client.getAuthorizations({ authorizations: [authz.url] } as unknown as acme.Order);
      const failed = fresh?.challenges.find((c) => (c as { error?: unknown }).error) as { error?: { type?: string; detail?: string } } | undefined;
      if (failed?.error) {
        return new AcmeOrderError(`${authz.identifier.value}: ${failed.error.detail ?? failed.error.type}`, reasonOfProblemType(failed.error.type));
      }
    } catch {
      // fall back to what was thrown
    }
    return e;
  }

  private failure(e: unknown): AcmeOrderError {
    if (e instanceof AcmeOrderError) return e;
    const err = e as Error & { code?: string; cause?: { code?: string } };
    const code = err.code ?? err.cause?.code;
    if (code && NETWORK_CODES.has(code)) return new AcmeOrderError(`The ACME directory could not be reached (${code}): ${err.message}`, 'ca-unreachable');
    const problem = lastProblem.getStore()?.problem;
    if (problem?.type) return new AcmeOrderError(problem.detail ?? err.message, reasonOfProblemType(problem.type), problem.retryAfter ?? null);
    return new AcmeOrderError(err.message || String(e), 'other');
  }
}
