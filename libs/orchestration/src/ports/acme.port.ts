/**
 * Ordering certificates from an ACME CA (RFC 8555). Framework-free; the acme-client adapter implements it. The caller
 * owns where challenges are published (HTTP-01: a store the API answers `/.well-known/acme-challenge/<token>` from;
 * DNS-01: a DnsChallengeSolver) and where the account and the certificate are kept (encrypted).
 */

export const ACME_PORT = Symbol('AcmePort');

/** Why an order failed, in words a user can act on (shown with the CA's own detail). */
export type AcmeFailureReason =
  | 'rate-limited'
  | 'caa-forbidden'
  | 'challenge-unreachable'
  | 'challenge-failed'
  | 'dns'
  | 'rejected-identifier'
  | 'ca-unreachable'
  | 'timeout'
  | 'other';

export class AcmeOrderError extends Error {
  constructor(
    message: string,
    readonly reason: AcmeFailureReason,
    /** Seconds the CA asked us to wait (Retry-After), when it said. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

export interface AcmeHttp01Store {
  publish(token: string, keyAuthorization: string): Promise<void>;
  unpublish(token: string): Promise<void>;
}
export interface AcmeDns01Solver {
  setTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void>;
  clearTxt(fqdn: string, value: string, signal?: AbortSignal): Promise<void>;
}

export interface AcmeOrderInput {
  directoryUrl: string;
  /** PEM of the account key; null makes a new account (the result carries its key). */
  accountKeyPem: string | null;
  accountUrl: string | null;
  email: string | null;
  /** The certificate's names (the first is its common name). */
  hosts: string[];
  challenge: 'http-01' | 'dns-01';
  http01?: AcmeHttp01Store;
  dns01?: AcmeDns01Solver;
  /** The whole order gives up after this long. */
  deadlineMs: number;
}

export interface AcmeOrderResult {
  /** Leaf first, then the intermediates, PEM. */
  chainPem: string;
  keyPem: string;
  accountKeyPem: string;
  accountUrl: string;
}

export interface AcmePort {
  order(input: AcmeOrderInput): Promise<AcmeOrderResult>;
}
