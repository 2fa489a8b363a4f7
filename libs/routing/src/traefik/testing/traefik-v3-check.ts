/**
 * Structural checks of rendered Traefik v3 file-provider configs, for tests (Traefik itself cannot run on these
 * machines). Three parts:
 *  - TRAEFIK_V3_DYNAMIC_SCHEMA: a focused JSON schema (draft-07, for ajv) of the dynamic configuration keys Wharf
 *    uses — http.routers, http.services (loadBalancer), http.middlewares (the seven kinds Wharf renders) and
 *    tls.certificates — written from Traefik v3's reference; unknown keys are refused everywhere, like Traefik's own
 *    decoder refuses unknown fields in a file-provider file;
 *  - checkReferences: every router's service and middlewares exist, entry points are web/websecure;
 *  - parseRule: a parser of Traefik v3's rule grammar (matchers with backtick/quoted arguments, &&, ||, !, brackets).
 */

const str = { type: 'string', minLength: 1 } as const;
const strList = { type: 'array', items: str, minItems: 1 } as const;
const strict = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, required, additionalProperties: false });
const middleware = (kind: string, body: Record<string, unknown>) => strict({ [kind]: body }, [kind]);

export const TRAEFIK_V3_DYNAMIC_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    http: strict({
      routers: {
        type: 'object',
        additionalProperties: strict(
          {
            entryPoints: strList,
            rule: str,
            ruleSyntax: { enum: ['v2', 'v3'] },
            priority: { type: 'integer', minimum: 0, maximum: 2147483647 },
            middlewares: { type: 'array', items: str },
            service: str,
            tls: strict({
              options: str,
              certResolver: str,
              domains: { type: 'array', items: strict({ main: str, sans: { type: 'array', items: str } }, ['main']) },
            }),
          },
          ['rule', 'service'],
        ),
      },
      services: {
        type: 'object',
        additionalProperties: strict(
          {
            loadBalancer: strict(
              {
                servers: { type: 'array', minItems: 1, items: strict({ url: { type: 'string', pattern: '^https?://[^\\s/]+(:[0-9]{1,5})?/?$' }, weight: { type: 'integer', minimum: 0 } }, ['url']) },
                passHostHeader: { type: 'boolean' },
                serversTransport: str,
              },
              ['servers'],
            ),
          },
          ['loadBalancer'],
        ),
      },
      middlewares: {
        type: 'object',
        additionalProperties: {
          oneOf: [
            middleware('redirectScheme', strict({ scheme: { enum: ['http', 'https'] }, port: str, permanent: { type: 'boolean' } }, ['scheme'])),
            middleware('redirectRegex', strict({ regex: str, replacement: str, permanent: { type: 'boolean' } }, ['regex', 'replacement'])),
            middleware('stripPrefix', strict({ prefixes: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^/' } } }, ['prefixes'])),
            middleware('basicAuth', strict({
              users: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[^:\\s]+:\\S+$' } },
              usersFile: str,
              realm: str,
              headerField: str,
              removeHeader: { type: 'boolean' },
            })),
            middleware('headers', strict({
              customRequestHeaders: { type: 'object', additionalProperties: { type: 'string' } },
              customResponseHeaders: { type: 'object', additionalProperties: { type: 'string' } },
            })),
            middleware('ipAllowList', strict({
              sourceRange: strList,
              ipStrategy: strict({ depth: { type: 'integer', minimum: 0 }, excludedIPs: strList }),
              rejectStatusCode: { type: 'integer' },
            }, ['sourceRange'])),
            middleware('rateLimit', strict({
              average: { type: 'integer', minimum: 0 },
              burst: { type: 'integer', minimum: 1 },
              period: { type: 'string', pattern: '^[0-9]+(ns|us|µs|ms|s|m|h)$' },
              sourceCriterion: { type: 'object' },
            })),
          ],
        },
      },
    }),
    tls: strict({
      certificates: {
        type: 'array',
        items: strict({ certFile: { type: 'string', pattern: '^/' }, keyFile: { type: 'string', pattern: '^/' }, stores: strList }, ['certFile', 'keyFile']),
      },
    }),
  },
} as const;

export type RuleNode =
  | { kind: 'matcher'; name: string; args: string[] }
  | { kind: 'not'; node: RuleNode }
  | { kind: 'and' | 'or'; left: RuleNode; right: RuleNode };

/** Traefik v3 HTTP matchers. */
const MATCHERS = new Set(['Host', 'HostRegexp', 'Path', 'PathPrefix', 'PathRegexp', 'Method', 'Header', 'HeaderRegexp', 'Query', 'QueryRegexp', 'ClientIP']);

/** Parses a Traefik v3 rule; throws with the position on anything the grammar does not allow. */
export function parseRule(rule: string): RuleNode {
  let i = 0;
  const ws = () => {
    while (rule[i] === ' ') i++;
  };
  const fail = (what: string): never => {
    throw new Error(`rule syntax: ${what} at ${i} in ${JSON.stringify(rule)}`);
  };
  const literal = (): string => {
    const quote = rule[i];
    if (quote !== '`' && quote !== '"') fail('expected a quoted argument');
    const end = rule.indexOf(quote, i + 1);
    if (end < 0) fail('unterminated argument');
    const value = rule.slice(i + 1, end);
    i = end + 1;
    return value;
  };
  const primary = (): RuleNode => {
    ws();
    if (rule[i] === '!') {
      i++;
      return { kind: 'not', node: primary() };
    }
    if (rule[i] === '(') {
      i++;
      const node = or();
      ws();
      if (rule[i] !== ')') fail('expected )');
      i++;
      return node;
    }
    const m = /^[A-Za-z]+/.exec(rule.slice(i));
    if (!m) return fail('expected a matcher');
    const name = m[0];
    if (!MATCHERS.has(name)) fail(`unknown matcher ${name}`);
    i += name.length;
    if (rule[i] !== '(') fail('expected (');
    i++;
    const args: string[] = [];
    ws();
    while (rule[i] !== ')') {
      args.push(literal());
      ws();
      if (rule[i] === ',') {
        i++;
        ws();
      } else if (rule[i] !== ')') fail('expected , or )');
    }
    i++;
    if (args.length === 0) fail(`${name} needs an argument`);
    return { kind: 'matcher', name, args };
  };
  const and = (): RuleNode => {
    let left = primary();
    ws();
    while (rule.startsWith('&&', i)) {
      i += 2;
      left = { kind: 'and', left, right: primary() };
      ws();
    }
    return left;
  };
  const or = (): RuleNode => {
    let left = and();
    ws();
    while (rule.startsWith('||', i)) {
      i += 2;
      left = { kind: 'or', left, right: and() };
      ws();
    }
    return left;
  };
  const node = or();
  ws();
  if (i !== rule.length) fail('unexpected text after the rule');
  return node;
}

/** All matchers of a parsed rule, in order. */
export function matchersOf(node: RuleNode): { name: string; args: string[] }[] {
  if (node.kind === 'matcher') return [{ name: node.name, args: node.args }];
  if (node.kind === 'not') return matchersOf(node.node);
  return [...matchersOf(node.left), ...matchersOf(node.right)];
}

/** Cross-references a config the schema cannot: services and middlewares named by routers exist; known entry points. */
export function checkReferences(config: { http?: { routers?: Record<string, { service: string; middlewares?: string[]; entryPoints?: string[] }>; services?: Record<string, unknown>; middlewares?: Record<string, unknown> } }): string[] {
  const problems: string[] = [];
  const http = config.http ?? {};
  for (const [name, r] of Object.entries(http.routers ?? {})) {
    if (!(r.service in (http.services ?? {}))) problems.push(`router ${name}: service ${r.service} is not defined`);
    for (const m of r.middlewares ?? []) if (!(m in (http.middlewares ?? {}))) problems.push(`router ${name}: middleware ${m} is not defined`);
    for (const e of r.entryPoints ?? []) if (e !== 'web' && e !== 'websecure') problems.push(`router ${name}: unknown entry point ${e}`);
  }
  for (const name of [...Object.keys(http.routers ?? {}), ...Object.keys(http.services ?? {}), ...Object.keys(http.middlewares ?? {})]) {
    if (!/^[a-z0-9-]+$/.test(name)) problems.push(`name ${JSON.stringify(name)} is not id-derived`);
  }
  return problems;
}
