/**
 * The metadata repository's prom-client metrics (ServerMetrics of app-types.ts), on a Registry
 * of its own (never prom-client's global one, so two servers in one process, or a test, do not
 * share counters). Labels are bounded: the route pattern (never the raw URL, whose repository
 * and file names are unbounded), the method, the status; no repository name.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerMetrics } from './app-types.js';

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route pattern and method',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const uploads = new Counter({
    name: 'cnabsec_uploads_total',
    help: 'Uploads by result (accepted, refused) and refusal reason (the refusal code, VERSION_CONFLICT)',
    labelNames: ['result', 'reason'] as const,
    registers: [registry],
  });
  const refreshes = new Counter({
    name: 'cnabsec_refreshes_total',
    help: 'Server-managed roles re-signed because they were due (refresh), by role',
    labelNames: ['role'] as const,
    registers: [registry],
  });
  const signatures = new Counter({
    name: 'cnabsec_signatures_total',
    help: 'Metadata files signed with a server-held key, by role',
    labelNames: ['role'] as const,
    registers: [registry],
  });
  return {
    events: {
      uploadAccepted() {
        uploads.inc({ result: 'accepted', reason: '' });
      },
      uploadRefused(_repo, reason) {
        uploads.inc({ result: 'refused', reason });
      },
      refreshed(_repo, role) {
        refreshes.inc({ role });
      },
      signed(_repo, role) {
        signatures.inc({ role });
      },
    },
    observeRequest(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      duration.observe({ route, method }, seconds);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
