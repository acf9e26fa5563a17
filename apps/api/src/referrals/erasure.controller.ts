import { Body, Controller, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { recordAccessed } from '../shared/audit/accessed';
import { Allow, CorrelationId, CurrentPrincipal } from '../shared/auth/access.decorators';
import { actorOf, type Principal } from '../shared/auth/principal';
import { ValidationFailed } from '../shared/http/problem.filter';
import { validateInput } from '../shared/validation';
import { EraseReferral } from './erase-referral.command';
import { ErasureDto } from './referral.dto';
import { ReferralStatusProjection } from './referral-status.projection';

/**
 * Erasure of a referral made in error or kept past retention (data-protection.md). Added beside the contract. An
 * admin's: it reveals nothing (the admin sees no case data) and changes only what can be read.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/referrals')
export class ErasureController {
  constructor(
    private readonly commands: CommandBus,
    private readonly referrals: ReferralStatusProjection,
  ) {}

  @Post(':id/erasure')
  @Allow('admin')
  @HttpCode(200)
  @ApiResponse({ status: 200, description: 'erased: the referral and its cases keep their facts, their personal data is unreadable' })
  @ApiResponse({ status: 409, description: 'already erased, or a case of it is still being worked' })
  async erase(
    @Param('id', new ParseUUIDPipe({ errorHttpStatusCode: 404 })) id: string,
    @Body() body: ErasureDto,
    @CurrentPrincipal() caller: Principal,
    @CorrelationId() correlationId: string,
    @Req() request: object,
  ) {
    const input = validateInput(ErasureDto, body);
    if (!input.ok) throw new ValidationFailed(input.details);
    if (!this.referrals.find(id)) throw new NotFoundException('no such referral');
    recordAccessed(request, { referralIds: [id] });
    const { erasedAt } = await this.commands.execute(new EraseReferral(id, input.value.reason, { actor: actorOf(caller), correlationId, causationId: null }));
    return { referralId: id, reason: input.value.reason, erasedAt };
  }
}
