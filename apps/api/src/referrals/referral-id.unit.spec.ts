import { randomBytes } from 'node:crypto';
import { isUUID } from 'class-validator';
import { referralIdFor } from './referral-id';

describe('the referral id', () => {
  const key = randomBytes(32);

  it('is the same for the same agency and reference under one key, so retries address one stream', () => {
    expect(referralIdFor(key, 'hampshire-police', 'HC-44/2026/0191')).toBe(referralIdFor(key, 'hampshire-police', 'HC-44/2026/0191'));
    expect(referralIdFor(key, 'hampshire-police', 'HC-44/2026/0191')).not.toBe(referralIdFor(key, 'portsmouth-gp', 'HC-44/2026/0191'));
    expect(referralIdFor(key, 'hampshire-police', 'HC-44/2026/0191')).not.toBe(referralIdFor(key, 'hampshire-police', 'HC-44/2026/0192'));
  });

  it('cannot be worked out from the reference without the service key', () => {
    expect(referralIdFor(randomBytes(32), 'hampshire-police', 'HC-44/2026/0191')).not.toBe(referralIdFor(key, 'hampshire-police', 'HC-44/2026/0191'));
  });

  it('is a UUID of version 8, which the API takes like any other', () => {
    const id = referralIdFor(key, 'hampshire-police', 'HC-44/2026/0191');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isUUID(id)).toBe(true);
  });
});
