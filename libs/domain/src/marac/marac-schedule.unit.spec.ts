import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolicy, type RoutingPolicy } from '../policy/policy';
import { nextMaracMeeting } from './marac-schedule';

const policy = parsePolicy(JSON.parse(readFileSync(path.resolve(__dirname, '../../../../policies/portsmouth-2026-1.json'), 'utf8')));

/** The repository policy with an extra bank holiday on a fortnightly Thursday, as a future year could have. */
const withBankHoliday = (date: string): RoutingPolicy => ({ ...policy, calendar: { ...policy.calendar, bankHolidays: [...policy.calendar.bankHolidays, date] } });

describe('the daily MARAC, where children are involved', () => {
  it('given a case routed on Monday, then it is listed at Tuesday’s daily meeting', () => {
    expect(nextMaracMeeting({ routedAt: '2026-11-23T14:00:00Z', hasChildren: true }, policy)).toEqual({
      meetingId: 'marac-daily-2026-11-24',
      date: '2026-11-24',
      kind: 'daily',
      startsAt: '2026-11-24T09:30:00.000Z',
    });
  });

  it('given a case routed early on Monday morning, then it still waits for Tuesday, so agencies can research it', () => {
    expect(nextMaracMeeting({ routedAt: '2026-11-23T06:00:00Z', hasChildren: true }, policy).date).toBe('2026-11-24');
  });

  it('given a case routed on Friday or at the weekend, then it is Monday’s', () => {
    expect(nextMaracMeeting({ routedAt: '2026-11-20T16:00:00Z', hasChildren: true }, policy).meetingId).toBe('marac-daily-2026-11-23');
    expect(nextMaracMeeting({ routedAt: '2026-11-22T16:00:00Z', hasChildren: true }, policy).meetingId).toBe('marac-daily-2026-11-23');
  });

  it('given a case routed before a bank holiday Monday, then it is Tuesday’s, at 09:30 BST', () => {
    expect(nextMaracMeeting({ routedAt: '2026-05-22T14:00:00Z', hasChildren: true }, policy)).toMatchObject({
      meetingId: 'marac-daily-2026-05-26',
      startsAt: '2026-05-26T08:30:00.000Z',
    });
  });
});

describe('the fortnightly MARAC, without children', () => {
  it('given a case routed on Monday 23 November 2026, then it is listed on Thursday 26 November', () => {
    expect(nextMaracMeeting({ routedAt: '2026-11-23T14:00:00Z', hasChildren: false }, policy)).toEqual({
      meetingId: 'marac-fortnightly-2026-11-26',
      date: '2026-11-26',
      kind: 'fortnightly',
      startsAt: '2026-11-26T10:00:00.000Z',
    });
  });

  it('given a case routed on a meeting day, then it goes to the meeting a fortnight later', () => {
    expect(nextMaracMeeting({ routedAt: '2026-11-26T08:00:00Z', hasChildren: false }, policy).date).toBe('2026-12-10');
  });

  it('reads the routing date in London: 00:30 BST on a meeting Thursday is that Thursday', () => {
    expect(nextMaracMeeting({ routedAt: '2026-06-24T23:30:00Z', hasChildren: false }, policy)).toMatchObject({
      date: '2026-07-09',
      startsAt: '2026-07-09T09:00:00.000Z',
    });
  });

  it('given a case routed before the anchor date, then it is the anchor meeting', () => {
    expect(nextMaracMeeting({ routedAt: '2026-01-02T10:00:00Z', hasChildren: false }, policy).date).toBe('2026-01-08');
  });

  it('given a fortnightly Thursday that is a bank holiday, then the meeting moves to Friday, even for a case routed that Thursday', () => {
    const holiday = withBankHoliday('2026-12-10');
    expect(nextMaracMeeting({ routedAt: '2026-11-30T10:00:00Z', hasChildren: false }, holiday).meetingId).toBe('marac-fortnightly-2026-12-11');
    expect(nextMaracMeeting({ routedAt: '2026-12-10T10:00:00Z', hasChildren: false }, holiday).meetingId).toBe('marac-fortnightly-2026-12-11');
    expect(nextMaracMeeting({ routedAt: '2026-12-11T10:00:00Z', hasChildren: false }, holiday).meetingId).toBe('marac-fortnightly-2026-12-24');
  });

  it('names the same meeting for every case routed in the fortnight before it', () => {
    const ids = ['2026-11-13T09:00:00Z', '2026-11-19T17:00:00Z', '2026-11-25T23:59:00Z'].map(
      (routedAt) => nextMaracMeeting({ routedAt, hasChildren: false }, policy).meetingId,
    );
    expect(new Set(ids)).toEqual(new Set(['marac-fortnightly-2026-11-26']));
  });
});
