// Signing keys in the auth database on PostgreSQL: a new schema per suite, dropped afterwards.
import { postgresAuthDb } from './auth-store.contract.js';
import { runSigningKeysContract } from './signing-keys.contract.js';
import { postgresSuiteGate } from '../support/postgres.js';

if (await postgresSuiteGate('the signing keys contract')) {
  runSigningKeysContract('postgres', postgresAuthDb);
}
