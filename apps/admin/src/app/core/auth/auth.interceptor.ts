import { DOCUMENT } from '@angular/common';
import { HttpErrorResponse, HttpInterceptorFn, HttpRequest } from '@angular/common/http';
import { inject } from '@angular/core';
import { catchError, switchMap, throwError } from 'rxjs';
import { CSRF_COOKIE, CSRF_HEADER, readCookie } from './cookies';
import { SessionRefresher } from './session-refresher';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** 401 codes that a fresh access token can cure (an expired cookie disappears, which reads as "unauthenticated"). */
const REFRESHABLE = new Set(['invalid-token', 'unauthenticated']);
/** Auth endpoints answer 401 for their own reasons (wrong password, TOTP needed): never refresh-and-retry those. */
const NO_RETRY = /\/api\/v1\/(auth\/|invitations\/accept)/;

/**
 * The portal's session lives in httpOnly cookies. On mutations the interceptor copies the readable `wharf_csrf` cookie
 * into `X-CSRF-Token`; when the access token has expired it refreshes once (POST /auth/refresh) and retries.
 */
export const authInterceptor: HttpInterceptorFn = (req, next) => {
  if (!req.url.startsWith('/api/')) return next(req);
  const doc = inject(DOCUMENT);
  const refresher = inject(SessionRefresher);
  const withCsrf = (r: HttpRequest<unknown>): HttpRequest<unknown> => {
    if (SAFE_METHODS.has(r.method)) return r;
    const token = readCookie(doc.cookie ?? '', CSRF_COOKIE);
    return token ? r.clone({ setHeaders: { [CSRF_HEADER]: token } }) : r;
  };
  return next(withCsrf(req)).pipe(
    catchError((err: unknown) => {
      const code = err instanceof HttpErrorResponse ? (err.error as { code?: unknown } | null)?.code : undefined;
      const refreshable = err instanceof HttpErrorResponse && err.status === 401 && typeof code === 'string' && REFRESHABLE.has(code);
      if (!refreshable || NO_RETRY.test(req.url)) return throwError(() => err);
      return refresher.refresh().pipe(
        catchError(() => throwError(() => err)),
        // The refresh set new cookies (access and CSRF): read the CSRF cookie again for the retry.
        switchMap(() => next(withCsrf(req))),
      );
    }),
  );
};
