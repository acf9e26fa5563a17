import Database from 'better-sqlite3';
import type { LogCheckpoint } from '@spoc/event-store';
import type { KnownCase } from './cloud-event';

/**
 * The relay's own SQLite file: its checkpoint and what it learned of each case (provision and referral, from the
 * `CaseOpened`), written in one transaction, so after a crash the cases known always cover the events before the
 * checkpoint. synchronous=NORMAL: a commit lost with the machine only moves the checkpoint back, and re-sending
 * from there is what at-least-once already allows.
 */
export class RelayState {
  private readonly db: Database.Database;
  private readonly readCheckpoint: Database.Statement<[], { position: bigint; event_id: string | null }>;
  private readonly readCase: Database.Statement<[string], { provision: string; referral_id: string; held: number }>;
  private readonly save: (checkpoint: LogCheckpoint, learned: ReadonlyMap<string, KnownCase>) => void;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS relay_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL, event_id TEXT);
      CREATE TABLE IF NOT EXISTS relay_cases (case_id TEXT PRIMARY KEY, provision TEXT NOT NULL, referral_id TEXT NOT NULL, held INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
    `);
    // Files from before held cases were kept off the topics: every case they know was published.
    if (!(this.db.pragma('table_info(relay_cases)') as Array<{ name: string }>).some((column) => column.name === 'held')) {
      this.db.exec('ALTER TABLE relay_cases ADD COLUMN held INTEGER NOT NULL DEFAULT 0');
    }
    // The id of the event at the checkpoint tells a restored log that has grown past it from the log it was read in.
    if (!(this.db.pragma('table_info(relay_checkpoint)') as Array<{ name: string }>).some((column) => column.name === 'event_id')) {
      this.db.exec('ALTER TABLE relay_checkpoint ADD COLUMN event_id TEXT');
    }
    this.readCheckpoint = this.db.prepare<[], { position: bigint; event_id: string | null }>('SELECT position, event_id FROM relay_checkpoint WHERE id = 1').safeIntegers(true);
    this.readCase = this.db.prepare<[string], { provision: string; referral_id: string; held: number }>('SELECT provision, referral_id, held FROM relay_cases WHERE case_id = ?');
    const saveCheckpoint = this.db.prepare(
      'INSERT INTO relay_checkpoint (id, position, event_id) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position, event_id = excluded.event_id',
    );
    const saveCase = this.db.prepare('INSERT OR IGNORE INTO relay_cases (case_id, provision, referral_id, held) VALUES (?, ?, ?, ?)');
    this.save = this.db.transaction((checkpoint: LogCheckpoint, learned: ReadonlyMap<string, KnownCase>) => {
      for (const [caseId, known] of learned) saveCase.run(caseId, known.provision, known.referralId, known.held ? 1 : 0);
      saveCheckpoint.run(checkpoint.position, checkpoint.eventId);
    });
  }

  /** The last event the broker acknowledged (everything up to it is published), or null before the first. */
  checkpoint(): LogCheckpoint | null {
    const row = this.readCheckpoint.get();
    return row ? { position: row.position, eventId: row.event_id } : null;
  }

  /** Back to before the first event, for a log that was replaced (restored from a backup). */
  rewind(): void {
    this.db.prepare('DELETE FROM relay_checkpoint').run();
  }

  knownCase(caseId: string): KnownCase | null {
    const row = this.readCase.get(caseId);
    return row ? { provision: row.provision, referralId: row.referral_id, held: row.held === 1 } : null;
  }

  commit(checkpoint: LogCheckpoint, learned: ReadonlyMap<string, KnownCase>): void {
    this.save(checkpoint, learned);
  }

  close(): void {
    this.db.close();
  }
}
