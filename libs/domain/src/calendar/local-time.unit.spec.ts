import { addDays, daysBetween, instantAt, localDateOf, localDateTimeOf, toDate, toIsoInstant, weekdayOf } from './local-time';

const london = 'Europe/London';

describe('local time in Europe/London', () => {
  it('reads GMT in winter and BST in summer', () => {
    expect(localDateTimeOf('2026-01-15T12:00:00Z', london)).toEqual({ date: '2026-01-15', hour: 12, minute: 0, second: 0, millisecond: 0 });
    expect(localDateTimeOf('2026-07-15T12:00:00.250Z', london)).toEqual({ date: '2026-07-15', hour: 13, minute: 0, second: 0, millisecond: 250 });
  });

  it('moves to BST at 01:00 UTC on 29 March 2026', () => {
    expect(localDateTimeOf('2026-03-29T00:59:59Z', london)).toMatchObject({ hour: 0, minute: 59, second: 59 });
    expect(localDateTimeOf('2026-03-29T01:00:00Z', london)).toMatchObject({ hour: 2, minute: 0 });
  });

  it('moves back to GMT at 01:00 UTC on 25 October 2026, so 01:xx happens twice', () => {
    expect(localDateTimeOf('2026-10-25T00:30:00Z', london)).toMatchObject({ hour: 1, minute: 30 });
    expect(localDateTimeOf('2026-10-25T01:30:00Z', london)).toMatchObject({ hour: 1, minute: 30 });
  });

  it('takes the local date, not the UTC one, near midnight in summer', () => {
    expect(localDateOf('2026-06-05T23:30:00Z', london)).toBe('2026-06-06');
    expect(localDateOf('2026-12-05T23:30:00Z', london)).toBe('2026-12-05');
  });

  it('accepts instants written with an offset and as Dates', () => {
    expect(localDateOf('2026-06-06T00:30:00+01:00', london)).toBe('2026-06-06');
    expect(localDateOf(new Date('2026-06-05T23:30:00Z'), london)).toBe('2026-06-06');
  });

  it('refuses something that is not an instant', () => {
    expect(() => localDateOf('next Tuesday', london)).toThrow(RangeError);
  });

  it('finds the instant of a local clock time either side of the changes', () => {
    expect(instantAt('2026-03-27', '09:00', london).toISOString()).toBe('2026-03-27T09:00:00.000Z');
    expect(instantAt('2026-03-30', '09:00', london).toISOString()).toBe('2026-03-30T08:00:00.000Z');
    expect(instantAt('2026-10-23', '09:00', london).toISOString()).toBe('2026-10-23T08:00:00.000Z');
    expect(instantAt('2026-10-26', '09:00', london).toISOString()).toBe('2026-10-26T09:00:00.000Z');
  });

  it('puts a clock time the spring change skips just after the gap, and a repeated autumn time at its first showing', () => {
    expect(instantAt('2026-03-29', '01:30', london).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(localDateTimeOf('2026-03-29T01:30:00Z', london)).toMatchObject({ hour: 2, minute: 30 });
    expect(instantAt('2026-10-25', '01:30', london).toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });

  it('counts calendar days and weekdays on plain dates', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-28', 2)).toBe('2026-03-30');
    expect(daysBetween('2026-01-08', '2026-11-26')).toBe(322);
    expect(weekdayOf('2026-01-08')).toBe('thursday');
  });
});

describe('local time, cached, against working it out afresh', () => {
  // Two spring and two autumn changes in each zone, three year ends and a leap day; Lord Howe moves by half an hour,
  // Santiago changes at midnight (so a local date can start at 01:00), Kathmandu is 5:45 ahead.
  const zones = ['Europe/London', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Kathmandu'];
  const from = Date.UTC(2025, 11, 20);
  const to = Date.UTC(2028, 2, 31);
  const dates: string[] = [];
  for (let date = '2025-12-20'; date <= '2028-03-31'; date = addDays(date, 1)) dates.push(date);

  it('gives the instant of a clock time written as a string, asked once or again, as for the same time given in parts', () => {
    const mismatches: string[] = [];
    for (const zone of zones) {
      for (const date of dates) {
        for (const time of ['00:00', '00:30', '01:00', '01:30', '02:00', '02:30', '08:30']) {
          const [hour, minute] = time.split(':').map(Number);
          const afresh = instantAt(date, { hour, minute, second: 0, millisecond: 0 }, zone).toISOString();
          const first = instantAt(date, time, zone);
          first.setTime(0); // a caller may change the Date it is given
          const again = instantAt(date, time, zone).toISOString();
          if (again !== afresh) mismatches.push(`${zone} ${date} ${time}: ${again}, afresh ${afresh}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('reads the local date and time as Intl does, every three hours or so across the changes and year ends', () => {
    const mismatches: string[] = [];
    for (const zone of zones) {
      const intl = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
      // A step that is not a whole number of minutes reaches all the clock's minutes and seconds over the run.
      for (let at = from; at < to; at += 3 * 3_600_000 + 7_777) {
        const parts = Object.fromEntries(intl.formatToParts(new Date(at)).map((part) => [part.type, part.value]));
        const expected = { date: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second), millisecond: at % 1000 };
        const read = localDateTimeOf(new Date(at), zone);
        if (JSON.stringify(read) !== JSON.stringify(expected)) mismatches.push(`${zone} ${new Date(at).toISOString()}: ${JSON.stringify(read)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('finds again the first instant that shows each local time it reads', () => {
    const mismatches: string[] = [];
    for (const zone of zones) {
      for (let at = from; at < to; at += 3 * 3_600_000 + 7_777) {
        const local = localDateTimeOf(new Date(at), zone);
        const found = instantAt(local.date, local, zone).getTime();
        const shown = localDateTimeOf(new Date(found), zone);
        // Equal unless the clocks went back and `at` is the second showing of its time, which comes later.
        if (JSON.stringify(shown) !== JSON.stringify(local) || found > at || (found < at && at - found > 3_600_000)) {
          mismatches.push(`${zone} ${new Date(at).toISOString()}: ${new Date(found).toISOString()}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('parses an instant again after another one, however its Date was changed, and keeps refusing a bad one', () => {
    toDate('2026-06-05T23:30:00Z').setTime(0);
    expect(toIsoInstant('2026-06-05T23:30:00Z')).toBe('2026-06-05T23:30:00.000Z');
    expect(toIsoInstant('2026-06-06T00:30:00+01:00')).toBe('2026-06-05T23:30:00.000Z');
    expect(toIsoInstant('2026-06-05T23:31:00Z')).toBe('2026-06-05T23:31:00.000Z');
    expect(toIsoInstant('2026-06-05T23:30:00Z')).toBe('2026-06-05T23:30:00.000Z');
    expect(() => toDate('next Tuesday')).toThrow(RangeError);
    expect(() => toDate('next Tuesday')).toThrow(RangeError);
  });
});
