import { specFor } from '../testing/given-when-then';
import { principalDecider, type PrincipalEvent } from './principal.decider';

const spec = specFor(principalDecider);
const registered: PrincipalEvent = {
  type: 'PrincipalRegistered',
  data: { principalId: 'p-1', role: 'referrer', name: 'Hampshire Police intake', agency: 'hampshire-police', provision: null, tokenHash: 'h', registeredAt: '2026-11-23T09:00:00Z' },
};
const register = (role: 'referrer' | 'caseworker', agency: string | null, provision: string | null) => ({
  type: 'RegisterPrincipal' as const,
  data: { principalId: 'p-1', role, name: 'n', agency, provision, tokenHash: 'h', at: '2026-11-23T09:00:00Z' },
});

describe('the principal decider', () => {
  it('registers a referrer bound to its agency', () => {
    spec.given([]).when(register('referrer', 'hampshire-police', null)).thenMatches([{ type: 'PrincipalRegistered', data: { agency: 'hampshire-police' } }]);
  });

  it('refuses a referrer without an agency and a caseworker without a provision', () => {
    spec.given([]).when(register('referrer', null, null)).thenThrows('not-allowed');
    spec.given([]).when(register('caseworker', null, null)).thenThrows('not-allowed');
  });

  it('revokes an active principal once, and a second revocation changes nothing', () => {
    const revoke = { type: 'RevokePrincipal' as const, data: { principalId: 'p-1', at: '2026-11-23T10:00:00Z' } };
    spec.given([registered]).when(revoke).then([{ type: 'PrincipalRevoked', data: { principalId: 'p-1', revokedAt: '2026-11-23T10:00:00Z' } }]);
    spec.given([registered, { type: 'PrincipalRevoked', data: { principalId: 'p-1', revokedAt: 'x' } }]).when(revoke).then([]);
    spec.given([]).when(revoke).thenThrows('not-found');
  });
});
