import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError, referralDecider, streams, type ReferralEvent, type ReferralSubmission, type RoutingPolicy } from '@spoc/domain';
import { EVENT_STORE, WrongExpectedVersionError, type EventStore } from '@spoc/event-store';
import { sealingKeyId, type CommandContext, type EventCodec, type PersonalDataVault, type ProjectionRunner } from '@spoc/platform';
import type { Clock } from '../infrastructure/clock';
import { CLOCK, CODEC, POLICY, PROJECTIONS, VAULT } from '../infrastructure/tokens';
import { REFERRAL_ID_KEY, referralIdFor } from './referral-id';

export class ReceiveReferral {
  constructor(readonly agency: string, readonly submission: ReferralSubmission, readonly context: CommandContext) {}
}

export interface ReceiveReferralResult {
  referralId: string;
  /** False when the same agency sent the same reference and body again. */
  created: boolean;
}

@CommandHandler(ReceiveReferral)
export class ReceiveReferralHandler implements ICommandHandler<ReceiveReferral, ReceiveReferralResult> {
  private idKey: Buffer | null = null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CODEC) private readonly codec: EventCodec,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
    @Inject(POLICY) private readonly policy: RoutingPolicy,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ agency, submission, context }: ReceiveReferral): Promise<ReceiveReferralResult> {
    this.idKey ??= this.vault.namedKey(REFERRAL_ID_KEY);
    const referralId = referralIdFor(this.idKey, agency, submission.agencyReference);
    const streamId = streams.referral(referralId);
    const subject = await this.vault.newKey();
    let events: ReferralEvent[];
    try {
      const receivedAt = this.clock().toISOString();
      const submissionDigest = this.vault.digest(subject.key, submission);
      const receive = { type: 'ReceiveReferral' as const, data: { referralId, agency, submission, submissionDigest, receivedAt, policy: this.policy } };
      events = referralDecider.decide(receive, referralDecider.initialState());
    } catch (error) {
      this.vault.returnUnusedKey(subject); // refused before anything was sealed for the log
      throw error;
    }
    try {
      // Optimistic: a new referral is the common case, and "no-stream" is the duplicate check itself.
      const result = await this.store.append(streamId, this.codec.encode(events, context, subject), 'no-stream');
      // Read-your-writes: the 202 goes out once GET /v1/referrals/:id can see the referral (the queues, reports and
      // the rest follow a few milliseconds later, and the queues only after routing in any case).
      await this.projections.waitFor(result.position, 2000, 'read-your-writes');
      return { referralId, created: true };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      // Refused whole, so nothing stored names the key: the next referral may have it.
      this.vault.returnUnusedKey(subject);
      return this.retried(referralId, streamId, submission);
    }
  }

  /** The same agency and reference again: the same body is a retry (200), another body is a conflict (409). */
  private async retried(referralId: string, streamId: string, submission: ReferralSubmission): Promise<ReceiveReferralResult> {
    for await (const first of this.store.readStream(streamId, { maxCount: 1 })) {
      const keyId = sealingKeyId(first);
      const key = keyId ? this.vault.keyFor(keyId) : null;
      const stored = first.data as { submissionDigest?: string };
      if (first.type === 'ReferralReceived' && key && stored.submissionDigest === this.vault.digest(key, submission)) {
        return { referralId, created: false };
      }
      // Its key destroyed, nothing can tell a retry from another referral: the reference is spent either way.
      if (keyId && !key && this.vault.knowsKey(keyId)) throw new DomainError('conflict', 'this agency reference was used for a referral since erased: send it with a new reference');
    }
    throw new DomainError('conflict', 'this agency reference was already used for a different referral');
  }
}
