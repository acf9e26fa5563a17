import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CLOSE_OUTCOMES, CONTACT_OUTCOMES, PROVISION_IDS, type CloseOutcome, type ContactOutcome, type ProvisionId } from '@spoc/domain';
import { IsOneOf, IsText } from '../shared/validation';

// Bodies of the case actions, as the contract's table gives them. Notes and reasons are free text: sealed in the log.

export class ContactAttemptDto {
  @ApiProperty({ enum: CONTACT_OUTCOMES })
  @IsOneOf(CONTACT_OUTCOMES, { required: true })
  outcome!: ContactOutcome;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 2000 })
  @IsText(2000)
  note?: string | null;
}

export class DeclineCaseDto {
  @ApiProperty({ maxLength: 2000, description: 'Why this provision cannot take the case; the referrer is told that it was declined, not this text.' })
  @IsText(2000, { required: true })
  reason!: string;
}

export class TransferCaseDto {
  @ApiProperty({ enum: PROVISION_IDS })
  @IsOneOf(PROVISION_IDS, { required: true })
  toProvision!: ProvisionId;

  @ApiProperty({ maxLength: 2000 })
  @IsText(2000, { required: true })
  reason!: string;
}

export class CloseCaseDto {
  @ApiProperty({ enum: CLOSE_OUTCOMES })
  @IsOneOf(CLOSE_OUTCOMES, { required: true })
  outcome!: CloseOutcome;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 2000 })
  @IsText(2000)
  note?: string | null;
}
