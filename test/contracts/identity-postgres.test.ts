// Single sign-on and access token storage on PostgreSQL: a new schema per suite, dropped
// afterwards. Without a reachable server this fails under CI and is skipped (with the reason) elsewhere.
import { postgresAuthDb } from './auth-store.contract.js';
import { runIdentityContract } from './identity.contract.js';
import { postgresSuiteGate } from '../support/postgres.js';

if (await postgresSuiteGate('the single sign-on and access token storage contract')) {
  runIdentityContract('postgres', postgresAuthDb);
}
