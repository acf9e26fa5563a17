import { createHmac } from 'node:crypto';
import { uuidOf } from '@spoc/platform';

/**
 * The referral id is derived from (agency, agency reference): every instance and every retry of one referral
 * computes the same id, so "append with no-stream" is the idempotency check and 20 racing posts make one referral.
 * Keyed (HMAC under a service key kept with the subject keys, decision 0013): ids travel to providers, MARAC lists
 * and Kafka, and an unkeyed hash would let anyone who sees one try an agency's references until one matches.
 * A UUID of version 8 (RFC 9562: custom), like any other to the API.
 */
export function referralIdFor(key: Buffer, agency: string, agencyReference: string): string {
  return uuidOf(createHmac('sha256', key).update(`referral\n${agency}\n${agencyReference}`).digest(), 8);
}

/** The service key's name in the vault. */
export const REFERRAL_ID_KEY = 'referral-ids';
