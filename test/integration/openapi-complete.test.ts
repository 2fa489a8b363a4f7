import { buildOpenApiDocument } from '../../scripts/openapi';

/**
 * The OpenAPI document is generated from the code and complete: every operation says what it answers on success (a
 * schema, or explicitly no body), documents its problem+json errors, has a summary or operationId, and every $ref
 * resolves. Fix a failure here by adding @ApiOkResponse/@ApiCreatedResponse (with a DTO class), @HttpCode(204) or
 * @ApiErrors to the route, then `npm run openapi`.
 */
type Json = Record<string, unknown>;
interface Operation {
  summary?: string;
  operationId?: string;
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Json }>; headers?: Json }>;
}

/**
 * Operations that cannot fail with a client error, so they document no 4xx: the health probes, the public setup status,
 * and the single sign-on redirects (which answer every error with a redirect to /login?error=<code>).
 */
const NO_CLIENT_ERRORS = ['GET /health/live', 'GET /health/ready', 'GET /api/v1/auth/setup', 'GET /api/v1/auth/oidc/callback', 'GET /api/v1/auth/oidc/{providerId}/start',
  // A Git provider's OAuth redirect URI answers every outcome with a redirect to the portal (oauth=failed&reason=…).
  'GET /api/v1/git-providers/oauth/callback'];

/** Media types whose body is a stream or file rather than a JSON schema. */
const STREAM_TYPES = ['text/event-stream', 'text/csv', 'application/x-ndjson', 'text/plain'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

describe('OpenAPI document completeness', () => {
  let doc: Json;
  let operations: Array<{ id: string; op: Operation }>;

  beforeAll(async () => {
    doc = JSON.parse(await buildOpenApiDocument());
    const paths = doc.paths as Record<string, Record<string, Operation>>;
    operations = Object.entries(paths).flatMap(([path, item]) =>
      Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([m, op]) => ({ id: `${m.toUpperCase()} ${path}`, op })));
  });

  it('has operations (sanity)', () => {
    expect(operations.length).toBeGreaterThan(50);
  });

  it('every operation documents its success answer: a schema, an explicit empty 202/204, a redirect, or a stream/file', () => {
    const missing: string[] = [];
    for (const { id, op } of operations) {
      const responses = op.responses ?? {};
      const ok = Object.entries(responses).filter(([code]) => /^2\d\d$/.test(code));
      const described = ok.some(([code, r]) => {
        const content = r.content ?? {};
        if (Object.keys(content).length === 0) return code === '204' || code === '202';
        return Object.entries(content).every(([type, media]) => STREAM_TYPES.includes(type) || (media.schema !== undefined && Object.keys(media.schema).length > 0));
      });
      const redirect = Object.entries(responses).some(([code, r]) => /^30[23]$/.test(code) && !!r.description);
      if (!described && !redirect) missing.push(`${id} (${Object.keys(responses).join(', ') || 'no responses'})`);
    }
    expect(missing).toEqual([]);
  });

  it('no JSON success answer is an untyped empty object', () => {
    const vague: string[] = [];
    for (const { id, op } of operations) {
      for (const [code, r] of Object.entries(op.responses ?? {})) {
        if (!/^2\d\d$/.test(code)) continue;
        const schema = r.content?.['application/json']?.schema;
        if (schema && !schema.$ref && !schema.type && !schema.allOf && !schema.oneOf && !schema.anyOf) vague.push(`${id} ${code}`);
      }
    }
    expect(vague).toEqual([]);
  });

  it('every operation documents at least one 4xx answer as application/problem+json', () => {
    const missing: string[] = [];
    for (const { id, op } of operations) {
      const problems = Object.entries(op.responses ?? {}).filter(([code, r]) => /^4\d\d$/.test(code) && r.content?.['application/problem+json']?.schema?.$ref === '#/components/schemas/ProblemDto');
      if (problems.length === 0 && !NO_CLIENT_ERRORS.includes(id)) missing.push(id);
    }
    expect(missing).toEqual([]);
    // The exemptions are real operations (a renamed route must not silently keep its exemption).
    expect(NO_CLIENT_ERRORS.filter((x) => !operations.some(({ id }) => id === x))).toEqual([]);
  });

  it('every operation has a summary or an operationId, and operationIds are unique', () => {
    expect(operations.filter(({ op }) => !op.summary && !op.operationId).map(({ id }) => id)).toEqual([]);
    const ids = operations.map(({ op }) => op.operationId).filter(Boolean);
    expect(ids.length).toBe(new Set(ids).size);
  });

  it('every $ref resolves', () => {
    const broken: string[] = [];
    const resolve = (ref: string): unknown => {
      if (!ref.startsWith('#/')) return undefined;
      return ref.slice(2).split('/').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Json)[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), doc);
    };
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((x, i) => walk(x, `${at}/${i}`));
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node as Json)) {
        if (k === '$ref' && (typeof v !== 'string' || resolve(v) === undefined)) broken.push(`${at}: ${String(v)}`);
        else walk(v, `${at}/${k}`);
      }
    };
    walk(doc, '#');
    expect(broken).toEqual([]);
    // And the walk did see references (the document is not trivially empty of them).
    expect(JSON.stringify(doc)).toContain('#/components/schemas/ProblemDto');
  });
});
