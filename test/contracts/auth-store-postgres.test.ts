// The auth store contract on PostgreSQL: a new schema per suite, dropped afterwards.
// Without a reachable server this fails under CI and is skipped (with the reason) elsewhere.
import { postgresAuthDb, runAuthStoreContract } from './auth-store.contract.js';
import { postgresSuiteGate } from '../support/postgres.js';

if (await postgresSuiteGate('the auth store contract')) {
  runAuthStoreContract('postgres', postgresAuthDb);
}
