import { applyDecorators, Controller, Get, Header, Inject, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { RoutingPolicy } from '@spoc/domain';
import type { Clock } from '../infrastructure/clock';
import { CLOCK, POLICY } from '../infrastructure/tokens';
import { Allow, CurrentPrincipal } from '../shared/auth/access.decorators';
import type { Principal } from '../shared/auth/principal';
import { readDate, throwIfProblems } from '../shared/paging';
import type { FieldProblem } from '../shared/validation';
import { buildPerformanceReport, reportJson, reportPeriod, type PerformanceReport } from './performance-report';
import { performanceCsv, performanceHtml } from './performance.exports';
import { PerformanceQuery } from './performance.query';

const PeriodQuery = () =>
  applyDecorators(
    ApiQuery({ name: 'from', required: true, example: '2026-01-01', description: 'first local date of the period (referrals received from then)' }),
    ApiQuery({ name: 'to', required: true, example: '2026-12-31', description: 'last local date of the period, inclusive' }),
  );

/**
 * The partnership's performance report (contract: "Reports"). The JSON is for the partnership itself: real numbers
 * for auditors, with the figures a shareable copy withholds listed; an admin always gets the shareable copy. The
 * CSV and the printable page leave the partnership, so they always withhold them. Literal routes, so `.csv` and
 * `.html` never meet a `:param` route.
 */
@ApiTags('reports')
@ApiBearerAuth()
@Controller('v1/reports')
export class ReportsController {
  constructor(
    private readonly readModel: PerformanceQuery,
    @Inject(POLICY) private readonly policy: RoutingPolicy,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('performance')
  @Allow('auditor', 'admin')
  @PeriodQuery()
  @ApiQuery({ name: 'suppress', required: false, enum: ['true', 'false'], description: 'true: the shareable version, small counts shown as "<5"' })
  performance(@Query() query: Record<string, unknown>, @CurrentPrincipal() caller: Principal) {
    const problems: FieldProblem[] = [];
    const suppress = query.suppress;
    if (suppress !== undefined && suppress !== 'true' && suppress !== 'false') problems.push({ field: 'suppress', problem: 'must be true or false' });
    // An admin has no case data (data-protection.md): over a short period, exact small counts describe a person.
    return reportJson(this.report(query, problems), suppress === 'true' || caller.role === 'admin');
  }

  @Get('performance.csv')
  @Allow('auditor', 'admin')
  @PeriodQuery()
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'the report as CSV, one section per breakdown', schema: { type: 'string' } })
  csv(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply) {
    const report = this.report(query, []);
    // Set once the period is known to be valid: a 400 stays the contract's JSON problem.
    void reply.header('content-type', 'text/csv; charset=utf-8');
    void reply.header('content-disposition', `attachment; filename="spoc-performance-${report.period.from}-to-${report.period.to}.csv"`);
    return performanceCsv(report);
  }

  @Get('performance.html')
  @Allow('auditor', 'admin')
  @PeriodQuery()
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'the report as a printable page', schema: { type: 'string' } })
  // Nothing on the page may load or run anything: inline styles and inline SVG only.
  @Header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'")
  html(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply) {
    const report = this.report(query, []);
    void reply.header('content-type', 'text/html; charset=utf-8');
    return performanceHtml(report, this.policy);
  }

  private report(query: Record<string, unknown>, problems: FieldProblem[]): PerformanceReport {
    const from = readDate(query, 'from', problems);
    const to = readDate(query, 'to', problems);
    if (query.from === undefined) problems.push({ field: 'from', problem: 'is required' });
    if (query.to === undefined) problems.push({ field: 'to', problem: 'is required' });
    if (from && to && from > to) problems.push({ field: 'to', problem: 'must not be before from' });
    throwIfProblems(problems);
    const period = reportPeriod(from!, to!, this.policy.calendar.timeZone);
    const nowMs = this.clock().getTime();
    return buildPerformanceReport(this.readModel.period(period.from, period.to, period, nowMs), period, this.policy, nowMs);
  }
}
