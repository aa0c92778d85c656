// The notification outbox contract on SQLite (a temp file per test).
import { makeSqliteFixture } from './metadata-store.contract.js';
import { runNotificationOutboxContract } from './notification-outbox.contract.js';

runNotificationOutboxContract('sqlite', makeSqliteFixture);
