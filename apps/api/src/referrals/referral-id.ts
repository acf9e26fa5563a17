import { nameBasedUuid } from '@spoc/platform';

/**
 * The referral id is derived from (agency, agency reference): every instance and every retry of one referral
 * computes the same id, so "append with no-stream" is the idempotency check and 20 racing posts make one referral.
 */
export function referralIdFor(agency: string, agencyReference: string): string {
  return nameBasedUuid(`referral\n${agency}\n${agencyReference}`);
}
