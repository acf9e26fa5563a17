/**
 * A referral as the domain sees it: plain data, mapped from the HTTP DTOs at the edge. Field names follow
 * the public contract (../shared/contract/http-api.md) so that the mapping stays obvious.
 */

export const REFERRAL_TYPES = ['victim', 'perpetrator', 'child-to-parent'] as const;
export type ReferralType = (typeof REFERRAL_TYPES)[number];

export const RELATIONSHIPS = ['intimate-partner', 'ex-intimate-partner', 'family-member', 'child', 'parent', 'other'] as const;
export type Relationship = (typeof RELATIONSHIPS)[number];

export const GENDERS = ['female', 'male', 'non-binary', 'other', 'not-known'] as const;
export type Gender = (typeof GENDERS)[number];

export const DASH_ANSWERS = ['yes', 'no', 'not-known'] as const;
export type DashAnswer = (typeof DASH_ANSWERS)[number];

export const DASH_QUESTION_IDS = Array.from({ length: 24 }, (_, index) => `Q${index + 1}`) as readonly string[];

export const LAWFUL_BASES = ['consent', 'vital-interests', 'safeguarding', 'public-task'] as const;
export type LawfulBasis = (typeof LAWFUL_BASES)[number];

export interface SafeContact {
  phone: boolean;
  voicemail: boolean;
  text: boolean;
  email: boolean;
  letter: boolean;
  notes: string | null;
}

export interface Referrer {
  name: string;
  role: string | null;
  phone: string | null;
  email: string | null;
}

export interface Subject {
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  gender: Gender;
  postcode: string | null;
  phone: string | null;
  email: string | null;
  safeContact: SafeContact;
  language: string | null;
  interpreterRequired: boolean;
  disability: boolean;
  /** Identifiers that decide person matching when given. */
  policePersonId: string | null;
  nhsNumber: string | null;
}

export interface OtherParty {
  firstName: string | null;
  lastName: string | null;
  dateOfBirth: string | null;
  gender: Gender | null;
  relationship: Relationship;
  policePersonId: string | null;
}

export interface Child {
  firstName: string | null;
  dateOfBirth: string;
  livesInHousehold: boolean;
  presentAtIncident: boolean;
  school: string | null;
}

export interface Incident {
  occurredAt: string | null;
  policeAttended: boolean;
  policeReference: string | null;
  summary: string | null;
}

export interface RiskAssessment {
  tool: 'DASH';
  /** Q1..Q24, every one present. */
  answers: Record<string, DashAnswer>;
  professionalJudgement: { highRisk: boolean; rationale: string | null };
  policeCalloutsLast12Months: number;
  assessedAt: string;
}

export interface PerpetratorProgramme {
  acknowledgesBehaviour: boolean;
  selfReferral: boolean;
}

export interface Consent {
  given: boolean;
  lawfulBasis: LawfulBasis;
  notes: string | null;
}

/** Everything an agency submits, after validation. The agency itself comes from the caller's token. */
export interface ReferralSubmission {
  agencyReference: string;
  referralType: ReferralType;
  referrer: Referrer;
  subject: Subject;
  otherParty: OtherParty | null;
  children: Child[];
  incident: Incident | null;
  riskAssessment: RiskAssessment | null;
  needs: Needs;
  perpetratorProgramme: PerpetratorProgramme | null;
  consent: Consent;
}

export interface Needs {
  safeAccommodation: boolean;
}
