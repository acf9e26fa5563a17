import Database from 'better-sqlite3';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

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

/**
 * Crypto-shredding: each referral's personal data is encrypted with a key of its own, kept in a separate file
 * from the events. Destroying the key makes every copy of the data unreadable, backups of the log included,
 * while the non-personal facts stay for audit and reports. Keys are written durably (synchronous=FULL) and
 * group-committed, and a key is on disk before any event sealed with it is appended.
 */
export class PersonalDataVault {
  private readonly db: Database.Database;
  private readonly cache = new Map<string, Buffer | null>();
  private pending: Array<{ keyId: string; resolve: (key: Buffer) => void; reject: (error: unknown) => void }> = [];
  private flushScheduled = false;
  private readonly statements;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS subject_keys (
      key_id TEXT PRIMARY KEY, key BLOB, created_at TEXT NOT NULL, destroyed_at TEXT
    ) WITHOUT ROWID`);
    this.statements = {
      insert: this.db.prepare('INSERT OR IGNORE INTO subject_keys (key_id, key, created_at) VALUES (?, ?, ?)'),
      get: this.db.prepare<[string], { key: Buffer | null }>('SELECT key FROM subject_keys WHERE key_id = ?'),
      destroy: this.db.prepare('UPDATE subject_keys SET key = NULL, destroyed_at = ? WHERE key_id = ?'),
    };
  }

  /** The subject's key, created (durably) on first use. */
  ensureKey(keyId: string): Promise<Buffer> {
    const cached = this.cache.get(keyId);
    if (cached) return Promise.resolve(cached);
    return new Promise((resolve, reject) => {
      this.pending.push({ keyId, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    const now = new Date().toISOString();
    let keys: Array<Buffer | null>;
    try {
      keys = this.db.transaction(() =>
        batch.map(({ keyId }) => {
          this.statements.insert.run(keyId, randomBytes(32), now);
          return this.statements.get.get(keyId)?.key ?? null;
        }),
      )();
    } catch (error) {
      batch.forEach((waiter) => waiter.reject(error));
      return;
    }
    batch.forEach((waiter, index) => {
      const key = keys[index];
      if (key) {
        this.cache.set(waiter.keyId, key);
        waiter.resolve(key);
      } else waiter.reject(new ErasedError());
    });
  }

  seal(key: Buffer, keyId: string, value: unknown): Sealed {
    const iv = randomBytes(12);
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

  destroyKey(keyId: string): void {
    this.statements.destroy.run(new Date().toISOString(), keyId);
    this.cache.set(keyId, null);
  }

  close(): void {
    this.db.close();
  }

  private keyFor(keyId: string): Buffer | null {
    if (this.cache.has(keyId)) return this.cache.get(keyId) ?? null;
    const key = this.statements.get.get(keyId)?.key ?? null;
    this.cache.set(keyId, key);
    return key;
  }
}

export class ErasedError extends Error {
  readonly code = 'erased';
  constructor() {
    super("the data subject's personal data has been erased");
    this.name = 'ErasedError';
  }
}
