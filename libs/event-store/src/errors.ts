import type { ExpectedRevision } from './event-store.port';

/** Base of the store's typed errors; `code` is stable and is what the API maps to a status. */
export abstract class EventStoreError extends Error {
  abstract readonly code: string;
}

export class WrongExpectedVersionError extends EventStoreError {
  readonly code = 'wrong-expected-version';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** The stream's current revision, or 'no-stream'. */
    readonly actual: bigint | 'no-stream',
  ) {
    super(`wrong expected revision on ${streamId}: expected ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedVersionError';
  }
}

/** Event ids already stored, but not as an exact earlier copy of this append: not a safe retry. */
export class DuplicateEventIdError extends EventStoreError {
  readonly code = 'duplicate-event-id';
  constructor(readonly eventId: string) {
    super(`event id ${eventId} is already stored elsewhere`);
    this.name = 'DuplicateEventIdError';
  }
}

export class InvalidAppendError extends EventStoreError {
  readonly code = 'invalid-append';
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidAppendError';
  }
}

export class StoreClosedError extends EventStoreError {
  readonly code = 'store-closed';
  constructor() {
    super('the event store is closed');
    this.name = 'StoreClosedError';
  }
}
