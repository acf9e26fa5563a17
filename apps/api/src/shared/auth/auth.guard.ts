import { ForbiddenException, HttpException, HttpStatus, Inject, Injectable, ServiceUnavailableException, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { timingSafeEqual } from 'node:crypto';
import type { PrincipalRole } from '@spoc/domain';
import { APP_CONFIG, hashToken, type AppConfig } from '../../config';
import type { ProjectionRunner } from '@spoc/platform';
import { PROJECTIONS } from '../../infrastructure/tokens';
import { PrincipalsProjection } from '../../principals/principals.projection';
import { ALLOWED_ROLES, PUBLIC_ROUTE } from './access.decorators';
import type { Principal } from './principal';
import { RateLimiter } from './rate-limit';

const BOOTSTRAP_ADMIN: Principal = { id: 'bootstrap-admin', role: 'admin', agency: null, provision: null };
/**
 * How long after the service starts the bootstrap token is taken: enough to register the first principals, and not
 * for as long as it stays in the environment. Restarting with it set opens the window again (the way back in when
 * every admin token is lost; also why it must be unset once the first admin exists). Measured on the monotonic
 * clock, not the service's (a simulated one in the demo).
 */
export const BOOTSTRAP_WINDOW_MINUTES = 60;

/**
 * Every route is authenticated unless marked public, and refused unless it names the roles it allows.
 * Tokens are compared by their SHA-256; the token itself is never stored or logged.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  /** Each token's own bucket (SPOC_RATE_LIMIT a second, ten seconds' worth at once). */
  private readonly perToken: RateLimiter;
  /** Requests without a valid token, by the address they come from: a tenth of that, so guessing is slow too. */
  private readonly perAddress: RateLimiter;
  private readonly bootstrapUntil = performance.now() + BOOTSTRAP_WINDOW_MINUTES * 60_000;
  /** The same moment on the wall clock, for the start-up log (the window opens when the guard is made, before catching up). */
  readonly bootstrapOpenUntil = new Date(Date.now() + BOOTSTRAP_WINDOW_MINUTES * 60_000);

  constructor(
    private readonly reflector: Reflector,
    private readonly principals: PrincipalsProjection,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
  ) {
    const rate = config.rateLimitPerSecond;
    this.perToken = new RateLimiter(rate, rate * 10);
    this.perAddress = new RateLimiter(rate > 0 ? Math.max(1, rate / 10) : 0, rate);
  }

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | undefined>; ip?: string; principal?: Principal }>();
    const principal = this.authenticate(request.headers.authorization);
    const wait = principal ? this.perToken.take(`principal:${principal.id}`) : this.perAddress.take(`address:${request.ip ?? ''}`);
    if (wait !== null) {
      http.getResponse<{ header(name: string, value: string): unknown }>().header('retry-after', String(wait));
      throw new HttpException('too many requests: retry after the time in Retry-After', HttpStatus.TOO_MANY_REQUESTS);
    }
    if (!principal) throw new UnauthorizedException('a valid bearer token is required');
    request.principal = principal;
    const allowed = this.reflector.getAllAndOverride<PrincipalRole[] | undefined>(ALLOWED_ROLES, targets);
    if (!allowed || !allowed.includes(principal.role)) throw new ForbiddenException('this role may not use this route');
    return true;
  }

  private authenticate(header: string | undefined): Principal | null {
    // The scheme's name is case-insensitive (RFC 7235), so `bearer` is as good as `Bearer`.
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/i.exec(header ?? '');
    if (!match) return null;
    const tokenHash = hashToken(match[1]);
    const bootstrap = this.config.bootstrapAdminTokenHash;
    if (bootstrap && timingSafeEqual(Buffer.from(bootstrap, 'hex'), Buffer.from(tokenHash, 'hex'))) return performance.now() < this.bootstrapUntil ? BOOTSTRAP_ADMIN : null;
    // Stopped read models would still take a token revoked since: none is taken until they run again (health says why).
    if (this.projections.failed) throw new ServiceUnavailableException('tokens cannot be checked while the read models are stopped: see /health');
    return this.principals.byTokenHash(tokenHash);
  }
}
