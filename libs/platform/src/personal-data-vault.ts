import Database from 'better-sqlite3';
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import path from 'node:path';

/** Personal data as stored in an event: encrypted with the data subject's own key. */
export interface Sealed {
  sealed: 'aes-256-gcm';
  keyId: string;
  iv: string;
  tag: string;
  data: string;
}

export function isSealed(value: unknown): value is Sealed {
  return typeof value === 'object' && value !== null && (value as Sealed).sealed === 'aes-256-gcm';
}

/** Sealed data names a key the key file neither holds nor destroyed: it cannot be opened, and it was not erased. */
export class SubjectKeyMissingError extends Error {
  constructor() {
    super('the key that sealed this personal data is not in the key file');
    this.name = 'SubjectKeyMissingError';
  }
}

/**
 * Crypto-shredding: each referral's personal data is encrypted with a key of its own, kept in a separate file
 * from the events. Destroying the key makes every copy of the data unreadable, backups of the log included,
 * while the non-personal facts stay for audit and reports.
 *
 * A key must be on disk before any event sealed with it is appended, but an fsync per referral would halve
 * intake. So keys are created durably in batches ahead of need (one fsync per batch) and each is handed out
 * once: a key id is recorded in the sealed data itself, and a key created by an earlier process is never handed
 * out again, so no two referrals can ever share a key, even across a crash.
 */
export class PersonalDataVault {
  private readonly db: Database.Database;
  private readonly cache = new Map<string, Buffer | null>();
  private dataVersion = -1;
  private versionChecked = false;
  /** Keys sealed data names that this file never held and never destroyed (see `keyFor`). Bounded. */
  private readonly missing = new Set<string>();
  private pool: Array<{ keyId: string; key: Buffer }> = [];
  private refilling: Promise<void> | null = null;
  private readonly statements;

  /**
   * `erasedKeysFile` is the ledger of destroyed keys' ids (no key, nothing personal): kept apart from the keys, and
   * never restored from a backup older than the key file, it is what re-destroys keys a restored key file brings
   * back. The service keeps it in `SPOC_ERASED_KEYS_DIR` (by default with the log), away from the keys.
   */
  constructor(file: string, private readonly batchSize = 500, erasedKeysFile = path.join(path.dirname(file), 'erased-keys.sqlite')) {
    this.db = new Database(file, { timeout: 10_000 });
    // Processes starting together (the API and a router) may find a new file locked by the other's setup.
    whileBusy(() => this.db.pragma('journal_mode = WAL'));
    this.db.pragma('synchronous = FULL');
    // A destroyed key's bytes are overwritten in the file, not just unlinked from its page.
    this.db.pragma('secure_delete = ON');
    this.db.exec(`CREATE TABLE IF NOT EXISTS subject_keys (
      key_id TEXT PRIMARY KEY, key BLOB, created_at TEXT NOT NULL, destroyed_at TEXT
    ) WITHOUT ROWID`);
    // Keys an operator accepted as lost (a start on an older key file told to go ahead): no key, nothing personal.
    this.db.exec('CREATE TABLE IF NOT EXISTS lost_keys (key_id TEXT PRIMARY KEY, accepted_at TEXT NOT NULL) WITHOUT ROWID');
    this.db.prepare('ATTACH DATABASE ? AS ledger').run(erasedKeysFile);
    whileBusy(() => this.db.pragma('ledger.journal_mode = WAL'));
    this.db.pragma('ledger.synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS ledger.erased_keys (key_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL) WITHOUT ROWID');
    this.destroyRestoredKeys();
    // A file written before secure_delete was on may still hold destroyed keys' bytes in its free space: rewritten
    // once (VACUUM copies live rows only), then marked. The rewritten pages reach the file at the next checkpoint
    // (at once, unless another process is reading it: the API and a separate router share the file; every
    // erasure checkpoints again). Another process writing it at that moment leaves the rewrite to the next start.
    if (this.db.pragma('user_version', { simple: true }) === 0) {
      try {
        this.db.exec('VACUUM');
        this.db.pragma('wal_checkpoint(PASSIVE)');
        this.db.pragma('user_version = 1');
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      }
    }
    this.statements = {
      insert: this.db.prepare('INSERT INTO subject_keys (key_id, key, created_at) VALUES (?, ?, ?)'),
      insertOrIgnore: this.db.prepare('INSERT OR IGNORE INTO subject_keys (key_id, key, created_at) VALUES (?, ?, ?)'),
      get: this.db.prepare<[string], { key: Buffer | null }>('SELECT key FROM subject_keys WHERE key_id = ?'),
      destroy: this.db.prepare('UPDATE subject_keys SET key = NULL, destroyed_at = ? WHERE key_id = ?'),
      erased: this.db.prepare('INSERT OR IGNORE INTO ledger.erased_keys (key_id, erased_at) VALUES (?, ?)'),
      known: this.db.prepare<[string, string]>('SELECT 1 FROM main.subject_keys WHERE key_id = ? UNION ALL SELECT 1 FROM ledger.erased_keys WHERE key_id = ?').pluck(),
      held: this.db.prepare<[string, string]>('SELECT 1 FROM main.subject_keys WHERE key_id = ? UNION ALL SELECT 1 FROM main.lost_keys WHERE key_id = ?').pluck(),
      acceptLost: this.db.prepare('INSERT OR IGNORE INTO main.lost_keys (key_id, accepted_at) VALUES (?, ?)'),
      // Changes whenever another connection commits to the key file (not for this connection's own commits).
      dataVersion: this.db.prepare('PRAGMA main.data_version').pluck(),
    };
  }

  /**
   * A key file restored from a backup brings back the keys destroyed since that backup: the ledger knows them, and
   * they are destroyed again here, before anything can open what they sealed. Keys destroyed before the ledger
   * existed (or while it was lost) join it from the key file itself.
   */
  private destroyRestoredKeys(): void {
    // Read first, written only when there is something to do: an opening takes no write lock from another process.
    const unrecorded = "FROM main.subject_keys WHERE key IS NULL AND destroyed_at IS NOT NULL AND key_id NOT IN (SELECT key_id FROM ledger.erased_keys)";
    if (this.db.prepare(`SELECT 1 ${unrecorded} LIMIT 1`).get()) this.db.exec(`INSERT OR IGNORE INTO ledger.erased_keys (key_id, erased_at) SELECT key_id, destroyed_at ${unrecorded}`);
    const restored = 'FROM main.subject_keys WHERE key IS NOT NULL AND key_id IN (SELECT key_id FROM ledger.erased_keys)';
    if (!this.db.prepare(`SELECT 1 ${restored} LIMIT 1`).get()) return;
    const { changes } = this.db
      .prepare('UPDATE main.subject_keys SET key = NULL, destroyed_at = coalesce(destroyed_at, ?) WHERE key IS NOT NULL AND key_id IN (SELECT key_id FROM ledger.erased_keys)')
      .run(new Date().toISOString());
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    process.stderr.write(`personal-data vault: ${changes} keys destroyed before were back in the key file (was it restored from a backup?); destroyed again\n`);
  }

  /** A fresh key for one data subject, already durable. */
  async newKey(): Promise<{ keyId: string; key: Buffer }> {
    while (this.pool.length === 0) await this.refill();
    const next = this.pool.pop()!;
    // Ahead of need; a failure here (the vault closed meanwhile, a full disk) waits for the next caller, who retries.
    if (this.pool.length < this.batchSize / 4) this.refill().catch(() => undefined);
    return next;
  }

  /**
   * Gives back a key that sealed nothing stored: the append it was for was refused whole (the referral existed
   * already, an idempotent retry), so no event names it, and the next referral may have it. Retries would otherwise
   * each burn a key in the file that is backed up apart.
   */
  returnUnusedKey(subject: { keyId: string; key: Buffer }): void {
    this.pool.push(subject);
  }

  /**
   * A long-lived key for the service's own use (e.g. keyed hashes for person matching), created on first use.
   * Kept with the subject keys so that a copy of the read models alone reveals nothing.
   */
  namedKey(name: string): Buffer {
    const keyId = `service:${name}`;
    // A service key is never destroyed, so one in the cache is still it.
    const cached = this.cache.get(keyId);
    if (cached) return cached;
    if (!this.statements.get.get(keyId)) this.statements.insertOrIgnore.run(keyId, randomBytes(32), new Date().toISOString());
    this.cache.delete(keyId);
    return this.keyFor(keyId)!;
  }

  /**
   * Whether this key file holds the key or destroyed it: a key it knows nothing of sealed data in a log this file
   * is not the key file of (an older backup of it, another installation's), and that data cannot be read.
   */
  knowsKey(keyId: string): boolean {
    return this.statements.known.get(keyId, keyId) !== undefined;
  }

  /**
   * Whether the key file itself has this key's row (held, or destroyed and kept as a row), or was told it is lost.
   * Stricter than `knowsKey`: the ledger of destroyed keys is never older than the key file, so a key only the ledger
   * knows means the key file is older than that key.
   */
  keyFileHolds(keyId: string): boolean {
    return this.statements.held.get(keyId, keyId) !== undefined;
  }

  /** Records that this key is known lost (an operator's decision at start); its data stays unreadable and counted. */
  acceptLostKey(keyId: string): void {
    this.statements.acceptLost.run(keyId, new Date().toISOString());
  }

  /** How many keys named by sealed data this process has looked for and found neither here nor destroyed. */
  get missingKeyCount(): number {
    return this.missing.size;
  }

  /**
   * The key with this id, or null when it was destroyed (the data was erased) or was never in this file. The
   * second is not an erasure but a loss, shown the same way (nothing can be opened) and counted apart, so that
   * health can say so.
   */
  keyFor(keyId: string): Buffer | null {
    // Another process sharing the key file (a second API, the router) may have destroyed a key cached here: any
    // commit of theirs empties the cache, so an erasure anywhere takes effect everywhere at once. Looked at once per
    // run of synchronous work (a page opens fifty cards in one): the check costs about 2 µs.
    if (!this.versionChecked) {
      this.versionChecked = true;
      queueMicrotask(() => (this.versionChecked = false));
      const version = this.statements.dataVersion.get() as number;
      if (version !== this.dataVersion) {
        this.dataVersion = version;
        this.cache.clear();
      }
    }
    if (this.cache.has(keyId)) return this.cache.get(keyId) ?? null;
    const row = this.statements.get.get(keyId);
    if (!row && !this.knowsKey(keyId)) this.noteMissing(keyId);
    const key = row?.key ?? null;
    this.remember(keyId, key);
    return key;
  }

  private noteMissing(keyId: string): void {
    if (this.missing.has(keyId) || this.missing.size >= 100_000) return;
    // Said once, and by count only: a key id points at one referral.
    if (this.missing.size === 0) process.stderr.write('personal-data vault: sealed data names a key this key file never held (restored from an older backup?); health counts them\n');
    this.missing.add(keyId);
  }

  // Bounded: every referral has a key of its own, and a process that runs for years must not hold them all.
  private remember(keyId: string, key: Buffer | null): void {
    if (this.cache.size >= 50_000) this.cache.clear();
    this.cache.set(keyId, key);
  }

  private refill(): Promise<void> {
    this.refilling ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        try {
          const now = new Date().toISOString();
          const fresh = Array.from({ length: this.batchSize }, () => ({ keyId: randomUUID(), key: randomBytes(32) }));
          this.db.transaction(() => fresh.forEach(({ keyId, key }) => this.statements.insert.run(keyId, key, now)))();
          for (const entry of fresh) this.remember(entry.keyId, entry.key);
          this.pool.push(...fresh);
          resolve();
        } catch (error) {
          reject(error);
        } finally {
          this.refilling = null;
        }
      });
    });
    return this.refilling;
  }

  seal(key: Buffer, keyId: string, value: unknown): Sealed {
    const iv = nextIv();
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return { sealed: 'aes-256-gcm', keyId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  /** The value, or null when the subject's key has been destroyed (the data was erased). */
  open<T>(sealed: Sealed): T | null {
    const key = this.keyFor(sealed.keyId);
    if (!key) return null;
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
    return JSON.parse(text) as T;
  }

  /** A digest of personal data under the subject's key: comparable while the key lives, meaningless after. */
  digest(key: Buffer, value: unknown): string {
    return createHmac('sha256', key).update(JSON.stringify(value)).digest('hex');
  }

  /**
   * Erases everything sealed with the key. Idempotent. The write-ahead log still holds the page as it was until it
   * is checkpointed, so it is checkpointed and truncated at once: the key's bytes are then in no file.
   */
  destroyKey(keyId: string): void {
    // Forgotten here first: should the write fail, this process at least stops opening the data at once.
    this.cache.set(keyId, null);
    const at = new Date().toISOString();
    // The ledger first: should the key's own write be lost, the next opening of the vault destroys it. Should the
    // ledger's fail, the key is destroyed all the same (the key file's own record of it fills the ledger later).
    let unrecorded: unknown = null;
    try {
      this.statements.erased.run(keyId, at);
    } catch (error) {
      unrecorded = error;
    }
    this.statements.destroy.run(at, keyId);
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    if (unrecorded) throw unrecorded; // the caller retries, which records it
  }

  close(): void {
    this.db.close();
  }
}

/** Setting up a new file needs a lock SQLite does not always wait for: tried again for up to ten seconds in all. */
function whileBusy(work: () => unknown): void {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      work();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

// GCM needs an IV never used twice under a key: 96 random bits each time, drawn from the CSPRNG a few hundred at a
// time (a call per seal was a tenth of sealing's cost). Each slice is handed out once; the cipher copies it.
const IV_BYTES = 12;
const ivPool = Buffer.alloc(IV_BYTES * 512);
let ivOffset = ivPool.length;

function nextIv(): Buffer {
  if (ivOffset === ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}
