/**
 * The router could not decide on a referral: something in it broke an assumption of the rules (or of the code).
 * Recorded on the referral's stream so that one such referral is flagged for the SPOC team to route by hand and
 * the router goes on with everyone else's. Kinds and event types only: an error's message may quote personal data.
 */
export interface RoutingFailed {
  type: 'RoutingFailed';
  data: { referralId: string; failedAt: string; errorKind: string; onEventType: string };
}

export const ROUTING_FAILED_FLAG = 'routing-failed';
export const ROUTING_FAILED_REASON = 'The router could not decide on this referral automatically: the SPOC team must route it by hand.';
