import { EventStoreError, StoreClosedError, WrongExpectedVersionError } from '@spoc/event-store';

/** How the router tells a failure that may pass (retry it) from one the referral's own data causes (flag it). */

/** Thrown when not even a failure can be recorded: the router stops rather than skip the event. */
export class RouterStopped extends Error {
  constructor(override readonly cause: unknown) {
    super('the router stopped');
    this.name = 'RouterStopped';
  }
}

// The store or a file refusing for a while: SQLite busy, locked, out of space or failing I/O; the store closed or its
// writer gone; EventStoreDB unreachable, changing leader or too slow. Anything else is the referral's own.
const TRANSIENT_SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL|NOMEM|INTERRUPT|READONLY)/;
// The client's errors carry a `type` (their `name` is plain "Error").
const TRANSIENT_ESDB = new Set(['unavailable', 'not-leader', 'deadline-exceeded', 'timeout', 'cancelled', 'unknown', 'persistent-subscription-dropped']);

/**
 * Only what may pass with time is retried; everything else (a rule's assumption broken, a sealed field that does not
 * open, an event type this router does not know, a bug) would fail every retry and hold up everyone behind it.
 */
export function isDataFailure(error: unknown): boolean {
  if (error instanceof EventStoreError) return !(error instanceof StoreClosedError || error instanceof WrongExpectedVersionError || error.code === 'writer-failed');
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_SQLITE.test(code)) return false;
  const type = (error as { type?: unknown } | null)?.type;
  return !(typeof type === 'string' && TRANSIENT_ESDB.has(type));
}

// By the name property rather than instanceof: errors from Node's internals may come from another realm (a vm, Jest).
export function errorKind(error: unknown): string {
  const named = error as { name?: unknown; constructor?: { name?: unknown } } | null;
  const name = named?.name === 'Error' && typeof named.constructor?.name === 'string' ? named.constructor.name : named?.name;
  return typeof name === 'string' ? name : typeof error;
}

// By kind and place only: an error's message may quote event data.
export function logFailure(what: string, error: unknown): void {
  const stack = (error as { stack?: unknown } | null)?.stack;
  const where = typeof stack === 'string' ? stack.split('\n')[1]?.trim() : '';
  process.stderr.write(`${what}: ${errorKind(error)} ${where}\n`);
}
