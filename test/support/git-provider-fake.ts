/**
 * A local contract fake of the Git provider APIs Wharf calls (no real GitHub, GitLab, Gitea or Bitbucket is reachable
 * from the test machine). HTTPS (node:https, a self-signed certificate for 127.0.0.1/localhost) with the request and
 * answer shapes the providers document:
 *
 * - GitHub REST (https://docs.github.com/en/rest): GET /app and POST /app/installations/{id}/access_tokens with an
 *   RS256 app JWT — verified here with the app's public key (signature, `iss`, `iat`/`exp` window) — answering
 *   201 `{ token, expires_at, permissions, repository_selection }`; GET /installation/repositories
 *   `{ total_count, repositories: [...] }`, GET /repos/{o}/{r}/branches `[{ name, commit: { sha, url }, protected }]`,
 *   POST /repos/{o}/{r}/statuses/{sha} `{ state, target_url, description, context }` → 201, with the installation token.
 * - GitLab REST v4: PRIVATE-TOKEN; GET /api/v4/user, /api/v4/projects?membership=true, /api/v4/projects/{id}/repository/branches,
 *   POST /api/v4/projects/{id}/statuses/{sha} `{ state: pending|running|success|failed|canceled, name, target_url, description }`.
 * - Gitea/Forgejo API v1: `Authorization: token …`; GET /api/v1/user, /api/v1/user/repos, /api/v1/repos/{o}/{r}/branches,
 *   POST /api/v1/repos/{o}/{r}/statuses/{sha} `{ state, target_url, description, context }`.
 * - Bitbucket Cloud 2.0 (under /2.0): Basic user:app-password or Bearer; GET /2.0/repositories/{workspace},
 *   /2.0/repositories/{w}/{r}/refs/branches, POST /2.0/repositories/{w}/{r}/commit/{sha}/statuses/build
 *   `{ key, state: INPROGRESS|SUCCESSFUL|FAILED|STOPPED, name, url, description }` (key, state and url required).
 *
 * - GitLab OAuth applications (https://docs.gitlab.com/api/oauth2/, Doorkeeper): GET /oauth/authorize?client_id&
 *   redirect_uri&response_type=code&state&scope&code_challenge&code_challenge_method=S256 stands in for the user's
 *   consent: a registered client and redirect URI get 302 `{redirect_uri}?code=…&state=…` (or `error=access_denied`
 *   when `gitlabOAuth.deny` is set); POST /oauth/token (form-encoded or JSON, client_id/client_secret in the body or
 *   Basic) with grant_type=authorization_code (single-use code, same redirect_uri, PKCE S256 code_verifier checked)
 *   or grant_type=refresh_token (rotated: the previous refresh token is refused afterwards) answers
 *   `{ access_token, token_type: 'Bearer', expires_in, refresh_token, scope, created_at }`; refusals are 400
 *   `{ error: 'invalid_grant', error_description }` or 401 `{ error: 'invalid_client', … }`. Live OAuth access tokens
 *   are accepted as `Authorization: Bearer` on /api/v4 (an expired one is a 401).
 * - Bitbucket Cloud OAuth consumers (https://developer.atlassian.com/cloud/bitbucket/oauth-2/): GET
 *   /site/oauth2/authorize?client_id&response_type=code&state redirects to the consumer's callback URL with code and
 *   state; POST /site/oauth2/access_token (form-encoded, the consumer's key:secret as Basic) with
 *   grant_type=authorization_code or refresh_token answers `{ access_token, scopes, expires_in, refresh_token,
 *   token_type: 'bearer', state }` (the refresh token stays the same); live access tokens work as Bearer on /2.0, and
 *   GET /2.0/user answers the user.
 *
 * Every request is recorded (method, path, headers, parsed body). Special paths: /redirect/… answers 302 to another
 * host, /huge/… streams an answer larger than any sane limit.
 */
import { createHash, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

export interface FakeProviderRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface FakeGitProvider {
  /** https://127.0.0.1:port (GitHub API base, GitLab and Gitea server base); Bitbucket's API base is `${url}/2.0`. */
  url: string;
  /** The server certificate (its own CA), for the adapter's `ca` option / WHARF_GIT_CA_FILE. */
  caFile: string;
  caPem: string;
  github: { appId: string; installationId: string; privateKeyPem: string; webhookSecret: string };
  /** The token every provider accepts (GitLab, Gitea, Bitbucket) and the installation token GitHub mints. */
  token: string;
  bitbucket: { workspace: string; username: string };
  requests: FakeProviderRequest[];
  /** How many installation tokens were minted. */
  minted: () => number;
  /** The GitLab OAuth application and what its endpoints did. */
  gitlabOAuth: FakeGitLabOAuth;
  /** The Bitbucket OAuth consumer (key and secret), its callback URL and what its endpoints did. */
  bitbucketOAuth: FakeBitbucketOAuth;
  /** Repositories listed by every provider (full names), each with a `main` branch at `commit`. */
  setRepositories(repos: Array<{ fullName: string; cloneUrl: string; commit: string }>): void;
  stop(): Promise<void>;
}

export interface FakeGitLabOAuth {
  clientId: string;
  clientSecret: string;
  /** Registered redirect URIs (the authorize and token endpoints refuse others). */
  redirectUris: string[];
  /** expires_in of the access tokens it issues (GitLab: 7200). */
  accessTokenTtlSeconds: number;
  /** When true, the authorize endpoint redirects with error=access_denied (the user clicked Deny). */
  deny: boolean;
  /** Token endpoint grants that succeeded, per grant type. */
  grants: { authorization_code: number; refresh_token: number };
  /** Refresh tokens still valid (the latest of each chain) and every one ever issued. */
  liveRefreshTokens: () => string[];
  issuedRefreshTokens: string[];
  /** Revokes every token of the application (the user revoked it in GitLab's settings). */
  revokeAll(): void;
  /** Revokes the access tokens only (their refresh tokens still work). */
  revokeAccessTokens(): void;
}

export interface FakeBitbucketOAuth {
  key: string;
  secret: string;
  /** The consumer's callback URL (Bitbucket redirects there). */
  callbackUrl: string;
  accessTokenTtlSeconds: number;
  grants: { authorization_code: number; refresh_token: number };
  issuedRefreshTokens: string[];
  revokeAll(): void;
}

const b64urlJson = (s: string): unknown => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

export async function startFakeGitProvider(options: { token?: string } = {}): Promise<FakeGitProvider> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-fake-provider-'));
  const caFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', caFile,
  ], { stdio: 'ignore' });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // GitHub hands out PKCS#1 PEM files ("BEGIN RSA PRIVATE KEY").
  const privateKeyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const appPublicKey = publicKey; // the fake keeps only the public half to verify JWTs
  const appId = String(100000 + Math.floor(Math.random() * 800000));
  const installationId = String(1000000 + Math.floor(Math.random() * 8000000));
  const token = options.token ?? `tok_${randomBytes(16).toString('hex')}`;
  const workspace = 'wharf-ws';
  const bbUser = 'wharf-bot';
  const requests: FakeProviderRequest[] = [];
  let minted = 0;
  let repos: Array<{ fullName: string; cloneUrl: string; commit: string }> = [{ fullName: 'octo/hello', cloneUrl: 'https://example.invalid/octo/hello.git', commit: 'a'.repeat(40) }];
  const codes = new Map<string, { redirectUri: string; challenge: string; method: string; scope: string; expiresAt: number }>();
  const accessTokens = new Map<string, number>();
  const refreshTokens = new Set<string>();
  const oauth: FakeGitLabOAuth = {
    clientId: randomBytes(32).toString('hex'), clientSecret: `gloas-${randomBytes(32).toString('hex')}`, redirectUris: [], accessTokenTtlSeconds: 7200, deny: false,
    grants: { authorization_code: 0, refresh_token: 0 }, liveRefreshTokens: () => [...refreshTokens], issuedRefreshTokens: [],
    revokeAll: () => {
      accessTokens.clear();
      refreshTokens.clear();
    },
    revokeAccessTokens: () => accessTokens.clear(),
  };
  const bbCodes = new Set<string>();
  const bbAccess = new Map<string, number>();
  const bbRefresh = new Set<string>();
  const bbOAuth: FakeBitbucketOAuth = {
    key: randomBytes(9).toString('base64url'), secret: randomBytes(24).toString('base64url'), callbackUrl: '', accessTokenTtlSeconds: 7200,
    grants: { authorization_code: 0, refresh_token: 0 }, issuedRefreshTokens: [],
    revokeAll: () => {
      bbAccess.clear();
      bbRefresh.clear();
    },
  };
  const bbAccessToken = () => {
    const access = randomBytes(36).toString('base64url');
    bbAccess.set(access, Date.now() + bbOAuth.accessTokenTtlSeconds * 1000);
    return access;
  };
  const bbBearerValid = (auth: string | undefined): boolean => {
    const m = /^Bearer ([A-Za-z0-9_-]{48})$/.exec(auth ?? '');
    const exp = m ? bbAccess.get(m[1]) : undefined;
    return exp !== undefined && exp > Date.now();
  };
  const invalidGrant = { error: 'invalid_grant', error_description: 'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.' };
  const issueTokens = (scope: string) => {
    const access = randomBytes(32).toString('hex');
    const refresh = randomBytes(32).toString('hex');
    accessTokens.set(access, Date.now() + oauth.accessTokenTtlSeconds * 1000);
    refreshTokens.add(refresh);
    oauth.issuedRefreshTokens.push(refresh);
    return { access_token: access, token_type: 'Bearer', expires_in: oauth.accessTokenTtlSeconds, refresh_token: refresh, scope, created_at: Math.floor(Date.now() / 1000) };
  };
  const oauthBearerValid = (auth: string | undefined): boolean => {
    const m = /^Bearer ([0-9a-f]{64})$/.exec(auth ?? '');
    const exp = m ? accessTokens.get(m[1]) : undefined;
    return exp !== undefined && exp > Date.now();
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  /** Verifies a GitHub App JWT: RS256 signature with the app's public key, iss = app id, iat in the past, exp ≤ 10 min ahead. */
  const appJwtValid = (auth: string | undefined): boolean => {
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(auth ?? '');
    if (!m) return false;
    try {
      const header = b64urlJson(m[1]) as { alg?: string };
      const claims = b64urlJson(m[2]) as { iat?: number; exp?: number; iss?: string | number };
      if (header.alg !== 'RS256') return false;
      if (!verify('RSA-SHA256', Buffer.from(`${m[1]}.${m[2]}`), appPublicKey, Buffer.from(m[3], 'base64url'))) return false;
      const now = Math.floor(Date.now() / 1000);
      return String(claims.iss) === appId && typeof claims.iat === 'number' && claims.iat <= now + 5 && typeof claims.exp === 'number' && claims.exp > now && claims.exp - now <= 600;
    } catch {
      return false;
    }
  };
  const branchesOf = (fullName: string) => repos.find((r) => r.fullName === fullName);

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(text)) : text;
      }
      const path = url.pathname;
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const auth = req.headers.authorization;
      const get = req.method === 'GET';
      const post = req.method === 'POST';
      let m: RegExpExecArray | null;

      if (path.startsWith('/redirect/')) return send(res, 302, { message: 'moved' }, { Location: 'https://169.254.169.254/latest/meta-data/' });
      if (path.startsWith('/huge/')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const block = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 64 * 1024 * 1024) {
            sent += block.length;
            if (!res.write(block)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => (sent = Infinity));
        return pump();
      }

      // --- GitHub -------------------------------------------------------------------------------------------------
      if (get && path === '/app') {
        if (!appJwtValid(auth)) return send(res, 401, { message: 'A JSON web token could not be decoded', documentation_url: 'https://docs.github.com/rest' });
        return send(res, 200, { id: Number(appId), slug: 'wharf-test-app', name: 'Wharf test app', owner: { login: 'octo' } });
      }
      if (post && (m = /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(path))) {
        if (!appJwtValid(auth)) return send(res, 401, { message: 'A JSON web token could not be decoded', documentation_url: 'https://docs.github.com/rest' });
        if (m[1] !== installationId) return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
        minted += 1;
        return send(res, 201, { token, expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'), permissions: { contents: 'read', statuses: 'write', metadata: 'read' }, repository_selection: 'selected' });
      }
      const githubAuthed = auth === `Bearer ${token}` || auth === `token ${token}`;
      if (get && path === '/installation/repositories') {
        if (!githubAuthed) return send(res, 401, { message: 'Bad credentials' });
        return send(res, 200, { total_count: repos.length, repositories: repos.map((r, i) => ({ id: i + 1, name: r.fullName.split('/').pop(), full_name: r.fullName, private: true, clone_url: r.cloneUrl, default_branch: 'main' })) });
      }
      if (get && (m = /^\/repos\/([^/]+)\/([^/]+)\/branches$/.exec(path))) {
        if (!githubAuthed) return send(res, 401, { message: 'Bad credentials' });
        const r = branchesOf(`${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`);
        if (!r) return send(res, 404, { message: 'Not Found' });
        return send(res, 200, [{ name: 'main', commit: { sha: r.commit, url: `${url.origin}/repos/${r.fullName}/commits/${r.commit}` }, protected: false }]);
      }
      if (post && (m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(path))) {
        if (!githubAuthed) return send(res, 401, { message: 'Bad credentials' });
        const b = body as { state?: string; context?: string; description?: string; target_url?: string };
        if (!['error', 'failure', 'pending', 'success'].includes(b?.state ?? '')) return send(res, 422, { message: 'Validation Failed' });
        return send(res, 201, { id: requests.length, state: b.state, context: b.context ?? 'default', description: b.description ?? null, target_url: b.target_url ?? null });
      }

      // --- GitLab OAuth ---------------------------------------------------------------------------------------------
      if (get && path === '/oauth/authorize') {
        const q = Object.fromEntries(url.searchParams);
        if (q.client_id !== oauth.clientId || !oauth.redirectUris.includes(q.redirect_uri ?? '')) {
          res.writeHead(400, { 'Content-Type': 'text/html' });
          return res.end('<h1>An error has occurred</h1><p>Client authentication failed due to unknown client or the redirect URI is not registered.</p>');
        }
        const back = new URL(q.redirect_uri);
        if (q.state !== undefined) back.searchParams.set('state', q.state);
        if (oauth.deny) {
          back.searchParams.set('error', 'access_denied');
          back.searchParams.set('error_description', 'The resource owner or authorization server denied the request.');
        } else if (q.response_type !== 'code' || (q.code_challenge && q.code_challenge_method !== 'S256')) {
          back.searchParams.set('error', 'invalid_request');
        } else {
          const code = randomBytes(32).toString('hex');
          codes.set(code, { redirectUri: q.redirect_uri, challenge: q.code_challenge ?? '', method: q.code_challenge_method ?? '', scope: q.scope ?? '', expiresAt: Date.now() + 600_000 });
          back.searchParams.set('code', code);
        }
        res.writeHead(302, { Location: back.toString() });
        return res.end();
      }
      if (post && path === '/oauth/token') {
        const b = (body && typeof body === 'object' ? body : {}) as Record<string, string>;
        const basic = /^Basic (.+)$/.exec(auth ?? '');
        const [cid, csecret] = basic ? Buffer.from(basic[1], 'base64').toString('utf8').split(':') : [b.client_id, b.client_secret];
        if (cid !== oauth.clientId || csecret !== oauth.clientSecret) {
          return send(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.' });
        }
        if (b.grant_type === 'authorization_code') {
          const c = codes.get(b.code ?? '');
          codes.delete(b.code ?? '');
          if (!c || c.expiresAt < Date.now() || c.redirectUri !== b.redirect_uri) return send(res, 400, invalidGrant);
          const verifier = b.code_verifier ?? '';
          if (c.challenge && (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || createHash('sha256').update(verifier).digest('base64url') !== c.challenge)) return send(res, 400, invalidGrant);
          oauth.grants.authorization_code += 1;
          return send(res, 200, issueTokens(c.scope));
        }
        if (b.grant_type === 'refresh_token') {
          if (!refreshTokens.has(b.refresh_token ?? '')) return send(res, 400, invalidGrant);
          refreshTokens.delete(b.refresh_token);
          oauth.grants.refresh_token += 1;
          return send(res, 200, issueTokens('api read_repository'));
        }
        return send(res, 400, { error: 'unsupported_grant_type', error_description: 'The authorization grant type is not supported by the authorization server.' });
      }

      // --- Bitbucket Cloud OAuth ------------------------------------------------------------------------------------
      if (get && path === '/site/oauth2/authorize') {
        if (url.searchParams.get('client_id') !== bbOAuth.key || !bbOAuth.callbackUrl) return send(res, 400, { error: 'invalid_request', error_description: 'Invalid client_id' });
        const back = new URL(bbOAuth.callbackUrl);
        if (url.searchParams.get('response_type') !== 'code') back.searchParams.set('error', 'unsupported_response_type');
        else {
          const code = randomBytes(12).toString('base64url');
          bbCodes.add(code);
          back.searchParams.set('code', code);
        }
        if (url.searchParams.has('state')) back.searchParams.set('state', url.searchParams.get('state')!);
        res.writeHead(302, { Location: back.toString() });
        return res.end();
      }
      if (post && path === '/site/oauth2/access_token') {
        const b = (body && typeof body === 'object' ? body : {}) as Record<string, string>;
        if (auth !== `Basic ${Buffer.from(`${bbOAuth.key}:${bbOAuth.secret}`).toString('base64')}`) return send(res, 400, { error: 'invalid_client', error_description: 'Invalid OAuth client credentials' });
        let refresh: string;
        if (b.grant_type === 'authorization_code') {
          if (!bbCodes.delete(b.code ?? '')) return send(res, 400, { error: 'invalid_grant', error_description: 'The specified code is not valid.' });
          refresh = randomBytes(12).toString('base64url');
          bbRefresh.add(refresh);
          bbOAuth.issuedRefreshTokens.push(refresh);
        } else if (b.grant_type === 'refresh_token') {
          if (!bbRefresh.has(b.refresh_token ?? '')) return send(res, 400, { error: 'invalid_grant', error_description: 'Invalid refresh_token' });
          refresh = b.refresh_token;
        } else return send(res, 400, { error: 'unsupported_grant_type', error_description: 'Unsupported grant type' });
        bbOAuth.grants[b.grant_type as 'authorization_code' | 'refresh_token'] += 1;
        return send(res, 200, { access_token: bbAccessToken(), scopes: 'repository:write account', expires_in: bbOAuth.accessTokenTtlSeconds, refresh_token: refresh, token_type: 'bearer', state: b.grant_type });
      }

      // --- GitLab -------------------------------------------------------------------------------------------------
      if (path.startsWith('/api/v4/')) {
        if (req.headers['private-token'] !== token && auth !== `Bearer ${token}` && !oauthBearerValid(auth)) return send(res, 401, { message: '401 Unauthorized' });
        if (get && path === '/api/v4/user') return send(res, 200, { id: 7, username: 'wharf-bot', name: 'Wharf bot', state: 'active' });
        if (get && path === '/api/v4/projects') {
          return send(res, 200, repos.map((r, i) => ({ id: i + 1, path_with_namespace: r.fullName, http_url_to_repo: r.cloneUrl, default_branch: 'main', visibility: 'private' })));
        }
        if (get && (m = /^\/api\/v4\/projects\/([^/]+)\/repository\/branches$/.exec(path))) {
          const r = branchesOf(decodeURIComponent(m[1]));
          if (!r) return send(res, 404, { message: '404 Project Not Found' });
          return send(res, 200, [{ name: 'main', commit: { id: r.commit, short_id: r.commit.slice(0, 8) }, default: true, protected: true }]);
        }
        if (post && (m = /^\/api\/v4\/projects\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(path))) {
          const b = body as { state?: string; name?: string };
          if (!['pending', 'running', 'success', 'failed', 'canceled', 'skipped'].includes(b?.state ?? '')) return send(res, 400, { message: 'state does not have a valid value' });
          return send(res, 201, { id: requests.length, sha: m[2], status: b.state, name: b.name ?? 'default' });
        }
        return send(res, 404, { message: '404 Not Found' });
      }

      // --- Gitea / Forgejo ----------------------------------------------------------------------------------------
      if (path.startsWith('/api/v1/')) {
        if (auth !== `token ${token}`) return send(res, 401, { message: 'token is required', url: `${url.origin}/api/swagger` });
        if (get && path === '/api/v1/user') return send(res, 200, { id: 3, login: 'wharf-bot', full_name: 'Wharf bot' });
        if (get && path === '/api/v1/user/repos') return send(res, 200, repos.map((r, i) => ({ id: i + 1, full_name: r.fullName, clone_url: r.cloneUrl, default_branch: 'main', private: true })));
        if (get && (m = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/branches$/.exec(path))) {
          const r = branchesOf(`${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`);
          if (!r) return send(res, 404, { message: 'The target couldn\'t be found.' });
          return send(res, 200, [{ name: 'main', commit: { id: r.commit, message: 'init' }, protected: false }]);
        }
        if (post && (m = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(path))) {
          const b = body as { state?: string; context?: string };
          if (!['pending', 'success', 'error', 'failure', 'warning'].includes(b?.state ?? '')) return send(res, 422, { message: 'invalid state' });
          return send(res, 201, { id: requests.length, status: b.state, context: b.context ?? '' });
        }
        return send(res, 404, { message: 'not found' });
      }

      // --- Bitbucket Cloud ----------------------------------------------------------------------------------------
      if (path.startsWith('/2.0/')) {
        const basicOk = auth === `Basic ${Buffer.from(`${bbUser}:${token}`).toString('base64')}`;
        if (!basicOk && auth !== `Bearer ${token}` && !bbBearerValid(auth)) return send(res, 401, { type: 'error', error: { message: 'Access token expired or invalid' } });
        if (get && path === '/2.0/user') return send(res, 200, { type: 'user', username: bbUser, display_name: 'Wharf bot', account_id: '557058:wharf' });
        if (get && (m = /^\/2\.0\/repositories\/([^/]+)$/.exec(path))) {
          if (m[1] !== workspace) return send(res, 404, { type: 'error', error: { message: 'No workspace with identifier' } });
          const values = repos.map((r) => ({
            type: 'repository', full_name: r.fullName, is_private: true, mainbranch: { type: 'branch', name: 'main' },
            links: { clone: [{ name: 'https', href: r.cloneUrl.replace(/^https:\/\//, `https://${bbUser}@`) }, { name: 'ssh', href: `git@bitbucket.org:${r.fullName}.git` }] },
          }));
          return send(res, 200, { size: values.length, page: 1, pagelen: 100, values });
        }
        if (get && (m = /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/refs\/branches$/.exec(path))) {
          const r = branchesOf(`${m[1]}/${m[2]}`);
          if (!r) return send(res, 404, { type: 'error', error: { message: 'Repository not found' } });
          return send(res, 200, { size: 1, page: 1, pagelen: 100, values: [{ type: 'branch', name: 'main', target: { type: 'commit', hash: r.commit } }] });
        }
        if (post && (m = /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/commit\/([0-9a-f]{40})\/statuses\/build\/?$/.exec(path))) {
          const b = body as { key?: string; state?: string; url?: string };
          if (!b?.key || !b.url || !['INPROGRESS', 'SUCCESSFUL', 'FAILED', 'STOPPED'].includes(b.state ?? '')) return send(res, 400, { type: 'error', error: { message: 'key, state and url are required' } });
          return send(res, 201, { type: 'build', key: b.key, state: b.state, url: b.url });
        }
        return send(res, 404, { type: 'error', error: { message: 'Resource not found' } });
      }
      return send(res, 404, { message: 'Not Found' });
    });
  };

  const server: Server = createServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const caPem = readFileSync(caFile, 'utf8');
  return {
    url: `https://127.0.0.1:${port}`,
    caFile,
    caPem,
    github: { appId, installationId, privateKeyPem, webhookSecret: `whs_${randomBytes(8).toString('hex')}` },
    token,
    bitbucket: { workspace, username: bbUser },
    requests,
    gitlabOAuth: oauth,
    bitbucketOAuth: bbOAuth,
    minted: () => minted,
    setRepositories: (r) => void (repos = r),
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
