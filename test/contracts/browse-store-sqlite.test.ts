// The browse store contract on SQLite (a temp file per test).
import { makeSqliteFixture } from './metadata-store.contract.js';
import { runBrowseStoreContract } from './browse-store.contract.js';

runBrowseStoreContract('sqlite', makeSqliteFixture);
