import type { Actor } from '@spoc/event-store';
import type { PrincipalRole } from '@spoc/domain';

/** The authenticated caller, as the guard puts it on the request. */
export interface Principal {
  id: string;
  role: PrincipalRole;
  agency: string | null;
  provision: string | null;
}

export function actorOf(principal: Principal): Actor {
  return {
    id: principal.id,
    role: principal.role,
    ...(principal.agency ? { agency: principal.agency } : {}),
    ...(principal.provision ? { provision: principal.provision } : {}),
  };
}
