// The lineage contract on SQLite (a temp file per test).
import { makeSqliteFixture } from './metadata-store.contract.js';
import { runLineageContract } from './lineage.contract.js';

runLineageContract('sqlite', makeSqliteFixture);
