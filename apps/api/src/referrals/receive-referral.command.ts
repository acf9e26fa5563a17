import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError, referralDecider, streams, type ReferralEvent, type ReferralSubmission, type RoutingPolicy } from '@spoc/domain';
import { EVENT_STORE, WrongExpectedVersionError, type EventStore } from '@spoc/event-store';
import type { CommandContext, EventCodec, PersonalDataVault, ProjectionRunner } from '@spoc/platform';
import { CODEC, POLICY, PROJECTIONS, VAULT } from '../infrastructure/tokens';
import { referralIdFor } from './referral-id';

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
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CODEC) private readonly codec: EventCodec,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
    @Inject(POLICY) private readonly policy: RoutingPolicy,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
  ) {}

  async execute({ agency, submission, context }: ReceiveReferral): Promise<ReceiveReferralResult> {
    const referralId = referralIdFor(agency, submission.agencyReference);
    const streamId = streams.referral(referralId);
    const key = await this.vault.ensureKey(referralId);
    const submissionDigest = this.vault.digest(key, submission);

    const existing = await this.firstEvent(streamId);
    if (existing) return this.retried(referralId, existing, submissionDigest);

    const events = referralDecider.decide(
      { type: 'ReceiveReferral', data: { referralId, agency, submission, submissionDigest, receivedAt: new Date().toISOString(), policy: this.policy } },
      referralDecider.initialState(),
    );
    try {
      const result = await this.store.append(streamId, this.codec.encode(events, context, { keyId: referralId, key }), 'no-stream');
      // Read-your-writes: the 202 goes out once GET /v1/referrals/:id can see the referral.
      await this.projections.waitFor(result.position, 2000);
      return { referralId, created: true };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      // Another request with the same reference won the race: it is now a retry like any other.
      const winner = await this.firstEvent(streamId);
      if (!winner) throw error;
      return this.retried(referralId, winner, submissionDigest);
    }
  }

  private retried(referralId: string, first: ReferralEvent, submissionDigest: string): ReceiveReferralResult {
    if (first.type !== 'ReferralReceived' || first.data.submissionDigest !== submissionDigest) {
      throw new DomainError('conflict', 'this agency reference was already used for a different referral');
    }
    return { referralId, created: false };
  }

  private async firstEvent(streamId: string): Promise<ReferralEvent | null> {
    for await (const recorded of this.store.readStream(streamId, { maxCount: 1 })) {
      return { type: recorded.type, data: recorded.data } as ReferralEvent;
    }
    return null;
  }
}
