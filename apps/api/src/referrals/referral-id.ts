import { createHash } from 'node:crypto';

// A fixed namespace for referral ids (RFC 4122 name-based, SHA-1, version 5).
const NAMESPACE = Buffer.from('5b0e7a1c4f2d4e8a9c3b6d1f0a2e4c7b', 'hex');

/**
 * The referral id is derived from (agency, agency reference): every instance and every retry of one referral
 * computes the same id, so "append with no-stream" is the idempotency check and 20 racing posts make one referral.
 */
export function referralIdFor(agency: string, agencyReference: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${agency}\n${agencyReference}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
