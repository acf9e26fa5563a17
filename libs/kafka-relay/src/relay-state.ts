import Database from 'better-sqlite3';
import type { KnownCase } from './cloud-event';

/**
 * The relay's own SQLite file: its checkpoint and what it learned of each case (provision and referral, from the
 * `CaseOpened`), written in one transaction, so after a crash the cases known always cover the events before the
 * checkpoint. synchronous=NORMAL: a commit lost with the machine only moves the checkpoint back, and re-sending
 * from there is what at-least-once already allows.
 */
export class RelayState {
  private readonly db: Database.Database;
  private readonly readCheckpoint: Database.Statement<[], { position: bigint }>;
  private readonly readCase: Database.Statement<[string], { provision: string; referral_id: string }>;
  private readonly save: (position: bigint, learned: ReadonlyMap<string, KnownCase>) => void;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS relay_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS relay_cases (case_id TEXT PRIMARY KEY, provision TEXT NOT NULL, referral_id TEXT NOT NULL) WITHOUT ROWID;
    `);
    this.readCheckpoint = this.db.prepare<[], { position: bigint }>('SELECT position FROM relay_checkpoint WHERE id = 1').safeIntegers(true);
    this.readCase = this.db.prepare<[string], { provision: string; referral_id: string }>('SELECT provision, referral_id FROM relay_cases WHERE case_id = ?');
    const saveCheckpoint = this.db.prepare('INSERT INTO relay_checkpoint (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position');
    const saveCase = this.db.prepare('INSERT OR IGNORE INTO relay_cases (case_id, provision, referral_id) VALUES (?, ?, ?)');
    this.save = this.db.transaction((position: bigint, learned: ReadonlyMap<string, KnownCase>) => {
      for (const [caseId, known] of learned) saveCase.run(caseId, known.provision, known.referralId);
      saveCheckpoint.run(position);
    });
  }

  /** The last position the broker acknowledged (everything up to it is published), or null before the first. */
  checkpoint(): bigint | null {
    return this.readCheckpoint.get()?.position ?? null;
  }

  /** Back to `position` (null: before the first event), for a log that was replaced by a shorter one. */
  rewind(position: bigint | null): void {
    if (position === null) this.db.prepare('DELETE FROM relay_checkpoint').run();
    else this.db.prepare('UPDATE relay_checkpoint SET position = ? WHERE id = 1').run(position);
  }

  knownCase(caseId: string): KnownCase | null {
    const row = this.readCase.get(caseId);
    return row ? { provision: row.provision, referralId: row.referral_id } : null;
  }

  commit(position: bigint, learned: ReadonlyMap<string, KnownCase>): void {
    this.save(position, learned);
  }

  close(): void {
    this.db.close();
  }
}
