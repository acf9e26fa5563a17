import type { Calendar } from '../policy/policy';

/** A calendar for specs, written out here so the calendar's behaviour is tested apart from the policy's data. */
export const testCalendar: Calendar = {
  timeZone: 'Europe/London',
  workingDayStart: '09:00',
  bankHolidays: ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28'],
  schoolHolidays: [
    { name: 'Easter 2026', from: '2026-03-30', to: '2026-04-10' },
    { name: 'May half term 2026', from: '2026-05-25', to: '2026-05-29' },
    { name: 'October half term 2026', from: '2026-10-26', to: '2026-10-30' },
  ],
  coversThrough: '2026-12-31',
};
