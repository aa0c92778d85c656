/**
 * The round-robin proxy of the replica rows as a process of its own (`node --import tsx
 * test/bench/replica-proxy.ts UPSTREAM…`): the same proxy the multi-replica end-to-end
 * tests put in front of their registries (test/e2e/harness/round-robin-proxy.ts), kept out
 * of the bench process so its CPU is neither the load generator's nor hidden in it.
 * Prints `listening URL` once it accepts connections.
 */
import { startRoundRobinProxy } from '../e2e/harness/round-robin-proxy.js';

const upstreams = process.argv.slice(2);
if (upstreams.length === 0) {
  process.stderr.write('usage: replica-proxy.ts UPSTREAM_URL…\n');
  process.exit(2);
}
const proxy = await startRoundRobinProxy(upstreams);
// The tests' proxy records every request for their assertions; a bench sends hundreds of
// thousands, so the record is dropped as it grows.
setInterval(() => {
  proxy.routed.length = 0;
}, 1000);
process.stdout.write(`listening ${proxy.url}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void proxy.close().finally(() => process.exit(0));
  });
}
