// The web UI's sessions on SQLite: a fresh database file per suite.
import { runWebSessionsContract, sqliteWebDb } from './web-sessions.contract.js';

runWebSessionsContract('sqlite', sqliteWebDb);
