/**
 * Hot reads on SQLite as prepared statements of a second, read-only connection. Through
 * knex every read rebuilt its SQL and prepared a new statement, which together cost more
 * than the rest of a manifest GET or a token request. The SQL here is the very text a knex
 * builder produces (so the registry's query-plan test covers what runs), compiled once.
 *
 * A separate connection, not knex's: WAL lets it read while knex writes, and each read
 * starts a fresh snapshot, so it sees every committed write and never the uncommitted rows
 * of a transaction in flight on the other connection. Reads inside a transaction still go
 * through knex (only that connection sees the transaction's own rows). An in-memory
 * database has no second connection, so it gets no fast path.
 */
import Database from 'better-sqlite3';
import type { Knex } from 'knex';

/** A value a hot read binds: names, digests, tags, page sizes. */
export type ReadParam = string | number;

/** Builds one query from its parameters (a function of queries.ts). */
type QueryBuilderOf<P extends ReadParam[]> = (db: Knex, ...params: P) => Knex.QueryBuilder;

/** A compiled read: run it with the builder's parameters. */
export interface PreparedRead<P extends ReadParam[]> {
  /** The first row, or undefined. */
  get<R>(...params: P): R | undefined;
  /** Every row. */
  all<R>(...params: P): R[];
}

/** Where a compiled statement takes each binding from: a parameter's position, or a constant of the builder. */
type BindingSource = { param: number } | { constant: unknown };

/** The type of each parameter of a read, in order. */
export type ParamKinds = readonly ('string' | 'number')[];

/** Opaque sentinels no real parameter equals, so their positions among the bindings can be found. */
function sentinels(kinds: ParamKinds): ReadParam[] {
  return kinds.map((kind, i) => (kind === 'number' ? 2_000_000_000 + i : `\u0000dockyard-param-${i}\u0000`));
}

/**
 * Integer bindings (the LIMIT of `.first()` and of a page size) become literals of the SQL.
 * SQLite's planner looks at a bound LIMIT, so such a statement is marked expired at every
 * bind and re-prepared on every run: measured here, that made a unique-key lookup take
 * 17.6 µs instead of 10.4. Integer parameters are inlined too, with one statement per
 * distinct value (page sizes take few values).
 */
function isInlinable(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** Replaces the `?` placeholders at `positions` (0-based, in order) by `literals`, skipping quoted text. */
function inlinePlaceholders(sql: string, literals: Map<number, number>): string {
  if (literals.size === 0) return sql;
  let out = '';
  let index = 0;
  let quote: string | null = null;
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = null;
      out += char;
    } else if (char === "'" || char === '"' || char === '`') {
      quote = char;
      out += char;
    } else if (char === '?') {
      const literal = literals.get(index++);
      out += literal === undefined ? '?' : String(literal);
    } else {
      out += char;
    }
  }
  return out;
}

/** Statements per read kept for distinct integer parameter values; more than this is not a page size. */
const STATEMENTS_PER_READ = 16;

/** The SQLite file behind a knex instance, or null when it is not one a second connection can open. */
function sqliteFileOf(db: Knex): string | null {
  const config = db.client.config as { client?: unknown; connection?: { filename?: unknown } };
  if (config.client !== 'better-sqlite3') return null;
  const filename = config.connection?.filename;
  if (typeof filename !== 'string' || filename === '' || filename === ':memory:' || filename.startsWith('file:')) return null;
  return filename;
}

const readsByKnex = new WeakMap<Knex, SqliteReads | null>();

/** Prepared hot reads against the SQLite file of a knex instance. */
export class SqliteReads {
  private connection: Database.Database | null = null;
  private closed = false;

  private constructor(
    private readonly knex: Knex,
    private readonly filename: string,
  ) {}

  /**
   * The one read path of `db` (shared by every store on it), or null when `db` is not a
   * SQLite file (PostgreSQL, :memory:). It closes when `db` is destroyed (see db.ts).
   */
  static forKnex(db: Knex): SqliteReads | null {
    let reads = readsByKnex.get(db);
    if (reads === undefined) {
      const filename = sqliteFileOf(db);
      reads = filename === null ? null : new SqliteReads(db, filename);
      readsByKnex.set(db, reads);
    }
    return reads;
  }

  /** Closes the read path of `db`, if it has one. */
  static closeFor(db: Knex): void {
    readsByKnex.get(db)?.close();
  }

  /**
   * Compiles `build` into a statement, lazily on first use (the tables may not exist yet
   * when the store is made). `kinds` names the type of each of the builder's parameters.
   */
  prepare<P extends ReadParam[]>(kinds: ParamKinds, build: QueryBuilderOf<P>): PreparedRead<P> {
    let template: { sql: string; sources: BindingSource[] } | null = null;
    const statements = new Map<string, { statement: Database.Statement; bindings: ((params: ReadParam[]) => unknown)[] }>();
    const compile = (params: ReadParam[]) => {
      if (!template) {
        const marks = sentinels(kinds);
        const { sql, bindings } = build(this.knex, ...(marks as P)).toSQL();
        const sources = bindings.map((binding): BindingSource => {
          const index = marks.indexOf(binding as ReadParam);
          return index >= 0 ? { param: index } : { constant: binding };
        });
        template = { sql, sources };
      }
      const { sql, sources } = template;
      const literals = new Map<number, number>();
      const bindings: ((params: ReadParam[]) => unknown)[] = [];
      sources.forEach((source, position) => {
        const value = 'param' in source ? params[source.param] : source.constant;
        if (isInlinable(value)) literals.set(position, value);
        else if ('param' in source) bindings.push((p) => p[source.param]);
        else bindings.push(() => source.constant);
      });
      const key = [...literals].map(([position, value]) => `${position}=${value}`).join(',');
      let compiled = statements.get(key);
      if (!compiled) {
        if (statements.size >= STATEMENTS_PER_READ) statements.delete(statements.keys().next().value!);
        compiled = { statement: this.open().prepare(inlinePlaceholders(sql, literals)), bindings };
        statements.set(key, compiled);
      }
      return compiled;
    };
    const run = (params: ReadParam[]) => {
      const { statement, bindings } = compile(params);
      return { statement, values: bindings.map((bind) => bind(params)) };
    };
    return {
      get: <R>(...params: P): R | undefined => {
        const { statement, values } = run(params);
        return statement.get(...values) as R | undefined;
      },
      all: <R>(...params: P): R[] => {
        const { statement, values } = run(params);
        return statement.all(...values) as R[];
      },
    };
  }

  /** Closes the read connection; later reads fail. */
  close(): void {
    this.closed = true;
    this.connection?.close();
    this.connection = null;
  }

  private open(): Database.Database {
    if (this.closed) throw new Error('metadata store: the read connection is closed');
    if (this.connection) return this.connection;
    const connection = new Database(this.filename, { readonly: true, fileMustExist: true });
    connection.pragma('busy_timeout = 5000');
    this.connection = connection;
    return connection;
  }
}
