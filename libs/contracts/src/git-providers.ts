/**
 * Git provider connections of an organization (GitHub App, GitLab, Gitea/Forgejo, Bitbucket). Pure (no Node APIs):
 * the API validates a connection with it before storing it, the worker's provider adapter
 * (libs/orchestration GitProviderHttpAdapter) parses the base URL again before any request, and the portal shows the
 * same messages. Errors name the field without echoing the value (a token pasted into the wrong field must not come
 * back in a response or a log).
 *
 * A base URL is https only, without credentials, query or fragment, from an allow-list of characters. Whether its host
 * resolves to a private address is checked by the worker right before each request (`checkGitHost`), since only the
 * worker resolves names the way its network does.
 */

export const GIT_PROVIDER_KINDS = ['github', 'gitlab', 'gitea', 'bitbucket'] as const;
export type GitProviderKind = (typeof GIT_PROVIDER_KINDS)[number];

/** The API base URL each kind uses when none is given (self-hosted GitLab and Gitea need theirs). */
export const GIT_PROVIDER_DEFAULT_API: Record<GitProviderKind, string | null> = {
  github: 'https://api.github.com',
  gitlab: 'https://gitlab.com',
  gitea: null,
  bitbucket: 'https://api.bitbucket.org/2.0',
};

/** Which secret fields each kind stores (encrypted; the view only says which are set). */
export const GIT_PROVIDER_SECRETS: Record<GitProviderKind, readonly GitProviderSecretName[]> = {
  github: ['privateKey', 'webhookSecret'],
  gitlab: ['token', 'clientSecret'],
  gitea: ['token'],
  bitbucket: ['token', 'clientSecret'],
};
export type GitProviderSecretName = 'privateKey' | 'webhookSecret' | 'token' | 'clientSecret';

/**
 * How a GitLab or Bitbucket connection authenticates: a stored token (GitLab access token, Bitbucket app password or
 * access token), or an OAuth application (GitLab) / OAuth consumer (Bitbucket Cloud) the user authorizes.
 */
export const GIT_PROVIDER_AUTHS = ['token', 'oauth'] as const;
export type GitProviderAuth = (typeof GIT_PROVIDER_AUTHS)[number];
/** The kinds that can connect through OAuth. */
export const GIT_PROVIDER_OAUTH_KINDS: readonly GitProviderKind[] = ['gitlab', 'bitbucket'];

/** Settings that are not secret (shown in the view). */
export interface GitProviderSettings {
  /** API base URL (GitHub Enterprise Server: https://host/api/v3; GitLab: https://host; Gitea: https://host). */
  baseUrl: string;
  /** GitHub App id. */
  appId?: string;
  /** GitHub App installation id. */
  installationId?: string;
  /** Bitbucket: the username the app password belongs to (empty for a workspace/repository access token). */
  username?: string;
  /** Bitbucket workspace whose repositories are listed. */
  workspace?: string;
  /** GitLab, Bitbucket: 'token' (default, absent on older rows) or 'oauth' (tokens come from authorizing). */
  auth?: GitProviderAuth;
  /** OAuth client id: the GitLab application's Application ID, the Bitbucket consumer's Key. */
  clientId?: string;
}

export interface GitProviderInput {
  name?: unknown;
  kind?: unknown;
  baseUrl?: unknown;
  appId?: unknown;
  installationId?: unknown;
  username?: unknown;
  workspace?: unknown;
  privateKey?: unknown;
  webhookSecret?: unknown;
  token?: unknown;
  auth?: unknown;
  clientId?: unknown;
  clientSecret?: unknown;
}

export interface GitProviderFieldError {
  field: string;
  message: string;
}

const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const BASE_URL_RE = new RegExp(`^https://((?:${HOST_LABEL}\\.)*${HOST_LABEL}|\\[[0-9A-Fa-f:.]{2,45}\\])(?::(\\d{1,5}))?(/[A-Za-z0-9._~/-]{0,200})?$`);

/**
 * A provider API base URL: https, a host name or IP literal, an optional port and path, no user info, query or
 * fragment; trailing slashes removed. Returns null when not acceptable.
 */
export function parseProviderBaseUrl(input: unknown): { url: string; host: string; port: number } | null {
  if (typeof input !== 'string' || input.length > 300) return null;
  const trimmed = input.trim().replace(/\/+$/, '');
  const m = BASE_URL_RE.exec(trimmed);
  if (!m) return null;
  const port = m[2] ? Number(m[2]) : 443;
  if (port < 1 || port > 65535) return null;
  if ((m[3] ?? '').split('/').some((seg) => seg === '.' || seg === '..')) return null;
  return { url: trimmed, host: m[1].toLowerCase(), port };
}

const NAME_RE = /^[\p{L}\p{N} ._-]{1,100}$/u;
const NUMERIC_ID_RE = /^[1-9][0-9]{0,19}$/;
const SLUG_RE = /^[A-Za-z0-9._-]{1,100}$/;
const PEM_RE = /^-----BEGIN (RSA )?PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END (RSA )?PRIVATE KEY-----\s*$/;
const TOKEN_RE = /^[\x21-\x7e]{1,4096}$/;
const CLIENT_ID_RE = /^[A-Za-z0-9._~-]{1,200}$/;

export interface ValidatedGitProvider {
  name: string;
  kind: GitProviderKind;
  settings: GitProviderSettings;
  /** Secret values given in this input (name → value); absent ones keep their stored value on an update. */
  secrets: Partial<Record<GitProviderSecretName, string>>;
}

/**
 * Validates a create (`existing` undefined: every required field must be there) or an update (`existing`: the stored
 * kind, settings and which secrets are set; given fields replace them, the kind cannot change).
 */
export function validateGitProvider(
  input: GitProviderInput,
  existing?: { name: string; kind: GitProviderKind; settings: GitProviderSettings; secretsSet: readonly GitProviderSecretName[] },
): { value: ValidatedGitProvider | null; errors: GitProviderFieldError[] } {
  const errors: GitProviderFieldError[] = [];
  const err = (field: string, message: string) => errors.push({ field, message });
  let kind: GitProviderKind | undefined = existing?.kind;
  if (existing) {
    if (input.kind !== undefined && input.kind !== existing.kind) err('kind', 'the kind of a provider connection cannot change');
  } else if (typeof input.kind !== 'string' || !(GIT_PROVIDER_KINDS as readonly string[]).includes(input.kind)) {
    err('kind', `must be one of ${GIT_PROVIDER_KINDS.join(', ')}`);
  } else kind = input.kind as GitProviderKind;

  let name = existing?.name ?? '';
  if (input.name !== undefined || !existing) {
    if (typeof input.name !== 'string' || !NAME_RE.test(input.name.trim())) err('name', 'must be 1–100 letters, digits, spaces, dots, dashes or underscores');
    else name = input.name.trim();
  }
  if (!kind) return { value: null, errors };

  const settings: GitProviderSettings = { ...(existing?.settings ?? { baseUrl: '' }) };
  if (input.baseUrl !== undefined && input.baseUrl !== null && input.baseUrl !== '') {
    const u = parseProviderBaseUrl(input.baseUrl);
    if (!u) err('baseUrl', 'must be an https URL without credentials, query or fragment (letters, digits and . _ ~ / - in the path)');
    else settings.baseUrl = u.url;
  } else if (!existing) {
    const d = GIT_PROVIDER_DEFAULT_API[kind];
    if (d) settings.baseUrl = d;
    else err('baseUrl', 'is required for this kind (the address of the server, https://…)');
  }
  const text = (field: 'appId' | 'installationId' | 'username' | 'workspace' | 'clientId', re: RegExp, message: string, required: boolean) => {
    const v = input[field];
    if (v === undefined) {
      if (required && !existing) err(field, `is required: ${message}`);
      return;
    }
    if (v === '' || v === null) {
      if (required) err(field, `is required: ${message}`);
      else delete settings[field];
      return;
    }
    const s = typeof v === 'number' ? String(v) : v;
    if (typeof s !== 'string' || !re.test(s.trim())) err(field, message);
    else settings[field] = s.trim();
  };
  const secrets: Partial<Record<GitProviderSecretName, string>> = {};
  const secret = (field: GitProviderSecretName, re: RegExp, message: string, required: boolean) => {
    const v = input[field];
    if (v === undefined || v === null || v === '') {
      if (required && !existing?.secretsSet.includes(field)) err(field, `is required: ${message}`);
      return;
    }
    if (typeof v !== 'string' || !re.test(v.trim())) err(field, message);
    else secrets[field] = field === 'privateKey' ? v.trim() + '\n' : v.trim();
  };
  const others = (allowed: readonly string[]) => {
    for (const f of ['appId', 'installationId', 'username', 'workspace', 'privateKey', 'webhookSecret', 'token', 'clientId', 'clientSecret', 'auth'] as const) {
      if (!allowed.includes(f) && input[f] !== undefined && input[f] !== null && input[f] !== '') err(f, `is not used by ${kind} connections`);
    }
  };
  /** GitLab and Bitbucket: the way a connection authenticates is chosen once (switching would leave the other way's secrets behind). */
  const authOf = (): GitProviderAuth => {
    const auth = existing ? (existing.settings.auth ?? 'token') : input.auth === undefined || input.auth === null || input.auth === '' ? 'token' : input.auth;
    if (!(GIT_PROVIDER_AUTHS as readonly unknown[]).includes(auth)) {
      err('auth', `must be one of ${GIT_PROVIDER_AUTHS.join(', ')}`);
      return 'token';
    }
    if (existing && input.auth !== undefined && input.auth !== null && input.auth !== '' && input.auth !== auth) err('auth', 'the authentication of a connection cannot change (create another connection)');
    if (auth === 'oauth') settings.auth = 'oauth';
    return auth as GitProviderAuth;
  };
  switch (kind) {
    case 'github':
      text('appId', NUMERIC_ID_RE, 'the GitHub App id (a number)', true);
      text('installationId', NUMERIC_ID_RE, 'the installation id of the GitHub App (a number)', true);
      secret('privateKey', PEM_RE, 'the GitHub App private key (PEM, "-----BEGIN RSA PRIVATE KEY-----")', true);
      secret('webhookSecret', TOKEN_RE, 'the webhook secret of the GitHub App (printable characters, no spaces)', false);
      others(['appId', 'installationId', 'privateKey', 'webhookSecret']);
      break;
    case 'gitlab': {
      if (authOf() === 'oauth') {
        text('clientId', CLIENT_ID_RE, 'the Application ID of the GitLab OAuth application', true);
        secret('clientSecret', TOKEN_RE, 'the Secret of the GitLab OAuth application (printable characters, no spaces)', true);
        others(['clientId', 'clientSecret', 'auth']);
      } else {
        secret('token', TOKEN_RE, 'an access token (printable characters, no spaces)', true);
        others(['token', 'auth']);
      }
      break;
    }
    case 'gitea':
      secret('token', TOKEN_RE, 'an access token (printable characters, no spaces)', true);
      others(['token']);
      break;
    case 'bitbucket':
      text('workspace', SLUG_RE, 'the Bitbucket workspace slug', true);
      if (authOf() === 'oauth') {
        text('clientId', CLIENT_ID_RE, 'the Key of the Bitbucket OAuth consumer', true);
        secret('clientSecret', TOKEN_RE, 'the Secret of the Bitbucket OAuth consumer (printable characters, no spaces)', true);
        others(['workspace', 'clientId', 'clientSecret', 'auth']);
      } else {
        text('username', SLUG_RE, 'a Bitbucket username (for an app password; leave empty for an access token)', false);
        secret('token', TOKEN_RE, 'an app password or access token (printable characters, no spaces)', true);
        others(['workspace', 'username', 'token', 'auth']);
      }
      break;
  }
  return errors.length ? { value: null, errors } : { value: { name, kind, settings, secrets }, errors };
}

/**
 * The host (lowercase, without port) of the Git server behind a connection: the clone URLs a connection's credentials
 * may be sent to. GitHub's api.github.com is github.com and a GitHub Enterprise Server's https://host/api/v3 is host;
 * Bitbucket's api.bitbucket.org is bitbucket.org; GitLab and Gitea serve Git on their base URL's host.
 */
export function providerGitHost(kind: GitProviderKind, baseUrl: string): string | null {
  const u = parseProviderBaseUrl(baseUrl);
  if (!u) return null;
  const host = u.host.replace(/^\[(.*)\]$/, '$1');
  if (kind === 'github' && host === 'api.github.com') return 'github.com';
  if (kind === 'bitbucket' && host === 'api.bitbucket.org') return 'bitbucket.org';
  return host;
}

/** The redirect URI of Git provider OAuth applications, under the instance's public URL (register it at the provider). */
export const GIT_PROVIDER_OAUTH_CALLBACK_PATH = '/api/v1/git-providers/oauth/callback';
/** Scopes a GitLab OAuth connection asks for: the API (repositories, branches, commit statuses) and Git over HTTPS. */
export const GITLAB_OAUTH_SCOPES = 'api read_repository';

/** A GitLab server's web address (its OAuth endpoints live there): the base URL without a trailing /api/v4. */
export function gitlabWebBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/api\/v4$/, '');
}

/**
 * Where a connection's OAuth endpoints live: GitLab's server address; Bitbucket Cloud's bitbucket.org for
 * api.bitbucket.org (else the base URL without its /2.0).
 */
export function providerWebBase(kind: GitProviderKind, baseUrl: string): string {
  if (kind === 'gitlab') return gitlabWebBase(baseUrl);
  const trimmed = baseUrl.replace(/\/+$/, '');
  if (kind === 'bitbucket') return /^https:\/\/api\.bitbucket\.org(?::443)?\/2\.0$/i.test(trimmed) ? 'https://bitbucket.org' : trimmed.replace(/\/2\.0$/, '');
  return trimmed;
}

/** The provider's name in messages and buttons ("Authorize with GitLab"). */
export const GIT_PROVIDER_LABELS: Record<GitProviderKind, string> = { github: 'GitHub', gitlab: 'GitLab', gitea: 'Gitea', bitbucket: 'Bitbucket' };
