/**
 * What a request touched, for the access log (DPA 2018 s.62: every consultation of case data is recorded).
 *
 * The recorder (an onResponse hook, apps/api/src/audit/access-log.hook.ts) records every /v1 route except
 * /v1/admin, allowed or denied. It already takes referral ids from `:id` on /v1/referrals/... and
 * /v1/audit/referrals/... and case ids from `:caseId`. A controller that shows other referrals or cases (a queue
 * page, a MARAC list, a case that names its referral) names them before it answers:
 *
 *   recordAccessed(request, { caseIds: items.map((item) => item.caseId), referralIds: items.map((item) => item.referralId) });
 *
 * with `@Req() request: FastifyRequest`. Calls add up. Ids only: nothing else from the request or the answer.
 */
export interface Accessed {
  referralIds: string[];
  caseIds: string[];
}

const ACCESSED = Symbol('spoc:accessed');

export function recordAccessed(request: object, touched: { referralIds?: readonly string[]; caseIds?: readonly string[] }): void {
  const holder = request as { [ACCESSED]?: Accessed };
  const accessed = (holder[ACCESSED] ??= { referralIds: [], caseIds: [] });
  if (touched.referralIds) accessed.referralIds.push(...touched.referralIds);
  if (touched.caseIds) accessed.caseIds.push(...touched.caseIds);
}

/** What controllers recorded on this request (empty if nothing). */
export function accessedOn(request: object): Accessed {
  return (request as { [ACCESSED]?: Accessed })[ACCESSED] ?? { referralIds: [], caseIds: [] };
}
