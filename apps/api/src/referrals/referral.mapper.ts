import {
  DASH_QUESTION_IDS,
  type Child,
  type DashAnswer,
  type OtherParty,
  type ReferralSubmission,
  type RiskAssessment,
} from '@spoc/domain';
import type { ChildDto, CreateReferralDto, OtherPartyDto, RiskAssessmentDto } from './referral.dto';

// The domain gets plain object literals with every optional field settled (null, false or []), so that it never
// meets a DTO instance, an `undefined`, or a property the DTO let through by accident.

export function toReferralSubmission(dto: CreateReferralDto): ReferralSubmission {
  const { referrer, subject, consent } = dto;
  const safeContact = subject.safeContact;
  return {
    agencyReference: dto.agencyReference,
    referralType: dto.referralType,
    referrer: {
      name: referrer.name,
      role: referrer.role ?? null,
      phone: referrer.phone ?? null,
      email: referrer.email ?? null,
    },
    subject: {
      firstName: subject.firstName,
      lastName: subject.lastName,
      dateOfBirth: subject.dateOfBirth,
      gender: subject.gender,
      postcode: subject.postcode ?? null,
      phone: subject.phone ?? null,
      email: subject.email ?? null,
      safeContact: {
        phone: safeContact.phone,
        voicemail: safeContact.voicemail,
        text: safeContact.text,
        email: safeContact.email,
        letter: safeContact.letter,
        notes: safeContact.notes ?? null,
      },
      language: subject.language ?? null,
      interpreterRequired: subject.interpreterRequired ?? false,
      disability: subject.disability ?? false,
      policePersonId: subject.policePersonId ?? null,
      nhsNumber: subject.nhsNumber ?? null,
    },
    otherParty: dto.otherParty ? toOtherParty(dto.otherParty) : null,
    children: (dto.children ?? []).map(toChild),
    incident: dto.incident
      ? {
          occurredAt: dto.incident.occurredAt ?? null,
          policeAttended: dto.incident.policeAttended,
          policeReference: dto.incident.policeReference ?? null,
          summary: dto.incident.summary ?? null,
        }
      : null,
    riskAssessment: dto.riskAssessment ? toRiskAssessment(dto.riskAssessment) : null,
    needs: { safeAccommodation: dto.needs?.safeAccommodation ?? false },
    perpetratorProgramme: dto.perpetratorProgramme
      ? {
          acknowledgesBehaviour: dto.perpetratorProgramme.acknowledgesBehaviour,
          selfReferral: dto.perpetratorProgramme.selfReferral,
        }
      : null,
    consent: { given: consent.given, lawfulBasis: consent.lawfulBasis, notes: consent.notes ?? null },
  };
}

export function toRiskAssessment(dto: RiskAssessmentDto): RiskAssessment {
  const answers: Record<string, DashAnswer> = {};
  for (const questionId of DASH_QUESTION_IDS) answers[questionId] = dto.answers[questionId];
  return {
    tool: dto.tool,
    answers,
    professionalJudgement: {
      highRisk: dto.professionalJudgement.highRisk,
      rationale: dto.professionalJudgement.rationale ?? null,
    },
    policeCalloutsLast12Months: dto.policeCalloutsLast12Months,
    assessedAt: dto.assessedAt,
  };
}

function toOtherParty(dto: OtherPartyDto): OtherParty {
  return {
    firstName: dto.firstName ?? null,
    lastName: dto.lastName ?? null,
    dateOfBirth: dto.dateOfBirth ?? null,
    gender: dto.gender ?? null,
    relationship: dto.relationship,
    policePersonId: dto.policePersonId ?? null,
  };
}

function toChild(dto: ChildDto): Child {
  return {
    firstName: dto.firstName ?? null,
    dateOfBirth: dto.dateOfBirth,
    livesInHousehold: dto.livesInHousehold,
    presentAtIncident: dto.presentAtIncident,
    school: dto.school ?? null,
  };
}
