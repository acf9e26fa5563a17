export * from './referrals/referral.types';
export * from './referrals/referral.decider';
export * from './risk/dash';
export * from './policy/policy';
export * from './principals/principal.decider';
export * from './shared/domain-error';
export * from './events';
