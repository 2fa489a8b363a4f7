import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type Docker from 'dockerode';
import { decodeGetSecretRequest, encodeGetSecretResponse, encodeHealthServing } from './buildkit-wire';

const SECRETS_METHOD = '/moby.buildkit.secrets.v1.Secrets/GetSecret';
const HEALTH_METHOD = '/grpc.health.v1.Health/Check';

export interface BuildkitSession {
  id: string;
  /** Ids of the secrets the engine asked for (never their values). */
  asked: string[];
  close(): void;
}

/**
 * Opens a BuildKit session on the engine (`POST /session`, upgraded to h2c) whose gRPC server answers only the secrets
 * of this build (`moby.buildkit.secrets.v1.Secrets/GetSecret`) and health checks. The values stay in this process:
 * BuildKit mounts them as files for `RUN --mount=type=secret` only, never in a layer or the build arguments.
 */
export function openBuildkitSession(docker: Docker, secrets: Record<string, string>, signal: AbortSignal): Promise<BuildkitSession> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const opts = {
      method: 'POST',
      path: '/session',
      hijack: true,
      abortSignal: signal,
      headers: {
        Upgrade: 'h2c',
        'X-Docker-Expose-Session-Uuid': id,
        'X-Docker-Expose-Session-Name': 'wharf',
        'X-Docker-Expose-Session-Sharedkey': '',
        'X-Docker-Expose-Session-Grpc-Method': [SECRETS_METHOD, HEALTH_METHOD],
      },
      statusCodes: { 200: true, 101: true, 500: 'server error' },
    };
    (docker.modem as unknown as { dial(o: object, cb: (err: Error | null, socket: Duplex) => void): void }).dial(opts, (err, socket) => {
      if (err) return reject(err);
      const server = new grpc.Server();
      const asked: string[] = [];
      const service: grpc.ServiceDefinition = {
        GetSecret: {
          path: SECRETS_METHOD,
          requestStream: false,
          responseStream: false,
          requestSerialize: () => Buffer.alloc(0),
          requestDeserialize: (b: Buffer) => decodeGetSecretRequest(b),
          responseSerialize: (r: { data: Buffer }) => encodeGetSecretResponse(r.data),
          responseDeserialize: (b: Buffer) => ({ data: b }),
        },
      };
      server.addService(service, {
        GetSecret: (call: grpc.ServerUnaryCall<{ id: string }, { data: Buffer }>, cb: grpc.sendUnaryData<{ data: Buffer }>) => {
          const key = call.request.id;
          asked.push(key);
          if (Object.prototype.hasOwnProperty.call(secrets, key)) cb(null, { data: Buffer.from(secrets[key], 'utf8') });
          else cb({ code: grpc.status.NOT_FOUND, details: `secret ${key} not found` });
        },
      });
      const health: grpc.ServiceDefinition = {
        Check: {
          path: HEALTH_METHOD,
          requestStream: false,
          responseStream: false,
          requestSerialize: () => Buffer.alloc(0),
          requestDeserialize: () => ({}),
          responseSerialize: () => encodeHealthServing(),
          responseDeserialize: () => ({}),
        },
      };
      server.addService(health, { Check: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, {}) });
      const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
      injector.injectConnection(socket);
      socket.on('error', () => undefined);
      let closed = false;
      resolve({
        id,
        asked,
        close: () => {
          if (closed) return;
          closed = true;
          server.forceShutdown();
          socket.destroy();
        },
      });
    });
  });
}
