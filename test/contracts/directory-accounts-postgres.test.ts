// Directory accounts on PostgreSQL: a new schema per suite, dropped afterwards. Without a
// reachable server this fails under CI and is skipped (with the reason) elsewhere.
import { postgresAuthDb } from './auth-store.contract.js';
import { runDirectoryAccountsContract } from './directory-accounts.contract.js';
import { postgresSuiteGate } from '../support/postgres.js';

if (await postgresSuiteGate('the directory accounts contract')) {
  runDirectoryAccountsContract('postgres', postgresAuthDb);
}
