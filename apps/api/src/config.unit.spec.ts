import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteEventStore } from '@spoc/event-store';
import { PersonalDataVault } from '@spoc/platform';
import { ConfigError, hashToken, keyWarnings, loadConfig, openVault, openVaultFor } from './config';

describe('configuration', () => {
  it('has defaults a newcomer can run with', () => {
    expect(loadConfig({})).toMatchObject({ port: 3000, bootstrapAdminTokenHash: null, eventStoreConnectionString: null, kafkaBrokers: [] });
  });

  it('keeps the keys and the ledger of destroyed keys with the data unless told otherwise', () => {
    expect(loadConfig({ SPOC_DATA_DIR: '/srv/spoc' })).toMatchObject({ dataDir: '/srv/spoc', keysDir: '/srv/spoc', erasedKeysDir: '/srv/spoc' });
    expect(loadConfig({ SPOC_DATA_DIR: '/srv/spoc', SPOC_KEYS_DIR: '/keys', SPOC_ERASED_KEYS_DIR: '/erased-keys' })).toMatchObject({ keysDir: '/keys', erasedKeysDir: '/erased-keys' });
  });

  it('warns at start when the keys sit with the log, where one backup would hold both, and while the key check is off', () => {
    expect(keyWarnings(loadConfig({ SPOC_DATA_DIR: '/srv/spoc' }))).toEqual([expect.stringMatching(/SPOC_KEYS_DIR/)]);
    expect(keyWarnings(loadConfig({ SPOC_DATA_DIR: '/srv/spoc', SPOC_KEYS_DIR: '/keys' }))).toEqual([]);
    expect(keyWarnings(loadConfig({ SPOC_DATA_DIR: '/srv/spoc', EVENTSTORE_CONNECTION_STRING: 'esdb://db:2113' }))).toEqual([]);
    expect(keyWarnings(loadConfig({ SPOC_DATA_DIR: '/srv/spoc', SPOC_KEYS_DIR: '/keys', SPOC_ALLOW_NEW_KEY_FILE: 'true' }))).toEqual([expect.stringMatching(/SPOC_ALLOW_NEW_KEY_FILE is set/)]);
  });

  describe('opening the keys', () => {
    let root: string;
    let dataDir: string;
    beforeEach(() => {
      root = mkdtempSync(path.join(tmpdir(), 'spoc-config-'));
      dataDir = path.join(root, 'data');
      mkdirSync(dataDir);
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));
    const moved = (env: Record<string, string> = {}) =>
      loadConfig({ SPOC_DATA_DIR: dataDir, SPOC_KEYS_DIR: path.join(root, 'keys'), SPOC_ERASED_KEYS_DIR: path.join(root, 'erased'), ...env });

    it('will not start while any part of the keys it had is still in the data directory, whatever is at the new place', () => {
      // As an install that kept its keys with the data, upgraded to an image that looks for them in /keys, and
      // stopped uncleanly before: its newest keys are in the write-ahead log.
      writeFileSync(path.join(dataDir, 'subject-keys.sqlite-wal'), '');
      writeFileSync(path.join(dataDir, 'erased-keys.sqlite'), '');
      mkdirSync(moved().keysDir);
      writeFileSync(path.join(moved().keysDir, 'subject-keys.sqlite'), '');
      expect(() => openVault(moved(), true)).toThrow(ConfigError);
      expect(() => openVault(moved(), true)).toThrow(/subject-keys\.sqlite-wal still in SPOC_DATA_DIR .* SPOC_KEYS_DIR[\s\S]*erased-keys\.sqlite still in SPOC_DATA_DIR .* SPOC_ERASED_KEYS_DIR/);
      rmSync(path.join(dataDir, 'subject-keys.sqlite-wal'));
      rmSync(path.join(dataDir, 'erased-keys.sqlite'));
      rmSync(path.join(moved().keysDir, 'subject-keys.sqlite'));
      openVault(moved(), true).close();
    });

    it('will not make a new key file for a log that holds events, unless told to', () => {
      mkdirSync(moved().keysDir);
      expect(() => openVault(moved(), false)).toThrow(/the log holds events but there is no key file/);
      openVault(moved({ SPOC_ALLOW_NEW_KEY_FILE: 'true' }), false).close();
      // Once it exists, it is the key file: nothing to refuse.
      openVault(moved(), false).close();
    });

    describe('against the log', () => {
      let store: SqliteEventStore;
      beforeEach(() => {
        store = new SqliteEventStore(path.join(dataDir, 'events.sqlite'), { writer: 'inline' });
      });
      afterEach(() => store.close());
      /** A referral's receipt sealed with a key from the vault in `keysDir`, as the API would append it. */
      const referralSealedIn = async (keysDir: string, erasedKeysDir = keysDir) => {
        for (const directory of [keysDir, erasedKeysDir]) mkdirSync(directory, { recursive: true });
        const vault = new PersonalDataVault(path.join(keysDir, 'subject-keys.sqlite'), 10, path.join(erasedKeysDir, 'erased-keys.sqlite'));
        const { keyId, key } = await vault.newKey();
        const metadata = { actor: { id: 'test', role: 'referrer' as const }, correlationId: randomUUID(), causationId: null, occurredAt: new Date().toISOString() };
        const data = { referralId: randomUUID(), submission: vault.seal(key, keyId, { lastName: 'Taylor' }) };
        await store.append(`referral-${data.referralId}`, [{ id: randomUUID(), type: 'ReferralReceived', schemaVersion: 1, data, metadata }], 'no-stream');
        // Case events without personal data come after it: the check looks past them.
        await store.append(`case-${data.referralId}`, [{ id: randomUUID(), type: 'CaseClaimed', schemaVersion: 1, data: {}, metadata }], 'no-stream');
        return { vault, keyId };
      };

      it("will not start on a key file that lacks the newest referral's key, as an older backup or another install's would", async () => {
        mkdirSync(moved().keysDir);
        (await openVaultFor(moved(), store)).close(); // the key file, made while the log was empty
        const { vault } = await referralSealedIn(path.join(root, 'keys-elsewhere'));
        vault.close();

        await expect(openVaultFor(moved(), store)).rejects.toThrow(/does not hold the key of the newest referral in the log/);
        (await openVaultFor(moved({ SPOC_ALLOW_NEW_KEY_FILE: 'true' }), store)).close();
      });

      it('starts when the newest referral was erased: the key file recorded its key destroyed', async () => {
        const { vault, keyId } = await referralSealedIn(moved().keysDir, moved().erasedKeysDir);
        vault.destroyKey(keyId);
        vault.close();
        (await openVaultFor(moved(), store)).close();
      });
    });

    it('starts as a newcomer expects: keys with the data, on an empty log and again on a full one', () => {
      const defaults = loadConfig({ SPOC_DATA_DIR: dataDir });
      openVault(defaults, true).close();
      openVault(defaults, false).close();
    });
  });

  it('keeps only the hash of the bootstrap token', () => {
    const config = loadConfig({ SPOC_BOOTSTRAP_ADMIN_TOKEN: 'a-long-enough-secret' });
    expect(config.bootstrapAdminTokenHash).toBe(hashToken('a-long-enough-secret'));
    expect(JSON.stringify(config)).not.toContain('a-long-enough-secret');
  });

  it('stops the start with every problem listed, without echoing the secret', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', SPOC_BOOTSTRAP_ADMIN_TOKEN: 'short', EVENTSTORE_CONNECTION_STRING: 'http://x', KAFKA_BROKERS: 'nohost' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'SPOC_BOOTSTRAP_ADMIN_TOKEN', 'EVENTSTORE_CONNECTION_STRING', 'KAFKA_BROKERS']) expect(message).toContain(name);
    expect(message).not.toContain('short');
  });
});
