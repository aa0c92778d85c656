/**
 * An identity source with its answers counted (`auth_directory_requests_total` by
 * operation and result) and a directory that does not answer logged as a warning, so an
 * outage shows on the dashboard and in the log, not only in the audit trail.
 */
import { Counter } from 'prom-client';
import type { Registry } from '../../../shared/observability/metrics.js';
import type { Logger } from '../../../shared/observability/logger.js';
import type { DirectoryAnswer, IdentitySource } from './source.js';

const METRIC = 'auth_directory_requests_total';

function counterOn(registry: Registry): Counter<'operation' | 'result'> {
  const existing = registry.getSingleMetric(METRIC) as Counter<'operation' | 'result'> | undefined;
  return existing ?? new Counter({ name: METRIC, help: 'Directory sign-ins and re-checks by result.', labelNames: ['operation', 'result'], registers: [registry] });
}

/** `source` with metrics (when a registry is given) and warnings. */
export function observed(source: IdentitySource, logger: Logger, registry?: Registry): IdentitySource {
  const counter = registry ? counterOn(registry) : undefined;
  const note = (operation: 'authenticate' | 'lookup', answer: DirectoryAnswer): DirectoryAnswer => {
    counter?.inc({ operation, result: answer.status });
    if (answer.status === 'unavailable') logger.warn({ source: source.kind, operation, detail: answer.detail }, 'directory did not answer');
    return answer;
  };
  return {
    kind: source.kind,
    authenticate: async (login, password) => note('authenticate', await source.authenticate(login, password)),
    lookup: async (name) => note('lookup', await source.lookup(name)),
  };
}
