import { Inject, Injectable } from '@nestjs/common';
import type * as OpenId from 'openid-client' with { 'resolution-mode': 'import' };
import { UnavailableError, WHARF_CONFIG, WharfConfig } from '@wharf/core';

export type OpenIdClient = typeof OpenId;
export type OidcConfiguration = OpenId.Configuration;

/** How long discovery documents (and the issuer's JWKS) are reused before being fetched again. */
const DISCOVERY_TTL_MS = 5 * 60_000;

interface CachedIssuer {
  metadata: OpenId.ServerMetadata;
  fetchedAt: number;
  jwks?: Parameters<OpenIdClient['setJwksCache']>[1];
}

/**
 * Plain-http issuers are for development and tests: allowed when the issuer is http and Wharf does not run in
 * production, or the issuer is on the loopback interface.
 */
export function insecureIssuerAllowed(issuerUrl: string, nodeEnv: WharfConfig['nodeEnv']): boolean {
  const u = new URL(issuerUrl);
  if (u.protocol !== 'http:') return false;
  return nodeEnv !== 'production' || ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
}

let modulePromise: Promise<OpenIdClient> | null = null;
/** openid-client 6 is ESM-only: loaded once with a dynamic import (kept as `import()` by module node16). */
export function loadOpenIdClient(): Promise<OpenIdClient> {
  modulePromise ??= import('openid-client');
  return modulePromise;
}

/** Builds openid-client configurations for a provider row, with discovery cached per issuer. */
@Injectable()
export class OidcClientFactory {
  private readonly issuers = new Map<string, CachedIssuer>();

  constructor(@Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  get redirectUri(): string {
    return `${this.config.publicUrl}/api/v1/auth/oidc/callback`;
  }

  async lib(): Promise<OpenIdClient> {
    return loadOpenIdClient();
  }

  async configuration(issuerUrl: string, clientId: string, clientSecret: string): Promise<OidcConfiguration> {
    const oidc = await loadOpenIdClient();
    const u = new URL(issuerUrl);
    const insecure = u.protocol === 'http:';
    if (insecure && !insecureIssuerAllowed(issuerUrl, this.config.nodeEnv)) throw new UnavailableError('The identity provider must use https');
    const execute = insecure ? [oidc.allowInsecureRequests] : [];
    let cached = this.issuers.get(issuerUrl);
    if (!cached || Date.now() - cached.fetchedAt > DISCOVERY_TTL_MS) {
      const discovered = await oidc.discovery(u, clientId, clientSecret, undefined, { execute, timeout: 10 });
      cached = { metadata: { ...discovered.serverMetadata() }, fetchedAt: Date.now() };
      this.issuers.set(issuerUrl, cached);
    }
    const cfg = new oidc.Configuration(cached.metadata, clientId, { client_secret: clientSecret, redirect_uris: [this.redirectUri] });
    for (const fn of execute) fn(cfg);
    if (cached.jwks) oidc.setJwksCache(cfg, cached.jwks);
    return cfg;
  }

  /** Keeps the issuer's JWKS fetched by this configuration for the next logins (same TTL as discovery). */
  async remember(issuerUrl: string, cfg: OidcConfiguration): Promise<void> {
    const oidc = await loadOpenIdClient();
    const cached = this.issuers.get(issuerUrl);
    const jwks = oidc.getJwksCache(cfg);
    if (cached && jwks) cached.jwks = jwks;
  }

  forget(issuerUrl: string): void {
    this.issuers.delete(issuerUrl);
  }
}
