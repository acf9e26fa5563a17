import type { FieldProblem } from './validation';
import { ValidationFailed } from './http/problem.filter';

export interface Page {
  limit: number;
  offset: number;
}

/** The contract's paging: `limit` (default 50, max 500) and an opaque `cursor` from the previous page. */
export function readPage(query: Record<string, unknown>, problems: FieldProblem[]): Page {
  let limit = 50;
  if (query.limit !== undefined) {
    limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) problems.push({ field: 'limit', problem: 'must be a whole number from 1 to 500' });
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

export function readDate(query: Record<string, unknown>, field: string, problems: FieldProblem[]): string | undefined {
  const value = query[field];
  if (value === undefined) return undefined;
  // Round-tripped, because Date.parse rolls 2026-02-30 over into March instead of refusing it.
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || new Date(Date.parse(`${value}T00:00:00Z`) || 0).toISOString().slice(0, 10) !== value) {
    problems.push({ field, problem: 'must be a date YYYY-MM-DD' });
    return undefined;
  }
  return value;
}

export function throwIfProblems(problems: FieldProblem[]): void {
  if (problems.length > 0) throw new ValidationFailed(problems);
}
