import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { NotFoundError, PreconditionFailedError, UUID_RE, ValidationError } from '@wharf/core';

/** Path ids: anything that is not a UUID cannot exist, so it is a 404 like an unknown id. */
@Injectable()
export class IdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID_RE.test(value)) throw new NotFoundError('Resource');
    return value.toLowerCase();
  }
}

/** `If-Match: "3"` → 3; absent → undefined. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!m) throw new PreconditionFailedError('If-Match must be the resource version, e.g. "3"');
  return Number(m[1]);
}

/** Rejects NUL characters anywhere in a JSON body or query (PostgreSQL cannot store them), naming the field. */
export function findNul(value: unknown, pointer = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? pointer || '/' : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = findNul(value[i], `${pointer}/${i}`);
      if (r) return r;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) return `${pointer}/${k.replace(/\u0000/g, '')}`;
      const r = findNul(v, `${pointer}/${k}`);
      if (r) return r;
    }
  }
  return null;
}

/**
 * Global: checks what the client sent (body, query, path and header parameters); not the values of custom parameter
 * decorators (the authenticated principal), which come from the server and would cost a walk over the caller's ability
 * on every request.
 */
@Injectable()
export class NulPipe implements PipeTransform {
  transform(value: unknown, metadata?: ArgumentMetadata): unknown {
    if (metadata?.type === 'custom') return value;
    const at = findNul(value);
    if (at) throw ValidationError.field(at, 'nul-character', 'text must not contain NUL characters');
    return value;
  }
}

/** `?removeVolumes=true|false` on a delete (absent → false); anything else is a 400 naming the field. */
export function parseRemoveVolumes(value: unknown): boolean {
  if (value === undefined) return false;
  if (value !== 'true' && value !== 'false') throw ValidationError.field('/removeVolumes', 'type', 'removeVolumes must be true or false');
  return value === 'true';
}
