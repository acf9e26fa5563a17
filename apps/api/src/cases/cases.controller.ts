import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { endsCase, streams, type CaseworkerCommand, type CaseSuperseded, type NeedsRecorded, type ReferralReceived, type ReferralRouted, type ReferralSubmission, type RiskAssessed, type RoutingPolicy } from '@spoc/domain';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@spoc/event-store';
import { nameBasedUuid, withoutPersonalData, type EventCodec, type PersonalDataVault } from '@spoc/platform';
import type { Clock } from '../infrastructure/clock';
import { CLOCK, CODEC, POLICY, VAULT } from '../infrastructure/tokens';
import { personalDataWithheldFrom, QueueProjection, type CaseRow } from '../queues/queue.projection';
import type { FastifyRequest } from 'fastify';
import { recordAccessed } from '../shared/audit/accessed';
import { Allow, CorrelationId, CurrentPrincipal } from '../shared/auth/access.decorators';
import { actorOf, type Principal } from '../shared/auth/principal';
import { ValidationFailed } from '../shared/http/problem.filter';
import { validateInput } from '../shared/validation';
import { ActOnCase } from './act-on-case.command';
import { CloseCaseDto, ContactAttemptDto, DeclineCaseDto, TransferCaseDto } from './case.dto';
import { caseDetailView } from './case.view';

const uuid = new ParseUUIDPipe({ errorHttpStatusCode: 404 });
type Action = ActOnCase['command'];

/** A case and the caseworker's actions on it; only the case's own provision may see or touch it. */
@ApiTags('cases')
@ApiBearerAuth()
@Controller('v1/cases')
export class CasesController {
  constructor(
    private readonly cases: QueueProjection,
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CODEC) private readonly codec: EventCodec,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
    @Inject(POLICY) private readonly policy: RoutingPolicy,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private now(): string {
    return this.clock().toISOString();
  }

  @Get(':caseId')
  @Allow('caseworker')
  async read(@Param('caseId', uuid) caseId: string, @CurrentPrincipal() caller: Principal, @Req() request: FastifyRequest) {
    const row = this.visibleCase(caseId, caller, request);
    return this.detail(row);
  }

  @Post(':caseId/claim')
  @Allow('caseworker')
  @HttpCode(200)
  @ApiBody({ required: false, schema: { type: 'object', properties: {}, additionalProperties: false } })
  claim(@Param('caseId', uuid) caseId: string, @Body() body: unknown, @CurrentPrincipal() caller: Principal, @CorrelationId() correlationId: string, @Req() request: FastifyRequest) {
    this.visibleCase(caseId, caller, request);
    // The contract's body is `{}`: anything in it is a mistake worth saying, field by field.
    if (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length > 0) {
      throw new ValidationFailed(Object.keys(body).slice(0, 20).map((field) => ({ field, problem: 'is not allowed: a claim takes no fields' })));
    }
    return this.act({ type: 'ClaimCase', data: { caseId, assignee: caller.id, at: this.now() } }, caller, correlationId);
  }

  @Post(':caseId/contact-attempts')
  @Allow('caseworker')
  @HttpCode(200)
  @ApiBody({ type: ContactAttemptDto })
  contact(@Param('caseId', uuid) caseId: string, @Body() body: unknown, @CurrentPrincipal() caller: Principal, @CorrelationId() correlationId: string, @Req() request: FastifyRequest) {
    this.visibleCase(caseId, caller, request);
    const input = valid(ContactAttemptDto, body);
    return this.act({ type: 'RecordContactAttempt', data: { caseId, outcome: input.outcome, note: input.note ?? null, at: this.now() } }, caller, correlationId);
  }

  @Post(':caseId/decline')
  @Allow('caseworker')
  @HttpCode(200)
  @ApiBody({ type: DeclineCaseDto })
  decline(@Param('caseId', uuid) caseId: string, @Body() body: unknown, @CurrentPrincipal() caller: Principal, @CorrelationId() correlationId: string, @Req() request: FastifyRequest) {
    this.visibleCase(caseId, caller, request);
    const input = valid(DeclineCaseDto, body);
    return this.act({ type: 'DeclineCase', data: { caseId, reason: input.reason, at: this.now() } }, caller, correlationId);
  }

  @Post(':caseId/transfer')
  @Allow('caseworker')
  @HttpCode(200)
  @ApiBody({ type: TransferCaseDto })
  transfer(@Param('caseId', uuid) caseId: string, @Body() body: unknown, @CurrentPrincipal() caller: Principal, @CorrelationId() correlationId: string, @Req() request: FastifyRequest) {
    this.visibleCase(caseId, caller, request);
    const input = valid(TransferCaseDto, body);
    // Name-based, so a retried transfer (or the router healing a crash) addresses the same new case.
    const toCaseId = nameBasedUuid(`transfer\n${caseId}`);
    return this.act({ type: 'TransferCase', data: { caseId, toProvision: input.toProvision, toCaseId, reason: input.reason, at: this.now() } }, caller, correlationId);
  }

  @Post(':caseId/close')
  @Allow('caseworker')
  @HttpCode(200)
  @ApiBody({ type: CloseCaseDto })
  close(@Param('caseId', uuid) caseId: string, @Body() body: unknown, @CurrentPrincipal() caller: Principal, @CorrelationId() correlationId: string, @Req() request: FastifyRequest) {
    this.visibleCase(caseId, caller, request);
    const input = valid(CloseCaseDto, body);
    return this.act({ type: 'CloseCase', data: { caseId, outcome: input.outcome, note: input.note ?? null, at: this.now() } }, caller, correlationId);
  }

  private async act(command: Action, caller: Principal, correlationId: string) {
    await this.commands.execute(new ActOnCase(command, { actor: actorOf(caller), correlationId, causationId: null }));
    return this.detail(this.cases.find(command.data.caseId)!);
  }

  /**
   * Another provision's case, or one that does not exist, is the same 404: existence is not revealed. So is a case
   * held for the victim's consent: the referral was never routed to the provision by it (consent opens a new case).
   */
  private visibleCase(caseId: string, caller: Principal, request: FastifyRequest): CaseRow {
    const row = this.cases.find(caseId);
    if (!row || row.provision !== caller.provision || row.route_status === 'held-awaiting-consent') throw new NotFoundException('no such case');
    recordAccessed(request, { referralIds: [row.referral_id] });
    return row;
  }

  private async detail(row: CaseRow) {
    // Superseded (a later decision no longer routes the person here), or ended before consent was withdrawn from a
    // route that needs it: what the referral says of them, and the free text typed about them, is no longer this
    // provision's to see; the case's own facts and history stay.
    const withheld = personalDataWithheldFrom(row);
    const history: Array<{ type: string; recordedAt: string; actor: unknown; data: unknown }> = [];
    let ended: RecordedEvent | null = null;
    for await (const event of this.store.readStream(streams.case(row.case_id))) {
      const { type, recordedAt, metadata, data } = withheld ? withoutPersonalData(event) : this.codec.decode(event);
      history.push({ type, recordedAt, actor: metadata.actor, data });
      if (!ended && endsCase(event)) ended = event;
    }
    const supersededBy = ended?.type === 'CaseSuperseded' ? (ended.data as CaseSuperseded['data']).decisionNumber : null;
    const assessments: RecordedEvent[] = [];
    const needsRecorded: RecordedEvent[] = [];
    let supersededOnRevision: bigint | null = null;
    let submission: ReferralSubmission | null = null;
    for await (const event of this.store.readStream(streams.referral(row.referral_id))) {
      if (event.type === 'RiskAssessed') assessments.push(event);
      if (event.type === 'NeedsRecorded') needsRecorded.push(event);
      const decision = event.type === 'ReferralRouted' ? (event.data as ReferralRouted['data']) : null;
      if (decision && decision.decisionNumber === supersededBy) supersededOnRevision = BigInt(decision.basedOnRevision);
      // Null once erased: the case then shows its own facts and says so.
      if (event.type === 'ReferralReceived') submission = this.codec.decode<ReferralReceived['data']>(event).data.submission ?? null;
    }
    // The assessment the case was routed on: none made after it ended, nor the reassessment that superseded it
    // (recorded before the supersession, it is why the referral left, and is no longer this provision's to see).
    const routedOn = assessments
      .filter((event) => (ended === null || event.position < ended.position) && (supersededOnRevision === null || event.revision < supersededOnRevision))
      .pop();
    const assessed = routedOn ? this.codec.decode<RiskAssessed['data']>(routedOn).data : null;
    // Likewise the needs: a reassessment that restated them (a refuge now needed) replaces what the referral said.
    // Each is recorded just before its own assessment, so the needs shown are the last recorded before the
    // assessment shown (the superseding reassessment's are one revision below its assessment, not below the cut).
    const needs = routedOn ? needsRecorded.filter((event) => event.revision < routedOn.revision).pop() : undefined;
    if (submission && needs) submission = { ...submission, needs: (needs.data as NeedsRecorded['data']).needs };
    return caseDetailView({
      row,
      submission: withheld ? null : submission,
      withheld: withheld && submission !== null,
      risk: { level: assessed?.level ?? row.risk_level, dashScore: assessed?.dashScore ?? null, criteria: assessed?.criteria ?? [], assessment: withheld ? null : (assessed?.assessment ?? null) },
      parts: this.policy.provisions[row.provision].caseView,
      history,
      now: this.clock().getTime(),
    });
  }
}

function valid<T extends object>(dto: new () => T, body: unknown): T {
  const input = validateInput(dto, body);
  if (!input.ok) throw new ValidationFailed(input.details);
  return input.value;
}

