import { ForbiddenException, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ProjectionRunner } from '@spoc/platform';
import { hashToken, loadConfig } from '../../config';
import type { PrincipalsProjection } from '../../principals/principals.projection';
import { Allow, Public } from './access.decorators';
import { AuthGuard } from './auth.guard';
import type { Principal } from './principal';

class Routes {
  @Allow('referrer')
  referrerOnly() {}

  // Declares no roles: refused to everyone, admin included.
  undeclared() {}

  @Public()
  open() {}
}

const referrer: Principal = { id: 'p-1', role: 'referrer', agency: 'hampshire-police', provision: null };
const tokens: Record<string, Principal> = { [hashToken('spoc_referrer-token-0000000000')]: referrer };
const principals = { byTokenHash: (hash: string) => tokens[hash] ?? null } as unknown as PrincipalsProjection;
// The read models running (the e2e suite stops them: test/intake.e2e.spec.ts).
const projections = { failed: null } as unknown as ProjectionRunner;
const guard = new AuthGuard(new Reflector(), principals, loadConfig({ SPOC_BOOTSTRAP_ADMIN_TOKEN: 'bootstrap-admin-token-0000' }), projections);

function call(route: keyof Routes, authorization?: string): { allowed: boolean; principal?: Principal } {
  const request: { headers: Record<string, string | undefined>; principal?: Principal } = { headers: { authorization } };
  const context = {
    getHandler: () => Routes.prototype[route],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { allowed: guard.canActivate(context), principal: request.principal };
}

describe('the auth guard', () => {
  it('takes the bootstrap token only for the first hour after the service starts', () => {
    jest.useFakeTimers();
    try {
      const started = new AuthGuard(new Reflector(), principals, loadConfig({ SPOC_BOOTSTRAP_ADMIN_TOKEN: 'bootstrap-admin-token-0000' }), projections);
      const admin = () => (started as unknown as { authenticate(header: string): Principal | null }).authenticate('Bearer bootstrap-admin-token-0000');
      jest.advanceTimersByTime(59 * 60_000);
      expect(admin()).toMatchObject({ id: 'bootstrap-admin', role: 'admin' });
      jest.advanceTimersByTime(2 * 60_000);
      expect(admin()).toBeNull();
    } finally {
      jest.useRealTimers();
    }
  });

  it('lets a public route through without a token', () => {
    expect(call('open').allowed).toBe(true);
  });

  it('answers 401 without a token, with a malformed header, or with an unknown token', () => {
    expect(() => call('referrerOnly')).toThrow(UnauthorizedException);
    expect(() => call('referrerOnly', 'Basic abc')).toThrow(UnauthorizedException);
    expect(() => call('referrerOnly', 'Bearer spoc_unknown-token-00000000')).toThrow(UnauthorizedException);
  });

  it('puts the principal on the request when its role is allowed', () => {
    expect(call('referrerOnly', 'Bearer spoc_referrer-token-0000000000')).toEqual({ allowed: true, principal: referrer });
  });

  it('takes the scheme in any case, as RFC 7235 says', () => {
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      expect(call('referrerOnly', `${scheme} spoc_referrer-token-0000000000`)).toEqual({ allowed: true, principal: referrer });
    }
  });

  it('answers 403 to a role the route does not allow', () => {
    expect(() => call('referrerOnly', 'Bearer bootstrap-admin-token-0000')).toThrow(ForbiddenException);
  });

  it('refuses a route that declares no roles, even to an admin (default deny)', () => {
    expect(() => call('undeclared', 'Bearer bootstrap-admin-token-0000')).toThrow(ForbiddenException);
    expect(() => call('undeclared', 'Bearer spoc_referrer-token-0000000000')).toThrow(ForbiddenException);
  });
});
