import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import Redis from 'ioredis';
import { DomainError, REDIS, RPC_HANDLER, RpcMessage, RpcRequest, rpcKeys, WHARF_CONFIG, WharfConfig } from '@wharf/core';

type Handler = (params: Record<string, unknown>, signal: AbortSignal) => Promise<unknown> | AsyncIterable<unknown>;

const isIterable = (v: unknown): v is AsyncIterable<unknown> => !!v && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';

/** The worker's side of WorkerRpcClient: takes requests from Redis and answers them (streams chunk by chunk). */
@Injectable()
export class RpcServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Rpc');
  private readonly handlers = new Map<string, Handler>();
  private conn: Redis | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  onApplicationBootstrap(): void {
    for (const w of this.discovery.getProviders()) {
      const inst = w.instance as Record<string, unknown> | undefined;
      if (!inst || typeof inst !== 'object') continue;
      for (const m of this.scanner.getAllMethodNames(Object.getPrototypeOf(inst) as object)) {
        const fn = inst[m] as Handler;
        const name = Reflect.getMetadata(RPC_HANDLER, fn) as string | undefined;
        if (name) {
          if (this.handlers.has(name)) throw new Error(`RPC method ${name} has two handlers`);
          this.handlers.set(name, fn.bind(inst));
        }
      }
    }
    this.conn = this.redis.duplicate();
    this.conn.on('error', () => undefined);
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.conn?.disconnect();
    // A blocking read queued while the connection was (re)connecting is not always rejected by the disconnect: wait for
    // the loop a moment, not forever.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop?.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, 2500)))]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    const keys = rpcKeys(this.config.queuePrefix);
    while (!this.stopped) {
      try {
        const r = await this.conn!.brpop(keys.requests, 2);
        if (r) void this.handle(JSON.parse(r[1]) as RpcRequest);
      } catch {
        if (!this.stopped) await new Promise((res) => setTimeout(res, 500));
      }
    }
  }

  private async send(req: RpcRequest, msg: RpcMessage): Promise<void> {
    await this.redis.multi().rpush(req.reply, JSON.stringify(msg)).pexpire(req.reply, 60_000).exec();
  }

  private async handle(req: RpcRequest): Promise<void> {
    if (req.deadline < Date.now()) return;
    const handler = this.handlers.get(req.method);
    const ac = new AbortController();
    const watch = setInterval(() => {
      void this.redis.exists(req.alive).then((n) => n === 0 && ac.abort(), () => undefined);
    }, 2000);
    try {
      if (!handler) throw Object.assign(new Error(`unknown RPC method ${req.method}`), { status: 501 });
      const out = await handler(req.params, ac.signal);
      if (isIterable(out)) {
        for await (const chunk of out) {
          if (ac.signal.aborted || this.stopped) break;
          await this.send(req, { chunk });
        }
        await this.send(req, { end: true });
      } else {
        await this.send(req, { result: out });
      }
    } catch (e) {
      const status = e instanceof DomainError ? e.status : ((e as { status?: number }).status ?? 502);
      const code = e instanceof DomainError ? e.code : 'worker-error';
      this.logger.warn(`rpc ${req.method} failed: ${(e as Error).message}`);
      await this.send(req, { error: { status, code, message: (e as Error).message } }).catch(() => undefined);
    } finally {
      clearInterval(watch);
      ac.abort();
    }
  }
}
