import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordAccessed } from '../shared/audit/accessed';
import type { PersonalDataVault, ProjectionRunner } from '@spoc/platform';
import { ERASED_FLAG } from '@spoc/domain';
import { EncompassProjection } from '../encompass/encompass.projection';
import { QueueProjection } from '../queues/queue.projection';
import { PROJECTIONS, VAULT } from '../infrastructure/tokens';
import { Allow, CorrelationId, CurrentPrincipal } from '../shared/auth/access.decorators';
import { actorOf, type Principal } from '../shared/auth/principal';
import { ValidationFailed } from '../shared/http/problem.filter';
import { validateInput } from '../shared/validation';
import { ReassessRisk } from './reassess-risk.command';
import { RecordConsent } from './record-consent.command';
import { ReceiveReferral, type ReceiveReferralResult } from './receive-referral.command';
import { ConsentUpdateDto, CreateReferralDto, ReassessmentDto } from './referral.dto';
import { toReferralSubmission, toRiskAssessment } from './referral.mapper';
import { ReferralStatusProjection } from './referral-status.projection';
import { mayReadReferral, referralView, repeatSeenBy } from './referral.view';

const uuid = new ParseUUIDPipe({ errorHttpStatusCode: 404 });

@ApiTags('referrals')
@ApiBearerAuth()
@Controller('v1/referrals')
export class ReferralsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly referrals: ReferralStatusProjection,
    private readonly encompass: EncompassProjection,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
    private readonly cases: QueueProjection,
  ) {}

  @Post()
  @Allow('referrer')
  @HttpCode(202)
  @ApiResponse({ status: 202, description: 'received' })
  @ApiResponse({ status: 200, description: 'the same agency sent the same reference and body again' })
  @ApiResponse({ status: 409, description: 'the agency reference was used for a different referral' })
  async receive(
    @Body() body: CreateReferralDto,
    @CurrentPrincipal() caller: Principal,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Req() request: FastifyRequest,
  ) {
    const input = validateInput(CreateReferralDto, body);
    if (!input.ok) throw new ValidationFailed(input.details);
    // The agency comes from the token, never from the body.
    const result: ReceiveReferralResult = await this.commands.execute(
      new ReceiveReferral(caller.agency!, toReferralSubmission(input.value), { actor: actorOf(caller), correlationId, causationId: null }),
    );
    recordAccessed(request, { referralIds: [result.referralId] });
    reply.header('Location', `/v1/referrals/${result.referralId}`);
    if (!result.created) reply.status(200);
    return { referralId: result.referralId, status: this.referrals.find(result.referralId)?.status ?? 'received' };
  }

  @Get(':id')
  @Allow('referrer', 'auditor')
  @ApiQuery({ name: 'waitForRoutes', required: false, description: 'milliseconds (at most 5000) to wait for the routing decision before answering' })
  async read(@Param('id', uuid) id: string, @Query('waitForRoutes') waitForRoutes: unknown, @CurrentPrincipal() caller: Principal) {
    if (waitForRoutes !== undefined) {
      // Digits only: Number() would also take '' as 0, and '0x10' and '1e3' as numbers.
      if (typeof waitForRoutes !== 'string' || !/^\d+$/.test(waitForRoutes) || Number(waitForRoutes) > 5000) {
        throw new ValidationFailed([{ field: 'waitForRoutes', problem: 'must be a whole number of milliseconds from 0 to 5000' }]);
      }
      const wait = Number(waitForRoutes);
      const visible = this.referrals.find(id);
      // Only a caller who may see the referral may wait on it: the wait must not reveal that it exists.
      if (visible && mayReadReferral(caller, visible)) await this.projections.until(id, () => this.routesReady(id), wait);
    }
    const row = this.referrals.find(id);
    if (!row || !mayReadReferral(caller, row)) throw new NotFoundException('no such referral');
    const sent = new Set(
      (JSON.parse(row.encompass ?? '[]') as Array<{ notificationId: string }>)
        .filter(({ notificationId }) => this.encompass.find(notificationId)?.status === 'sent')
        .map(({ notificationId }) => notificationId),
    );
    // An erased referral (made in error, or past retention) is no one's earlier referral: not even its own agency's.
    const agencyOf = (other: string) => {
      const earlier = this.referrals.find(other);
      return earlier && !JSON.parse(earlier.flags ?? '[]').includes(ERASED_FLAG) ? earlier.agency : null;
    };
    return repeatSeenBy(referralView(row, this.vault, sent), caller, agencyOf);
  }

  /** Routed, and every route's case open in the queues: what a caller waiting for the routes can act on. */
  private routesReady(id: string): boolean {
    const row = this.referrals.find(id);
    if (!row?.routed_at) return false;
    return (JSON.parse(row.routes ?? '[]') as Array<{ caseId: string }>).every((route) => this.cases.find(route.caseId) !== null);
  }

  @Post(':id/reassessments')
  @Allow('referrer', 'caseworker')
  @HttpCode(202)
  async reassess(
    @Param('id', uuid) id: string,
    @Body() body: ReassessmentDto,
    @CurrentPrincipal() caller: Principal,
    @CorrelationId() correlationId: string,
  ) {
    const row = this.referrals.find(id);
    // The referring agency, or a caseworker of a provision the referral is routed to (an open case there).
    const routedToCaller = caller.role === 'caseworker' && caller.provision !== null && this.cases.hasOpenCaseAt(id, caller.provision);
    if (!row || !(mayReadReferral(caller, row) || routedToCaller)) throw new NotFoundException('no such referral');
    const input = validateInput(ReassessmentDto, body);
    if (!input.ok) throw new ValidationFailed(input.details);
    await this.commands.execute(
      new ReassessRisk(id, toRiskAssessment(input.value.riskAssessment), input.value.needs ? { safeAccommodation: input.value.needs.safeAccommodation } : null, { actor: actorOf(caller), correlationId, causationId: null }),
    );
    return { referralId: id, status: this.referrals.find(id)?.status ?? 'received' };
  }

  /** Only the referring agency records consent: it is the one in touch with the victim at this point. */
  @Post(':id/consent')
  @Allow('referrer')
  @HttpCode(202)
  async recordConsent(@Param('id', uuid) id: string, @Body() body: ConsentUpdateDto, @CurrentPrincipal() caller: Principal, @CorrelationId() correlationId: string) {
    const row = this.referrals.find(id);
    if (!row || !mayReadReferral(caller, row)) throw new NotFoundException('no such referral');
    const input = validateInput(ConsentUpdateDto, body);
    if (!input.ok) throw new ValidationFailed(input.details);
    const { given, lawfulBasis, notes } = input.value.consent;
    await this.commands.execute(new RecordConsent(id, { given, lawfulBasis, notes: notes ?? null }, { actor: actorOf(caller), correlationId, causationId: null }));
    return { referralId: id, status: this.referrals.find(id)?.status ?? 'received' };
  }
}
