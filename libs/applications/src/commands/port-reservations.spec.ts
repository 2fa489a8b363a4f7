import type { EntityManager } from 'typeorm';
import type { PortSpec } from '@wharf/contracts';
import { PortConflictError, reservePorts } from './port-reservations';

/** A stand-in for the table: (server, protocol, port) → application, with ON CONFLICT DO NOTHING semantics. */
function fakeTable(held: Record<string, string> = {}) {
  const rows = new Map(Object.entries(held));
  const m = {
    query: async (sql: string, params: unknown[]) => {
      if (sql.startsWith('DELETE')) {
        for (const [k, v] of rows) if (v === params[0]) rows.delete(k);
        return [];
      }
      const [server, protocol, port, app] = params as [string, string, number, string];
      const key = `${server}/${protocol}/${port}`;
      if (rows.has(key)) return [];
      rows.set(key, app);
      return [{ port }];
    },
  };
  return { m: m as unknown as EntityManager, rows };
}

const app = (ports: Array<Partial<PortSpec>>) => ({
  id: 'app-1', organizationId: 'org-1', serverId: 'srv',
  spec: { ports: ports.map((p) => ({ target: 80, protocol: 'tcp' as const, mode: 'host' as const, ...p })) },
});

async function refusal(p: Promise<void>): Promise<PortConflictError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(PortConflictError);
  return e as PortConflictError;
}

describe('reservePorts', () => {
  it("refuses 22, 80, 443 and Wharf's own port, naming each field, before touching the table", async () => {
    const { m, rows } = fakeTable();
    const e = await refusal(reservePorts(m, app([{ published: 22 }, { published: 8000 }, { published: 3000 }, { published: 443, protocol: 'udp' }, {}]), 3000));
    expect(e.status).toBe(409);
    expect(e.errors.map((x) => [x.pointer, x.code])).toEqual([
      ['/spec/ports/0/published', 'port-reserved'],
      ['/spec/ports/2/published', 'port-reserved'],
      ['/spec/ports/3/published', 'port-reserved'],
    ]);
    expect(rows.size).toBe(0);
  });

  it("refuses the edge's configured host ports like Wharf's own", async () => {
    const { m, rows } = fakeTable();
    const e = await refusal(reservePorts(m, app([{ published: 18080 }, { published: 18443, protocol: 'udp' }, { published: 8000 }]), [3000, 18080, 18443]));
    expect(e.errors.map((x) => [x.pointer, x.code])).toEqual([['/spec/ports/0/published', 'port-reserved'], ['/spec/ports/1/published', 'port-reserved']]);
    expect(rows.size).toBe(0);
  });

  it('reserves free ports, refuses one another application holds without naming it, and re-saving keeps its own', async () => {
    const { m, rows } = fakeTable({ 'srv/tcp/8081': 'other-app' });
    const e = await refusal(reservePorts(m, app([{ published: 8080 }, { published: 8081 }]), 3000));
    expect(e.errors).toEqual([{ pointer: '/spec/ports/1/published', code: 'port-taken', detail: expect.not.stringContaining('other-app') }]);
    await reservePorts(m, app([{ published: 8080 }, { published: 8081, protocol: 'udp' }]), 3000);
    await reservePorts(m, app([{ published: 8080 }, { published: 8081, protocol: 'udp' }]), 3000);
    expect(Object.fromEntries(rows)).toEqual({ 'srv/tcp/8081': 'other-app', 'srv/tcp/8080': 'app-1', 'srv/udp/8081': 'app-1' });
    // Dropping a port releases it.
    await reservePorts(m, app([]), 3000);
    expect(Object.fromEntries(rows)).toEqual({ 'srv/tcp/8081': 'other-app' });
  });
});
