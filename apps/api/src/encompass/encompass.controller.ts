import { Controller, ForbiddenException, Get, HttpCode, Inject, NotFoundException, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { isSealed, type PersonalDataVault } from '@spoc/platform';
import { VAULT } from '../infrastructure/tokens';
import { Allow, CorrelationId, CurrentPrincipal } from '../shared/auth/access.decorators';
import { actorOf, type Principal } from '../shared/auth/principal';
import { recordAccessed } from '../shared/audit/accessed';
import { nextKeysetCursor, readKeysetPage, throwIfProblems } from '../shared/paging';
import type { FieldProblem } from '../shared/validation';
import { EncompassProjection, type EncompassRow } from './encompass.projection';
import { MarkEncompassSent } from './mark-sent.command';

@ApiTags('encompass')
@ApiBearerAuth()
@Controller('v1/encompass/notifications')
export class EncompassController {
  constructor(
    private readonly notifications: EncompassProjection,
    private readonly commands: CommandBus,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
  ) {}

  @Get()
  @Allow('caseworker', 'auditor', 'admin')
  @ApiQuery({ name: 'status', required: false, enum: ['due', 'sent'] })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  list(@Query() query: Record<string, unknown>, @CurrentPrincipal() caller: Principal, @Req() request: object) {
    onlyIdva(caller);
    const problems: FieldProblem[] = [];
    const status = query.status;
    if (status !== undefined && status !== 'due' && status !== 'sent') problems.push({ field: 'status', problem: 'must be one of: due, sent' });
    const page = readKeysetPage(query, problems, ['string', 'string']);
    throwIfProblems(problems);
    const statuses: Array<'due' | 'sent'> = status === 'due' || status === 'sent' ? [status] : ['due', 'sent'];
    const rows = this.notifications.list(statuses, page.limit + 1, page.after as [string, string] | null);
    const shown = rows.slice(0, page.limit);
    const items = shown.map((row) => this.view(row, caller));
    recordAccessed(request, { referralIds: items.map((item) => item.referralId) });
    const last = shown[shown.length - 1];
    return { items, nextCursor: nextKeysetCursor(last && [last.due_by, last.notification_id], rows.length > page.limit) };
  }

  @Post(':id/sent')
  @Allow('caseworker', 'admin')
  @HttpCode(200)
  async markSent(
    @Param('id', new ParseUUIDPipe({ errorHttpStatusCode: 404 })) id: string,
    @CurrentPrincipal() caller: Principal,
    @CorrelationId() correlationId: string,
    @Req() request: object,
  ) {
    onlyIdva(caller);
    const row = this.notifications.find(id);
    if (!row) throw new NotFoundException('no such notification');
    recordAccessed(request, { referralIds: [row.referral_id] });
    await this.commands.execute(new MarkEncompassSent(id, row.referral_id, { actor: actorOf(caller), correlationId, causationId: null }));
    return this.view(this.notifications.find(id)!, caller);
  }

  /**
   * An admin keeps the schedule (what is due, overdue, sent) but gets no case data (docs/decisions/0010): which
   * school a child of a victim attends is withheld, and the sealed field is not even opened.
   */
  private view(row: EncompassRow, caller: Principal) {
    const withheld = caller.role === 'admin';
    const sealed = withheld ? null : (JSON.parse(row.schools) as unknown);
    const schools = isSealed(sealed) ? this.vault.open<Record<string, string>>(sealed) : null;
    return {
      notificationId: row.notification_id,
      referralId: row.referral_id,
      childIndex: row.child_index,
      // null once the referral's personal data has been erased, or for an admin
      school: schools?.[String(row.child_index)] ?? null,
      schoolWithheld: withheld,
      dueBy: row.due_by,
      status: row.status,
      sentAt: row.sent_at,
      overdue: row.status === 'due' && Date.parse(row.due_by) < Date.now(),
    };
  }
}

function onlyIdva(caller: Principal): void {
  if (caller.role === 'caseworker' && caller.provision !== 'idva') throw new ForbiddenException('only IDVA caseworkers handle Operation Encompass');
}
