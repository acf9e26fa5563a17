import { Controller, ForbiddenException, Get, Inject, NotFoundException, Param, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { PROVISION_IDS, type ProvisionId } from '@spoc/domain';
import type { PersonalDataVault } from '@spoc/platform';
import { openContact, queueItemView } from '../cases/case.view';
import type { Clock } from '../infrastructure/clock';
import { CLOCK, VAULT } from '../infrastructure/tokens';
import type { FastifyRequest } from 'fastify';
import { recordAccessed } from '../shared/audit/accessed';
import { Allow, CurrentPrincipal } from '../shared/auth/access.decorators';
import type { Principal } from '../shared/auth/principal';
import { nextKeysetCursor, readKeysetPage, throwIfProblems } from '../shared/paging';
import type { FieldProblem } from '../shared/validation';
import { personalDataWithheldFrom, QUEUE_KEY_SHAPE, QueueProjection, queueKeyOf, type QueueKey, type QueueStatus } from './queue.projection';

const STATUSES: readonly QueueStatus[] = ['awaiting', 'active', 'closed'];

@ApiTags('queues')
@ApiBearerAuth()
@Controller('v1/queues')
export class QueuesController {
  constructor(
    private readonly queues: QueueProjection,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get(':provision')
  @Allow('caseworker')
  @ApiQuery({ name: 'status', required: false, enum: STATUSES, description: 'default: awaiting and active' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  list(@Param('provision') provision: string, @Query() query: Record<string, unknown>, @CurrentPrincipal() caller: Principal, @Req() request: FastifyRequest) {
    if (!PROVISION_IDS.includes(provision as ProvisionId)) throw new NotFoundException('no such provision');
    if (caller.provision !== provision) throw new ForbiddenException("a caseworker sees only their own provision's queue");
    const problems: FieldProblem[] = [];
    const status = query.status;
    if (status !== undefined && !STATUSES.includes(status as QueueStatus)) problems.push({ field: 'status', problem: `must be one of: ${STATUSES.join(', ')}` });
    const page = readKeysetPage(query, problems, QUEUE_KEY_SHAPE);
    throwIfProblems(problems);
    const statuses: QueueStatus[] = status ? [status as QueueStatus] : ['awaiting', 'active'];
    const rows = this.queues.page(provision, statuses, page.limit + 1, page.after as QueueKey | null);
    const now = this.clock().getTime();
    const shown = rows.slice(0, page.limit);
    const items = shown.map((row) => queueItemView(row, personalDataWithheldFrom(row) ? null : openContact(row, this.vault), now));
    // Case ids are enough: the access log finds a referral's entries through its cases.
    recordAccessed(request, { caseIds: items.map((item) => item.caseId) });
    const last = shown[shown.length - 1];
    return { items, nextCursor: nextKeysetCursor(last && queueKeyOf(last), rows.length > page.limit) };
  }
}
