import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

  it("leaves a destroyed key's bytes in no file: not in the database, not in its write-ahead log", async () => {
    const { keyId, key } = await vault.newKey();
    const files = () => ['keys.sqlite', 'keys.sqlite-wal'].map((name) => path.join(directory, name)).filter(existsSync);
    expect(files().some((file) => readFileSync(file).includes(key))).toBe(true);
    vault.destroyKey(keyId);
    for (const file of files()) expect(readFileSync(file).includes(key)).toBe(false);
  });
});
