import type { CaseViewPart, ReferralSubmission, RiskAssessment, SafeContactCard, Subject } from '@spoc/domain';
import { isSealed, type PersonalDataVault } from '@spoc/platform';
import { personalDataWithheldFrom, type CaseRow } from '../queues/queue.projection';

/** The contact card a case row carries, opened; null once the referral's personal data has been erased. */
export function openContact(row: CaseRow, vault: PersonalDataVault): SafeContactCard | null {
  const sealed = row.contact ? (JSON.parse(row.contact) as unknown) : null;
  const opened = isSealed(sealed) ? vault.open<SafeContactCard | ReferralSubmission>(sealed) : null;
  return opened && 'subject' in opened ? opened.subject : opened;
}

/**
 * Overdue: past its first-contact time with no contact attempt yet, while the case is still open. Computed when
 * read, because the clock moves on without any event.
 */
export function isOverdue(row: CaseRow, now: number): boolean {
  return (row.status === 'awaiting' || row.status === 'active') && row.first_contact_attempt_at === null && row.due_by !== null && Date.parse(row.due_by) < now;
}

/** A queue line: who to call first, and how to call them safely. */
export function queueItemView(row: CaseRow, subject: SafeContactCard | null, now: number) {
  return {
    caseId: row.case_id,
    referralId: row.referral_id,
    provision: row.provision,
    riskLevel: row.risk_level,
    status: row.status,
    routeStatus: row.route_status,
    repeat: row.repeat === 1,
    hasChildren: row.has_children === 1,
    routedAt: row.routed_at,
    dueBy: row.due_by,
    overdue: isOverdue(row, now),
    assignee: row.assignee,
    subject: subject ? { firstName: subject.firstName, lastName: subject.lastName, safeContact: subject.safeContact, phone: subject.phone } : null,
    personalDataWithheld: personalDataWithheldFrom(row),
  };
}

export interface CaseDetailInputs {
  row: CaseRow;
  /** Null once erased, or withheld. */
  submission: ReferralSubmission | null;
  /** The referral's personal data is there but not this provision's to see any more (the case was superseded). */
  withheld?: boolean;
  /** From the referral's latest assessment (for an ended case, the latest before it ended): what the level was and why. */
  risk: { level: string | null; dashScore: number | null; criteria: string[]; assessment: RiskAssessment | null };
  parts: readonly CaseViewPart[];
  history: Array<{ type: string; recordedAt: string; actor: unknown; data: unknown }>;
  now: number;
}

/** How to reach the subject, safely and in their language: what every provision sees (policy.ts, `CASE_VIEW_PARTS`). */
function contactOf({ firstName, lastName, phone, email, safeContact, language, interpreterRequired }: Subject) {
  return { firstName, lastName, phone, email, safeContact, language, interpreterRequired };
}

/**
 * A case as its provision sees it: how to reach the subject safely always, and of the rest of the referral only
 * the parts the policy gives this provision.
 */
export function caseDetailView({ row, submission, withheld = false, risk, parts, history, now }: CaseDetailInputs) {
  const has = (part: CaseViewPart) => parts.includes(part);
  const referral = submission
    ? {
        referralType: submission.referralType,
        subject: has('subjectDetails') ? submission.subject : contactOf(submission.subject),
        ...(has('referrer') ? { referrer: submission.referrer } : {}),
        ...(has('otherParty') ? { otherParty: submission.otherParty } : {}),
        ...(has('children') ? { children: submission.children } : {}),
        ...(has('incident') ? { incident: submission.incident } : {}),
        ...(has('needs') ? { needs: submission.needs } : {}),
        ...(has('consent') ? { consent: submission.consent } : {}),
      }
    : null;
  return {
    ...queueItemView(row, submission?.subject ?? null, now),
    origin: row.origin ? (JSON.parse(row.origin) as unknown) : null,
    firstContactAttemptAt: row.first_contact_attempt_at,
    personalDataErased: submission === null && !withheld,
    personalDataWithheld: withheld,
    referral,
    risk: {
      ...(has('riskSummary') ? { level: risk.level, dashScore: risk.dashScore, criteria: risk.criteria } : { level: risk.level }),
      ...(has('riskAnswers') && risk.assessment ? { answers: risk.assessment.answers, professionalJudgement: risk.assessment.professionalJudgement, policeCalloutsLast12Months: risk.assessment.policeCalloutsLast12Months } : {}),
    },
    history,
  };
}
