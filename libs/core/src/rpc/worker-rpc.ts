import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationShutdown, SetMetadata } from '@nestjs/common';
import Redis from 'ioredis';
import { DomainError, UnavailableError } from '../errors/domain-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { REDIS } from '../redis/redis';
import { newId } from '../util/ids';

export const RPC_HANDLER = 'wharf:rpc-handler';
/** Marks a worker method that answers short requests from the API (test connection, log tails). */
export const RpcHandler = (method: string): MethodDecorator => SetMetadata(RPC_HANDLER, method);

export interface RpcRequest {
  id: string;
  method: string;
  params: Record<string, unknown>;
  reply: string;
  alive: string;
  deadline: number;
}

export type RpcMessage = { result: unknown } | { chunk: unknown } | { end: true } | { error: { status: number; code: string; message: string } };

/** An error answered by the worker, re-raised in the API with its status and code. */
export class RemoteError extends DomainError {
  constructor(readonly status: number, code: string, message: string) {
    super(code, message);
  }
}

export const rpcKeys = (prefix: string) => ({
  requests: `${prefix}:rpc:requests`,
  reply: (id: string) => `${prefix}:rpc:reply:${id}`,
  alive: (id: string) => `${prefix}:rpc:alive:${id}`,
});

/**
 * The API's side of request/response with the worker through Redis lists: the API never talks to Docker itself.
 * A request waits in a list until a worker takes it; answers (or streamed chunks) come back on a per-request list.
 */
@Injectable()
export class WorkerRpcClient implements BeforeApplicationShutdown, OnApplicationShutdown {
  /** Ends open streams when the process shuts down (a stream whose client never went away would run on forever). */
  private readonly closing = new AbortController();

  constructor(@Inject(REDIS) private readonly redis: Redis, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  /**
   * Before the HTTP server closes: it waits for every open response, so a log stream still following at that point
   * would hold the shutdown for ever.
   */
  beforeApplicationShutdown(): void {
    this.closing.abort();
  }

  onApplicationShutdown(): void {
    this.closing.abort();
  }

  private async send(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<RpcRequest> {
    const keys = rpcKeys(this.config.queuePrefix);
    const id = newId();
    const req: RpcRequest = { id, method, params, reply: keys.reply(id), alive: keys.alive(id), deadline: Date.now() + timeoutMs };
    await this.redis.set(req.alive, '1', 'PX', Math.max(timeoutMs, 15_000));
    await this.redis.lpush(keys.requests, JSON.stringify(req));
    await this.redis.pexpire(keys.requests, 60_000);
    return req;
  }

  private static raise(msg: RpcMessage): never {
    if ('error' in msg) throw new RemoteError(msg.error.status, msg.error.code, msg.error.message);
    throw new Error('unexpected RPC message');
  }

  async call<T>(method: string, params: Record<string, unknown>, timeoutMs = 15_000): Promise<T> {
    const req = await this.send(method, params, timeoutMs);
    const conn = this.redis.duplicate();
    try {
      const r = await conn.blpop(req.reply, Math.ceil(timeoutMs / 1000));
      if (!r) throw new UnavailableError('No worker answered in time; is a worker running?');
      const msg = JSON.parse(r[1]) as RpcMessage;
      if ('result' in msg) return msg.result as T;
      return WorkerRpcClient.raise(msg);
    } finally {
      conn.disconnect();
      await this.redis.del(req.reply, req.alive).catch(() => undefined);
    }
  }

  /** Streams chunks until the worker ends or `signal` aborts (the worker notices the missing heartbeat and stops). */
  async *stream<T>(method: string, params: Record<string, unknown>, signal: AbortSignal, firstAnswerMs = 15_000): AsyncGenerator<T> {
    const req = await this.send(method, params, firstAnswerMs);
    const conn = this.redis.duplicate();
    const beat = setInterval(() => void this.redis.set(req.alive, '1', 'PX', 15_000).catch(() => undefined), 5_000);
    beat.unref();
    const stop = AbortSignal.any([signal, this.closing.signal]);
    let answered = false;
    const started = Date.now();
    try {
      while (!stop.aborted) {
        const r = await conn.blpop(req.reply, 1);
        if (!r) {
          if (!answered && Date.now() - started > firstAnswerMs) throw new UnavailableError('No worker answered in time; is a worker running?');
          continue;
        }
        answered = true;
        const msg = JSON.parse(r[1]) as RpcMessage;
        if ('chunk' in msg) yield msg.chunk as T;
        else if ('end' in msg) return;
        else if ('result' in msg) {
          yield msg.result as T;
          return;
        } else WorkerRpcClient.raise(msg);
      }
    } finally {
      clearInterval(beat);
      conn.disconnect();
      await this.redis.del(req.reply, req.alive).catch(() => undefined);
    }
  }
}
