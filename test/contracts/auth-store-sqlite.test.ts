// The auth store contract on SQLite: a fresh database file per suite in a temp dir.
import { runAuthStoreContract, sqliteAuthDb } from './auth-store.contract.js';

runAuthStoreContract('sqlite', sqliteAuthDb);
