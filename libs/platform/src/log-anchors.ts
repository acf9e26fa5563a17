import Database from 'better-sqlite3';
import { EMPTY_LOG_DIGEST, foldIntoLogDigest, type RecordedEvent } from '@spoc/event-store';

/** The log's digest up to an event, as the router found it then. */
export interface LogAnchor {
  position: bigint;
  eventId: string;
  digest: string;
  anchoredAt: string;
}

interface AnchorRow {
  position: string;
  event_id: string;
  digest: string;
  anchored_at: string;
}

/**
 * Digests of the log at intervals, in a file kept apart from it (beside the subject keys): whoever can rewrite the
 * log's file cannot rewrite these, so `npm run audit:verify`, and the router reading the log again, can tell the
 * log is not the one anchored, and from where. An anchor is never changed once written.
 */
export class LogAnchors {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    // Positions are decimal strings (EventStoreDB's are 64-bit unsigned); ordered by length, then text.
    this.db.exec('CREATE TABLE IF NOT EXISTS anchors (position TEXT PRIMARY KEY, event_id TEXT NOT NULL, digest TEXT NOT NULL, anchored_at TEXT NOT NULL) WITHOUT ROWID');
    this.statements = {
      record: this.db.prepare('INSERT OR IGNORE INTO anchors (position, event_id, digest, anchored_at) VALUES (?, ?, ?, ?)'),
      after: this.db.prepare<[number, number, string], AnchorRow>(
        'SELECT * FROM anchors WHERE length(position) > ? OR (length(position) = ? AND position > ?) ORDER BY length(position), position LIMIT 1',
      ),
      latest: this.db.prepare<[], AnchorRow>('SELECT * FROM anchors ORDER BY length(position) DESC, position DESC LIMIT 1'),
    };
  }

  record(anchor: LogAnchor): void {
    if (!this.db.open) return; // closed with its router: nothing is read any more that needs anchoring
    this.statements.record.run(anchor.position.toString(), anchor.eventId, anchor.digest, anchor.anchoredAt);
  }

  /** The first anchor after a position (after the start of the log for null). */
  after(position: bigint | null): LogAnchor | null {
    const text = position === null ? '' : position.toString();
    const row = this.statements.after.get(text.length, text.length, text);
    return row ? anchorOf(row) : null;
  }

  latest(): LogAnchor | null {
    const row = this.statements.latest.get();
    return row ? anchorOf(row) : null;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function anchorOf(row: AnchorRow): LogAnchor {
  return { position: BigInt(row.position), eventId: row.event_id, digest: row.digest, anchoredAt: row.anchored_at };
}

/** Where the log stopped agreeing with its anchors. */
export interface AnchorMismatch {
  /** The anchored position at which the log differs (or that it no longer reaches). */
  position: bigint;
  anchoredAt: string;
  reason: 'the log before this position is not the one anchored' | 'the log ends before this anchored position';
}

/**
 * The log's digest as it is read in order, checked at each anchor it passes: the first anchor the log disagrees
 * with is kept. Anchors are optional (none kept): then it only folds.
 */
export class AnchoredLogDigest {
  private next: LogAnchor | null;
  /** The id of the event at `position`. */
  eventId: string | null = null;
  mismatch: AnchorMismatch | null = null;

  constructor(
    private readonly anchors: LogAnchors | null,
    public value = EMPTY_LOG_DIGEST,
    public position: bigint | null = null,
  ) {
    this.next = anchors?.after(position) ?? null;
  }

  add(event: Pick<RecordedEvent, 'position' | 'hash' | 'id'>): void {
    this.value = foldIntoLogDigest(this.value, event);
    this.position = event.position;
    this.eventId = event.id;
    while (this.next && this.next.position <= event.position) {
      // Passed without meeting it: the anchored event is no longer in the log.
      if (this.next.position !== event.position || this.next.digest !== this.value) this.differs(this.next, 'the log before this position is not the one anchored');
      this.next = this.anchors!.after(this.next.position);
    }
  }

  /** Past every anchor: what is read from here on is new, and may be anchored. */
  get pastAnchors(): boolean {
    return this.next === null;
  }

  /** The log's head as it is now: an anchor beyond it means the log was cut short (or restored from an older copy). */
  checkHead(head: bigint | null): void {
    const beyond = this.anchors?.after(head) ?? null;
    if (beyond) this.differs(beyond, 'the log ends before this anchored position');
  }

  private differs(anchor: LogAnchor, reason: AnchorMismatch['reason']): void {
    this.mismatch ??= { position: anchor.position, anchoredAt: anchor.anchoredAt, reason };
  }
}
