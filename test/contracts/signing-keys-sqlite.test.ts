// Signing keys in the auth database on SQLite: a fresh database file per suite.
import { sqliteAuthDb } from './auth-store.contract.js';
import { runSigningKeysContract } from './signing-keys.contract.js';

runSigningKeysContract('sqlite', sqliteAuthDb);
