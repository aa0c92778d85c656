// Single sign-on and access token storage on SQLite: a fresh database file per suite.
import { sqliteAuthDb } from './auth-store.contract.js';
import { runIdentityContract } from './identity.contract.js';

runIdentityContract('sqlite', sqliteAuthDb);
