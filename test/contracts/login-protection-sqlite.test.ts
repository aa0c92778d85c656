// Login protection on SQLite: a fresh database file per suite in a temp dir.
import { sqliteAuthDb } from './auth-store.contract.js';
import { runLoginProtectionContract } from './login-protection.contract.js';

runLoginProtectionContract('sqlite', sqliteAuthDb);
