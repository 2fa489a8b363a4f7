import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDto } from '../auth/auth.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (problem+json with the offending fields)',
  401: 'Not authenticated',
  403: 'Not allowed',
  404: 'Not found, or outside your organizations',
  409: 'Conflict with the current state',
  412: 'If-Match version is stale',
  413: 'The request body is larger than the limit',
  415: 'The request body is not of a media type the route takes',
  422: 'Not acceptable in context (e.g. an Idempotency-Key already used with another request)',
  429: 'Too many attempts',
  503: 'A component this needs (database, Redis, the worker) is unavailable',
};

/** Documents the problem+json error responses of a route (or of every route of a controller). */
export const ApiErrors = (...statuses: number[]): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((s) => ApiResponse({
      status: s,
      description: DESCRIPTIONS[s],
      content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } },
      ...(s === 429 ? { headers: { 'Retry-After': { description: 'Seconds until the limit window ends', schema: { type: 'integer' } } } } : {}),
    })),
  );
