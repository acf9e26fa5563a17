import type { MaracMeeting } from '@spoc/domain';
import { nameBasedUuid } from '@spoc/platform';

/**
 * The contract's ids are UUIDs. The log names a meeting by its kind and date (`marac-daily-2026-11-24`); its id is
 * derived from those, so the meetings list, the referral and the audit agree, for decisions recorded before too.
 */
export function meetingIdOf(meeting: Pick<MaracMeeting, 'kind' | 'date'>): string {
  return nameBasedUuid(`marac-meeting\n${meeting.kind}\n${meeting.date}`);
}

/** A decision's MARAC listing as the API shows it: the contract's `meetingId` and `meetingDate`. */
export function maracListingView<T extends Pick<MaracMeeting, 'kind' | 'date' | 'meetingId'>>(listing: T | null) {
  if (!listing) return null;
  const { meetingId: _logName, date, ...rest } = listing;
  return { ...rest, meetingId: meetingIdOf(listing), meetingDate: date };
}
