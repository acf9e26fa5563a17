import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openReadModelDb } from '@spoc/platform';
import { findRepeats } from './gather-facts';
import { RouterState } from './router-state';
import { basePolicy } from './testing/router-test-kit';

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

  it('empties, once, an index from before names of every script and every MARAC listing were kept: the router reads the log again', () => {
    const file = path.join(directory, 'router-state.sqlite');
    const old = openReadModelDb(file);
    const state = new RouterState(old, randomBytes(32));
    state.remember({ referralId: 'r-old', ...state.hashPerson({ firstName: 'Olena', lastName: 'Коваленко', dateOfBirth: '1990-05-01', postcode: null, policePersonId: null, nhsNumber: null }, null), receivedAt: '2026-01-01T10:00:00Z' });
    state.saveCheckpoint('router', { position: 40n, eventId: 'e-40' });
    old.exec('UPDATE index_version SET version = 1');
    old.close();

    const db = openReadModelDb(file);
    const upgraded = new RouterState(db, randomBytes(32));
    expect(db.prepare('SELECT count(*) AS n FROM persons').get()).toEqual({ n: 0 });
    expect(upgraded.checkpoint('router')).toBeNull();
    // Once: what it learns from then on stays.
    upgraded.saveCheckpoint('router', { position: 41n, eventId: 'e-41' });
    db.close();
    const reopened = openReadModelDb(file);
    expect(new RouterState(reopened, randomBytes(32)).checkpoint('router')).toEqual({ position: 41n, eventId: 'e-41' });
    reopened.close();
  });
});

describe('repeat MARAC, as the index finds it', () => {
  let directory: string;
  let db: ReturnType<typeof openReadModelDb>;
  let state: RouterState;
  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-router-repeats-'));
    db = openReadModelDb(path.join(directory, 'router-state.sqlite'));
    state = new RouterState(db, randomBytes(32));
  });
  afterEach(() => {
    db.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const victim = { firstName: 'Sam', lastName: 'Taylor', dateOfBirth: '1991-03-14', postcode: 'PO4 8AA', policePersonId: 'V-1', nhsNumber: null };
  type OtherParty = { firstName: string | null; lastName: string; dateOfBirth: string; policePersonId: string | null };
  const perpetrator: OtherParty = { firstName: 'Dan', lastName: 'Jones', dateOfBirth: '1988-07-01', policePersonId: 'P-9' };
  const person = (referralId: string, receivedAt: string, other = perpetrator) => ({ referralId, receivedAt, ...state.hashPerson(victim, other) });

  it('counts twelve months from the MARAC listing, however long before it the earlier referral was received', () => {
    state.remember(person('r-a', '2025-10-20T10:00:00Z'));
    // Reassessed high in February and listed then: nine months before the new referral, thirteen after its receipt.
    state.recordMaracListing('r-a', '2026-02-10T10:00:00Z');
    const repeats = findRepeats(person('r-b', '2026-11-20T10:00:00Z'), state, basePolicy);
    expect(repeats).toMatchObject({ repeatMarac: true, maracReferralIds: ['r-a'] });
    // A repeat victim is one referred within the window: this one was not.
    expect(repeats).toMatchObject({ isRepeat: false, previousReferralIds: [] });
  });

  it('keeps a listing in the window when the earlier referral is listed again after the new one came in', () => {
    state.remember(person('r-a', '2026-01-10T10:00:00Z'));
    state.recordMaracListing('r-a', '2026-01-10T10:05:00Z');
    state.recordMaracListing('r-a', '2026-12-01T10:00:00Z');
    expect(findRepeats(person('r-b', '2026-11-20T10:00:00Z'), state, basePolicy)).toMatchObject({ repeatMarac: true, isRepeat: true });
  });

  it('does not count a listing made after the new referral came in, nor one more than twelve months before it', () => {
    state.remember(person('r-a', '2025-06-10T10:00:00Z'));
    state.recordMaracListing('r-a', '2025-06-10T10:05:00Z');
    state.recordMaracListing('r-a', '2026-11-21T10:00:00Z');
    expect(findRepeats(person('r-b', '2026-11-20T10:00:00Z'), state, basePolicy).repeatMarac).toBe(false);
  });

  it("forgets an erased person's listings with them", () => {
    state.remember(person('r-a', '2026-01-10T10:00:00Z'));
    state.recordMaracListing('r-a', '2026-01-10T10:05:00Z');
    state.forgetPerson('r-a');
    expect(db.prepare('SELECT count(*) AS n FROM marac_listings').get()).toEqual({ n: 0 });
  });

  it('takes the perpetrator to be the same one as people are matched: police ids decide, else last name and birth date with first name', () => {
    const repeatMaracWith = (earlier: OtherParty, later: OtherParty) => {
      state.forgetAll();
      state.remember(person('r-a', '2026-01-10T10:00:00Z', earlier));
      state.recordMaracListing('r-a', '2026-01-10T10:05:00Z');
      return findRepeats(person('r-b', '2026-11-20T10:00:00Z', later), state, basePolicy).repeatMarac;
    };
    const noIds = { ...perpetrator, policePersonId: null };
    expect(repeatMaracWith(noIds, noIds)).toBe(true);
    expect(repeatMaracWith(noIds, { ...noIds, firstName: 'Dave' })).toBe(false);
    expect(repeatMaracWith(noIds, { ...noIds, firstName: null })).toBe(false);
    expect(repeatMaracWith(perpetrator, { ...perpetrator, policePersonId: 'P-10' })).toBe(false);
    expect(repeatMaracWith(perpetrator, { ...perpetrator, firstName: 'Danny', lastName: 'Jones-Smith' })).toBe(true);
  });
});

