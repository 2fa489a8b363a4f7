/**
 * `.env` text in and out, with the line number of every line that cannot be used. dotenv's own `parse` is not used:
 * it silently drops lines it cannot read (the editor must name them) and its module needs Node's fs/path/os/crypto.
 * Accepted: `KEY=value`, `export KEY=value`, `# comments`, blank lines, 'single' (literal) and "double" quoted values
 * (`\n`, `\"`, `\\` escapes; may span lines), and ` # comment` after an unquoted value.
 */
export const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export interface EnvEntry { key: string; value: string; line: number }
export interface EnvLineError { line: number; message: string }
export interface ParsedEnv { entries: EnvEntry[]; errors: EnvLineError[] }

export function parseEnv(text: string): ParsedEnv {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const entries: EnvEntry[] = [];
  const errors: EnvLineError[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i].trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const body = raw.replace(/^export\s+/, '');
    const eq = body.indexOf('=');
    if (eq < 0) {
      errors.push({ line: lineNo, message: 'expected KEY=value' });
      continue;
    }
    const key = body.slice(0, eq).trim();
    let rest = body.slice(eq + 1).trim();
    if (!ENV_KEY_RE.test(key)) {
      errors.push({ line: lineNo, message: `"${key.slice(0, 40)}" is not a valid key (letters, digits and "_", not starting with a digit, at most 128)` });
      continue;
    }
    let value: string;
    const q = rest[0];
    if (q === '"' || q === "'") {
      // A quoted value may continue on the next lines until its closing quote.
      let end = closingQuote(rest, q);
      while (end < 0 && i + 1 < lines.length) {
        i++;
        rest += `\n${lines[i]}`;
        end = closingQuote(rest, q);
      }
      if (end < 0) {
        errors.push({ line: lineNo, message: `the ${q === '"' ? 'double' : 'single'} quote is never closed` });
        continue;
      }
      const inner = rest.slice(1, end);
      const after = rest.slice(end + 1).trim();
      if (after !== '' && !after.startsWith('#')) {
        errors.push({ line: lineNo, message: 'unexpected text after the closing quote' });
        continue;
      }
      value = q === '"' ? inner.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c)) : inner;
    } else {
      value = rest.replace(/\s+#.*$/, '');
    }
    if (value.includes('\u0000')) {
      errors.push({ line: lineNo, message: 'values cannot contain NUL characters' });
      continue;
    }
    const prior = seen.get(key);
    if (prior !== undefined) {
      errors.push({ line: lineNo, message: `${key} is already set on line ${prior}` });
      continue;
    }
    seen.set(key, lineNo);
    entries.push({ key, value, line: lineNo });
  }
  return { entries, errors };
}

function closingQuote(s: string, q: string): number {
  for (let j = 1; j < s.length; j++) {
    if (q === '"' && s[j] === '\\') {
      j++;
      continue;
    }
    if (s[j] === q) return j;
  }
  return -1;
}

/** One `KEY=value` line per variable; values that need it are double-quoted with escapes, so parseEnv reads them back. */
export function formatEnv(vars: ReadonlyArray<{ key: string; value: string }>): string {
  return vars.map(({ key, value }) => `${key}=${/^[^\s"'#\\]*$/.test(value) ? value : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`}`).join('\n') + (vars.length ? '\n' : '');
}
