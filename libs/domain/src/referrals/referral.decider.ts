import type { ProvisionId, RoutingPolicy } from '../policy/policy';
import { HIGH_RISK_PROVISION } from '../routing/victim-rules';
import { riskInputsOf, scoreRisk, type RiskInputs, type RiskLevel } from '../risk/dash';
import { assertNever, DomainError } from '../shared/domain-error';
import type { ReferralRouted } from '../routing/referral-routed';
import type { RoutingFailed } from '../routing/routing-failed';
import type { Consent, Gender, Needs, ReferralSubmission, ReferralType, RiskAssessment } from './referral.types';

export type ReferralCommand =
  | {
      type: 'ReceiveReferral';
      data: {
        referralId: string;
        agency: string;
        submission: ReferralSubmission;
        /** Keyed digest of the submission, so a retry with the same body is recognised without keeping it in clear. */
        submissionDigest: string;
        receivedAt: string;
        policy: RoutingPolicy;
      };
    }
  | {
      type: 'ReassessRisk';
      data: {
        referralId: string;
        riskAssessment: RiskAssessment;
        reassessedAt: string;
        policy: RoutingPolicy;
        /** A caseworker's provision, when one reassesses (absent for the referring agency). */
        byProvision?: ProvisionId;
        /** Needs as they are now, when the reassessment says (a victim who must leave home needs the refuge). */
        needs?: Needs | null;
      };
    }
  | { type: 'RecordConsent'; data: { referralId: string; consent: Consent; recordedAt: string } }
  | { type: 'EraseReferral'; data: { referralId: string; reason: ErasureReason; erasedAt: string } };

/** Why a referral's personal data may be made unreadable (data-protection.md): nothing else justifies it. */
export const ERASURE_REASONS = ['made-in-error', 'past-retention'] as const;
export type ErasureReason = (typeof ERASURE_REASONS)[number];

export interface ReferralReceived {
  type: 'ReferralReceived';
  data: {
    referralId: string;
    agency: string;
    agencyReference: string;
    referralType: ReferralType;
    receivedAt: string;
    submissionDigest: string;
    /**
     * The subject's gender as a bare fact beside the sealed submission, so the partnership's reports (share of male
     * victims) count it without opening anyone's personal data; on its own it identifies no one. Absent on
     * referrals received before it was recorded.
     */
    subjectGender?: Gender;
    /** Personal data: sealed with the referral's own key before it is stored. */
    submission: ReferralSubmission;
    /**
     * Personal data, sealed apart: just what a queue shows to make contact safely, so a queue page opens a few
     * hundred bytes per line rather than each whole referral. Absent on referrals received before it was kept.
     */
    contact?: SafeContactCard;
  };
}

export type SafeContactCard = Pick<ReferralSubmission['subject'], 'firstName' | 'lastName' | 'phone' | 'safeContact'>;

export interface RiskAssessed {
  type: 'RiskAssessed';
  data: {
    referralId: string;
    /** 0 for the checklist that came with the referral, then 1, 2... for reassessments. */
    assessmentNumber: number;
    dashScore: number;
    level: RiskLevel;
    criteria: string[];
    /** The policy whose thresholds set the level. */
    policyId: string;
    /** What the level was computed from, without personal data: the level can be recomputed after erasure. */
    inputs: RiskInputs;
    assessedAt: string;
    /** Personal data (the answers and the rationale): sealed before it is stored. */
    assessment: RiskAssessment;
  };
}

/** The router's decisions live on the referral stream too; they do not change what intake may do next. */
/**
 * The victim's consent as the referrer later records it (a referral held for consent can then be routed). The
 * notes are personal data, sealed; whether consent was given and on what basis are the facts routing uses.
 */
export interface ConsentRecorded {
  type: 'ConsentRecorded';
  data: { referralId: string; given: boolean; lawfulBasis: Consent['lawfulBasis']; recordedAt: string; notes: string | null };
}

/**
 * The referral's personal data was made unreadable (its key destroyed): who and when are in the metadata, why is
 * here. It holds no personal data itself; the non-personal facts (dates, levels, routes, rules) stay for the audit
 * and the reports.
 */
export interface ReferralErased {
  type: 'ReferralErased';
  data: { referralId: string; reason: ErasureReason; erasedAt: string };
}

export const ERASED_FLAG = 'personal-data-erased';
export const ERASED_REASON = "This referral's personal data has been erased; its facts (dates, risk level, routes) remain.";

/**
 * The person's needs as a reassessment records them, replacing what the referral said: routing then offers (or no
 * longer offers) the refuge. Recorded before the assessment it came with, which is what the router decides on.
 */
export interface NeedsRecorded {
  type: 'NeedsRecorded';
  data: { referralId: string; needs: Needs; recordedAt: string };
}

export type ReferralEvent = ReferralReceived | RiskAssessed | NeedsRecorded | ReferralRouted | ConsentRecorded | RoutingFailed | ReferralErased;

export type ReferralState =
  | { status: 'none' }
  | {
      status: 'received';
      referralId: string;
      agency: string;
      referralType: ReferralType;
      submissionDigest: string;
      assessments: number;
      /** The latest assessment's level: whether a consent withheld needs the referrer's reason. */
      riskLevel?: RiskLevel | null;
      /** When the latest checklist was completed: an older one may not replace it. */
      assessedAt?: string;
      /** Whether the person needs safe accommodation, as the referral or the latest reassessment said. */
      needsSafeAccommodation?: boolean;
      erased: boolean;
    };

export const referralDecider = {
  initialState: (): ReferralState => ({ status: 'none' }),

  decide(command: ReferralCommand, state: ReferralState): ReferralEvent[] {
    switch (command.type) {
      case 'ReceiveReferral': {
        if (state.status !== 'none') throw new DomainError('conflict', 'this referral has already been received');
        const { referralId, agency, submission, submissionDigest, receivedAt, policy } = command.data;
        const received: ReferralReceived = {
          type: 'ReferralReceived',
          data: {
            referralId,
            agency,
            agencyReference: submission.agencyReference,
            referralType: submission.referralType,
            receivedAt,
            submissionDigest,
            subjectGender: submission.subject.gender,
            submission,
            contact: { firstName: submission.subject.firstName, lastName: submission.subject.lastName, phone: submission.subject.phone, safeContact: submission.subject.safeContact },
          },
        };
        if (!submission.riskAssessment) return [received];
        const assessed = assess(referralId, 0, submission.riskAssessment, policy, submission.riskAssessment.assessedAt);
        requireReasonWithoutConsent(assessed.data.level, submission.consent);
        return [received, assessed];
      }
      case 'ReassessRisk': {
        if (state.status === 'none') throw new DomainError('not-found', 'no such referral');
        if (state.erased) throw erasedAlready();
        if (state.referralType === 'perpetrator') {
          throw new DomainError('invalid-transition', 'a perpetrator referral has no risk assessment to repeat');
        }
        const { referralId, riskAssessment, policy, byProvision, needs, reassessedAt } = command.data;
        // As instants: a checklist may be written with any offset, or with milliseconds.
        if (state.assessedAt !== undefined && Date.parse(riskAssessment.assessedAt) < Date.parse(state.assessedAt)) {
          throw new DomainError('invalid', 'is earlier than the checklist it would replace: the latest one stands', 'riskAssessment.assessedAt');
        }
        const assessed = assess(referralId, state.assessments, riskAssessment, policy, riskAssessment.assessedAt);
        // Lowering a high risk takes the IDVA and MARAC away from the person: only those who know the risk best (the
        // referring agency, or the IDVA working it) may, not any provision it reaches. (A YPVA works the risk of a
        // 13–15-year-old alone, but also of a 16–17-year-old beside the IDVA: it asks the referrer.)
        if (state.riskLevel === 'high' && assessed.data.level !== 'high' && byProvision !== undefined && byProvision !== HIGH_RISK_PROVISION) {
          throw new DomainError('not-allowed', 'only the referring agency or the IDVA may lower a high-risk referral');
        }
        // Taking back the need ends a refuge stay: the referrer's say, or the refuge's, not any provision's it reaches.
        if (needs && !needs.safeAccommodation && state.needsSafeAccommodation && byProvision !== undefined && byProvision !== 'refuge') {
          throw new DomainError('not-allowed', 'only the referring agency or the refuge may say safe accommodation is no longer needed');
        }
        return needs ? [{ type: 'NeedsRecorded', data: { referralId, needs, recordedAt: reassessedAt } }, assessed] : [assessed];
      }
      case 'RecordConsent': {
        if (state.status === 'none') throw new DomainError('not-found', 'no such referral');
        if (state.erased) throw erasedAlready();
        const { referralId, consent, recordedAt } = command.data;
        requireReasonWithoutConsent(state.riskLevel ?? null, consent);
        return [{ type: 'ConsentRecorded', data: { referralId, given: consent.given, lawfulBasis: consent.lawfulBasis, recordedAt, notes: consent.notes } }];
      }
      case 'EraseReferral': {
        if (state.status === 'none') throw new DomainError('not-found', 'no such referral');
        if (state.erased) throw erasedAlready();
        return [{ type: 'ReferralErased', data: command.data }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state: ReferralState, event: ReferralEvent): ReferralState {
    switch (event.type) {
      case 'ReferralReceived':
        return {
          status: 'received',
          referralId: event.data.referralId,
          agency: event.data.agency,
          referralType: event.data.referralType,
          submissionDigest: event.data.submissionDigest,
          assessments: 0,
          erased: false,
          // Read where the submission is opened (a reassessment); sealed (or erased), it says nothing.
          needsSafeAccommodation: (event.data.submission as Partial<ReferralSubmission> | null)?.needs?.safeAccommodation ?? false,
        };
      case 'RiskAssessed':
        return state.status === 'received' ? { ...state, assessments: state.assessments + 1, riskLevel: event.data.level, assessedAt: event.data.assessedAt } : state;
      case 'NeedsRecorded':
        return state.status === 'received' ? { ...state, needsSafeAccommodation: event.data.needs.safeAccommodation } : state;
      case 'ReferralRouted':
      case 'ConsentRecorded':
      // The router could not decide: a reassessment or consent is how the referral moves on, so nothing is barred.
      case 'RoutingFailed':
        return state;
      case 'ReferralErased':
        return state.status === 'received' ? { ...state, erased: true } : state;
      default:
        return assertNever(event);
    }
  },
};

/**
 * High risk goes to the IDVA and MARAC without the victim's consent, and then the referrer's reason is required and
 * stored with the lawful basis (routing-policy.md, "Consent"; data-protection.md).
 */
function requireReasonWithoutConsent(level: RiskLevel | null, consent: { given: boolean; notes?: string | null }): void {
  if (level === 'high' && !consent.given && !consent.notes?.trim()) {
    throw new DomainError('invalid', 'is required when a high-risk referral goes ahead without consent: why it does', 'consent.notes');
  }
}

function erasedAlready(): DomainError {
  return new DomainError('invalid-transition', "this referral's personal data has been erased");
}

function assess(
  referralId: string,
  assessmentNumber: number,
  assessment: RiskAssessment,
  policy: RoutingPolicy,
  assessedAt: string,
): RiskAssessed {
  const inputs = riskInputsOf(assessment);
  const score = scoreRisk(inputs, policy.riskThresholds);
  return {
    type: 'RiskAssessed',
    data: {
      referralId,
      assessmentNumber,
      dashScore: score.dashScore,
      level: score.level,
      criteria: score.criteria,
      policyId: policy.id,
      inputs,
      assessedAt,
      assessment,
    },
  };
}
