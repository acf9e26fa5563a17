import { assertNever, DomainError } from '../shared/domain-error';

export const ROLES = ['referrer', 'caseworker', 'auditor', 'admin'] as const;
export type PrincipalRole = (typeof ROLES)[number];

export type PrincipalCommand =
  | {
      type: 'RegisterPrincipal';
      data: { principalId: string; role: PrincipalRole; name: string; agency: string | null; provision: string | null; tokenHash: string; at: string };
    }
  | { type: 'RevokePrincipal'; data: { principalId: string; at: string } };

export type PrincipalEvent =
  | {
      type: 'PrincipalRegistered';
      data: { principalId: string; role: PrincipalRole; name: string; agency: string | null; provision: string | null; tokenHash: string; registeredAt: string };
    }
  | { type: 'PrincipalRevoked'; data: { principalId: string; revokedAt: string } };

export type PrincipalState = { status: 'none' } | { status: 'active' | 'revoked'; principalId: string };

/** A principal is a caller with one role, bound to an agency (referrer) or a provision (caseworker). */
export const principalDecider = {
  initialState: (): PrincipalState => ({ status: 'none' }),

  decide(command: PrincipalCommand, state: PrincipalState): PrincipalEvent[] {
    switch (command.type) {
      case 'RegisterPrincipal': {
        if (state.status !== 'none') throw new DomainError('conflict', 'this principal already exists');
        const { at, ...data } = command.data;
        if (data.role === 'referrer' && !data.agency) throw new DomainError('not-allowed', 'a referrer must be bound to an agency');
        if (data.role === 'caseworker' && !data.provision) throw new DomainError('not-allowed', 'a caseworker must be bound to a provision');
        return [{ type: 'PrincipalRegistered', data: { ...data, registeredAt: at } }];
      }
      case 'RevokePrincipal':
        if (state.status === 'none') throw new DomainError('not-found', 'no such principal');
        if (state.status === 'revoked') return [];
        return [{ type: 'PrincipalRevoked', data: { principalId: command.data.principalId, revokedAt: command.data.at } }];
      default:
        return assertNever(command);
    }
  },

  evolve(state: PrincipalState, event: PrincipalEvent): PrincipalState {
    switch (event.type) {
      case 'PrincipalRegistered':
        return { status: 'active', principalId: event.data.principalId };
      case 'PrincipalRevoked':
        return state.status === 'none' ? state : { ...state, status: 'revoked' };
      default:
        return assertNever(event);
    }
  },
};
