import { Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { RecordedEvent } from '@spoc/event-store';
import type { Projection } from '@spoc/platform';
import type { AccessRecorded } from './access-log';

export interface AccessLogQuery {
  /** Entries that name any of these referral or case ids. */
  subjectIds?: string[];
  actorId?: string;
  /** ISO instants (UTC, as toISOString writes them): from inclusive, before exclusive. */
  from?: string;
  before?: string;
}

/** Where a batch that may hold matching entries is in the log. */
export interface AccessBatch {
  position: number;
  stream_id: string;
  revision: number;
}

/**
 * An index of the access log, not a copy: one row per batch (one `AccessRecorded` event) with where it is and the
 * time it spans, and postings of the actors and the referral and case ids it names. A query reads only the batches
 * that can match, from the log itself, and filters their entries. Indexing batches rather than entries keeps the
 * cost of recording a read small (docs/decisions/0006-access-log-batching.md): a batch names few distinct actors
 * and ids, and holding no entries here writes little.
 */
@Injectable()
export class AccessLogProjection implements Projection {
  readonly name = 'access-log';
  readonly version = 1;
  readonly eventTypes = ['AccessRecorded'];
  readonly tables = {
    access_batches: `CREATE TABLE IF NOT EXISTS access_batches (
      position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, revision INTEGER NOT NULL, first_at TEXT NOT NULL, last_at TEXT NOT NULL
    )`,
    access_subjects: `CREATE TABLE IF NOT EXISTS access_subjects (
      subject_id TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (subject_id, position)
    ) WITHOUT ROWID`,
    access_actors: `CREATE TABLE IF NOT EXISTS access_actors (
      actor_id TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (actor_id, position)
    ) WITHOUT ROWID`,
  };
  private db!: Database.Database;
  private statements!: { batch: Database.Statement; subject: Database.Statement; actor: Database.Statement };

  readonly indexes = ['CREATE INDEX IF NOT EXISTS access_batches_last_at ON access_batches (last_at)'];

  prepare(db: Database.Database): void {
    this.db = db;
    this.statements = {
      batch: db.prepare('INSERT OR IGNORE INTO access_batches (position, stream_id, revision, first_at, last_at) VALUES (?, ?, ?, ?, ?)'),
      subject: db.prepare('INSERT OR IGNORE INTO access_subjects (subject_id, position) VALUES (?, ?)'),
      actor: db.prepare('INSERT OR IGNORE INTO access_actors (actor_id, position) VALUES (?, ?)'),
    };
  }

  apply(event: RecordedEvent): void {
    const { entries } = event.data as unknown as AccessRecorded['data'];
    if (entries.length === 0) return;
    const position = Number(event.position);
    const subjects = new Set<string>();
    const actors = new Set<string>();
    let firstAt = entries[0].at;
    let lastAt = entries[0].at;
    for (const record of entries) {
      for (const id of record.referralIds) subjects.add(id);
      for (const id of record.caseIds) subjects.add(id);
      if (record.actor) actors.add(record.actor.id);
      if (record.at < firstAt) firstAt = record.at;
      if (record.at > lastAt) lastAt = record.at;
    }
    this.statements.batch.run(position, event.streamId, Number(event.revision), firstAt, lastAt);
    for (const id of subjects) this.statements.subject.run(id, position);
    for (const id of actors) this.statements.actor.run(id, position);
  }

  /** The batches that may hold entries matching the query, in log order. */
  batches(query: AccessLogQuery): AccessBatch[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.subjectIds?.length) {
      const ids = query.subjectIds.map(() => '?').join(', ');
      where.push(`position IN (SELECT position FROM access_subjects WHERE subject_id IN (${ids}))`);
      params.push(...query.subjectIds);
    }
    if (query.actorId !== undefined) {
      where.push('position IN (SELECT position FROM access_actors WHERE actor_id = ?)');
      params.push(query.actorId);
    }
    if (query.from !== undefined) {
      where.push('last_at >= ?');
      params.push(query.from);
    }
    if (query.before !== undefined) {
      where.push('first_at < ?');
      params.push(query.before);
    }
    const sql = `SELECT position, stream_id, revision FROM access_batches ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY position`;
    return this.db.prepare<unknown[], AccessBatch>(sql).all(...params);
  }
}
