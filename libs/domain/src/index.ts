export * from './referrals/referral.types';
