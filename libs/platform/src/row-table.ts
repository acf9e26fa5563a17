import type Database from 'better-sqlite3';

type Value = string | number | null;

/**
 * A read model's table that `apply` reads and writes by primary key only. Within a batch, rows are folded in memory
 * (a case's opening, claim, contact and closing become one write); the runner writes them, in key order, inside the
 * batch's transaction with its checkpoint, and forgets them afterwards, so queries read the table as SQLite holds it.
 * Measured: catching up from the start of the log, this took each read model's statements from one or more per event
 * to about one per row (docs/benchmarks.md).
 *
 * A table that is empty when its read models start filling from the start of the log keeps the keys it writes: a
 * key it never wrote is absent without asking SQLite.
 */
export class RowTable<Row extends Record<string, Value>> {
  private readonly cached = new Map<string, Row | null>();
  private readonly dirty = new Set<string>();
  /** While filling from empty: every key written since (null when not filling). */
  private written: Set<string> | null = null;
  private readonly select: Database.Statement<Value[], Row>;
  private readonly upsert: Database.Statement<Value[]>;
  /** The same for `CHUNK` rows at once: binding costs less per row (measured 3.8 → 2.6 µs a row here). */
  private readonly upsertChunk: Database.Statement<Value[]>;
  private readonly remove: Database.Statement<Value[]>;

  constructor(
    private readonly db: Database.Database,
    readonly table: string,
    private readonly keyColumns: readonly (keyof Row & string)[],
    private readonly columns: readonly (keyof Row & string)[],
  ) {
    const where = keyColumns.map((column) => `${column} = ?`).join(' AND ');
    const others = columns.filter((column) => !keyColumns.includes(column));
    this.select = db.prepare<Value[], Row>(`SELECT ${columns.join(', ')} FROM ${table} WHERE ${where}`);
    const upsert = (rows: number) =>
      db.prepare<Value[]>(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => `(${columns.map(() => '?').join(', ')})`).join(', ')}
         ON CONFLICT (${keyColumns.join(', ')}) ${others.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${others.map((column) => `${column} = excluded.${column}`).join(', ')}`}`,
      );
    this.upsert = upsert(1);
    this.upsertChunk = upsert(CHUNK);
    this.remove = db.prepare<Value[]>(`DELETE FROM ${table} WHERE ${where}`);
    tablesOf(db).set(table, this as unknown as RowTable<Record<string, Value>>);
  }

  get(...key: Value[]): Row | undefined {
    const id = this.keyOf(key);
    const cached = this.cached.get(id);
    if (cached !== undefined) return cached ?? undefined;
    if (this.written && !this.written.has(id)) return undefined;
    const row = this.select.get(...key);
    if (row) this.cached.set(id, row);
    return row;
  }

  /**
   * Inserts or replaces the row (the caller passes the whole row, as `get` returned it or new). A value SQLite would
   * store as NULL (NaN, a missing field) is held as null, so that the row folded here is the row a `SELECT` would
   * give back, wherever the batch is cut. A row that breaks a constraint fails the batch when it is written: the
   * runner stops rather than leave the row out.
   */
  put(row: Row): void {
    for (const column of this.columns) {
      const value: unknown = row[column];
      if (value === undefined || (typeof value === 'number' && Number.isNaN(value))) (row as Record<string, Value>)[column] = null;
    }
    const id = this.keyOf(this.keyColumns.map((column) => row[column]));
    this.cached.set(id, row);
    this.dirty.add(id);
    if (this.written && this.written.size >= FILL_KEYS) this.written = null; // past this, asking SQLite costs less memory
    this.written?.add(id);
  }

  delete(...key: Value[]): void {
    const id = this.keyOf(key);
    this.cached.set(id, null);
    this.dirty.add(id);
  }

  private keyOf(key: Value[]): string {
    return this.keyColumns.length === 1 ? String(key[0]) : JSON.stringify(key);
  }

  /** Writes what the batch changed, in key order (neighbouring rows share pages), and forgets every row. */
  flush(): void {
    const rows: Row[] = [];
    for (const id of [...this.dirty].sort()) {
      const row = this.cached.get(id);
      if (row) rows.push(row);
      else this.remove.run(...(this.keyColumns.length === 1 ? [id] : (JSON.parse(id) as Value[])));
    }
    let next = 0;
    for (; next + CHUNK <= rows.length; next += CHUNK) {
      const values: Value[] = [];
      for (let n = next; n < next + CHUNK; n += 1) for (const column of this.columns) values.push(rows[n][column]);
      this.upsertChunk.run(...values);
    }
    for (; next < rows.length; next += 1) this.upsert.run(...this.columns.map((column) => rows[next][column]));
    this.discard();
  }

  /** A batch rolled back: what it folded is gone with it. */
  discard(): void {
    this.cached.clear();
    this.dirty.clear();
  }

  /** Filling from the start of the log: keys are remembered only if the table holds nothing yet. */
  beginFill(): void {
    this.written = this.db.prepare(`SELECT 1 FROM ${this.table} LIMIT 1`).get() === undefined ? new Set() : null;
  }

  endFill(): void {
    this.written = null;
  }
}


const CHUNK = 50;
/** Keys a filling table remembers at most (about 80 bytes each); beyond them it asks SQLite as usual. */
const FILL_KEYS = 500_000;

/** Each read-model file's row tables, by name: a read model prepared again (rebuilt) replaces its own. */
const registry = new WeakMap<Database.Database, Map<string, RowTable<Record<string, Value>>>>();

function tablesOf(db: Database.Database): Map<string, RowTable<Record<string, Value>>> {
  let tables = registry.get(db);
  if (!tables) registry.set(db, (tables = new Map()));
  return tables;
}

/** Every row table of the file: the runner writes them at the end of each batch (tests that apply by hand too). */
export function rowTablesOf(db: Database.Database): Iterable<RowTable<Record<string, Value>>> {
  return tablesOf(db).values();
}

export function flushRowTables(db: Database.Database): void {
  for (const table of rowTablesOf(db)) table.flush();
}
