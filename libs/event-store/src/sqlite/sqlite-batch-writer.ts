import type Database from 'better-sqlite3';
import { revisionMatches, type AppendResult, type ExpectedRevision, type NewEvent } from '../event-store.port';
import { DuplicateEventIdError, WrongExpectedVersionError } from '../errors';
import { eventHash } from '../hash-chain';

export interface AppendRequest {
  streamId: string;
  events: readonly NewEvent[];
  expected: ExpectedRevision;
}

/** Plain data, so an outcome can cross from the writer thread; `toError` rebuilds the typed error. */
export type RefusedAppend =
  | { code: 'wrong-expected-version'; streamId: string; expected: ExpectedRevision; actual: bigint | 'no-stream' }
  | { code: 'duplicate-event-id'; eventId: string };

export type AppendOutcome = { ok: AppendResult } | { refused: RefusedAppend };

export function toError(refused: RefusedAppend): Error {
  return refused.code === 'wrong-expected-version'
    ? new WrongExpectedVersionError(refused.streamId, refused.expected, refused.actual)
    : new DuplicateEventIdError(refused.eventId);
}

/**
 * Writes a batch of appends in one transaction and one durable commit (group commit). Each append is checked in
 * full (expected revision, idempotent replay) before it writes anything, so a refused append leaves no trace and
 * needs no savepoint; an I/O failure throws, the whole batch is rolled back, and nobody is told "stored".
 */
export class BatchWriter {
  private readonly statements;
  /**
   * Each stream's last revision and hash as this connection last wrote or read them, so an append needs no lookup
   * first. Trusted only while no other connection has committed (`data_version` is unchanged since our own last
   * commit); bounded, since every referral and case is a stream of its own.
   */
  private readonly heads = new Map<string, { revision: number; hash: string } | null>();
  private dataVersion = -1;

  constructor(private readonly db: Database.Database) {
    this.statements = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      last: db.prepare<[string], { revision: number; hash: string }>(
        'SELECT revision, hash FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1',
      ),
      idsFrom: db.prepare<[string, number, number], { revision: number; event_id: string; position: number }>(
        'SELECT revision, event_id, position FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?',
      ),
      tail: db.prepare<[string, number], { revision: number; event_id: string; position: number }>(
        'SELECT revision, event_id, position FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT ?',
      ),
      insert: db.prepare<[string, number, string, string, number, string, string, string, string | null, string]>(
        `INSERT INTO events (stream_id, revision, event_id, type, schema_version, data, metadata, recorded_at, previous_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      dataVersion: db.prepare<[], { data_version: number }>('PRAGMA data_version'),
    };
  }

  private head(streamId: string): { revision: number; hash: string } | null {
    const cached = this.heads.get(streamId);
    if (cached !== undefined) return cached;
    const last = this.statements.last.get(streamId) ?? null;
    this.heads.set(streamId, last && { revision: last.revision, hash: last.hash });
    return last;
  }

  write(batch: readonly AppendRequest[]): AppendOutcome[] {
    const recordedAt = new Date().toISOString();
    try {
      this.statements.begin.run();
      // Read under the write lock: nobody else can commit until ours is done.
      const version = this.statements.dataVersion.get()!.data_version;
      if (version !== this.dataVersion || this.heads.size > 10_000) this.heads.clear();
      this.dataVersion = version;
      const outcomes = batch.map((append) => this.writeOne(append, recordedAt));
      this.statements.commit.run();
      return outcomes;
    } catch (error) {
      // What was cached during the failed batch was never stored.
      this.heads.clear();
      if (this.db.inTransaction) this.statements.rollback.run();
      throw error;
    }
  }

  private writeOne(append: AppendRequest, recordedAt: string): AppendOutcome {
    const { streamId, events, expected } = append;
    const last = this.head(streamId);
    const current = last ? BigInt(last.revision) : null;

    const replay = this.alreadyStored(append, current);
    if (replay) return replay;
    if (!revisionMatches(expected, current)) {
      return { refused: { code: 'wrong-expected-version', streamId, expected, actual: current ?? 'no-stream' } };
    }
    let revision = current === null ? 0n : current + 1n;
    let previousHash = last?.hash ?? null;
    let position = 0n;
    for (const event of events) {
      const data = JSON.stringify(event.data);
      const metadata = JSON.stringify(event.metadata);
      const hash = eventHash(event, { streamId, revision, recordedAt, previousHash }, data, metadata);
      const info = this.statements.insert.run(streamId, Number(revision), event.id, event.type, event.schemaVersion, data, metadata, recordedAt, previousHash, hash);
      position = BigInt(info.lastInsertRowid);
      previousHash = hash;
      revision += 1n;
    }
    this.heads.set(streamId, { revision: Number(revision - 1n), hash: previousHash! });
    return { ok: { nextExpectedRevision: revision - 1n, position } };
  }

  /**
   * EventStoreDB's idempotency: an append whose events are already stored, in order, right where this append
   * expected to put them, succeeds again without writing. It is looked for where a retry would find it: after
   * the expected revision, or (for 'any') among the stream's last events. Stored ids at another point are refused.
   */
  private alreadyStored(append: AppendRequest, current: bigint | null): AppendOutcome | null {
    const { streamId, events, expected } = append;
    if (current === null) return null;
    let stored: Array<{ revision: number; event_id: string; position: number }>;
    if (typeof expected === 'bigint' || expected === 'no-stream') {
      const start = expected === 'no-stream' ? 0n : expected + 1n;
      if (start > current) return null;
      stored = this.statements.idsFrom.all(streamId, Number(start), events.length);
    } else {
      const tail = this.statements.tail.all(streamId, events.length + 32).reverse();
      const at = tail.findIndex((row) => row.event_id === events[0].id);
      if (at < 0) return null;
      stored = tail.slice(at, at + events.length);
    }
    if (stored.length === 0 || stored[0].event_id !== events[0].id) return null;
    const matches = stored.length === events.length && stored.every((row, index) => row.event_id === events[index].id);
    if (!matches) return { refused: { code: 'duplicate-event-id', eventId: events[0].id } };
    const lastStored = stored[stored.length - 1];
    return { ok: { nextExpectedRevision: BigInt(lastStored.revision), position: BigInt(lastStored.position) } };
  }
}
