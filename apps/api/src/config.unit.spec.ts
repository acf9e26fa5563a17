import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, hashToken, keysBesideLogWarning, loadConfig, openVault } from './config';

describe('configuration', () => {
  it('has defaults a newcomer can run with', () => {
    expect(loadConfig({})).toMatchObject({ port: 3000, bootstrapAdminTokenHash: null, eventStoreConnectionString: null, kafkaBrokers: [] });
  });

  it('keeps the keys and the ledger of destroyed keys with the data unless told otherwise', () => {
    expect(loadConfig({ SPOC_DATA_DIR: '/srv/spoc' })).toMatchObject({ dataDir: '/srv/spoc', keysDir: '/srv/spoc', erasedKeysDir: '/srv/spoc' });
    expect(loadConfig({ SPOC_DATA_DIR: '/srv/spoc', SPOC_KEYS_DIR: '/keys', SPOC_ERASED_KEYS_DIR: '/erased-keys' })).toMatchObject({ keysDir: '/keys', erasedKeysDir: '/erased-keys' });
  });

  it('warns at start when the keys sit with the log, where one backup would hold both', () => {
    expect(keysBesideLogWarning(loadConfig({ SPOC_DATA_DIR: '/srv/spoc' }))).toMatch(/SPOC_KEYS_DIR/);
    expect(keysBesideLogWarning(loadConfig({ SPOC_DATA_DIR: '/srv/spoc', SPOC_KEYS_DIR: '/keys' }))).toBeNull();
    expect(keysBesideLogWarning(loadConfig({ SPOC_DATA_DIR: '/srv/spoc', EVENTSTORE_CONNECTION_STRING: 'esdb://db:2113' }))).toBeNull();
  });

  it('will not start on a new, empty key file while the keys it had are still in the data directory', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'spoc-config-'));
    try {
      const dataDir = path.join(root, 'data');
      mkdirSync(dataDir);
      // As an install that kept its keys with the data, upgraded to an image that looks for them in /keys.
      writeFileSync(path.join(dataDir, 'subject-keys.sqlite'), '');
      writeFileSync(path.join(dataDir, 'erased-keys.sqlite'), '');
      const moved = loadConfig({ SPOC_DATA_DIR: dataDir, SPOC_KEYS_DIR: path.join(root, 'keys'), SPOC_ERASED_KEYS_DIR: path.join(root, 'erased') });
      expect(() => openVault(moved)).toThrow(ConfigError);
      expect(() => openVault(moved)).toThrow(/subject-keys\.sqlite is in SPOC_DATA_DIR .* SPOC_KEYS_DIR[\s\S]*erased-keys\.sqlite is in SPOC_DATA_DIR .* SPOC_ERASED_KEYS_DIR/);
      rmSync(path.join(dataDir, 'subject-keys.sqlite'));
      rmSync(path.join(dataDir, 'erased-keys.sqlite'));
      mkdirSync(moved.keysDir);
      openVault(moved).close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
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
