import { Controller, Get, Inject, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { localDateOf, type RoutingPolicy } from '@spoc/domain';
import { POLICY } from '../infrastructure/tokens';
import { Allow, CurrentPrincipal } from '../shared/auth/access.decorators';
import { recordAccessed } from '../shared/audit/accessed';
import type { Principal } from '../shared/auth/principal';
import { nextCursor, readDate, readPage, throwIfProblems } from '../shared/paging';
import type { FieldProblem } from '../shared/validation';
import { MaracProjection } from './marac.projection';
import { ForbiddenException } from '@nestjs/common';

@ApiTags('marac')
@ApiBearerAuth()
@Controller('v1/marac/meetings')
export class MaracController {
  constructor(
    private readonly marac: MaracProjection,
    @Inject(POLICY) private readonly policy: RoutingPolicy,
  ) {}

  /** Meetings in a date range (default: the next four weeks), cases with children first, over-capacity flagged. */
  @Get()
  @Allow('caseworker', 'auditor', 'admin')
  @ApiQuery({ name: 'from', required: false, example: '2026-11-23' })
  @ApiQuery({ name: 'to', required: false, example: '2026-12-21' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  meetings(@Query() query: Record<string, unknown>, @CurrentPrincipal() caller: Principal, @Req() request: object) {
    if (caller.role === 'caseworker' && caller.provision !== 'idva') throw new ForbiddenException('only IDVA caseworkers see MARAC lists');
    const problems: FieldProblem[] = [];
    const today = localDateOf(new Date(), this.policy.calendar.timeZone);
    const from = readDate(query, 'from', problems) ?? today;
    const to = readDate(query, 'to', problems) ?? addDays(from, 28);
    if (from > to) problems.push({ field: 'to', problem: 'must not be before from' });
    const page = readPage(query, problems);
    throwIfProblems(problems);

    const meetings = new Map<string, { meetingId: string; date: string; kind: string; startsAt: string; cases: Array<{ referralId: string; repeat: boolean; hasChildren: boolean }> }>();
    for (const row of this.marac.casesBetween(from, to)) {
      const meeting = meetings.get(row.meeting_id) ?? { meetingId: row.meeting_id, date: row.meeting_date, kind: row.kind, startsAt: row.starts_at, cases: [] };
      meeting.cases.push({ referralId: row.referral_id, repeat: row.repeat === 1, hasChildren: row.has_children === 1 });
      meetings.set(row.meeting_id, meeting);
    }
    const capacity = this.policy.marac.capacityPerMeeting;
    const all = [...meetings.values()];
    const items = all.slice(page.offset, page.offset + page.limit).map((meeting) => ({ ...meeting, capacity, overCapacity: meeting.cases.length > capacity }));
    recordAccessed(request, { referralIds: items.flatMap((meeting) => meeting.cases.map((listed) => listed.referralId)) });
    return { items, nextCursor: nextCursor(page, items.length, page.offset + items.length < all.length) };
  }
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
