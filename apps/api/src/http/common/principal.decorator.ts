import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { UnauthenticatedError } from '@wharf/core';
import type { Principal } from '@wharf/tenancy';
import type { AuthedRequest } from './auth.guard';

/** The authenticated caller, handed explicitly to commands and queries. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const p = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!p) throw new UnauthenticatedError();
  return p;
});

/** The caller if any (public routes). */
export const OptionalPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal | null => ctx.switchToHttp().getRequest<AuthedRequest>().principal ?? null);
