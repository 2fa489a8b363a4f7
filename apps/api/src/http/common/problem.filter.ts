import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, FieldError, RateLimitedError } from '@wharf/core';
import type { Problem } from '@wharf/contracts';

const TYPE_BASE = 'https://wharf.dev/problems/';

const HTTP_CODES: Record<number, string> = {
  400: 'bad-request', 401: 'unauthenticated', 403: 'forbidden', 404: 'not-found', 405: 'method-not-allowed',
  409: 'conflict', 412: 'precondition-failed', 413: 'payload-too-large', 415: 'unsupported-media-type', 429: 'rate-limited',
};


export function problem(status: number, code: string, detail: string, requestId: string | null, errors?: FieldError[]): Problem {
  return {
    type: TYPE_BASE + code,
    title: code.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase()),
    status,
    detail,
    code,
    requestId,
    ...(errors ? { errors } : {}),
  };
}

/** The one place where errors become application/problem+json. Unknown errors are 500 without internals. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request & { id?: string }>();
    const requestId = (req?.id as string | undefined) ?? null;
    let body: Problem;
    if (exception instanceof DomainError) {
      body = problem(exception.status, exception.code, exception.message, requestId, exception.errors);
    } else if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const r = exception.getResponse() as { message?: unknown; errors?: FieldError[] } | string;
      const detail = typeof r === 'string' ? r : Array.isArray(r.message) ? r.message.join('; ') : String(r.message ?? exception.message);
      body = problem(status, HTTP_CODES[status] ?? `http-${status}`, detail, requestId, typeof r === 'object' ? r.errors : undefined);
    } else if (isBodyParserError(exception)) {
      const status = exception.status;
      const code = status === 413 ? 'payload-too-large' : status === 415 ? 'unsupported-media-type' : 'malformed-body';
      body = problem(status, code, status === 413 ? 'Request body is too large' : 'Request body is not valid JSON', requestId);
    } else {
      this.logger.error({ err: exception, requestId }, 'unhandled error');
      body = problem(500, 'internal', 'An unexpected error occurred', requestId);
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    // Every 429 says when to come back.
    if (body.status === 429) res.setHeader('Retry-After', String(exception instanceof RateLimitedError ? exception.retryAfterSeconds : 60));
    res.status(body.status).type('application/problem+json').send(JSON.stringify(body));
  }
}

function isBodyParserError(e: unknown): e is { status: number; type: string } {
  return typeof e === 'object' && e !== null && typeof (e as { status?: unknown }).status === 'number' && typeof (e as { type?: unknown }).type === 'string';
}
