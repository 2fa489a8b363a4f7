import { StringDecoder } from 'node:string_decoder';
import { decodeBuildkitStatus } from './buildkit-wire';

/**
 * Reads the JSON progress stream of `POST /build` (one JSON message per line: `{"stream": "…"}`, `{"status": …}`,
 * `{"aux": {"ID": "sha256:…"}}`, `{"error": "…", "errorDetail": {"message": "…"}}`) into log lines.
 *
 * Chunks may split a message anywhere; `stream` text arrives in pieces (a step header and its newline come separately),
 * so text is buffered until a newline. Lines and buffers are bounded so a hostile build cannot exhaust memory.
 */

/** Longest log line handed on (longer lines are cut and marked). */
export const MAX_BUILD_LOG_LINE = 8 * 1024;
/** How many output lines of the current step are kept for the failure message. */
export const BUILD_OUTPUT_TAIL = 20;
/** A message without a newline longer than this is treated as a line of its own (not JSON). */
const MAX_PENDING = 1024 * 1024;

export interface BuildProgressState {
  /** From `aux.ID` (classic builder: the built image). */
  imageId?: string;
  /** The engine's error message (`errorDetail.message`, else `error`). */
  error?: string;
  /** The step being run (`Step 2/4 : RUN make`), when the builder announced one. */
  step?: string;
  /** The last output lines of the current step (not counting the step header). */
  output: string[];
}

export class BuildProgressParser {
  readonly state: BuildProgressState = { output: [] };
  private pending = '';
  private streamText = '';
  private readonly decoder = new StringDecoder('utf8');
  /** BuildKit: vertices already announced / reported cached, partial log text per vertex. */
  private readonly announced = new Set<string>();
  private readonly reportedCached = new Set<string>();
  private readonly vertexText = new Map<string, string>();

  constructor(private readonly onLine: (line: string) => void) {}

  /** Feeds a chunk of the response body. */
  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const raw = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      this.message(raw);
    }
    if (this.pending.length > MAX_PENDING) {
      const raw = this.pending;
      this.pending = '';
      this.message(raw);
    }
  }

  /** The body ended: whatever is still buffered is handled. */
  end(): BuildProgressState {
    this.pending += this.decoder.end();
    if (this.pending.trim()) this.message(this.pending);
    this.pending = '';
    for (const rest of this.vertexText.values()) if (rest.trim()) this.emit(stripAnsi(rest).trimEnd());
    this.vertexText.clear();
    this.flushStream(true);
    return this.state;
  }

  private message(raw: string): void {
    const text = raw.trim();
    if (!text) return;
    for (const part of splitConcatenatedJson(text)) {
      let msg: unknown;
      try {
        msg = JSON.parse(part);
      } catch {
        this.emit(part);
        continue;
      }
      if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
        this.emit(part);
        continue;
      }
      this.handle(msg as Record<string, unknown>);
    }
  }

  private handle(msg: Record<string, unknown>): void {
    if (msg.id === 'moby.buildkit.trace' && typeof msg.aux === 'string') {
      this.trace(msg.aux);
      return;
    }
    if (typeof msg.stream === 'string') {
      this.streamText += msg.stream;
      this.flushStream(false);
    }
    if (typeof msg.status === 'string' && msg.progress === undefined) {
      const id = typeof msg.id === 'string' ? `${msg.id}: ` : '';
      this.emit(`${id}${msg.status}`);
    }
    const aux = msg.aux;
    if (aux && typeof aux === 'object' && typeof (aux as { ID?: unknown }).ID === 'string') {
      this.state.imageId = (aux as { ID: string }).ID;
    }
    const detail = msg.errorDetail as { message?: unknown } | undefined;
    const error = typeof detail?.message === 'string' && detail.message ? detail.message : typeof msg.error === 'string' ? msg.error : undefined;
    if (error !== undefined) {
      this.flushStream(true);
      this.state.error = error;
      this.emit(`ERROR: ${error}`, false);
    }
  }

  /** A BuildKit progress message: steps as they start, cached steps, their output, errors and warnings. */
  private trace(aux: string): void {
    let status;
    try {
      status = decodeBuildkitStatus(aux);
    } catch {
      return;
    }
    for (const v of status.vertexes) {
      if (!v.name || v.name.startsWith('[internal]')) continue;
      if ((v.started || v.completed) && !this.announced.has(v.digest)) {
        this.announced.add(v.digest);
        if (/^\[(?:[\w.-]+ )?\d+\/\d+\] /.test(v.name)) {
          this.state.step = cut(v.name);
          this.state.output = [];
        }
        this.emit(stripAnsi(v.name), false);
      }
      if (v.completed && v.cached && !this.reportedCached.has(v.digest)) {
        this.reportedCached.add(v.digest);
        this.emit(`CACHED ${stripAnsi(v.name)}`, false);
      }
      if (v.error) this.emit(`ERROR: ${stripAnsi(v.error)}`, false);
    }
    for (const log of status.logs) {
      const text = (this.vertexText.get(log.vertex) ?? '') + log.msg;
      const lines = text.split('\n');
      const rest = lines.pop() ?? '';
      this.vertexText.set(log.vertex, rest.length > MAX_BUILD_LOG_LINE ? '' : rest);
      if (rest.length > MAX_BUILD_LOG_LINE) lines.push(rest);
      for (const raw of lines) {
        const parts = stripAnsi(raw).split('\r').filter((p) => p.length > 0);
        const line = (parts[parts.length - 1] ?? '').replace(/\s+$/, '');
        if (line) this.emit(line);
      }
    }
    for (const w of status.warnings) this.emit(`WARNING: ${stripAnsi(w)}`, false);
  }

  private flushStream(all: boolean): void {
    let nl: number;
    while ((nl = this.streamText.indexOf('\n')) >= 0) {
      const line = this.streamText.slice(0, nl);
      this.streamText = this.streamText.slice(nl + 1);
      this.streamLine(line);
    }
    if (all || this.streamText.length > MAX_BUILD_LOG_LINE) {
      const rest = this.streamText;
      this.streamText = '';
      if (rest.trim()) this.streamLine(rest);
    }
  }

  private streamLine(raw: string): void {
    // A carriage return redraws the line (progress bars): keep what was drawn last.
    const parts = stripAnsi(raw).split('\r').filter((p) => p.length > 0);
    const line = (parts[parts.length - 1] ?? '').replace(/\s+$/, '');
    if (!line) return;
    const step = /^Step \d+\/\d+ : /.exec(line);
    if (step) {
      this.state.step = cut(line);
      this.state.output = [];
      this.emit(line, false);
      return;
    }
    this.emit(line);
  }

  private emit(line: string, asOutput = true): void {
    const out = cut(line);
    if (asOutput) {
      this.state.output.push(out);
      if (this.state.output.length > BUILD_OUTPUT_TAIL) this.state.output.shift();
    }
    this.onLine(out);
  }
}

/** Terminal escape sequences (colours the classic builder puts around a step's stderr, cursor movement). */
const ANSI = /\u001b\[[0-9;?]*[ -\/]*[@-~]|\u001b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

function cut(line: string): string {
  return line.length > MAX_BUILD_LOG_LINE ? `${line.slice(0, MAX_BUILD_LOG_LINE)}… [cut]` : line;
}

/** `{"a":1}{"b":2}` (messages written without a separator) → two texts; anything else is returned whole. */
export function splitConcatenatedJson(text: string): string[] {
  if (!text.startsWith('{') || !text.includes('}{')) return [text];
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        out.push(text.slice(start, i + 1));
        start = i + 1;
      }
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out.map((s) => s.trim()).filter(Boolean);
}
