// Garbage collection on PostgreSQL (see gc.contract.ts): a fresh schema per registry.
// Without a reachable server this fails under CI and is skipped (with the reason) elsewhere.
import { postgresSuiteGate } from '../support/postgres.js';
import { runGcContract } from './gc.contract.js';

if (await postgresSuiteGate('the garbage collection tests')) {
  runGcContract('postgres');
}
