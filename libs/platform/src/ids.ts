import { createHash } from 'node:crypto';

const NAMESPACE = Buffer.from('5b0e7a1c4f2d4e8a9c3b6d1f0a2e4c7b', 'hex');

/**
 * A name-based UUID (RFC 4122 version 5): the same name always gives the same id. Ids derived this way make
 * retries and racing writers address the same stream or event, so the store's expected-revision and idempotency
 * checks do the deduplication.
 */
export function nameBasedUuid(name: string): string {
  return uuidOf(createHash('sha1').update(NAMESPACE).update(name).digest(), 5);
}

/** A UUID of the given version from the first 16 bytes of a hash (version 8 is RFC 9562's custom one). */
export function uuidOf(hash: Buffer, version: 5 | 8): string {
  hash[6] = (hash[6] & 0x0f) | (version << 4);
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
