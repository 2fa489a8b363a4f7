import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';

/** Claims of a test account at the identity provider (the login name is the account id). */
export interface TestAccount {
  sub: string;
  email: string;
  email_verified: boolean;
  name: string;
  groups?: string[];
}

export interface TestIdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, TestAccount>;
  close: () => Promise<void>;
}

/** A free TCP port on 127.0.0.1 (to start Wharf on a port known before it boots, for WHARF_PUBLIC_URL). */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

interface ProviderLike {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderCtor = new (issuer: string, config: Record<string, unknown>) => ProviderLike;

/**
 * A real, certified OpenID provider (`oidc-provider` 9) in the test process on 127.0.0.1 and a random port, with one
 * confidential client registered for `redirectUri`. Sign-in uses the provider's devInteractions (any password); the
 * login name selects the account. ID tokens carry the email/name/groups claims (`conformIdTokenClaims: false`).
 */
export async function startIdentityProvider(redirectUri: string, accounts: TestAccount[]): Promise<TestIdentityProvider> {
  // The provider announces on the console that Node 20 is unsupported (it works) and that devInteractions are for
  // development only: both expected here.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => (String(args[0]).startsWith('oidc-provider') ? undefined : warn(...args));
  const { default: Provider } = (await import('oidc-provider' as string)) as { default: ProviderCtor };
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server: Server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const clientId = 'wharf-test';
  const clientSecret = `idp-secret-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
  const byId = new Map(accounts.map((a) => [a.sub, a]));
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    conformIdTokenClaims: false,
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
    pkce: { required: () => true },
    findAccount: (_ctx: unknown, id: string) => {
      const a = byId.get(id);
      if (!a) return undefined;
      return { accountId: id, claims: () => ({ ...a }) };
    },
    // Skip the consent screen: every grant for the test client covers what it asks for.
    loadExistingGrant: async (ctx: { oidc: { session: { accountId?: string; grantIdFor(c: string): string | undefined }; client: { clientId: string }; params: { scope?: string }; provider: { Grant: new (x: object) => { addOIDCScope(s: string): void; addOIDCClaims(c: string[]): void; save(): Promise<string> } } } }) => {
      const { session, client, params, provider: p } = ctx.oidc;
      if (!session.accountId) return undefined;
      const grant = new p.Grant({ accountId: session.accountId, clientId: client.clientId });
      grant.addOIDCScope(params.scope ?? 'openid');
      grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
      await grant.save();
      return grant;
    },
  });
  console.warn = warn;
  handler = provider.callback();
  return {
    issuer,
    clientId,
    clientSecret,
    accounts: byId,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A tiny browser: follows redirects by hand, keeps cookies per host (paths ignored), submits the provider's forms. */
export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  setCookie(host: string, name: string, value: string): void {
    const jar = this.jar.get(host) ?? new Map<string, string>();
    this.jar.set(host, jar);
    jar.set(name, value);
  }

  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name);
  }

  async request(url: string, init: { method?: string; body?: URLSearchParams } = {}): Promise<Response> {
    const u = new URL(url);
    const cookies = this.jar.get(u.host);
    const headers: Record<string, string> = {};
    if (cookies?.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(u, { method: init.method ?? 'GET', headers, body: init.body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) this.store(u.host, line);
    return res;
  }

  private store(host: string, line: string): void {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const jar = this.jar.get(host) ?? new Map<string, string>();
    this.jar.set(host, jar);
    const expired = attrs.some((a) => /^\s*expires=/i.test(a) && new Date(a.split('=')[1]).getTime() < Date.now()) || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
    if (expired) jar.delete(name);
    else jar.set(name, value);
  }

  /**
   * Follows redirects from `url`, signing in at the provider's login form as `login` when it appears, until a response
   * that is not a redirect or until `stop` says so for a redirect target (e.g. Wharf's callback URL). Returns every hop.
   */
  async follow(url: string, opts: { login?: string; stop?: (location: string) => boolean; maxHops?: number } = {}): Promise<{ hops: string[]; last: Response; lastUrl: string }> {
    const hops: string[] = [url];
    let current = url;
    let res = await this.request(current);
    for (let i = 0; i < (opts.maxHops ?? 20); i++) {
      if (res.status >= 300 && res.status < 400) {
        const next = new URL(res.headers.get('location')!, current).href;
        if (opts.stop?.(next)) return { hops: [...hops, next], last: res, lastUrl: current };
        current = next;
        hops.push(current);
        res = await this.request(current);
        continue;
      }
      if (res.status === 200 && (res.headers.get('content-type') ?? '').includes('text/html')) {
        const html = await res.text();
        const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
        const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
        if (action && prompt) {
          const body = new URLSearchParams({ prompt });
          if (prompt === 'login') {
            body.set('login', opts.login ?? '');
            body.set('password', 'any password');
          }
          current = new URL(action.replace(/&amp;/g, '&'), current).href;
          hops.push(`POST ${current}`);
          res = await this.request(current, { method: 'POST', body });
          continue;
        }
        return { hops, last: new Response(html, { status: res.status, headers: res.headers }), lastUrl: current };
      }
      return { hops, last: res, lastUrl: current };
    }
    throw new Error(`too many redirects: ${hops.join(' → ')}`);
  }
}
