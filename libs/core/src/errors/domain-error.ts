/** Domain errors: thrown by domain code, mapped to application/problem+json by the API's one filter. */
import type { FieldError } from '@wharf/contracts';

export type { FieldError };

export abstract class DomainError extends Error {
  abstract readonly status: number;
  constructor(
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  readonly status = 400;
  constructor(message: string, errors?: FieldError[]) {
    super('validation-failed', message, errors);
  }
  static field(pointer: string, code: string, detail: string): ValidationError {
    return new ValidationError(detail, [{ pointer, code, detail }]);
  }
}
export class UnauthenticatedError extends DomainError {
  readonly status = 401;
  constructor(message = 'Authentication required', code = 'unauthenticated') {
    super(code, message);
  }
}
export class ForbiddenError extends DomainError {
  readonly status = 403;
  constructor(message = 'You are not allowed to do this', code = 'forbidden') {
    super(code, message);
  }
}
export class NotFoundError extends DomainError {
  readonly status = 404;
  constructor(what = 'Resource') {
    super('not-found', `${what} not found`);
  }
}
export class ConflictError extends DomainError {
  readonly status = 409;
  constructor(message: string, code = 'conflict') {
    super(code, message);
  }
}
export class PreconditionFailedError extends DomainError {
  readonly status = 412;
  constructor(message = 'The resource was changed by someone else (version mismatch)') {
    super('precondition-failed', message);
  }
}
/** Well-formed but not acceptable in context (e.g. an Idempotency-Key reused with another request). */
export class UnprocessableError extends DomainError {
  readonly status = 422;
  constructor(message: string, code = 'unprocessable') {
    super(code, message);
  }
}
export class RateLimitedError extends DomainError {
  readonly status = 429;
  /** `retryAfterSeconds`: sent as the Retry-After header of the 429. */
  constructor(message = 'Too many attempts, try again later', readonly retryAfterSeconds = 60) {
    super('rate-limited', message);
  }
}
export class UnavailableError extends DomainError {
  readonly status = 503;
  constructor(message: string) {
    super('unavailable', message);
  }
}
