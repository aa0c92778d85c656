// The web UI's sessions on PostgreSQL: a new schema per suite, dropped afterwards.
import { postgresWebDb, runWebSessionsContract } from './web-sessions.contract.js';
import { postgresSuiteGate } from '../support/postgres.js';

if (await postgresSuiteGate('the web sessions contract')) {
  runWebSessionsContract('postgres', postgresWebDb);
}
