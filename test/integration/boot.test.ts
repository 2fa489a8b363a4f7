import request from 'supertest';
import { Client } from 'pg';
import { startTestApp, TestApp } from '../support/app';

describe('Wharf boots against real PostgreSQL and Redis', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is ready when PostgreSQL and Redis answer', async () => {
    const res = await request(t.server).get('/health/ready').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.info.postgres.status).toBe('up');
    expect(res.body.info.redis.status).toBe('up');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('ran every migration into the fresh database', async () => {
    const c = new Client({ connectionString: t.databaseUrl });
    await c.connect();
    const rows = (await c.query('SELECT name FROM migrations ORDER BY id')).rows as Array<{ name: string }>;
    await c.end();
    expect(rows.map((r) => r.name)).toContain('Foundation1764100000000');
  });

  it('answers unknown routes with problem+json', async () => {
    const res = await request(t.server).get('/api/v1/nope').expect(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('serves the OpenAPI document', async () => {
    const res = await request(t.server).get('/api/docs-json').expect(200);
    expect(res.body.openapi).toMatch(/^3\./);
  });

  it('sets security headers and no x-powered-by', async () => {
    const res = await request(t.server).get('/health/live').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
