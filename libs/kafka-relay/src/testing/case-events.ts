import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent } from '@spoc/event-store';
import { testEvent } from '../../../event-store/src/testing/events';

/** The events of one case's life, as the router and caseworkers would append them (no personal data, as in the log). */
export function caseLife(caseId: string, provision: string, length: number, referralId: string = randomUUID()): NewEvent[] {
  const opened = testEvent('CaseOpened', {
    caseId,
    referralId,
    provision,
    ruleIds: ['high-risk'],
    status: 'routed',
    riskLevel: 'high',
    repeat: false,
    hasChildren: true,
    routedAt: new Date().toISOString(),
    dueBy: new Date(Date.now() + 86_400_000).toISOString(),
    decisionNumber: 0,
  });
  const later = Array.from({ length: length - 1 }, (_, n): NewEvent => {
    if (n === 0) return testEvent('CaseClaimed', { caseId, assignee: 'caseworker-1' });
    if (n === length - 2) return testEvent('CaseClosed', { caseId, outcome: 'engaged-risk-reduced', note: 'agreed a safety plan' });
    return testEvent('ContactAttempted', { caseId, outcome: 'no-answer', note: `attempt ${n}` });
  });
  return [opened, ...later];
}

/**
 * Appends the cases' events interleaved (one event of each case in turn, each its own append, as a working day
 * would), optionally paced, until done or `stopWhen` holds; returns each case's appended event ids in stream order.
 */
export async function appendInterleaved(
  store: EventStore,
  cases: Array<{ caseId: string; events: NewEvent[] }>,
  options: { everyMs?: number; onAppend?: (appended: number) => void; stopWhen?: () => boolean } = {},
): Promise<Map<string, string[]>> {
  const ids = new Map<string, string[]>();
  const longest = Math.max(...cases.map(({ events }) => events.length));
  let appended = 0;
  for (let revision = 0; revision < longest; revision += 1) {
    for (const { caseId, events } of cases) {
      if (revision >= events.length) continue;
      if (options.stopWhen?.()) return ids;
      await store.append(`case-${caseId}`, [events[revision]], revision === 0 ? 'no-stream' : BigInt(revision - 1));
      ids.set(caseId, [...(ids.get(caseId) ?? []), events[revision].id]);
      appended += 1;
      options.onAppend?.(appended);
      if (options.everyMs) await new Promise((resolve) => setTimeout(resolve, options.everyMs));
    }
  }
  return ids;
}

/** A unique case id per test run, so runs against a broker that keeps its topics never see each other's cases. */
export function newCaseId(): string {
  return randomUUID();
}
