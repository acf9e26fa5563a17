// The start's check that the key file belongs to the log (openVaultFor), on a real SQLite log and key files.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteEventStore } from '@spoc/event-store';
import { PersonalDataVault } from '@spoc/platform';
import { loadConfig, openVaultFor } from './config';

describe('the start, on a key file older than the log', () => {
  let root: string;
  let dataDir: string;
  let store: SqliteEventStore;
  const config = () => loadConfig({ SPOC_DATA_DIR: dataDir, SPOC_KEYS_DIR: path.join(root, 'keys'), SPOC_ERASED_KEYS_DIR: path.join(root, 'erased') });
  const metadata = () => ({ actor: { id: 'probe', role: 'referrer' as const }, correlationId: randomUUID(), causationId: null, occurredAt: new Date().toISOString() });
  const vaultAt = (dir: string, erased = dir) => {
    mkdirSync(dir, { recursive: true });
    mkdirSync(erased, { recursive: true });
    return new PersonalDataVault(path.join(dir, 'subject-keys.sqlite'), 10, path.join(erased, 'erased-keys.sqlite'));
  };
  async function referral(vault: PersonalDataVault) {
    const { keyId, key } = await vault.newKey();
    const referralId = randomUUID();
    await store.append(`referral-${referralId}`, [{ id: randomUUID(), type: 'ReferralReceived', schemaVersion: 1, data: { referralId, submission: vault.seal(key, keyId, { lastName: 'Taylor' }) }, metadata: metadata() }], 'no-stream');
    return { referralId, keyId, key };
  }

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'probe-keys-'));
    dataDir = path.join(root, 'data');
    mkdirSync(dataDir);
    store = new SqliteEventStore(path.join(dataDir, 'events.sqlite'), { writer: 'inline' });
  });
  afterEach(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses when the newest REFERRAL is sealed with a key the file lacks, though a later case note on an older referral is readable', async () => {
    const own = vaultAt(config().keysDir, config().erasedKeysDir); // this install's (stale) key file
    const old = await referral(own);
    own.close();
    const foreign = vaultAt(path.join(root, 'newer-keys')); // stands for the keys made after the backup
    await referral(foreign);
    foreign.close();
    // A caseworker then adds a note on the older referral's case, sealed with its (held) key.
    const sealer = vaultAt(config().keysDir, config().erasedKeysDir);
    await store.append(`case-${randomUUID()}`, [{ id: randomUUID(), type: 'ContactAttempted', schemaVersion: 1, data: { note: sealer.seal(old.key, old.keyId, 'left a message') }, metadata: metadata() }], 'no-stream');
    sealer.close();

    await expect(openVaultFor(config(), store)).rejects.toThrow(/does not hold the key/);
  });

  it('refuses when the newest sealed event lies behind 10,000 events without personal data (e.g. access-log batches)', async () => {
    vaultAt(config().keysDir, config().erasedKeysDir).close();
    const foreign = vaultAt(path.join(root, 'newer-keys'));
    await referral(foreign);
    foreign.close();
    for (let batch = 0; batch < 10; batch += 1) {
      await store.append(`access-2026-12-0${batch}`, Array.from({ length: 1000 }, () => ({ id: randomUUID(), type: 'AccessRecorded', schemaVersion: 1, data: { entries: [] }, metadata: metadata() })), 'any');
    }
    await expect(openVaultFor(config(), store)).rejects.toThrow(/does not hold the key/);
  });

  it('refuses a key file older than the log when the newest referral was erased since (its id is only in the ledger)', async () => {
    const own = vaultAt(config().keysDir, config().erasedKeysDir);
    own.close();
    // Another copy of the ledger + a key file that later made keys: stands for the live key file lost after the backup.
    const live = vaultAt(path.join(root, 'live-keys'), config().erasedKeysDir);
    await referral(live); // not erased: its key is lost with the live key file
    const newest = await referral(live);
    live.destroyKey(newest.keyId); // erased: recorded in the shared ledger
    live.close();
    await expect(openVaultFor(config(), store)).rejects.toThrow(/does not hold the key/);
  });

  it('once a start was allowed over the loss, the next plain restart (no new referral yet) starts again', async () => {
    vaultAt(config().keysDir, config().erasedKeysDir).close();
    const foreign = vaultAt(path.join(root, 'newer-keys'));
    await referral(foreign);
    foreign.close();
    (await openVaultFor(loadConfig({ SPOC_DATA_DIR: dataDir, SPOC_KEYS_DIR: config().keysDir, SPOC_ERASED_KEYS_DIR: config().erasedKeysDir, SPOC_ALLOW_NEW_KEY_FILE: 'true' }), store)).close();
    // The operator unsets the variable, as the start warning tells them to, and restarts.
    await expect(openVaultFor(config(), store)).resolves.toBeDefined();
  });
});
