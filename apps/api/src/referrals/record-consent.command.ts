import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type Consent } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import type { CommandContext, EventCodec, PersonalDataVault, ProjectionRunner } from '@spoc/platform';
import type { Clock } from '../infrastructure/clock';
import { CLOCK, CODEC, PROJECTIONS, VAULT } from '../infrastructure/tokens';
import { decideOnReferral } from './decide-on-referral';

export class RecordConsent {
  constructor(readonly referralId: string, readonly consent: Consent, readonly context: CommandContext) {}
}

/** The victim's consent, recorded later by the referrer; the router then decides the referral again. */
@CommandHandler(RecordConsent)
export class RecordConsentHandler implements ICommandHandler<RecordConsent, void> {
  constructor(
    @Inject(EVENT_STORE) readonly store: EventStore,
    @Inject(CODEC) readonly codec: EventCodec,
    @Inject(VAULT) readonly vault: PersonalDataVault,
    @Inject(PROJECTIONS) readonly projections: ProjectionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ referralId, consent, context }: RecordConsent): Promise<void> {
    await decideOnReferral(this, referralId, { type: 'RecordConsent', data: { referralId, consent, recordedAt: this.clock().toISOString() } }, context);
  }
}
