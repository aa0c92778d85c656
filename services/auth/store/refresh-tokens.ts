/**
 * Refresh tokens (docker's "identity token"): stored only as the SHA-256 of the random
 * token, bound to a subject, a service and a client_id; a user's also to the user's id and
 * credential version at issue (see CredentialStamp in authorize.ts).
 */
import type { Knex } from 'knex';
import { SqliteReads, type PreparedRead } from '../../../shared/db/sqlite-reads.js';
import type { CredentialStamp } from '../authorize.js';
import { toBool, toMillis, toMillisOrNull, type Queryable } from './common.js';

/** Subjects that can hold refresh tokens. */
export type RefreshSubjectKind = 'user' | 'robot';

/** A stored refresh token. */
export interface RefreshTokenRecord {
  id: number;
  subjectKind: RefreshSubjectKind;
  subjectName: string;
  service: string;
  clientId: string;
  createdAt: number;
  lastUsedAt: number;
  revoked: boolean;
  /** A user's id and credential version when the token was issued; null for robots. */
  credential: CredentialStamp | null;
  /** When it stops working however it is used (single sign-on caps it); null: only idleness ends it. */
  expiresAt: number | null;
}

interface RefreshTokenRow {
  id: number;
  subject_kind: string;
  subject_name: string;
  service: string;
  client_id: string;
  created_at: unknown;
  last_used_at: unknown;
  revoked: unknown;
  user_id: unknown;
  credential_version: unknown;
  expires_at: unknown;
}

function fromRow(row: RefreshTokenRow): RefreshTokenRecord {
  return {
    id: Number(row.id),
    subjectKind: row.subject_kind as RefreshSubjectKind,
    subjectName: row.subject_name,
    service: row.service,
    clientId: row.client_id,
    createdAt: toMillis(row.created_at),
    lastUsedAt: toMillis(row.last_used_at),
    revoked: toBool(row.revoked),
    credential:
      row.user_id === null || row.user_id === undefined ? null : { userId: Number(row.user_id), version: Number(row.credential_version) },
    expiresAt: toMillisOrNull(row.expires_at),
  };
}

const COLUMNS = ['id', 'subject_kind', 'subject_name', 'service', 'client_id', 'created_at', 'last_used_at', 'revoked', 'user_id', 'credential_version', 'expires_at'];

/** The refresh_tokens table. */
export class RefreshTokenStore {
  /**
   * The lookup every refresh-token login makes, prepared once on SQLite (see shared/db/sqlite-reads.ts).
   * Without knex's `.first()`: its bound `LIMIT ?` makes SQLite re-prepare the statement on
   * every call, and the hash is unique anyway.
   */
  private readonly byHash: PreparedRead<[string]> | null;

  constructor(private readonly db: Knex) {
    this.byHash = SqliteReads.forKnex(db)?.prepare(['string'], (q, tokenHash: string) => q('refresh_tokens').where({ token_hash: tokenHash }).select(...COLUMNS)) ?? null;
  }

  /** Stores a new token by its hash. */
  async insert(
    token: {
      tokenHash: string;
      subjectKind: RefreshSubjectKind;
      subjectName: string;
      service: string;
      clientId: string;
      now: number;
      credential?: CredentialStamp;
      expiresAt?: number;
    },
    trx?: Queryable,
  ): Promise<void> {
    await (trx ?? this.db)('refresh_tokens').insert({
      token_hash: token.tokenHash,
      subject_kind: token.subjectKind,
      subject_name: token.subjectName,
      service: token.service,
      client_id: token.clientId,
      created_at: token.now,
      last_used_at: token.now,
      revoked: false,
      user_id: token.credential?.userId ?? null,
      credential_version: token.credential?.version ?? null,
      expires_at: token.expiresAt ?? null,
    });
  }

  /** The token with this hash (revoked or not), or null. One lookup by a unique index. */
  async findByHash(tokenHash: string, trx?: Queryable): Promise<RefreshTokenRecord | null> {
    const row: RefreshTokenRow | undefined =
      this.byHash && !trx ? this.byHash.get(tokenHash) : await (trx ?? this.db)('refresh_tokens').where({ token_hash: tokenHash }).first(...COLUMNS);
    return row ? fromRow(row) : null;
  }

  /** Live tokens of a subject, newest first (for the admin API; hashes never leave). */
  async listForSubject(subjectKind: RefreshSubjectKind, subjectName: string, trx?: Queryable): Promise<RefreshTokenRecord[]> {
    const rows: RefreshTokenRow[] = await (trx ?? this.db)('refresh_tokens')
      .where({ subject_kind: subjectKind, subject_name: subjectName, revoked: false })
      .orderBy('id', 'desc')
      .select(...COLUMNS);
    return rows.map(fromRow);
  }

  /** Records a use at most once per `minIntervalMs` (idle expiry needs minutes, not milliseconds). */
  async touch(id: number, now: number, minIntervalMs: number, trx?: Queryable): Promise<void> {
    await (trx ?? this.db)('refresh_tokens')
      .where({ id })
      .andWhere('last_used_at', '<', now - minIntervalMs)
      .update({ last_used_at: now });
  }

  /** Revokes one token by id. */
  async revoke(id: number, trx?: Queryable): Promise<void> {
    await (trx ?? this.db)('refresh_tokens').where({ id }).update({ revoked: true });
  }

  /** Revokes every live token of a subject; returns how many. */
  async revokeForSubject(subjectKind: RefreshSubjectKind, subjectName: string, trx?: Queryable): Promise<number> {
    return (trx ?? this.db)('refresh_tokens')
      .where({ subject_kind: subjectKind, subject_name: subjectName, revoked: false })
      .update({ revoked: true });
  }

  /** Deletes revoked tokens and those idle since before `idleBefore` (housekeeping). */
  async purge(idleBefore: number, trx?: Queryable): Promise<number> {
    return (trx ?? this.db)('refresh_tokens')
      .where('revoked', true)
      .orWhere('last_used_at', '<', idleBefore)
      .delete();
  }
}
