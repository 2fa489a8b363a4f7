/** The value of one cookie from `document.cookie`, or null. */
export function readCookie(cookies: string, name: string): string | null {
  for (const part of cookies.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return null;
}

export const CSRF_COOKIE = 'wharf_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';
