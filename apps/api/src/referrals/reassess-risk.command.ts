import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { referralDecider, streams, type ReferralEvent, type RiskAssessment, type RoutingPolicy } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import type { CommandContext, EventCodec, PersonalDataVault, ProjectionRunner } from '@spoc/platform';
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
    const key = await this.vault.ensureKey(referralId);
    // Appended at the revision it was decided on: a concurrent change makes this a 409 to retry, never a lost update.
    const result = await this.store.append(streamId, this.codec.encode(decided, context, { keyId: referralId, key }), revision ?? 'no-stream');
    await this.projections.waitFor(result.position, 2000);
  }
}
