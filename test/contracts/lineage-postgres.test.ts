// The lineage contract on PostgreSQL: a new schema per test, dropped afterwards.
// Without a reachable server this fails under CI and is skipped (with the reason) elsewhere.
import { makePostgresFixture } from './metadata-store.contract.js';
import { runLineageContract } from './lineage.contract.js';
import { postgresSuiteGate } from '../support/postgres.js';

if (await postgresSuiteGate('the lineage contract')) {
  runLineageContract('postgres', makePostgresFixture);
}
