// Directory accounts on SQLite: a fresh database file per suite in a temp dir.
import { sqliteAuthDb } from './auth-store.contract.js';
import { runDirectoryAccountsContract } from './directory-accounts.contract.js';

runDirectoryAccountsContract('sqlite', sqliteAuthDb);
