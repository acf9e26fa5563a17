import { instantAt } from '@spoc/domain';
import { dateProblem, instantQueryProblem, readPage, throwIfProblems, yearProblem, type Page } from '../shared/paging';
import type { FieldProblem } from '../shared/validation';

export interface AccessLogFilter {
  referralId?: string;
  actorId?: string;
  /** UTC ISO instants: from inclusive, before exclusive. */
  from?: string;
  before?: string;
  page: Page;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Principal ids are UUIDs; the bootstrap admin and the system actors have short names.
const ACTOR_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * The access log's query: `referralId`, `actorId`, `from`, `to` (each a date, a whole day in the service's time
 * zone, or an instant with offset; `to` is inclusive), `limit` and `cursor`. Every problem is listed in one 400.
 */
export function readAccessLogFilter(query: Record<string, unknown>, timeZone: string): AccessLogFilter {
  const problems: FieldProblem[] = [];
  const filter: AccessLogFilter = { page: readPage(query, problems) };
  const referralId = query.referralId;
  if (referralId !== undefined) {
    if (typeof referralId === 'string' && UUID.test(referralId)) filter.referralId = referralId.toLowerCase();
    else problems.push({ field: 'referralId', problem: 'must be a UUID' });
  }
  const actorId = query.actorId;
  if (actorId !== undefined) {
    if (typeof actorId === 'string' && ACTOR_ID.test(actorId)) filter.actorId = actorId;
    else problems.push({ field: 'actorId', problem: 'must be a principal id' });
  }
  filter.from = readBound(query, 'from', 'start', timeZone, problems);
  filter.before = readBound(query, 'to', 'end', timeZone, problems);
  if (filter.from && filter.before && filter.before <= filter.from) problems.push({ field: 'to', problem: 'must not be before from' });
  throwIfProblems(problems);
  return filter;
}

function readBound(query: Record<string, unknown>, field: string, edge: 'start' | 'end', timeZone: string, problems: FieldProblem[]): string | undefined {
  const value = query[field];
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : '';
  if (dateProblem(text) === null) {
    // A date is the whole local day: from its first instant, to before the next day's first.
    const day = edge === 'start' ? text : nextDay(text);
    return instantAt(day, '00:00', timeZone).toISOString();
  }
  if (instantQueryProblem(text) === null) {
    const epoch = Date.parse(text);
    return new Date(edge === 'start' ? epoch : epoch + 1).toISOString();
  }
  // Either form will do, so a value of neither is told both; one of the right form but out of range is told that.
  problems.push({ field, problem: yearProblem(text) ?? 'must be a date YYYY-MM-DD or an ISO 8601 instant with offset' });
  return undefined;
}

function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
