import { Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { DecodedEvent, Projection } from '@spoc/platform';
import type { AccessRecorded } from './access-log';

export interface AccessLogRow {
  position: number;
  entry: number;
  at: string;
  actor_id: string | null;
  actor_role: string | null;
  actor_agency: string | null;
  actor_provision: string | null;
  method: string;
  route: string;
  outcome: string;
  status_code: number;
  referral_ids: string;
  case_ids: string;
  correlation_id: string;
}

export interface AccessLogQuery {
  /** Entries that name any of these referral or case ids. */
  subjectIds?: string[];
  actorId?: string;
  /** ISO instants (UTC, as toISOString writes them): from inclusive, before exclusive. */
  from?: string;
  before?: string;
  limit: number;
  offset: number;
}

/**
 * The access log as the auditor queries it: one row per access (an event's position and the entry's place in it),
 * and one index row per referral or case it named.
 */
@Injectable()
export class AccessLogProjection implements Projection {
  readonly name = 'access-log';
  readonly version = 1;
  readonly eventTypes = ['AccessRecorded'];
  readonly tables = {
    access_log: `CREATE TABLE IF NOT EXISTS access_log (
      position INTEGER NOT NULL, entry INTEGER NOT NULL, at TEXT NOT NULL,
      actor_id TEXT, actor_role TEXT, actor_agency TEXT, actor_provision TEXT, method TEXT NOT NULL, route TEXT NOT NULL, outcome TEXT NOT NULL, status_code INTEGER NOT NULL,
      referral_ids TEXT NOT NULL, case_ids TEXT NOT NULL, correlation_id TEXT NOT NULL, PRIMARY KEY (position, entry)
    ) WITHOUT ROWID`,
    access_log_subjects: `CREATE TABLE IF NOT EXISTS access_log_subjects (
      subject_id TEXT NOT NULL, position INTEGER NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (subject_id, position, entry)
    ) WITHOUT ROWID`,
  };
  private db!: Database.Database;
  private statements!: { entry: Database.Statement; subject: Database.Statement };

  prepare(db: Database.Database): void {
    db.exec('CREATE INDEX IF NOT EXISTS access_log_actor ON access_log (actor_id, position, entry)');
    db.exec('CREATE INDEX IF NOT EXISTS access_log_at ON access_log (at)');
    this.db = db;
    this.statements = {
      entry: db.prepare(
        `INSERT OR IGNORE INTO access_log (position, entry, at, actor_id, actor_role, actor_agency, actor_provision, method, route,
           outcome, status_code, referral_ids, case_ids, correlation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      subject: db.prepare('INSERT OR IGNORE INTO access_log_subjects (subject_id, position, entry) VALUES (?, ?, ?)'),
    };
  }

  apply(event: DecodedEvent): void {
    const { entries } = event.data as unknown as AccessRecorded['data'];
    const position = Number(event.position);
    entries.forEach((record, entry) => {
      const { actor } = record;
      this.statements.entry.run(
        position, entry, record.at, actor?.id ?? null, actor?.role ?? null, actor?.agency ?? null, actor?.provision ?? null,
        record.method, record.route, record.outcome, record.statusCode,
        JSON.stringify(record.referralIds), JSON.stringify(record.caseIds), record.correlationId,
      );
      for (const id of new Set([...record.referralIds, ...record.caseIds])) this.statements.subject.run(id, position, entry);
    });
  }

  /** In log order, so an offset cursor stays put while new entries arrive at the end. */
  find(query: AccessLogQuery): AccessLogRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.subjectIds?.length) {
      const ids = query.subjectIds.map(() => '?').join(', ');
      where.push(`(position, entry) IN (SELECT position, entry FROM access_log_subjects WHERE subject_id IN (${ids}))`);
      params.push(...query.subjectIds);
    }
    if (query.actorId !== undefined) {
      where.push('actor_id = ?');
      params.push(query.actorId);
    }
    if (query.from !== undefined) {
      where.push('at >= ?');
      params.push(query.from);
    }
    if (query.before !== undefined) {
      where.push('at < ?');
      params.push(query.before);
    }
    const sql = `SELECT * FROM access_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY position, entry LIMIT ? OFFSET ?`;
    return this.db.prepare<unknown[], AccessLogRow>(sql).all(...params, query.limit, query.offset);
  }
}
