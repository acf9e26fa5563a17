import { Controller, Get, Inject, NotFoundException, Param, ParseUUIDPipe, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { streams, type ReferralRouted, type RoutingPolicy } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import type { PersonalDataVault, ProjectionRunner } from '@spoc/platform';
import { POLICY, PROJECTIONS, VAULT } from '../infrastructure/tokens';
import { Allow, CurrentPrincipal } from '../shared/auth/access.decorators';
import type { Principal } from '../shared/auth/principal';
import { recordAccessed } from '../shared/audit/accessed';
import { instantQueryProblem, nextCursor, nextKeysetCursor, readKeysetPage, throwIfProblems } from '../shared/paging';
import { AccessLog } from './access-log';
import { readAccessLogFilter } from './access-log.filter';
import { AccessLogProjection } from './access-log.projection';
import { accessEntries, type AccessLogEntry } from './access-log.query';
import { QueueProjection } from '../queues/queue.projection';
import { ReferralStatusProjection } from '../referrals/referral-status.projection';
import { agencyReferenceOf } from '../referrals/referral.view';
import { maracListingView } from '../marac/meeting-view';
import { reEvaluate } from './decision-review';
import { PolicyLibrary } from './policy-library';
import { ReferralHistory } from './referral-history';
import { stateAsOf, type AuditedEvent } from './state-as-of';
import { ValidationFailed } from '../shared/http/problem.filter';
import type { FieldProblem } from '../shared/validation';

const uuid = new ParseUUIDPipe({ errorHttpStatusCode: 404 });

/**
 * What an auditor may see (data-protection.md): histories, decisions and their replay, the access log. Reads only.
 * The referrals the router could not decide are listed for admins too (ids and agencies; the agencies' references
 * only for auditors): the SPOC team that routes them by hand works as admin.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(
    private readonly history: ReferralHistory,
    private readonly policies: PolicyLibrary,
    private readonly accessLog: AccessLog,
    private readonly accessEntries: AccessLogProjection,
    private readonly cases: QueueProjection,
    private readonly referrals: ReferralStatusProjection,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
    @Inject(POLICY) private readonly policy: RoutingPolicy,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
  ) {}

  @Get('referrals/:id/history')
  @Allow('auditor')
  async referralHistory(@Param('id', uuid) id: string, @Req() request: FastifyRequest) {
    const history = await this.history.of(id);
    if (!history) throw new NotFoundException('no such referral');
    const caseIds = [...new Set(history.events.filter((event) => event.streamId.startsWith('case-')).map((event) => event.streamId.slice(5)))];
    recordAccessed(request, { caseIds });
    return history;
  }

  @Get('referrals/:id/state')
  @Allow('auditor')
  @ApiQuery({ name: 'asOf', required: true, description: 'an instant with offset, e.g. 2026-11-23T10:00:00Z' })
  async stateAsOf(@Param('id', uuid) id: string, @Query('asOf') asOf: unknown, @Req() request: FastifyRequest) {
    // Date.parse alone would take 2026-02-30 as 2 March, and an instant without an offset as local time.
    const problem = asOf === undefined ? 'is required' : instantQueryProblem(asOf);
    if (problem !== null) throw new ValidationFailed([{ field: 'asOf', problem }]);
    const history = await this.history.of(id);
    if (!history) throw new NotFoundException('no such referral');
    const events: AuditedEvent[] = history.events.map((event) => ({ ...event, position: BigInt(event.position) }));
    const state = stateAsOf(events, asOf as string);
    recordAccessed(request, { caseIds: state.cases.map((entry) => entry.caseId) });
    return { referralId: id, ...state, chainValid: history.chainValid };
  }

  @Get('referrals/:id/decisions')
  @Allow('auditor')
  async decisions(@Param('id', uuid) id: string) {
    const decisions = [];
    let found = false;
    for await (const event of this.store.readStream(streams.referral(id))) {
      found = true;
      if (event.type !== 'ReferralRouted') continue;
      const decision = event.data as ReferralRouted['data'];
      decisions.push({
        decisionNumber: decision.decisionNumber,
        position: event.position.toString(),
        recordedAt: event.recordedAt,
        basedOnRevision: decision.basedOnRevision,
        policyVersion: decision.policyId,
        facts: decision.facts,
        rulesFired: decision.outcome.rulesFired,
        routes: decision.cases.map(({ provision, caseId, ruleIds, status, dueBy }) => ({ provision, caseId, ruleIds, status, dueBy })),
        supersededCaseIds: decision.supersededCaseIds,
        marac: maracListingView(decision.outcome.marac),
        flags: decision.outcome.flags,
        reasons: decision.outcome.reasons,
        reEvaluation: reEvaluate(decision, this.policies.find(decision.policyId)),
      });
    }
    if (!found) throw new NotFoundException('no such referral');
    return { referralId: id, decisions };
  }

  /** What the router could not decide, for the SPOC team to route by hand (ids and agencies; references for auditors). */
  @Get('routing-failures')
  @Allow('auditor', 'admin')
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  routingFailures(@Query() query: Record<string, unknown>, @Req() request: FastifyRequest, @CurrentPrincipal() caller: Principal) {
    const problems: FieldProblem[] = [];
    const page = readKeysetPage(query, problems, ['string', 'string']);
    throwIfProblems(problems);
    // An admin has no case data: the agency's reference points at its record of the person (decision 0013), so it
    // is not even opened; the agency finds the referral by its id.
    const withheld = caller.role === 'admin';
    const rows = this.referrals.flaggedForRoutingByHand(page.limit + 1, page.after as [string, string] | null);
    const shown = rows.slice(0, page.limit);
    const items = shown.map((row) => ({
      referralId: row.referral_id,
      agency: row.agency,
      agencyReference: withheld ? null : agencyReferenceOf(row, this.vault),
      referenceWithheld: withheld,
      referralType: row.referral_type,
      receivedAt: row.received_at,
    }));
    recordAccessed(request, { referralIds: items.map((item) => item.referralId) });
    const last = shown[shown.length - 1];
    return { items, nextCursor: nextKeysetCursor(last && [last.received_at, last.referral_id], rows.length > page.limit) };
  }

  @Get('access-log')
  @Allow('auditor')
  @ApiQuery({ name: 'referralId', required: false })
  @ApiQuery({ name: 'actorId', required: false })
  @ApiQuery({ name: 'from', required: false, description: 'a date YYYY-MM-DD (the whole local day) or an instant' })
  @ApiQuery({ name: 'to', required: false, description: 'a date YYYY-MM-DD (the whole local day) or an instant, inclusive' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  async accessLogEntries(@Query() query: Record<string, unknown>, @Req() request: FastifyRequest) {
    const filter = readAccessLogFilter(query, this.policy.calendar.timeZone);
    if (filter.referralId) recordAccessed(request, { referralIds: [filter.referralId] });
    // Everything answered before this request is in the log and in the read model when it is queried.
    const position = await this.accessLog.flushed();
    if (position !== null) await this.projections.waitFor(position, 2000);
    const { page } = filter;
    const search = {
      subjectIds: filter.referralId ? [filter.referralId, ...this.cases.casesOf(filter.referralId)] : undefined,
      actorId: filter.actorId,
      from: filter.from,
      before: filter.before,
    };
    const rows = await accessEntries(this.store, this.accessEntries.batches(search), { ...search, limit: page.limit + 1, offset: page.offset });
    const items = rows.slice(0, page.limit).map(entryView);
    return { items, nextCursor: nextCursor(page, items.length, rows.length > page.limit) };
  }
}

function entryView(entry: AccessLogEntry) {
  return {
    position: entry.position,
    entry: entry.entry,
    at: entry.at,
    actor: entry.actor,
    route: entry.route,
    referralIds: entry.referralIds,
    caseIds: entry.caseIds,
    outcome: entry.outcome,
    statusCode: entry.statusCode,
    correlationId: entry.correlationId,
  };
}
