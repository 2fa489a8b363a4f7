/**
 * Generates the portal's API client from openapi.json: apps/admin/src/app/core/api/api-client.gen.ts, one Angular
 * injectable (HttpClient, so the auth interceptor applies) with one method per operation, named from its operationId
 * (`ApplicationsController_deploy` → `applicationsDeploy`). Parameters, bodies and answers are typed through
 * `operations` of schema.d.ts (openapi-typescript), so a wrong path parameter, query or body fails the type check.
 * Operations a browser opens itself (Server-Sent Events, file downloads, redirects) also get a `<name>Url(args)` helper.
 *   npm run openapi                                   regenerates openapi.json, schema.d.ts and this client
 *   node scripts/run-ts.js scripts/openapi-client.ts --check   exit 1 when the committed client is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CLIENT_FILE = join(__dirname, '..', 'apps', 'admin', 'src', 'app', 'core', 'api', 'api-client.gen.ts');
const DOCUMENT_FILE = join(__dirname, '..', 'openapi.json');

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

interface Ref { $ref: string }
interface SchemaObject { required?: string[]; properties?: Record<string, unknown> }
interface Parameter { name: string; in: 'path' | 'query' | 'header' | 'cookie'; required?: boolean }
interface MediaContent { [mediaType: string]: { schema?: SchemaObject | Ref } }
interface Operation {
  operationId?: string;
  summary?: string;
  parameters?: Array<Parameter | Ref>;
  requestBody?: { required?: boolean; content?: MediaContent } | Ref;
  responses?: Record<string, { content?: MediaContent } | Ref>;
}
export interface OpenApiDocument {
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components?: { schemas?: Record<string, SchemaObject | Ref>; parameters?: Record<string, Parameter>; requestBodies?: Record<string, unknown>; responses?: Record<string, unknown> };
}

const isRef = (x: unknown): x is Ref => typeof x === 'object' && x !== null && typeof (x as Ref).$ref === 'string';

/** Follows a local `#/components/...` reference (one level at a time, until a non-reference). */
function resolve<T>(doc: OpenApiDocument, x: T | Ref): T {
  let cur: unknown = x;
  for (let i = 0; i < 20 && isRef(cur); i++) {
    const parts = cur.$ref.replace(/^#\//, '').split('/');
    cur = parts.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
  }
  if (isRef(cur) || cur === undefined) throw new Error(`openapi-client: unresolvable reference ${JSON.stringify(x)}`);
  return cur as T;
}

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const identifier = (s: string) => s.replace(/[^A-Za-z0-9_$]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''));
const comment = (s: string) => s.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ').trim();

/** `ApplicationsController_deploy` → `applicationsDeploy`; without an operationId, from the method and the path. */
export function methodName(operationId: string | undefined, method: string, path: string): string {
  if (operationId) {
    const [head, ...rest] = operationId.split('_');
    const name = lowerFirst(identifier(head.replace(/Controller$/, ''))) + rest.map((r) => upperFirst(identifier(r))).join('');
    return /^[0-9]/.test(name) ? `op${upperFirst(name)}` : name;
  }
  const words = path.split('/').filter((p) => p && p !== 'api' && !/^v[0-9]+$/.test(p)).map((p) => (p.startsWith('{') ? `By${upperFirst(identifier(p.slice(1, -1)))}` : upperFirst(identifier(p))));
  return method + words.join('');
}

interface Planned {
  name: string;
  opKey: string;
  method: string;
  path: string;
  op: Operation;
}

/** The TypeScript source of the client for a document: deterministic (same document, same text). */
export function generateApiClient(doc: OpenApiDocument): string {
  const planned: Planned[] = [];
  for (const path of Object.keys(doc.paths).sort()) {
    for (const method of METHODS) {
      const op = doc.paths[path][method];
      if (!op) continue;
      if (!op.operationId) throw new Error(`openapi-client: ${method.toUpperCase()} ${path} has no operationId (schema.d.ts types are looked up by it)`);
      planned.push({ name: methodName(op.operationId, method, path), opKey: op.operationId, method, path, op });
    }
  }
  // Unique and stable names: the first by operationId keeps the plain name, later ones get a number.
  planned.sort((a, b) => (a.name === b.name ? (a.opKey < b.opKey ? -1 : 1) : a.name < b.name ? -1 : 1));
  const taken = new Set<string>(['http', 'op', 'url', 'constructor']);
  for (const p of planned) {
    let name = p.name;
    for (let n = 2; taken.has(name) || taken.has(`${name}Url`); n++) name = `${p.name}${n}`;
    p.name = name;
    taken.add(name);
    taken.add(`${name}Url`);
  }

  const out: string[] = [];
  out.push(
    '// Generated by scripts/openapi-client.ts from openapi.json (`npm run openapi`): do not edit.',
    '/* eslint-disable */',
    "import { HttpClient, HttpEvent, HttpHeaders, HttpParams, HttpResponse } from '@angular/common/http';",
    "import { inject, Injectable } from '@angular/core';",
    "import type { Observable } from 'rxjs';",
    "import type { operations } from './schema';",
    '',
    "/** What a call emits: the body (default), the whole response with `'response'` (e.g. to read an ETag), or every event with `'events'` (upload progress). */",
    "export type ApiObserve = 'body' | 'response' | 'events';",
    "export type ApiResult<O extends ApiObserve, T> = O extends 'response' ? HttpResponse<T> : O extends 'events' ? HttpEvent<T> : T;",
    'type Scalar = string | number | boolean;',
    'type QueryArg = { [name: string]: Scalar | readonly Scalar[] | null | undefined };',
    'type HeaderArg = { [name: string]: string | undefined };',
    'interface Args { path?: unknown; query?: QueryArg; headers?: HeaderArg; body?: unknown }',
    '',
    '/** The path with each `{name}` replaced by its parameter, encoded as one segment. */',
    'function fill(template: string, path: unknown): string {',
    '  const values = (path ?? {}) as { [name: string]: Scalar };',
    '  return template.replace(/\\{([^}]+)\\}/g, (_m, name: string) => encodeURIComponent(String(values[name])));',
    '}',
    '',
    'function toParams(query: QueryArg | undefined): HttpParams {',
    '  let params = new HttpParams();',
    '  for (const [k, v] of Object.entries(query ?? {})) {',
    '    if (v === undefined || v === null) continue;',
    '    for (const item of Array.isArray(v) ? v : [v]) params = params.append(k, String(item));',
    '  }',
    '  return params;',
    '}',
    '',
    'function toHeaders(headers: HeaderArg | undefined): HttpHeaders {',
    '  let h = new HttpHeaders();',
    '  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) h = h.set(k, v);',
    '  return h;',
    '}',
    '',
    '/** A URL with its query (for what the browser opens itself: EventSource, a download link, a redirect). */',
    'function withQuery(url: string, query: QueryArg | undefined): string {',
    '  const pairs: string[] = [];',
    '  for (const [k, v] of Object.entries(query ?? {})) {',
    '    if (v === undefined || v === null) continue;',
    '    for (const item of Array.isArray(v) ? v : [v]) pairs.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(item))}`);',
    '  }',
    "  return pairs.length ? `${url}?${pairs.join('&')}` : url;",
    '}',
    '',
    '/** The Wharf API, one method per operation of openapi.json. */',
    "@Injectable({ providedIn: 'root' })",
    'export class ApiClient {',
    '  private readonly http = inject(HttpClient);',
    '',
    '  /** One operation as a function (typed by its declaration): fills the path, sends the query, body and headers. */',
    "  private op<F>(method: string, template: string, text = false): F {",
    '    const call = (args: Args = {}, observe?: ApiObserve): Observable<unknown> => {',
    '      const url = fill(template, args.path);',
    '      const options = { body: args.body ?? null, params: toParams(args.query), headers: toHeaders(args.headers) };',
    "      if (text) return observe === 'response' ? this.http.request(method, url, { ...options, observe: 'response', responseType: 'text' }) : this.http.request(method, url, { ...options, responseType: 'text' });",
    "      if (observe === 'events') return this.http.request(method, url, { ...options, observe: 'events', reportProgress: true });",
    "      return observe === 'response' ? this.http.request(method, url, { ...options, observe: 'response' }) : this.http.request(method, url, options);",
    '    };',
    '    return call as F;',
    '  }',
    '',
    '  /** The URL of an operation the browser opens itself. */',
    '  private url<F>(template: string): F {',
    '    const url = (args: Args = {}): string => withQuery(fill(template, args.path), args.query);',
    '    return url as F;',
    '  }',
  );

  for (const p of planned) {
    const { op, opKey, method, path } = p;
    const T = `operations['${opKey}']`;
    const params = (op.parameters ?? []).map((x) => resolve<Parameter>(doc, x));
    const has = (where: Parameter['in']) => params.some((x) => x.in === where);
    const required = (where: Parameter['in']) => params.some((x) => x.in === where && x.required);

    const argLines: string[] = [];
    let argsRequired = false;
    if (has('path')) {
      argLines.push(`path: ${T}['parameters']['path'];`);
      argsRequired = true;
    }
    if (has('query')) {
      const req = required('query');
      argLines.push(req ? `query: NonNullable<${T}['parameters']['query']>;` : `query?: ${T}['parameters']['query'];`);
      argsRequired ||= req;
    }
    const body = op.requestBody ? resolve<{ required?: boolean; content?: MediaContent }>(doc, op.requestBody) : undefined;
    const jsonBody = body?.content?.['application/json'];
    // A raw body (an uploaded file): every media type is a binary string; the Blob's type is sent as Content-Type.
    const binaryBody = !!body && !jsonBody && Object.values(body.content ?? {}).every((m) => {
      const schema = m.schema ? resolve<SchemaObject & { type?: string; format?: string }>(doc, m.schema) : undefined;
      return schema?.type === 'string' && schema.format === 'binary';
    });
    if (body && !jsonBody && !binaryBody) throw new Error(`openapi-client: ${opKey} has a request body that is neither application/json nor binary`);
    if (binaryBody) {
      argLines.push('body: Blob;');
      argsRequired = true;
    }
    if (jsonBody) {
      // A body whose every property is optional may be left out (POST /auth/refresh, DELETE /projects/{id}).
      const schema = jsonBody.schema ? resolve<SchemaObject>(doc, jsonBody.schema) : undefined;
      const req = !!body?.required && !!schema?.required?.length;
      argLines.push(`body${req ? '' : '?'}: NonNullable<${T}['requestBody']>['content']['application/json'];`);
      argsRequired ||= req;
    }
    // Headers are typed by name but never required: the document marks every @Headers() parameter as required,
    // while the API treats them as optional (If-Match, Idempotency-Key, X-Confirm).
    if (has('header')) argLines.push(`headers?: Partial<NonNullable<${T}['parameters']['header']>>;`);

    const success = Object.keys(op.responses ?? {}).filter((c) => /^2\d\d$/.test(c)).sort()[0];
    const content = success ? resolve<{ content?: MediaContent }>(doc, op.responses![success]).content ?? {} : {};
    const json = 'application/json' in content;
    const text = !json && Object.keys(content).length > 0;
    const result = json ? `${T}['responses'][${success}]['content']['application/json']` : text ? 'string' : 'void';

    if (/['\\\n]/.test(path)) throw new Error(`openapi-client: unexpected character in path ${path}`);
    const argsDecl = argLines.length ? `args${argsRequired ? '' : '?'}: {\n    ${argLines.join('\n    ')}\n  }` : 'args?: {}';

    out.push('');
    out.push(`  /** ${method.toUpperCase()} ${path}${op.summary ? `: ${comment(op.summary)}` : ''} */`);
    out.push(`  readonly ${p.name}: <O extends ApiObserve = 'body'>(${argsDecl}, observe?: O) => Observable<ApiResult<O, ${result}>>`);
    out.push(`    = this.op('${method.toUpperCase()}', '${path}'${text ? ', true' : ''});`);

    // What the browser opens itself: an event stream or a file (2xx other than JSON only), or a redirect (3xx).
    const codes = Object.keys(op.responses ?? {});
    const opened = codes.some((c) => /^2\d\d$/.test(c) && Object.keys(resolve<{ content?: MediaContent }>(doc, op.responses![c]).content ?? {}).some((t) => t !== 'application/json'))
      || codes.some((c) => /^3\d\d$/.test(c));
    if (method === 'get' && opened) {
      const urlArgs = argLines.filter((l) => l.startsWith('path') || l.startsWith('query'));
      const urlRequired = has('path') || required('query');
      const decl = urlArgs.length ? `args${urlRequired ? '' : '?'}: {\n    ${urlArgs.join('\n    ')}\n  }` : 'args?: {}';
      out.push('');
      out.push(`  /** The URL of ${method.toUpperCase()} ${path}, for the browser to open (EventSource, a link or a redirect). */`);
      out.push(`  readonly ${p.name}Url: (${decl}) => string = this.url('${path}');`);
    }
  }
  out.push('}', '');
  return out.join('\n');
}

function main(): void {
  const doc = JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')) as OpenApiDocument;
  const text = generateApiClient(doc);
  if (process.argv.includes('--check')) {
    if (readFileSync(CLIENT_FILE, 'utf8') !== text) {
      console.error('api-client.gen.ts is stale: run `npm run openapi` and commit the result');
      process.exit(1);
    }
    return;
  }
  writeFileSync(CLIENT_FILE, text);
  console.log(`wrote ${CLIENT_FILE}`);
}

if (require.main === module) main();
