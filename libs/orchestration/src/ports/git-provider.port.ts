/**
 * Git provider APIs (GitHub App, GitLab, Gitea/Forgejo, Bitbucket): test a connection, list repositories and branches,
 * get credentials for a checkout (a GitHub App mints a short-lived installation token), post a commit status.
 * Framework-free; GitProviderHttpAdapter implements it over node:https. Every request first passes the host policy
 * (private addresses refused unless the instance allows them) and connects to the addresses that were checked; no
 * redirect is followed; each call has a deadline and a response size limit. Errors never carry a secret.
 */
import type { GitProviderAuth, GitProviderKind } from '@wharf/contracts';

export const GIT_PROVIDER_PORT = Symbol('GitProviderPort');

/** A connection with its secrets decrypted (worker memory only). */
export interface GitProviderConnection {
  kind: GitProviderKind;
  baseUrl: string;
  appId?: string;
  installationId?: string;
  privateKey?: string;
  username?: string;
  workspace?: string;
  /** The token the API calls and checkouts use (an OAuth connection: its current access token). */
  token?: string;
  /** GitLab: 'oauth' sends the token as `Authorization: Bearer` (an OAuth access token) instead of PRIVATE-TOKEN. */
  auth?: GitProviderAuth;
  /** OAuth application (client) id and secret, for the token endpoint. */
  clientId?: string;
  clientSecret?: string;
}

/** A token grant at the provider's OAuth token endpoint (RFC 6749 §4.1.3 with PKCE, §6). */
export type OAuthGrant =
  | { grantType: 'authorization_code'; code: string; codeVerifier: string; redirectUri: string }
  | { grantType: 'refresh_token'; refreshToken: string };
export interface OAuthTokens {
  accessToken: string;
  /** The refresh token to use next time (providers rotate it: the previous one stops working). */
  refreshToken: string;
  /** When the access token expires (null: the provider did not say). */
  expiresAt: string | null;
}

export interface ProviderRepository {
  fullName: string;
  cloneUrl: string;
  defaultBranch: string | null;
  private: boolean;
}
export interface ProviderBranch {
  name: string;
  commit: string;
}
/** HTTPS Basic credentials for `git` (the token is the password). */
export interface ProviderCheckoutCredentials {
  username: string;
  token: string;
  /** When the token stops working (GitHub App installation tokens: one hour); null when it does not expire. */
  expiresAt: string | null;
}
export type CommitState = 'pending' | 'success' | 'failure';
export interface CommitStatus {
  /** Full name of the repository (owner/name; GitLab: the project's path with namespace). */
  repository: string;
  commit: string;
  state: CommitState;
  /** The status' name on the provider (context/name/key), e.g. "wharf/my-app". */
  context: string;
  description: string;
  targetUrl?: string;
}

export type GitProviderFailureReason = 'invalid-input' | 'host-refused' | 'authentication' | 'not-found' | 'unreachable' | 'timeout' | 'too-large' | 'redirect' | 'other';

export class GitProviderError extends Error {
  constructor(message: string, readonly reason: GitProviderFailureReason, readonly status?: number) {
    super(message);
    this.name = 'GitProviderError';
  }
}

export interface GitProviderPort {
  /** Calls an endpoint that needs valid credentials; resolves with what the provider said (never throws for a refusal). */
  test(c: GitProviderConnection, signal?: AbortSignal): Promise<{ ok: boolean; message: string }>;
  listRepositories(c: GitProviderConnection, search?: string, signal?: AbortSignal): Promise<ProviderRepository[]>;
  listBranches(c: GitProviderConnection, repository: string, signal?: AbortSignal): Promise<ProviderBranch[]>;
  checkoutCredentials(c: GitProviderConnection, signal?: AbortSignal): Promise<ProviderCheckoutCredentials>;
  postCommitStatus(c: GitProviderConnection, status: CommitStatus, signal?: AbortSignal): Promise<void>;
  /**
   * GitLab OAuth applications: exchanges an authorization code (with its PKCE verifier) or a refresh token for tokens.
   * A refusal of the grant (invalid_grant: a revoked, used or mismatched code or refresh token; invalid_client) is
   * reason 'authentication'.
   */
  oauthToken(c: GitProviderConnection, grant: OAuthGrant, signal?: AbortSignal): Promise<OAuthTokens>;
  /** The user name the connection's credentials belong to. */
  currentUser(c: GitProviderConnection, signal?: AbortSignal): Promise<string>;
}
