import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  DASH_ANSWERS,
  DASH_QUESTION_IDS,
  ERASURE_REASONS,
  GENDERS,
  LAWFUL_BASES,
  REFERRAL_TYPES,
  RELATIONSHIPS,
  type DashAnswer,
  type ErasureReason,
  type Gender,
  type LawfulBasis,
  type ReferralType,
  type Relationship,
} from '@spoc/domain';
import {
  AllowedWhen,
  IsCalendarDate,
  IsEmailAddress,
  IsFlag,
  IsInstant,
  IsIntegerInRange,
  IsNested,
  IsNestedArray,
  IsOneOf,
  IsPattern,
  IsText,
  Optional,
  Required,
  RequiredWhen,
  Satisfies,
  all,
} from '../shared/validation';

// The body of POST /v1/referrals, field for field as in the public contract (shared/contract/http-api.md).
// Classes are declared leaf first: decorator metadata refers to nested classes as soon as a class is defined.

const NEEDS_RISK_ASSESSMENT: ReadonlySet<string> = new Set<ReferralType>(['victim', 'child-to-parent']);
const MAX_CHILDREN = 20;
// Loose on purpose: the outward and inward codes' shape, upper or lower case, with or without the space.
const UK_POSTCODE = /^[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s?[0-9][A-Za-z]{2}$/;
const NHS_NUMBER = /^\d{10}$/;

const enumOf = (values: readonly string[]) => [...values];

export class ReferrerDto {
  @ApiProperty({ example: 'PC A. Patel', maxLength: 200 })
  @IsText(200, { required: true })
  name!: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, example: 'response officer' })
  @IsText(100)
  role?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 30, example: '023 9200 0000' })
  @IsText(30)
  phone?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, format: 'email', example: 'a.patel@example.org' })
  @IsEmailAddress()
  email?: string | null;
}

export class SafeContactDto {
  @ApiProperty({ description: 'The victim may be phoned.', example: true })
  @IsFlag({ required: true })
  phone!: boolean;

  @ApiProperty({ description: 'A voicemail may be left.', example: false })
  @IsFlag({ required: true })
  voicemail!: boolean;

  @ApiProperty({ description: 'A text message may be sent.', example: true })
  @IsFlag({ required: true })
  text!: boolean;

  @ApiProperty({ description: 'An email may be sent.', example: false })
  @IsFlag({ required: true })
  email!: boolean;

  @ApiProperty({ description: 'A letter may be sent.', example: false })
  @IsFlag({ required: true })
  letter!: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500, example: 'after 2pm only' })
  @IsText(500)
  notes?: string | null;
}

export class SubjectDto {
  @ApiProperty({ maxLength: 100, example: 'Sam' })
  @IsText(100, { required: true })
  firstName!: string;

  @ApiProperty({ maxLength: 100, example: 'Taylor' })
  @IsText(100, { required: true })
  lastName!: string;

  @ApiProperty({ format: 'date', example: '1991-03-14' })
  @IsCalendarDate({ required: true, notFuture: true })
  dateOfBirth!: string;

  @ApiProperty({ enum: enumOf(GENDERS), example: 'female' })
  @IsOneOf(GENDERS, { required: true })
  gender!: Gender;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'A UK postcode.', example: 'PO4 8AA' })
  @IsPattern(UK_POSTCODE, 'must be a UK postcode')
  postcode?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 30, example: '07700 900123' })
  @IsText(30)
  phone?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, format: 'email' })
  @IsEmailAddress()
  email?: string | null;

  @ApiProperty({ type: () => SafeContactDto, description: 'How the victim may be contacted safely.' })
  @all(Required(), IsNested(() => SafeContactDto))
  safeContact!: SafeContactDto;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 35, example: 'en' })
  @IsText(35)
  language?: string | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true, default: false, example: false })
  @IsFlag()
  interpreterRequired?: boolean | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true, default: false, example: false })
  @IsFlag()
  disability?: boolean | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 50, description: 'The police force\'s person id; decides person matching.' })
  @IsText(50)
  policePersonId?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, pattern: NHS_NUMBER.source, description: 'Ten digits, no spaces.' })
  @IsPattern(NHS_NUMBER, 'must be 10 digits')
  nhsNumber?: string | null;
}

export class OtherPartyDto {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, example: 'Alex' })
  @IsText(100)
  firstName?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, example: 'Taylor' })
  @IsText(100)
  lastName?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, format: 'date', example: '1988-07-01' })
  @IsCalendarDate({ notFuture: true })
  dateOfBirth?: string | null;

  @ApiPropertyOptional({ enum: enumOf(GENDERS), nullable: true, example: 'male' })
  @IsOneOf(GENDERS)
  gender?: Gender | null;

  @ApiProperty({ enum: enumOf(RELATIONSHIPS), description: 'To the subject.', example: 'intimate-partner' })
  @IsOneOf(RELATIONSHIPS, { required: true })
  relationship!: Relationship;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 50 })
  @IsText(50)
  policePersonId?: string | null;
}

export class ChildDto {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, example: 'Jo' })
  @IsText(100)
  firstName?: string | null;

  @ApiProperty({ format: 'date', example: '2016-05-02' })
  @IsCalendarDate({ required: true, notFuture: true })
  dateOfBirth!: string;

  @ApiProperty({ example: true })
  @IsFlag({ required: true })
  livesInHousehold!: boolean;

  @ApiProperty({ example: true })
  @IsFlag({ required: true })
  presentAtIncident!: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 200, example: 'Example Primary School' })
  @IsText(200)
  school?: string | null;
}

export class IncidentDto {
  @ApiPropertyOptional({ type: String, nullable: true, format: 'date-time', example: '2026-11-20T23:10:00Z' })
  @IsInstant({ notFuture: true })
  occurredAt?: string | null;

  @ApiProperty({ example: true })
  @IsFlag({ required: true })
  policeAttended!: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 50, example: '44260191' })
  @IsText(50)
  policeReference?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 5000 })
  @IsText(5000)
  summary?: string | null;
}

/** Q1..Q24 of the DASH checklist, all required. */
export class DashAnswersDto {
  [questionId: string]: DashAnswer;
}
// The properties are declared from the domain's list of ids, so that the 24 ids live in one place.
for (const questionId of DASH_QUESTION_IDS) {
  all(
    ApiProperty({ enum: enumOf(DASH_ANSWERS), example: 'no' }),
    IsOneOf(DASH_ANSWERS, { required: true }),
  )(DashAnswersDto.prototype, questionId);
}

export class ProfessionalJudgementDto {
  @ApiProperty({ description: 'The assessor judges the risk high, whatever the score.', example: false })
  @IsFlag({ required: true })
  highRisk!: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 2000, description: 'Required when highRisk is true.' })
  @all(RequiredWhen((judgement) => judgement.highRisk === true, 'is required when highRisk is true'), IsText(2000))
  rationale?: string | null;
}

export class RiskAssessmentDto {
  @ApiProperty({ enum: ['DASH'], example: 'DASH' })
  @IsOneOf(['DASH'], { required: true })
  tool!: 'DASH';

  @ApiProperty({ type: () => DashAnswersDto, description: 'Every one of Q1..Q24.' })
  @all(Required(), IsNested(() => DashAnswersDto))
  answers!: DashAnswersDto;

  @ApiProperty({ type: () => ProfessionalJudgementDto })
  @all(Required(), IsNested(() => ProfessionalJudgementDto))
  professionalJudgement!: ProfessionalJudgementDto;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 365, example: 1 })
  @IsIntegerInRange(0, 365, { required: true })
  policeCalloutsLast12Months!: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-21T01:00:00Z' })
  @IsInstant({ required: true, notFuture: true })
  assessedAt!: string;
}

export class NeedsDto {
  @ApiProperty({ example: false })
  @IsFlag({ required: true })
  safeAccommodation!: boolean;
}

export class PerpetratorProgrammeDto {
  @ApiProperty({ example: true })
  @IsFlag({ required: true })
  acknowledgesBehaviour!: boolean;

  @ApiProperty({ example: false })
  @IsFlag({ required: true })
  selfReferral!: boolean;
}

export class ConsentDto {
  @ApiProperty({ example: true })
  @IsFlag({ required: true })
  given!: boolean;

  @ApiProperty({ enum: enumOf(LAWFUL_BASES), description: 'Cannot be consent when consent is not given.', example: 'consent' })
  @all(
    IsOneOf(LAWFUL_BASES, { required: true }),
    Satisfies('consentGiven', (basis, consent) => !(basis === 'consent' && consent.given === false), 'cannot be consent when consent is not given'),
  )
  lawfulBasis!: LawfulBasis;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 2000,
    description: "Required when consent is not given and the referral is high risk (scored from the checklist): the referrer's reason for going ahead without it.",
  })
  @IsText(2000)
  notes?: string | null;
}

export class CreateReferralDto {
  @ApiProperty({ maxLength: 100, description: 'The agency\'s own id; the idempotency key.', example: 'HC-44/2026/0191' })
  @IsText(100, { required: true })
  agencyReference!: string;

  @ApiProperty({ enum: enumOf(REFERRAL_TYPES), example: 'victim' })
  @IsOneOf(REFERRAL_TYPES, { required: true })
  referralType!: ReferralType;

  @ApiProperty({ type: () => ReferrerDto })
  @all(Required(), IsNested(() => ReferrerDto))
  referrer!: ReferrerDto;

  @ApiProperty({ type: () => SubjectDto })
  @all(Required(), IsNested(() => SubjectDto))
  subject!: SubjectDto;

  @ApiPropertyOptional({ type: () => OtherPartyDto, nullable: true })
  @all(Optional(), IsNested(() => OtherPartyDto))
  otherParty?: OtherPartyDto | null;

  @ApiPropertyOptional({ type: () => ChildDto, isArray: true, nullable: true, maxItems: MAX_CHILDREN })
  @all(Optional(), IsNestedArray(() => ChildDto, MAX_CHILDREN))
  children?: ChildDto[] | null;

  @ApiPropertyOptional({ type: () => IncidentDto, nullable: true })
  @all(Optional(), IsNested(() => IncidentDto))
  incident?: IncidentDto | null;

  @ApiPropertyOptional({ type: () => RiskAssessmentDto, nullable: true, description: 'Required for victim and child-to-parent referrals.' })
  @all(
    RequiredWhen((referral) => NEEDS_RISK_ASSESSMENT.has(referral.referralType), 'is required for victim and child-to-parent referrals'),
    IsNested(() => RiskAssessmentDto),
  )
  riskAssessment?: RiskAssessmentDto | null;

  @ApiPropertyOptional({ type: () => NeedsDto, nullable: true })
  @all(Optional(), IsNested(() => NeedsDto))
  needs?: NeedsDto | null;

  @ApiPropertyOptional({ type: () => PerpetratorProgrammeDto, nullable: true, description: 'Required for perpetrator referrals; only allowed for them.' })
  @all(
    RequiredWhen((referral) => referral.referralType === 'perpetrator', 'is required for perpetrator referrals'),
    // An unknown referral type is reported on its own field; the programme is not also blamed for it.
    AllowedWhen(
      (referral) => referral.referralType === 'perpetrator' || !REFERRAL_TYPES.includes(referral.referralType),
      'is only allowed for perpetrator referrals',
    ),
    IsNested(() => PerpetratorProgrammeDto),
  )
  perpetratorProgramme?: PerpetratorProgrammeDto | null;

  @ApiProperty({ type: () => ConsentDto })
  @all(Required(), IsNested(() => ConsentDto))
  consent!: ConsentDto;
}

/** The body of POST /v1/referrals/:id/reassessments. */
export class ReassessmentDto {
  @ApiProperty({ type: () => RiskAssessmentDto })
  @all(Required(), IsNested(() => RiskAssessmentDto))
  riskAssessment!: RiskAssessmentDto;

  @ApiPropertyOptional({ type: () => NeedsDto, description: 'Needs as they are now, replacing what the referral said (e.g. safe accommodation, to be offered the refuge).' })
  @all(Optional(), IsNested(() => NeedsDto))
  needs?: NeedsDto | null;
}

/** The body of POST /v1/referrals/:id/consent: the victim's consent as the referrer now records it. */
export class ConsentUpdateDto {
  @ApiProperty({ type: () => ConsentDto })
  @all(Required(), IsNested(() => ConsentDto))
  consent!: ConsentDto;
}

/** The body of POST /v1/admin/referrals/:id/erasure. */
export class ErasureDto {
  @ApiProperty({ enum: enumOf(ERASURE_REASONS), description: 'Why the personal data is made unreadable.', example: 'made-in-error' })
  @IsOneOf(ERASURE_REASONS, { required: true })
  reason!: ErasureReason;
}
