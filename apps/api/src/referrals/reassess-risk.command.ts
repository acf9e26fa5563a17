import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError, referralDecider, streams, type ReferralEvent, type RiskAssessment, type RoutingPolicy } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { sealingKeyId, type CommandContext, type EventCodec, type PersonalDataVault, type ProjectionRunner } from '@spoc/platform';
import { CODEC, POLICY, PROJECTIONS, VAULT } from '../infrastructure/tokens';
import { loadStream } from '../shared/load-stream';

export class ReassessRisk {
  constructor(readonly referralId: string, readonly riskAssessment: RiskAssessment, readonly context: CommandContext) {}
}

@CommandHandler(ReassessRisk)
export class ReassessRiskHandler implements ICommandHandler<ReassessRisk, void> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CODEC) private readonly codec: EventCodec,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
    @Inject(POLICY) private readonly policy: RoutingPolicy,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
  ) {}

  async execute({ referralId, riskAssessment, context }: ReassessRisk): Promise<void> {
    const streamId = streams.referral(referralId);
    const { events, revision } = await loadStream<ReferralEvent>(this.store, this.codec, streamId);
    const state = events.reduce(referralDecider.evolve, referralDecider.initialState());
    const decided = referralDecider.decide(
      { type: 'ReassessRisk', data: { referralId, riskAssessment, reassessedAt: new Date().toISOString(), policy: this.policy } },
      state,
    );
    const subject = await this.subjectKey(streamId);
    // Appended at the revision it was decided on: a concurrent change makes this a 409 to retry, never a lost update.
    const result = await this.store.append(streamId, this.codec.encode(decided, context, subject), revision ?? 'no-stream');
    await this.projections.waitFor(result.position, 2000);
  }

  /** A reassessment is sealed with the referral's own key, so erasing the referral erases it too. */
  private async subjectKey(streamId: string): Promise<{ keyId: string; key: Buffer }> {
    for await (const first of this.store.readStream(streamId, { maxCount: 1 })) {
      const keyId = sealingKeyId(first);
      const key = keyId ? this.vault.keyFor(keyId) : null;
      if (keyId && key) return { keyId, key };
    }
    throw new DomainError('invalid-transition', "this referral's personal data has been erased");
  }
}
