/**
 * The registry's hot reads as prepared statements (see shared/db/sqlite-reads.ts), built from
 * the same query builders as the knex path so both run the same SQL.
 */
import type { SqliteReads } from '../../../shared/db/sqlite-reads.js';
import * as q from './queries.js';

/** The hot reads, compiled once when the database is a SQLite file (see sqlite-reads.ts). */
export function preparedReads(reads: SqliteReads) {
  return {
    manifestByDigest: reads.prepare(['string', 'string'], (db, repository: string, digest: string) => q.manifestByDigest(db, repository, digest)),
    manifestReferences: reads.prepare(['string', 'string'], (db, repository: string, digest: string) => q.manifestReferences(db, repository, digest)),
    tagByName: reads.prepare(['string', 'string'], (db, repository: string, tag: string) => q.tagByName(db, repository, tag)),
    blobLink: reads.prepare(['string', 'string'], (db, repository: string, digest: string) => q.blobLink(db, repository, digest)),
    blobAnywhere: reads.prepare(['string'], (db, digest: string) => q.blobAnywhere(db, digest)),
    firstTagPage: reads.prepare(['string', 'number'], (db, repository: string, n: number) => q.tagPage(db, repository, undefined, n)),
    tagPage: reads.prepare(['string', 'string', 'number'], (db, repository: string, last: string, n: number) => q.tagPage(db, repository, last, n)),
    repositoryHasContent: reads.prepare(['string'], (db, repository: string) => q.repositoryHasContent(db, repository)),
  };
}
