import request from 'supertest';
import { startTestApp, TestApp } from '../support/app';

describe('Prometheus metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ WHARF_METRICS_TOKEN: 'metrics-token-for-tests' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('requires the metrics token', async () => {
    await request(t.server).get('/metrics').expect(401);
    await request(t.server).get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
  });

  it('exposes the HTTP latency histogram and queue depths', async () => {
    await request(t.server).get('/health/live').expect(200);
    const res = await request(t.server).get('/metrics').set('Authorization', 'Bearer metrics-token-for-tests').expect(200);
    expect(res.text).toMatch(/wharf_http_request_duration_seconds_bucket\{[^}]*route="\/health\/live"/);
    expect(res.text).toMatch(/wharf_queue_jobs\{queue="maintenance",state="(waiting|delayed)"\} \d+/);
  });
});
