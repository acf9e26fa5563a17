import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { PrincipalRole } from '@spoc/domain';
import type { Principal } from './principal';

export const ALLOWED_ROLES = 'spoc:allowed-roles';
export const PUBLIC_ROUTE = 'spoc:public';

/** The roles that may call a route. A /v1 route without it is refused to everyone (default deny). */
export const Allow = (...roles: PrincipalRole[]) => SetMetadata(ALLOWED_ROLES, roles);

/** A route that needs no token (health, metrics, the API document). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<{ principal: Principal }>().principal;
});

export const CorrelationId = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  return context.switchToHttp().getRequest<{ correlationId: string }>().correlationId;
});
