import Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PersonalDataVault } from './personal-data-vault';

describe('the personal-data vault', () => {
  let directory: string;
  let vault: PersonalDataVault;
  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-vault-'));
    vault = new PersonalDataVault(path.join(directory, 'keys.sqlite'), 50);
  });
  afterEach(() => {
    vault.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('opens what it sealed, and never uses an IV twice, across many refills of its IV pool', async () => {
    const { keyId, key } = await vault.newKey();
    const ivs = new Set<string>();
    for (let n = 0; n < 3000; n += 1) {
      const sealed = vault.seal(key, keyId, { lastName: `Taylor ${n}` });
      ivs.add(sealed.iv);
      if (n % 499 === 0) expect(vault.open(sealed)).toEqual({ lastName: `Taylor ${n}` });
    }
    expect(ivs.size).toBe(3000);
  });

  it('cannot open anything once the key is destroyed', async () => {
    const { keyId, key } = await vault.newKey();
    const sealed = vault.seal(key, keyId, { lastName: 'Taylor' });
    vault.destroyKey(keyId);
    expect(vault.open(sealed)).toBeNull();
  });

  it('tells a key it never held from one it destroyed, and counts the first kind as missing, not erased', async () => {
    const held = await vault.newKey();
    const destroyed = await vault.newKey();
    vault.destroyKey(destroyed.keyId);
    const elsewhere = new PersonalDataVault(path.join(directory, 'other-keys.sqlite'), 50, path.join(directory, 'other-erased.sqlite'));
    const foreign = await elsewhere.newKey();
    const sealedElsewhere = elsewhere.seal(foreign.key, foreign.keyId, { lastName: 'Taylor' });
    elsewhere.close();
    vault.namedKey('referral-ids');

    expect([held, destroyed, foreign].map(({ keyId }) => vault.knowsKey(keyId))).toEqual([true, true, false]);
    expect(vault.open(vault.seal(destroyed.key, destroyed.keyId, 'x'))).toBeNull();
    expect(vault.missingKeyCount).toBe(0);
    expect(vault.open(sealedElsewhere)).toBeNull();
    expect(vault.open(sealedElsewhere)).toBeNull();
    expect(vault.missingKeyCount).toBe(1);
  });

  it("leaves a destroyed key's bytes in no file: not in the database, not in its write-ahead log", async () => {
    const { keyId, key } = await vault.newKey();
    const files = () => ['keys.sqlite', 'keys.sqlite-wal'].map((name) => path.join(directory, name)).filter(existsSync);
    expect(files().some((file) => readFileSync(file).includes(key))).toBe(true);
    vault.destroyKey(keyId);
    for (const file of files()) expect(readFileSync(file).includes(key)).toBe(false);
  });

  it('stops opening, at once, what another process sharing the key file has erased', async () => {
    const { keyId, key } = await vault.newKey();
    const sealed = vault.seal(key, keyId, { lastName: 'Taylor' });
    const other = new PersonalDataVault(path.join(directory, 'keys.sqlite'), 50);
    try {
      expect(other.open(sealed)).toEqual({ lastName: 'Taylor' }); // its key now cached there
      vault.destroyKey(keyId);
      await Promise.resolve(); // the next piece of work there (a request, an event)
      expect(other.open(sealed)).toBeNull();
      expect(other.keyFor(keyId)).toBeNull();
    } finally {
      other.close();
    }
  });

  describe('restored from a backup', () => {
    const file = () => path.join(directory, 'keys.sqlite');
    const backUp = () => {
      vault.close();
      copyFileSync(file(), path.join(directory, 'keys.backup.sqlite'));
      vault = new PersonalDataVault(file(), 50);
    };
    const restore = () => {
      vault.close();
      for (const suffix of ['-wal', '-shm']) rmSync(`${file()}${suffix}`, { force: true });
      copyFileSync(path.join(directory, 'keys.backup.sqlite'), file());
      vault = new PersonalDataVault(file(), 50);
    };

    it('destroys again, as it opens, each key destroyed since the backup, and keeps the others', async () => {
      const erased = await vault.newKey();
      const kept = await vault.newKey();
      const sealed = vault.seal(erased.key, erased.keyId, { lastName: 'Taylor' });
      backUp();
      vault.destroyKey(erased.keyId);
      restore();
      expect(readFileSync(file()).includes(erased.key)).toBe(false);
      expect(vault.keyFor(erased.keyId)).toBeNull();
      expect(vault.open(sealed)).toBeNull();
      expect(vault.keyFor(kept.keyId)).toEqual(kept.key);
    });

    it('knows the keys destroyed in a key file from before the ledger of destroyed keys was kept', async () => {
      const erased = await vault.newKey();
      backUp();
      vault.destroyKey(erased.keyId);
      vault.close();
      // The ledger lost (or never written): the key file's own record of the destruction fills it again.
      for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(directory, `erased-keys.sqlite${suffix}`), { force: true });
      vault = new PersonalDataVault(file(), 50);
      restore();
      expect(vault.keyFor(erased.keyId)).toBeNull();
    });
  });

  it('can be closed while it fills its pool of keys ahead of need, without taking the process down', async () => {
    for (let n = 0; n < 40; n += 1) await vault.newKey(); // below a quarter of 50 left: a refill is on its way
    vault.close();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    vault = new PersonalDataVault(path.join(directory, 'keys.sqlite'), 50); // for afterEach
  });

  describe('after many keys, in a file of this version or of one written before secure_delete', () => {
    const traces = (destroyed: Array<{ key: Buffer }>) => {
      const contents = readdirSync(directory).map((name) => readFileSync(path.join(directory, name)));
      return destroyed.filter(({ key }) => contents.some((content) => content.includes(key))).length;
    };

    it('leaves no destroyed key in any file, however the pages were split as the keys went in', async () => {
      const keys: Array<{ keyId: string; key: Buffer }> = [];
      for (let n = 0; n < 3000; n += 1) keys.push(await vault.newKey());
      vault.close();
      vault = new PersonalDataVault(path.join(directory, 'keys.sqlite')); // a later process
      const destroyed = keys.filter((_, index) => index % 7 === 0);
      for (const { keyId } of destroyed) vault.destroyKey(keyId);
      expect(traces(destroyed)).toBe(0);
    });

    it('rewrites a file written before secure_delete once, so that keys destroyed from then on leave no copy', () => {
      vault.close();
      rmSync(path.join(directory, 'keys.sqlite'));
      const file = path.join(directory, 'legacy.sqlite');
      const legacy = new Database(file);
      legacy.pragma('journal_mode = WAL');
      legacy.exec('CREATE TABLE subject_keys (key_id TEXT PRIMARY KEY, key BLOB, created_at TEXT NOT NULL, destroyed_at TEXT) WITHOUT ROWID');
      const insert = legacy.prepare('INSERT INTO subject_keys (key_id, key, created_at) VALUES (?, ?, ?)');
      const keys = Array.from({ length: 3000 }, () => ({ keyId: randomUUID(), key: randomBytes(32) }));
      for (let batch = 0; batch < 6; batch += 1) legacy.transaction(() => keys.slice(batch * 500, batch * 500 + 500).forEach(({ keyId, key }) => insert.run(keyId, key, 'then')))();
      legacy.close();
      vault = new PersonalDataVault(file);
      const destroyed = keys.filter((_, index) => index % 7 === 0);
      for (const { keyId } of destroyed) vault.destroyKey(keyId);
      expect(traces(destroyed)).toBe(0);
    });

    it('rewrites an old file at once even while another process is reading it, and keeps every key', async () => {
      const { keyId, key } = await vault.newKey();
      vault.close();
      const file = path.join(directory, 'keys.sqlite');
      const marked = new Database(file);
      marked.pragma('user_version = 0'); // as a file written before the rewrite
      marked.close();
      const reader = new Database(file);
      reader.exec('BEGIN; SELECT count(*) FROM subject_keys;'); // a read transaction held open
      const started = Date.now();
      vault = new PersonalDataVault(file, 50);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(vault.keyFor(keyId)).toEqual(key);
      reader.exec('COMMIT');
      reader.close();
      const after = new Database(file, { readonly: true });
      expect(after.pragma('user_version', { simple: true })).toBe(1);
      after.close();
    });
  });
});
