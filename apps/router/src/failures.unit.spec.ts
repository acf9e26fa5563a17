import { DeadlineExceededError, UnavailableError } from '@eventstore/db-client';
import Database from 'better-sqlite3';
import { DomainError } from '@spoc/domain';
import { DuplicateEventIdError, InvalidAppendError, StoreClosedError, WrongExpectedVersionError } from '@spoc/event-store';
import { WriterFailedError } from '../../../libs/event-store/src/sqlite/sqlite-event-store';
import { errorKind, isDataFailure } from './failures';

const grpc = (code: number) => ({ code, details: 'x', message: 'x', metadata: { getMap: () => ({}) } }) as never;

describe("the router's failures", () => {
  it('retries what may pass with time: the store closed or its writer gone, a lost race, SQLite busy or failing I/O, EventStoreDB unreachable', () => {
    const transient = [
      new StoreClosedError(),
      new WriterFailedError('SQLITE_BUSY'),
      new WrongExpectedVersionError('referral-x', 0n, 1n),
      new Database.SqliteError('database is locked', 'SQLITE_BUSY'),
      new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE'),
      new Database.SqliteError('attempt to write a readonly database', 'SQLITE_READONLY_RECOVERY'),
      new UnavailableError(grpc(14)),
      new DeadlineExceededError(grpc(4)),
    ];
    expect(transient.filter(isDataFailure).map(errorKind)).toEqual([]);
  });

  it("flags anything else as the referral's own: a broken assumption, a sealed field that does not open, a bug", () => {
    const own = [
      new TypeError("Cannot read properties of undefined (reading 'dateOfBirth')"),
      new RangeError('Invalid time value'),
      new Error('Unsupported state or unable to authenticate data'),
      new DomainError('invalid-transition', 'no such route'),
      new DuplicateEventIdError('e-1'),
      new InvalidAppendError('an append needs at least one event'),
      new Database.SqliteError('database disk image is malformed', 'SQLITE_CORRUPT'),
    ];
    expect(own.every(isDataFailure)).toBe(true);
  });

  it("names an error by its class where its name is only 'Error' (the EventStoreDB client's)", () => {
    expect([errorKind(new UnavailableError(grpc(14))), errorKind(new TypeError('x')), errorKind('text')]).toEqual(['UnavailableError', 'TypeError', 'string']);
  });
});
