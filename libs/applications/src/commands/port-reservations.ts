import { EntityManager } from 'typeorm';
import type { ApplicationSpec, FieldError } from '@wharf/contracts';
import { ConflictError } from '@wharf/core';

/** Host ports no application may publish: SSH, and the HTTP(S) ports the proxy needs (Wharf's own port and the edge's configured ports are added). */
export const ALWAYS_RESERVED_PORTS = [22, 80, 443] as const;

/** A published host port that is reserved or held by another application: 409 naming the field. */
export class PortConflictError extends ConflictError {
  constructor(message: string, override readonly errors: FieldError[]) {
    super(message, 'port-conflict');
  }
}

/**
 * Published host ports are reserved per server in `port_reservations` (unique per server, protocol and port), in the
 * same transaction that saves the application's spec: a second application asking for a port another one holds is
 * refused at once instead of its deployment waiting for a port that never frees. The answer names only the field,
 * never the application or organization holding the port. The reservation goes with the application row (the worker
 * deletes it after the service is gone, so the port is not handed out while the old service still binds it).
 */
export async function reservePorts(
  m: EntityManager,
  app: { id: string; organizationId: string; serverId: string; spec: Pick<ApplicationSpec, 'ports'> },
  /** Wharf's own port, and the host ports its Traefik service publishes (WHARF_EDGE_HTTP_PORT/WHARF_EDGE_HTTPS_PORT). */
  wharfPorts: number | readonly number[],
  pointer = '/spec',
): Promise<void> {
  const reserved = new Set<number>([...ALWAYS_RESERVED_PORTS, ...(typeof wharfPorts === 'number' ? [wharfPorts] : wharfPorts)]);
  const errors: FieldError[] = [];
  app.spec.ports.forEach((p, i) => {
    if (p.published && reserved.has(p.published)) errors.push({ pointer: `${pointer}/ports/${i}/published`, code: 'port-reserved', detail: `host port ${p.published} is reserved on this server` });
  });
  if (errors.length) throw new PortConflictError(errors.map((e) => e.detail).join('; '), errors);
  await m.query(`DELETE FROM port_reservations WHERE application_id = $1`, [app.id]);
  for (const [i, p] of app.spec.ports.entries()) {
    if (!p.published) continue;
    // ON CONFLICT DO NOTHING waits for a concurrent transaction holding the same key, so two saves racing for one
    // port end with exactly one holder and a 409 for the other (never a 500 from a unique violation).
    const rows: unknown[] = await m.query(
      `INSERT INTO port_reservations (server_id, protocol, port, application_id, organization_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING port`,
      [app.serverId, p.protocol, p.published, app.id, app.organizationId],
    );
    if (!rows.length) errors.push({ pointer: `${pointer}/ports/${i}/published`, code: 'port-taken', detail: `host port ${p.published}/${p.protocol} is already published by another application on this server` });
  }
  if (errors.length) throw new PortConflictError(errors.map((e) => e.detail).join('; '), errors);
}
