import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type Needs, type ProvisionId, type ReferralEvent, type RiskAssessment, type RoutingPolicy } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { type CommandContext, type EventCodec, type PersonalDataVault, type ProjectionRunner } from '@spoc/platform';
import type { Clock } from '../infrastructure/clock';
import { CLOCK, CODEC, POLICY, PROJECTIONS, VAULT } from '../infrastructure/tokens';
import { decideOnReferral } from './decide-on-referral';

export class ReassessRisk {
  constructor(readonly referralId: string, readonly riskAssessment: RiskAssessment, readonly needs: Needs | null, readonly context: CommandContext) {}

  /** The caseworker's provision, when a caseworker reassesses. */
  get byProvision(): ProvisionId | undefined {
    return this.context.actor.role === 'caseworker' ? (this.context.actor.provision as ProvisionId | undefined) : undefined;
  }
}

@CommandHandler(ReassessRisk)
export class ReassessRiskHandler implements ICommandHandler<ReassessRisk, void> {
  constructor(
    @Inject(EVENT_STORE) readonly store: EventStore,
    @Inject(CODEC) readonly codec: EventCodec,
    @Inject(VAULT) readonly vault: PersonalDataVault,
    @Inject(POLICY) private readonly policy: RoutingPolicy,
    @Inject(PROJECTIONS) readonly projections: ProjectionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(command: ReassessRisk): Promise<void> {
    const { referralId, riskAssessment, needs, context, byProvision } = command;
    await decideOnReferral(this, referralId, { type: 'ReassessRisk', data: { referralId, riskAssessment, needs, reassessedAt: this.clock().toISOString(), policy: this.policy, byProvision } }, context);
  }
}
