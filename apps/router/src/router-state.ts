import type Database from 'better-sqlite3';
import { createHmac, randomUUID } from 'node:crypto';
import { blockingKey, normaliseName, normalisePostcode, type PersonKeys } from '@spoc/domain';
import type { LogCheckpoint } from '@spoc/event-store';

/** A referral's subject as the router remembers it for repeat matching: keyed hashes only, no names or dates. */
export interface IndexedPerson {
  referralId: string;
  blocking: string;
  firstName: string | null;
  postcode: string | null;
  policePersonId: string | null;
  nhsNumber: string | null;
  otherBlocking: string | null;
  otherFirstName: string | null;
  otherPolicePersonId: string | null;
  receivedAt: string;
  /** When each decision listing the referral at MARAC was made, oldest first. */
  maracListings: string[];
}

/**
 * What the index holds changes meaning with this number (2: names of every script, every MARAC listing kept, not
 * only the latest, the other party's first name; 3: names keep the marks other scripts write sounds with; the
 * referrals whose needs a reassessment restated): a file from before is emptied once, and the router reads the log again from the start.
 */
const INDEX_VERSION = 3;

/**
 * The router's own state: its checkpoint and the person index. Like every read model it can be dropped and
 * rebuilt from the log (the index holds HMACs under a service key, so a copy of this file identifies nobody).
 */
export class RouterState {
  private readonly statements;

  constructor(private readonly db: Database.Database, private readonly matchKey: Buffer) {
    // An erased person's hashes are overwritten as they leave the index, not left in free pages: with the service
    // key (in the key file), anyone holding this file could otherwise test guesses of a name and a date of birth.
    db.pragma('secure_delete = ON');
    // A file written before it was on may hold hashes of people erased since in its free pages: rewritten once
    // (VACUUM copies live rows only), then marked. The router holds the file alone (exclusive lock). It needs up to
    // three times the file's size on disk for a moment: if that fails, the router still starts, and tries again
    // at its next start.
    if (db.pragma('user_version', { simple: true }) === 0) {
      try {
        db.exec('VACUUM');
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.pragma('user_version = 1');
      } catch (error) {
        // Room or a temporary file it could not have: anything else (a corrupt file) is not the rewrite's to hide.
        const code = (error as { code?: string }).code ?? '';
        if (!/^SQLITE_(FULL|BUSY|IOERR|CANTOPEN)/.test(code)) throw error;
        process.stderr.write(`router state: could not rewrite the file to clear its free pages (${code}); trying again at the next start\n`);
      }
    }
    db.exec(`CREATE TABLE IF NOT EXISTS persons (
      referral_id TEXT PRIMARY KEY, blocking TEXT NOT NULL, first_name TEXT, postcode TEXT, police_person_id TEXT,
      nhs_number TEXT, other_blocking TEXT, other_police_person_id TEXT, received_at TEXT NOT NULL, other_first_name TEXT
    ) WITHOUT ROWID`);
    // A file from before the column: added here, filled as the log is read again (the index version below).
    const columns = db.prepare<[], { name: string }>('SELECT name FROM pragma_table_info(\'persons\')').all().map((column) => column.name);
    if (!columns.includes('other_first_name')) db.exec('ALTER TABLE persons ADD COLUMN other_first_name TEXT');
    // Every listing, not only the latest: a later decision re-listing the earlier referral must not hide that it
    // was heard at MARAC in the window before a new referral (routing-policy.md, repeat MARAC).
    db.exec('CREATE TABLE IF NOT EXISTS marac_listings (referral_id TEXT NOT NULL, listed_at TEXT NOT NULL, PRIMARY KEY (referral_id, listed_at)) WITHOUT ROWID');
    db.exec('CREATE TABLE IF NOT EXISTS index_version (version INTEGER NOT NULL)');
    // Referrals whose needs a reassessment restated: a decision that no longer needs the refuge may still have a
    // unit to give back (asked for by one that lost its race).
    db.exec('CREATE TABLE IF NOT EXISTS needs_restated (referral_id TEXT PRIMARY KEY) WITHOUT ROWID');
    // The log's digest at the checkpoint, saved with it: the anchors go on from it after a restart.
    db.exec('CREATE TABLE IF NOT EXISTS log_digest (name TEXT PRIMARY KEY, position TEXT NOT NULL, digest TEXT NOT NULL) WITHOUT ROWID');
    db.exec('CREATE INDEX IF NOT EXISTS persons_blocking ON persons (blocking)');
    db.exec('CREATE INDEX IF NOT EXISTS persons_police ON persons (police_person_id) WHERE police_person_id IS NOT NULL');
    db.exec('CREATE INDEX IF NOT EXISTS persons_nhs ON persons (nhs_number) WHERE nhs_number IS NOT NULL');
    // Every case a referral has had, wherever it was opened: what a decline may not be referred on to again.
    db.exec('CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, referral_id TEXT NOT NULL, provision TEXT NOT NULL) WITHOUT ROWID');
    db.exec('CREATE INDEX IF NOT EXISTS cases_referral ON cases (referral_id, provision)');
    this.statements = {
      checkpoint: db.prepare<[string], { position: number; event_id: string | null }>('SELECT position, event_id FROM checkpoints WHERE name = ?'),
      saveCheckpoint: db.prepare(
        'INSERT INTO checkpoints (name, position, event_id) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position, event_id = excluded.event_id',
      ),
      digest: db.prepare<[string], { position: string; digest: string }>('SELECT position, digest FROM log_digest WHERE name = ?'),
      saveDigest: db.prepare('INSERT INTO log_digest (name, position, digest) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position, digest = excluded.digest'),
      upsert: db.prepare(`INSERT INTO persons (referral_id, blocking, first_name, postcode, police_person_id, nhs_number, other_blocking, other_first_name, other_police_person_id, received_at)
        VALUES (@referralId, @blocking, @firstName, @postcode, @policePersonId, @nhsNumber, @otherBlocking, @otherFirstName, @otherPolicePersonId, @receivedAt)
        ON CONFLICT (referral_id) DO NOTHING`),
      listed: db.prepare('INSERT OR IGNORE INTO marac_listings (referral_id, listed_at) VALUES (?, ?)'),
      listingsOf: db.prepare<[string], { listed_at: string }>('SELECT listed_at FROM marac_listings WHERE referral_id = ? ORDER BY listed_at'),
      forgetListings: db.prepare('DELETE FROM marac_listings WHERE referral_id = ?'),
      needsRestated: db.prepare('INSERT OR IGNORE INTO needs_restated (referral_id) VALUES (?)'),
      restated: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM needs_restated WHERE referral_id = ?'),
      // Three lookups, each on its own index (an OR across them, or a partial index without IS NOT NULL, scans).
      byBlocking: db.prepare<[string], PersonRow>('SELECT * FROM persons WHERE blocking = ?'),
      byPolice: db.prepare<[string], PersonRow>('SELECT * FROM persons WHERE police_person_id = ? AND police_person_id IS NOT NULL'),
      byNhs: db.prepare<[string], PersonRow>('SELECT * FROM persons WHERE nhs_number = ? AND nhs_number IS NOT NULL'),
      forget: db.prepare('DELETE FROM persons WHERE referral_id = ?'),
      caseOpened: db.prepare('INSERT OR IGNORE INTO cases (case_id, referral_id, provision) VALUES (?, ?, ?)'),
      caseById: db.prepare<[string], { referral_id: string; provision: string }>('SELECT referral_id, provision FROM cases WHERE case_id = ?'),
      casesOf: db.prepare<[string], { case_id: string; provision: string }>('SELECT case_id, provision FROM cases WHERE referral_id = ?'),
    };
    const stored = db.prepare<[], { version: number }>('SELECT version FROM index_version').get()?.version ?? 0;
    if (stored < INDEX_VERSION) {
      const known = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM persons').get()!.n > 0;
      if (known) process.stderr.write(`router state: the person index is from before version ${INDEX_VERSION}; reading the log again from the start\n`);
      db.transaction(() => {
        this.forgetAll();
        db.exec('DELETE FROM index_version');
        db.prepare('INSERT INTO index_version (version) VALUES (?)').run(INDEX_VERSION);
      })();
    }
  }

  checkpoint(name: string): LogCheckpoint | null {
    const row = this.statements.checkpoint.get(name);
    return row ? { position: BigInt(row.position), eventId: row.event_id } : null;
  }

  /** With the log's digest at that event, when it is known: both, or neither. */
  saveCheckpoint(name: string, checkpoint: LogCheckpoint, digest?: { position: bigint; value: string }): void {
    this.db.transaction(() => {
      this.statements.saveCheckpoint.run(name, Number(checkpoint.position), checkpoint.eventId);
      if (digest) this.statements.saveDigest.run(name, digest.position.toString(), digest.value);
    })();
  }

  /** The log's digest saved with the checkpoint; null in a file from before it was kept. */
  digestAt(name: string): { position: bigint; value: string } | null {
    const row = this.statements.digest.get(name);
    return row ? { position: BigInt(row.position), value: row.digest } : null;
  }

  /** Hashes a subject's match keys under the service key. Normalised first, so equal people hash equal. */
  hashPerson(keys: PersonKeys, other: { firstName: string | null; lastName: string | null; dateOfBirth: string | null; policePersonId: string | null } | null) {
    const hash = (value: string | null) => (value ? createHmac('sha256', this.matchKey).update(value).digest('hex') : null);
    return {
      // No name to match by: a key no one else has (the person is found by police id or NHS number, if at all).
      blocking: hash(blockingKey(keys)) ?? `unmatched:${randomUUID()}`,
      firstName: hash(normaliseName(keys.firstName)),
      postcode: hash(normalisePostcode(keys.postcode)),
      policePersonId: hash(keys.policePersonId),
      nhsNumber: hash(keys.nhsNumber),
      otherBlocking: other?.lastName && other.dateOfBirth ? hash(blockingKey({ lastName: other.lastName, dateOfBirth: other.dateOfBirth })) : null,
      otherFirstName: hash(normaliseName(other?.firstName ?? null)),
      otherPolicePersonId: hash(other?.policePersonId ?? null),
    };
  }

  /** Everything this state knows, and its checkpoints, gone: the router reads the log again from the start. */
  forgetAll(): void {
    this.db.transaction(() => {
      this.db.exec('DELETE FROM persons; DELETE FROM marac_listings; DELETE FROM needs_restated; DELETE FROM cases; DELETE FROM checkpoints; DELETE FROM log_digest');
    })();
  }

  /** An erased referral is no one's earlier referral: its subject leaves the index. */
  forgetPerson(referralId: string): void {
    this.statements.forget.run(referralId);
    this.statements.forgetListings.run(referralId);
    // The write-ahead log still holds the pages as they were: copied back and emptied at once (erasures are rare).
    if (!this.db.inTransaction) this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  remember(person: Omit<IndexedPerson, 'maracListings'>): void {
    this.statements.upsert.run(person);
  }

  rememberCase(caseId: string, referralId: string, provision: string): void {
    this.statements.caseOpened.run(caseId, referralId, provision);
  }

  caseById(caseId: string): { referralId: string; provision: string } | null {
    const row = this.statements.caseById.get(caseId);
    return row ? { referralId: row.referral_id, provision: row.provision } : null;
  }

  casesOf(referralId: string): Array<{ caseId: string; provision: string }> {
    return this.statements.casesOf.all(referralId).map((row) => ({ caseId: row.case_id, provision: row.provision }));
  }

  noteNeedsRestated(referralId: string): void {
    this.statements.needsRestated.run(referralId);
  }

  needsWereRestated(referralId: string): boolean {
    return this.statements.restated.get(referralId) !== undefined;
  }

  recordMaracListing(referralId: string, listedAt: string): void {
    this.statements.listed.run(referralId, listedAt);
  }

  candidatesFor(person: Pick<IndexedPerson, 'referralId' | 'blocking' | 'policePersonId' | 'nhsNumber'>): IndexedPerson[] {
    const rows = new Map<string, PersonRow>();
    for (const row of this.statements.byBlocking.all(person.blocking)) rows.set(row.referral_id, row);
    if (person.policePersonId) for (const row of this.statements.byPolice.all(person.policePersonId)) rows.set(row.referral_id, row);
    if (person.nhsNumber) for (const row of this.statements.byNhs.all(person.nhsNumber)) rows.set(row.referral_id, row);
    rows.delete(person.referralId);
    return [...rows.values()].map((row) => ({
      referralId: row.referral_id,
      blocking: row.blocking,
      firstName: row.first_name,
      postcode: row.postcode,
      policePersonId: row.police_person_id,
      nhsNumber: row.nhs_number,
      otherBlocking: row.other_blocking,
      otherFirstName: row.other_first_name,
      otherPolicePersonId: row.other_police_person_id,
      receivedAt: row.received_at,
      maracListings: this.statements.listingsOf.all(row.referral_id).map((listing) => listing.listed_at),
    }));
  }
}

interface PersonRow {
  referral_id: string;
  blocking: string;
  first_name: string | null;
  postcode: string | null;
  police_person_id: string | null;
  nhs_number: string | null;
  other_blocking: string | null;
  other_first_name: string | null;
  other_police_person_id: string | null;
  received_at: string;
}

/**
 * Same matching rule as `matchPerson` (libs/domain), applied to hashed keys: identifiers decide when both have them,
 * otherwise the blocking key (last name + date of birth) tightened by first name or postcode.
 */
export function matchIndexed(a: IndexedPerson | Omit<IndexedPerson, 'maracListings'>, b: IndexedPerson): 'certain' | 'possible' | 'none' {
  if (a.policePersonId && b.policePersonId) return a.policePersonId === b.policePersonId ? 'certain' : 'none';
  if (a.nhsNumber && b.nhsNumber) return a.nhsNumber === b.nhsNumber ? 'certain' : 'none';
  if (a.blocking !== b.blocking) return 'none';
  const sameFirst = a.firstName !== null && a.firstName === b.firstName;
  const samePostcode = a.postcode !== null && a.postcode === b.postcode;
  return sameFirst || samePostcode ? 'certain' : 'possible';
}
