import type { ProvisionId } from '../policy/policy';
import type { RoutingFlag, RuleId } from './routing.types';

/**
 * What a rule contributes, before the outcome is put together: rules say what they want, and one place merges
 * routes, applies consent and works out due times. `ruleId` is null for facts the router flags on its own.
 */
export type Finding =
  | { kind: 'route'; ruleId: RuleId; provision: ProvisionId; needsConsent: boolean; waitlisted: boolean }
  | { kind: 'marac'; ruleId: RuleId; hasChildren: boolean }
  | { kind: 'encompass'; ruleId: RuleId; childIndex: number; school: string }
  | { kind: 'flag'; ruleId: RuleId | null; flag: RoutingFlag }
  | { kind: 'reason'; ruleId: RuleId | null; text: string };

/** A voluntary service waits for consent; the others proceed without it. */
export function route(ruleId: RuleId, provision: ProvisionId, consent: 'voluntary' | 'proceeds-without-consent', waitlisted = false): Finding {
  return { kind: 'route', ruleId, provision, needsConsent: consent === 'voluntary', waitlisted };
}

export function flag(ruleId: RuleId | null, name: RoutingFlag): Finding {
  return { kind: 'flag', ruleId, flag: name };
}

export function reason(ruleId: RuleId | null, text: string): Finding {
  return { kind: 'reason', ruleId, text };
}
