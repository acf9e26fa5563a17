import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openReadModelDb } from '@spoc/platform';
import { RouterState } from './router-state';

describe("the router's state file", () => {
  let directory: string;
  beforeEach(() => (directory = mkdtempSync(path.join(tmpdir(), 'spoc-router-state-'))));
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it("keeps no copy of an erased person's hashes once they leave the index, in the file or its write-ahead log", () => {
    const file = path.join(directory, 'router-state.sqlite');
    const db = openReadModelDb(file);
    const state = new RouterState(db, randomBytes(32));
    const hashed = state.hashPerson({ firstName: 'Sam', lastName: 'Erasedperson', dateOfBirth: '1990-03-14', postcode: 'PO1 2AB', policePersonId: null, nhsNumber: null }, null);
    const person = { referralId: 'r-erased', ...hashed, receivedAt: '2026-11-23T10:00:00Z' };
    state.remember(person);
    // Others around it, so that the page holding it stays in use after it goes.
    for (let n = 0; n < 50; n += 1) state.remember({ ...person, referralId: `r-${n}`, blocking: `b-${n}`, firstName: null, postcode: null });
    db.pragma('wal_checkpoint(TRUNCATE)');
    const onDisk = () => [file, `${file}-wal`].filter((name) => existsSync(name)).map((name) => readFileSync(name).toString('latin1')).join('');
    expect(onDisk().includes(hashed.blocking)).toBe(true);

    state.forgetPerson('r-erased');
    expect(onDisk().includes(hashed.blocking)).toBe(false);
    expect(onDisk().includes(hashed.postcode!)).toBe(false);
    expect(state.candidatesFor({ referralId: 'r-new', blocking: hashed.blocking, policePersonId: null, nhsNumber: null })).toEqual([]);
    db.close();
  });

  it('rewrites once a file written before hashes were overwritten as they go, so that none of the erased is left', () => {
    const file = path.join(directory, 'router-state.sqlite');
    const old = openReadModelDb(file);
    const hashed = new RouterState(old, randomBytes(32)).hashPerson({ firstName: 'Old', lastName: 'Erasedbefore', dateOfBirth: '1980-01-01', postcode: null, policePersonId: null, nhsNumber: null }, null);
    // As an older router left it: the person forgotten without secure_delete, the file unmarked.
    old.pragma('secure_delete = OFF');
    old.prepare("INSERT INTO persons (referral_id, blocking, received_at) VALUES ('r-old', ?, '2026-01-01')").run(hashed.blocking);
    for (let n = 0; n < 50; n += 1) old.prepare("INSERT INTO persons (referral_id, blocking, received_at) VALUES (?, ?, '2026-01-01')").run(`r-${n}`, `b-${n}`);
    old.pragma('wal_checkpoint(TRUNCATE)');
    old.prepare("DELETE FROM persons WHERE referral_id = 'r-old'").run();
    old.pragma('wal_checkpoint(TRUNCATE)');
    old.pragma('user_version = 0');
    old.close();
    expect(readFileSync(file).toString('latin1').includes(hashed.blocking)).toBe(true);

    const db = openReadModelDb(file);
    new RouterState(db, randomBytes(32));
    db.close();
    expect(readFileSync(file).toString('latin1').includes(hashed.blocking)).toBe(false);
    expect(readFileSync(file).toString('latin1').includes('b-49')).toBe(true);
  });
});
