import { DomainError, streams } from '@spoc/domain';
import type { EventStore } from '@spoc/event-store';
import { sealingKeyId, type PersonalDataVault } from '@spoc/platform';

/**
 * The key that sealed a referral's personal data. Everything later written about the referral (reassessments,
 * caseworkers' notes) is sealed with it too, so erasing the referral erases all of it at once.
 */
export async function subjectKeyOf(store: EventStore, vault: PersonalDataVault, referralId: string): Promise<{ keyId: string; key: Buffer }> {
  for await (const first of store.readStream(streams.referral(referralId), { maxCount: 1 })) {
    const keyId = sealingKeyId(first);
    const key = keyId ? vault.keyFor(keyId) : null;
    if (keyId && key) return { keyId, key };
    // Lost, not erased: the key file does not have it (health counts such keys).
    if (keyId && !vault.knowsKey(keyId)) throw new DomainError('invalid-transition', "this referral's personal data cannot be opened: its key is not in the key file");
  }
  throw new DomainError('invalid-transition', "this referral's personal data has been erased");
}
