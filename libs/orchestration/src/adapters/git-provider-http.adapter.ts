/**
 * GitProviderPort over node:https (no shell, no extra HTTP client):
 *
 * - GitHub (App): an RS256 JWT signed with the app's private key (iss = app id, iat 60 s in the past, exp 9 min ahead)
 *   authenticates as the app; POST /app/installations/{id}/access_tokens mints an installation token (kept until five
 *   minutes before it expires), which reads /installation/repositories, /repos/{o}/{r}/branches, posts
 *   /repos/{o}/{r}/statuses/{sha} and clones as `x-access-token`.
 * - GitLab: PRIVATE-TOKEN on {base}/api/v4 (/user, /projects?membership=true, /projects/{id}/repository/branches,
 *   /projects/{id}/statuses/{sha}); clones as `oauth2`. An OAuth application's access token goes as
 *   `Authorization: Bearer`; POST {server}/oauth/token (form-encoded: authorization_code with the PKCE code_verifier,
 *   or refresh_token; client_id and client_secret in the body) answers `{ access_token, token_type, expires_in,
 *   refresh_token, scope, created_at }` (https://docs.gitlab.com/api/oauth2/).
 * - Bitbucket Cloud OAuth consumers: POST https://bitbucket.org/site/oauth2/access_token (form-encoded, the consumer's
 *   key and secret as Basic) answers `{ access_token, expires_in, refresh_token, scopes, token_type }`; the access
 *   token goes as `Authorization: Bearer` and clones as `x-token-auth`.
 * - Gitea/Forgejo: `Authorization: token …` on {base}/api/v1 (/user, /user/repos, /repos/{o}/{r}/branches,
 *   /repos/{o}/{r}/statuses/{sha}); clones as `oauth2` (Gitea reads the token from the password).
 * - Bitbucket Cloud: Basic username:app-password, or Bearer for an access token, on {base} (default
 *   https://api.bitbucket.org/2.0): /repositories/{workspace}, /repositories/{w}/{r}/refs/branches,
 *   /repositories/{w}/{r}/commit/{sha}/statuses/build; clones as the username, or `x-token-auth` with an access token.
 *
 * Every request: the base URL is parsed again (@wharf/contracts parseProviderBaseUrl: https, no credentials), its host
 * passes `hostPolicy` (checkGitHost: private addresses refused unless allowed) and the socket connects to the addresses
 * the policy returned (a DNS answer that changes afterwards is not used); redirects are refused, never followed; a
 * deadline (default 15 s) and a response size limit (default 4 MiB) apply.
 */
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { parseProviderBaseUrl, providerWebBase } from '@wharf/contracts';
import {
  CommitState, CommitStatus, GitProviderConnection, GitProviderError, GitProviderPort, OAuthGrant, OAuthTokens, ProviderBranch, ProviderCheckoutCredentials, ProviderRepository,
} from '../ports/git-provider.port';

export interface GitProviderHttpAdapterOptions {
  /** Resolves the host and returns the addresses to connect to, or throws when the host is refused (checkGitHost). */
  hostPolicy: (host: string) => Promise<string[]>;
  /** Extra trusted CA certificates (PEM), e.g. WHARF_GIT_CA_FILE's content for a self-hosted server. */
  ca?: string | Buffer;
  timeoutMs?: number;
  maxResponseBytes?: number;
  userAgent?: string;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

interface HttpAnswer {
  status: number;
  body: unknown;
}
interface CallOptions {
  headers?: Record<string, string>;
  body?: unknown;
  /** An application/x-www-form-urlencoded body (OAuth token endpoint) instead of JSON. */
  form?: Record<string, string>;
  /** The path is on the server's web root (providerWebBase: GitLab without /api/v4, bitbucket.org), e.g. /oauth/token. */
  webRoot?: boolean;
  /** More values to keep out of error messages (codes, refresh tokens). */
  secrets?: string[];
  signal?: AbortSignal;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const REPO_RE = /^[A-Za-z0-9._-]{1,100}(?:\/[A-Za-z0-9._-]{1,100}){1,20}$/;
const COMMIT_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** An RS256 JWT that authenticates as a GitHub App (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app). */
export function githubAppJwt(appId: string, privateKeyPem: string, nowMs: number): string {
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new GitProviderError('the GitHub App private key cannot be read (expected a PEM RSA private key)', 'invalid-input');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new GitProviderError('the GitHub App private key must be an RSA key', 'invalid-input');
  const now = Math.floor(nowMs / 1000);
  const signingInput = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ iat: now - 60, exp: now + 540, iss: appId }))}`;
  return `${signingInput}.${b64url(sign('RSA-SHA256', Buffer.from(signingInput), key))}`;
}

function checkRepository(repository: string): string[] {
  if (typeof repository !== 'string' || !REPO_RE.test(repository)) throw new GitProviderError('the repository must be a full name such as "owner/name"', 'invalid-input');
  const parts = repository.split('/');
  if (parts.some((p) => p === '.' || p === '..')) throw new GitProviderError('the repository must be a full name such as "owner/name"', 'invalid-input');
  return parts;
}
const pathOf = (parts: string[]) => parts.map(encodeURIComponent).join('/');

export class GitProviderHttpAdapter implements GitProviderPort {
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(private readonly options: GitProviderHttpAdapterOptions) {
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxBytes = options.maxResponseBytes ?? 4 * 1024 * 1024;
    this.now = options.now ?? Date.now;
  }

  async test(c: GitProviderConnection, signal?: AbortSignal): Promise<{ ok: boolean; message: string }> {
    try {
      switch (c.kind) {
        case 'github': {
          const app = obj((await this.call(c, 'GET', '/app', { headers: this.githubHeaders(this.jwt(c)), signal })).body);
          await this.githubToken(c, signal, true);
          return { ok: true, message: `GitHub App "${str(app.slug) ?? str(app.name) ?? c.appId}": installation ${c.installationId} gave a token` };
        }
        case 'gitlab':
        case 'gitea': {
          const u = obj((await this.call(c, 'GET', this.apiPath(c, '/user'), { headers: this.tokenHeaders(c), signal })).body);
          return { ok: true, message: `signed in as ${str(u.username) ?? str(u.login) ?? 'unknown user'}` };
        }
        case 'bitbucket': {
          const r = obj((await this.call(c, 'GET', `/repositories/${encodeURIComponent(c.workspace ?? '')}?pagelen=1`, { headers: this.tokenHeaders(c), signal })).body);
          return { ok: true, message: `workspace ${c.workspace}: ${typeof r.size === 'number' ? `${r.size} repositories` : 'readable'}` };
        }
      }
    } catch (e) {
      if (e instanceof GitProviderError) return { ok: false, message: `${e.message} (${e.reason})` };
      throw e;
    }
    return { ok: false, message: 'unknown provider kind' };
  }

  async listRepositories(c: GitProviderConnection, search = '', signal?: AbortSignal): Promise<ProviderRepository[]> {
    const needle = search.trim().toLowerCase();
    let repos: ProviderRepository[] = [];
    switch (c.kind) {
      case 'github': {
        const token = await this.githubToken(c, signal);
        const b = obj((await this.call(c, 'GET', '/installation/repositories?per_page=100', { headers: this.githubHeaders(token), signal })).body);
        repos = (Array.isArray(b.repositories) ? b.repositories : []).map((r: unknown) => {
          const o = obj(r);
          return { fullName: str(o.full_name) ?? '', cloneUrl: str(o.clone_url) ?? '', defaultBranch: str(o.default_branch), private: o.private === true };
        });
        break;
      }
      case 'gitlab': {
        const q = `/projects?membership=true&simple=true&per_page=100&order_by=last_activity_at${needle ? `&search=${encodeURIComponent(needle)}` : ''}`;
        const b = (await this.call(c, 'GET', this.apiPath(c, q), { headers: this.tokenHeaders(c), signal })).body;
        repos = (Array.isArray(b) ? b : []).map((r: unknown) => {
          const o = obj(r);
          return { fullName: str(o.path_with_namespace) ?? '', cloneUrl: str(o.http_url_to_repo) ?? '', defaultBranch: str(o.default_branch), private: o.visibility !== 'public' };
        });
        break;
      }
      case 'gitea': {
        const b = (await this.call(c, 'GET', this.apiPath(c, '/user/repos?limit=50'), { headers: this.tokenHeaders(c), signal })).body;
        repos = (Array.isArray(b) ? b : []).map((r: unknown) => {
          const o = obj(r);
          return { fullName: str(o.full_name) ?? '', cloneUrl: str(o.clone_url) ?? '', defaultBranch: str(o.default_branch), private: o.private === true };
        });
        break;
      }
      case 'bitbucket': {
        const q = `/repositories/${encodeURIComponent(c.workspace ?? '')}?pagelen=100${needle ? `&q=${encodeURIComponent(`name ~ "${needle.replace(/["\\]/g, '')}"`)}` : ''}`;
        const b = obj((await this.call(c, 'GET', q, { headers: this.tokenHeaders(c), signal })).body);
        repos = (Array.isArray(b.values) ? b.values : []).map((r: unknown) => {
          const o = obj(r);
          const clone = (Array.isArray(obj(o.links).clone) ? (obj(o.links).clone as unknown[]) : []).map(obj).find((l) => l.name === 'https');
          // Bitbucket's https clone link carries the user name (https://user@bitbucket.org/…): Wharf adds credentials itself.
          const href = str(clone?.href)?.replace(/^https:\/\/[^@/]+@/, 'https://') ?? '';
          return { fullName: str(o.full_name) ?? '', cloneUrl: href, defaultBranch: str(obj(o.mainbranch).name), private: o.is_private === true };
        });
        break;
      }
    }
    return repos.filter((r) => r.fullName && r.cloneUrl && (!needle || r.fullName.toLowerCase().includes(needle))).slice(0, 100);
  }

  async listBranches(c: GitProviderConnection, repository: string, signal?: AbortSignal): Promise<ProviderBranch[]> {
    const parts = checkRepository(repository);
    let branches: ProviderBranch[] = [];
    switch (c.kind) {
      case 'github': {
        const token = await this.githubToken(c, signal);
        const b = (await this.call(c, 'GET', `/repos/${pathOf(parts)}/branches?per_page=100`, { headers: this.githubHeaders(token), signal })).body;
        branches = (Array.isArray(b) ? b : []).map((x: unknown) => ({ name: str(obj(x).name) ?? '', commit: str(obj(obj(x).commit).sha) ?? '' }));
        break;
      }
      case 'gitlab': {
        const b = (await this.call(c, 'GET', this.apiPath(c, `/projects/${encodeURIComponent(repository)}/repository/branches?per_page=100`), { headers: this.tokenHeaders(c), signal })).body;
        branches = (Array.isArray(b) ? b : []).map((x: unknown) => ({ name: str(obj(x).name) ?? '', commit: str(obj(obj(x).commit).id) ?? '' }));
        break;
      }
      case 'gitea': {
        const b = (await this.call(c, 'GET', this.apiPath(c, `/repos/${pathOf(parts)}/branches?limit=50`), { headers: this.tokenHeaders(c), signal })).body;
        branches = (Array.isArray(b) ? b : []).map((x: unknown) => ({ name: str(obj(x).name) ?? '', commit: str(obj(obj(x).commit).id) ?? '' }));
        break;
      }
      case 'bitbucket': {
        const b = obj((await this.call(c, 'GET', `/repositories/${pathOf(parts)}/refs/branches?pagelen=100`, { headers: this.tokenHeaders(c), signal })).body);
        branches = (Array.isArray(b.values) ? b.values : []).map((x: unknown) => ({ name: str(obj(x).name) ?? '', commit: str(obj(obj(x).target).hash) ?? '' }));
        break;
      }
    }
    return branches.filter((b) => b.name).slice(0, 100);
  }

  async checkoutCredentials(c: GitProviderConnection, signal?: AbortSignal): Promise<ProviderCheckoutCredentials> {
    switch (c.kind) {
      case 'github': {
        const t = await this.githubToken(c, signal);
        const cached = this.tokens.get(this.githubKey(c));
        return { username: 'x-access-token', token: t, expiresAt: cached ? new Date(cached.expiresAt).toISOString() : null };
      }
      case 'gitlab':
      case 'gitea':
        return { username: 'oauth2', token: this.requireToken(c), expiresAt: null };
      case 'bitbucket':
        return { username: c.username || 'x-token-auth', token: this.requireToken(c), expiresAt: null };
    }
    throw new GitProviderError('unknown provider kind', 'invalid-input');
  }

  async postCommitStatus(c: GitProviderConnection, s: CommitStatus, signal?: AbortSignal): Promise<void> {
    const parts = checkRepository(s.repository);
    if (!COMMIT_RE.test(s.commit)) throw new GitProviderError('the commit must be a full commit id', 'invalid-input');
    const description = s.description.slice(0, 140);
    const target = s.targetUrl && /^https?:\/\//.test(s.targetUrl) ? s.targetUrl : undefined;
    switch (c.kind) {
      case 'github': {
        const token = await this.githubToken(c, signal);
        await this.call(c, 'POST', `/repos/${pathOf(parts)}/statuses/${s.commit}`, {
          headers: this.githubHeaders(token), signal, body: { state: s.state, context: s.context, description, ...(target ? { target_url: target } : {}) },
        });
        return;
      }
      case 'gitlab': {
        const state: Record<CommitState, string> = { pending: 'running', success: 'success', failure: 'failed' };
        await this.call(c, 'POST', this.apiPath(c, `/projects/${encodeURIComponent(s.repository)}/statuses/${s.commit}`), {
          headers: this.tokenHeaders(c), signal, body: { state: state[s.state], name: s.context, description, ...(target ? { target_url: target } : {}) },
        });
        return;
      }
      case 'gitea':
        await this.call(c, 'POST', this.apiPath(c, `/repos/${pathOf(parts)}/statuses/${s.commit}`), {
          headers: this.tokenHeaders(c), signal, body: { state: s.state, context: s.context, description, ...(target ? { target_url: target } : {}) },
        });
        return;
      case 'bitbucket': {
        const state: Record<CommitState, string> = { pending: 'INPROGRESS', success: 'SUCCESSFUL', failure: 'FAILED' };
        await this.call(c, 'POST', `/repositories/${pathOf(parts)}/commit/${s.commit}/statuses/build`, {
          headers: this.tokenHeaders(c), signal,
          body: { key: s.context.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40), state: state[s.state], name: s.context, description, url: target ?? `https://bitbucket.org/${pathOf(parts)}` },
        });
        return;
      }
    }
  }

  async oauthToken(c: GitProviderConnection, grant: OAuthGrant, signal?: AbortSignal): Promise<OAuthTokens> {
    if (c.kind !== 'gitlab' && c.kind !== 'bitbucket') throw new GitProviderError(`OAuth is not supported for ${c.kind} connections`, 'invalid-input');
    if (!c.clientId || !c.clientSecret) throw new GitProviderError('the connection has no OAuth client id and secret', 'invalid-input');
    const bitbucket = c.kind === 'bitbucket';
    const form: Record<string, string> = grant.grantType === 'authorization_code'
      ? { grant_type: 'authorization_code', code: grant.code, ...(bitbucket ? {} : { redirect_uri: grant.redirectUri, code_verifier: grant.codeVerifier }) }
      : { grant_type: 'refresh_token', refresh_token: grant.refreshToken };
    const secrets = grant.grantType === 'authorization_code' ? [grant.code, grant.codeVerifier] : [grant.refreshToken];
    let answer: HttpAnswer;
    try {
      answer = bitbucket
        ? await this.call(c, 'POST', '/site/oauth2/access_token', { form, headers: { Authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}` }, webRoot: true, secrets, signal })
        : await this.call(c, 'POST', '/oauth/token', { form: { ...form, client_id: c.clientId, client_secret: c.clientSecret }, webRoot: true, secrets, signal });
    } catch (e) {
      // RFC 6749 §5.2: a refused grant or client is a 400 (invalid_grant, …) or 401 (invalid_client).
      if (e instanceof GitProviderError && (e.status === 400 || e.status === 401)) throw new GitProviderError(e.message, 'authentication', e.status);
      throw e;
    }
    const b = obj(answer.body);
    const accessToken = str(b.access_token);
    const refreshToken = str(b.refresh_token) ?? (grant.grantType === 'refresh_token' ? grant.refreshToken : null);
    if (!accessToken || !refreshToken) throw new GitProviderError('the token endpoint answered without an access and a refresh token', 'other');
    const expiresIn = typeof b.expires_in === 'number' && Number.isFinite(b.expires_in) && b.expires_in > 0 ? b.expires_in : null;
    const createdAt = typeof b.created_at === 'number' && Number.isFinite(b.created_at) ? b.created_at * 1000 : this.now();
    // GitLab answers created_at (seconds) + expires_in; the earlier of that and now + expires_in is the safe expiry.
    const expiresAt = expiresIn === null ? null : new Date(Math.min(createdAt, this.now()) + expiresIn * 1000).toISOString();
    return { accessToken, refreshToken, expiresAt };
  }

  async currentUser(c: GitProviderConnection, signal?: AbortSignal): Promise<string> {
    if (c.kind === 'github') throw new GitProviderError('no user lookup for github connections', 'invalid-input');
    const u = obj((await this.call(c, 'GET', c.kind === 'bitbucket' ? '/user' : this.apiPath(c, '/user'), { headers: this.tokenHeaders(c), signal })).body);
    const name = str(u.username) ?? str(u.login) ?? str(u.nickname) ?? str(u.display_name);
    if (!name) throw new GitProviderError('the provider answered without a user name', 'other');
    return name.slice(0, 200);
  }

  // --- helpers ------------------------------------------------------------------------------------------------------

  private requireToken(c: GitProviderConnection): string {
    if (!c.token) throw new GitProviderError('the connection has no token', 'invalid-input');
    return c.token;
  }

  private jwt(c: GitProviderConnection): string {
    if (!c.appId || !c.privateKey || !c.installationId) throw new GitProviderError('the GitHub App needs its app id, installation id and private key', 'invalid-input');
    return githubAppJwt(c.appId, c.privateKey, this.now());
  }

  private githubKey(c: GitProviderConnection): string {
    return createHash('sha256').update(`${c.baseUrl}\n${c.appId}\n${c.installationId}\n${c.privateKey}`).digest('hex');
  }

  /** An installation access token, minted or reused until five minutes before it expires. */
  private async githubToken(c: GitProviderConnection, signal?: AbortSignal, fresh = false): Promise<string> {
    const key = this.githubKey(c);
    const cached = this.tokens.get(key);
    if (!fresh && cached && cached.expiresAt - 5 * 60_000 > this.now()) return cached.token;
    const jwt = this.jwt(c);
    const b = obj((await this.call(c, 'POST', `/app/installations/${encodeURIComponent(c.installationId ?? '')}/access_tokens`, { headers: this.githubHeaders(jwt), signal })).body);
    const token = str(b.token);
    if (!token) throw new GitProviderError('GitHub answered without an installation token', 'other');
    const expires = Date.parse(str(b.expires_at) ?? '');
    this.tokens.set(key, { token, expiresAt: Number.isFinite(expires) ? expires : this.now() + 10 * 60_000 });
    return token;
  }

  private githubHeaders(bearer: string): Record<string, string> {
    return { Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28', Authorization: `Bearer ${bearer}` };
  }

  private tokenHeaders(c: GitProviderConnection): Record<string, string> {
    const token = this.requireToken(c);
    if (c.kind === 'gitlab') return c.auth === 'oauth' ? { Authorization: `Bearer ${token}` } : { 'PRIVATE-TOKEN': token };
    if (c.kind === 'gitea') return { Authorization: `token ${token}` };
    return { Authorization: c.username ? `Basic ${Buffer.from(`${c.username}:${token}`).toString('base64')}` : `Bearer ${token}` };
  }

  /** GitLab's API lives under /api/v4 and Gitea's under /api/v1 of the server's address (given with or without it). */
  private apiPath(c: GitProviderConnection, path: string): string {
    const suffix = c.kind === 'gitlab' ? '/api/v4' : '/api/v1';
    return c.baseUrl.replace(/\/+$/, '').endsWith(suffix) ? path : `${suffix}${path}`;
  }

  /** One request to the connection's base URL + path, after the host policy, without redirects, bounded in time and size. */
  private async call(c: GitProviderConnection, method: 'GET' | 'POST', path: string, o: CallOptions = {}): Promise<HttpAnswer> {
    const base = parseProviderBaseUrl(o.webRoot ? providerWebBase(c.kind, c.baseUrl) : c.baseUrl);
    if (!base) throw new GitProviderError('the base URL must be an https URL without credentials', 'invalid-input');
    let addresses: string[];
    try {
      addresses = await this.options.hostPolicy(base.host.replace(/^\[(.*)\]$/, '$1'));
    } catch (e) {
      throw new GitProviderError((e as Error).message, 'host-refused');
    }
    if (addresses.length === 0) throw new GitProviderError(`the host ${base.host} does not resolve`, 'host-refused');
    const url = new URL(base.url + path);
    const secrets = [c.token, c.privateKey, c.clientSecret, ...(o.secrets ?? [])].filter((s): s is string => !!s);
    const redact = (m: string) => secrets.reduce((acc, s) => acc.split(s).join('[redacted]'), m).replace(/[\r\n\t]+/g, ' ').slice(0, 300);
    const payload = o.form ? Buffer.from(new URLSearchParams(o.form).toString()) : o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const pinned: LookupFunction = (_host, opts, cb) => {
      const list = addresses.map((a) => ({ address: a, family: isIP(a) === 6 ? 6 : 4 }));
      if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: typeof list) => void)(null, list);
      else cb(null, list[0].address, list[0].family);
    };
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const fail = (e: GitProviderError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        req.destroy();
        reject(e);
      };
      const req = httpsRequest(
        {
          method, protocol: 'https:', hostname: base.host.replace(/^\[(.*)\]$/, '$1'), port: base.port, path: url.pathname + url.search,
          lookup: pinned, servername: isIP(base.host.replace(/^\[(.*)\]$/, '$1')) ? undefined : base.host, agent: false,
          ...(this.options.ca ? { ca: this.options.ca } : {}),
          headers: {
            'User-Agent': this.options.userAgent ?? 'Wharf', Accept: 'application/json', ...o.headers,
            ...(payload ? { 'Content-Type': o.form ? 'application/x-www-form-urlencoded' : 'application/json', 'Content-Length': String(payload.length) } : {}),
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400) {
            res.resume();
            fail(new GitProviderError(`the provider answered ${status} with a redirect${res.headers.location ? ' elsewhere' : ''}; redirects are not followed (check the base URL)`, 'redirect', status));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (d: Buffer) => {
            size += d.length;
            if (size > this.maxBytes) fail(new GitProviderError(`the provider's answer is larger than ${this.maxBytes} bytes`, 'too-large', status));
            else chunks.push(d);
          });
          res.on('error', (e) => fail(new GitProviderError(redact(`reading the answer failed: ${e.message}`), 'unreachable')));
          res.on('end', () => {
            if (settled) return;
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = null;
            try {
              body = text ? JSON.parse(text) : null;
            } catch {
              body = text;
            }
            if (status >= 200 && status < 300) {
              settled = true;
              clearTimeout(timer);
              o.signal?.removeEventListener('abort', onAbort);
              resolve({ status, body });
              return;
            }
            const oauthError = str(obj(body).error) ? `${str(obj(body).error)}${str(obj(body).error_description) ? ` (${str(obj(body).error_description)})` : ''}` : null;
            const said = str(obj(body).message) ?? str(obj(obj(body).error).message) ?? oauthError ?? '';
            const reason = status === 401 || status === 403 ? 'authentication' : status === 404 ? 'not-found' : 'other';
            fail(new GitProviderError(redact(`${method} ${url.pathname} answered ${status}${said ? `: ${said}` : ''}`), reason, status));
          });
        },
      );
      const timer = setTimeout(() => fail(new GitProviderError(`the provider did not answer within ${this.timeoutMs} ms`, 'timeout')), this.timeoutMs);
      const onAbort = () => fail(new GitProviderError('the request was cancelled', 'timeout'));
      if (o.signal?.aborted) onAbort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => fail(new GitProviderError(redact(`cannot reach ${base.host}: ${e.message}`), 'unreachable')));
      req.end(payload);
    });
  }
}
