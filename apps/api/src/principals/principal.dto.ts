import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, Matches, ValidateIf } from 'class-validator';
import { ROLES, type PrincipalRole } from '@spoc/domain';
import { IsText } from '../shared/validation';

export const PROVISIONS = ['idva', 'outreach', 'refuge', 'victim-support', 'up2u', 'ypva', 'whos-in-charge', 'mash'];

export class CreatePrincipalDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES, { message: `must be one of: ${ROLES.join(', ')}` })
  role!: PrincipalRole;

  @ApiProperty({ example: 'Hampshire Police referral desk' })
  @IsText(200, { required: true })
  name!: string;

  @ApiPropertyOptional({ example: 'hampshire-police', description: 'required for a referrer' })
  @ValidateIf((dto: CreatePrincipalDto) => dto.role === 'referrer' || dto.agency !== undefined)
  @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/, { message: 'is required for a referrer: a lower-case agency id such as hampshire-police' })
  agency?: string;

  @ApiPropertyOptional({ enum: PROVISIONS, description: 'required for a caseworker' })
  @ValidateIf((dto: CreatePrincipalDto) => dto.role === 'caseworker' || dto.provision !== undefined)
  @IsIn(PROVISIONS, { message: `is required for a caseworker: one of ${PROVISIONS.join(', ')}` })
  provision?: string;
}
