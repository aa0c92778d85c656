// Login protection on PostgreSQL: a new schema per suite, dropped afterwards. Without a
// reachable server this fails under CI and is skipped (with the reason) elsewhere.
import { postgresAuthDb } from './auth-store.contract.js';
import { runLoginProtectionContract } from './login-protection.contract.js';
import { postgresSuiteGate } from '../support/postgres.js';

if (await postgresSuiteGate('the login protection contract')) {
  runLoginProtectionContract('postgres', postgresAuthDb);
}
