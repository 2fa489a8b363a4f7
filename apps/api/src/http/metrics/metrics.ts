import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
// The event-loop lag histogram samples with a timer: prom-client's default of every 10 ms wakes an idle process 100
// times a second (most of its idle CPU). Every 250 ms still catches any stall long enough to matter.
collectDefaultMetrics({ register: registry, prefix: 'wharf_', eventLoopMonitoringPrecision: 250 });

export const httpDuration = new Histogram({
  name: 'wharf_http_request_duration_seconds',
  help: 'HTTP request latency',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: 'wharf_queue_jobs',
  help: 'Jobs in each queue by state',
  labelNames: ['queue', 'state'],
  registers: [registry],
});
