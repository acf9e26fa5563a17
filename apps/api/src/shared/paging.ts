import { instantProblem, type FieldProblem } from './validation';
import { ValidationFailed } from './http/problem.filter';

export interface Page {
  limit: number;
  offset: number;
}

/** The contract's paging: `limit` (default 50, max 500) and an opaque `cursor` from the previous page. */
export function readPage(query: Record<string, unknown>, problems: FieldProblem[]): Page {
  let limit = 50;
  if (query.limit !== undefined) {
    // Digits only: Number() would also take '' as 0, and '0x10' and '1e2' as numbers.
    limit = typeof query.limit === 'string' && /^\d{1,3}$/.test(query.limit) ? Number(query.limit) : Number.NaN;
    if (!(limit >= 1 && limit <= 500)) problems.push({ field: 'limit', problem: 'must be a whole number from 1 to 500' });
  }
  let offset = 0;
  if (query.cursor !== undefined) {
    const decoded = /^o(\d{1,9})$/.exec(Buffer.from(String(query.cursor), 'base64url').toString('utf8'));
    if (decoded) offset = Number(decoded[1]);
    else problems.push({ field: 'cursor', problem: 'is not a cursor this service gave out' });
  }
  return { limit, offset };
}

export function nextCursor(page: Page, returned: number, hasMore: boolean): string | null {
  return hasMore ? Buffer.from(`o${page.offset + returned}`, 'utf8').toString('base64url') : null;
}

/** A sort key: the values a list orders by, of the last item a page showed. */
export type SortKey = Array<string | number>;

export interface KeysetPage {
  limit: number;
  /** The sort key of the last item of the page before; null for the first page. */
  after: SortKey | null;
}

/**
 * Paging for lists that items leave as they are worked (a queue's awaiting cases, the Encompass notifications due):
 * the cursor is where the last page ended, not how many items it had, so a case claimed from the first page does not
 * push another one past the second unseen. `shape` gives the type of each value of the sort key.
 */
export function readKeysetPage(query: Record<string, unknown>, problems: FieldProblem[], shape: ReadonlyArray<'string' | 'number'>): KeysetPage {
  const { limit } = readPage({ ...query, cursor: undefined }, problems);
  let after: SortKey | null = null;
  if (query.cursor !== undefined) {
    after = decodeKey(String(query.cursor), shape);
    if (!after) problems.push({ field: 'cursor', problem: 'is not a cursor this service gave out' });
  }
  return { limit, after };
}

export function nextKeysetCursor(last: SortKey | undefined, hasMore: boolean): string | null {
  return hasMore && last ? Buffer.from(`k${JSON.stringify(last)}`, 'utf8').toString('base64url') : null;
}

function decodeKey(cursor: string, shape: ReadonlyArray<'string' | 'number'>): SortKey | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('k') || text.length > 1000) return null;
  try {
    const key = JSON.parse(text.slice(1)) as unknown;
    if (!Array.isArray(key) || key.length !== shape.length || !key.every((value, index) => typeof value === shape[index])) return null;
    return key as SortKey;
  } catch {
    return null;
  }
}

// Every date and instant a query takes is read here. Calendar arithmetic steps past a query's dates (the day after
// 9999-12-31 has no YYYY-MM-DD), and nothing this service records falls outside these years.
const EARLIEST_YEAR = 1900;
const LATEST_YEAR = 2999;

export function readDate(query: Record<string, unknown>, field: string, problems: FieldProblem[]): string | undefined {
  return readField(query, field, problems, dateProblem);
}

/** Why a query's value is not a date YYYY-MM-DD in the years this service works with, or null. */
export function dateProblem(value: unknown): string | null {
  // Round-tripped, because Date.parse rolls 2026-02-30 over into March instead of refusing it.
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || new Date(Date.parse(`${value}T00:00:00Z`) || 0).toISOString().slice(0, 10) !== value) {
    return 'must be a date YYYY-MM-DD';
  }
  return yearProblem(value);
}

/** Why a query's value is not an instant (a real calendar date-time with an explicit offset) in those years, or null. */
export function instantQueryProblem(value: unknown): string | null {
  return instantProblem(value, false) ?? yearProblem(value);
}

/** For a value that starts as a date: whether its year is one this service works with. Null for anything else. */
export function yearProblem(value: unknown): string | null {
  const year = typeof value === 'string' ? /^(\d{4})-\d{2}-\d{2}/.exec(value)?.[1] : undefined;
  if (year === undefined) return null;
  if (+year < EARLIEST_YEAR) return `must not be before ${EARLIEST_YEAR}-01-01`;
  if (+year > LATEST_YEAR) return `must not be after ${LATEST_YEAR}-12-31`;
  return null;
}

function readField(query: Record<string, unknown>, field: string, problems: FieldProblem[], problemOf: (value: unknown) => string | null): string | undefined {
  const value = query[field];
  if (value === undefined) return undefined;
  const problem = problemOf(value);
  if (problem !== null) {
    problems.push({ field, problem });
    return undefined;
  }
  return value as string;
}

export function throwIfProblems(problems: FieldProblem[]): void {
  if (problems.length > 0) throw new ValidationFailed(problems);
}
