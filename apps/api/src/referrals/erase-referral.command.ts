import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { caseDecider, DomainError, referralDecider, streams, type CaseEvent, type ErasureReason, type ReferralEvent, type ReferralRouted } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { sealingKeyId, type CommandContext, type EventCodec, type PersonalDataVault, type ProjectionRunner } from '@spoc/platform';
import type { Clock } from '../infrastructure/clock';
import { CLOCK, CODEC, PROJECTIONS, VAULT } from '../infrastructure/tokens';
import { QueueProjection } from '../queues/queue.projection';

export class EraseReferral {
  constructor(readonly referralId: string, readonly reason: ErasureReason, readonly context: CommandContext) {}
}

/**
 * Makes a referral's personal data unreadable everywhere (data-protection.md): the erasure is recorded on the
 * referral (who, when, why), then the referral's key is destroyed, which erases the submission, the contact card,
 * the checklists, the schools and every caseworker's note at once, in the log, the read models and any backup.
 * The record comes first: a crash between the two leaves the erasure recorded with the data still readable, and
 * the router (on reading the record) or erasing again finishes it; the other way round would erase with no record
 * of who did it or why.
 */
@CommandHandler(EraseReferral)
export class EraseReferralHandler implements ICommandHandler<EraseReferral, { erasedAt: string }> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CODEC) private readonly codec: EventCodec,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly cases: QueueProjection,
  ) {}

  async execute({ referralId, reason, context }: EraseReferral): Promise<{ erasedAt: string }> {
    const streamId = streams.referral(referralId);
    const recorded = [];
    for await (const event of this.store.readStream(streamId)) recorded.push(event);
    // Only the facts are needed here: the personal fields stay sealed.
    const events = recorded.map((event) => ({ type: event.type, data: event.data }) as ReferralEvent);
    const state = events.reduce(referralDecider.evolve, referralDecider.initialState());
    const keyId = recorded.length > 0 ? sealingKeyId(recorded[0]) : null;
    if (state.status === 'received' && state.erased && keyId) this.vault.destroyKey(keyId); // finishes one interrupted
    const erasedAt = this.clock().toISOString();
    const decided = referralDecider.decide({ type: 'EraseReferral', data: { referralId, reason, erasedAt } }, state);
    // A caseworker still working the person would find the details gone mid-call: the cases end first, and none may
    // be about to open.
    const opening = await this.caseAboutToOpen(referralId, events);
    if (opening) throw new DomainError('invalid-transition', `${opening}: try again in a moment`);
    const working = this.cases.casesBeingWorked(referralId);
    if (working > 0) throw new DomainError('invalid-transition', `this referral has ${working} case(s) still being worked: they are closed first`);
    const result = await this.store.append(streamId, this.codec.encode(decided, context), recorded[recorded.length - 1].revision);
    if (keyId) this.vault.destroyKey(keyId);
    await this.projections.waitFor(result.position, 2000);
    return { erasedAt };
  }

  /**
   * Why the router may be about to open a case of the referral, which the count of cases being worked cannot see
   * yet: a decision whose cases are not all in the queues, a decline not yet referred on or returned, or a transfer
   * or referral-on whose new case is not in the queues. Null when none.
   */
  private async caseAboutToOpen(referralId: string, referralEvents: ReferralEvent[]): Promise<string | null> {
    const latest = referralEvents.filter((event): event is ReferralRouted => event.type === 'ReferralRouted').pop();
    if (latest?.data.cases.some((routed) => routed.opened && !this.cases.find(routed.caseId))) return 'this referral is being routed now';
    for (const caseId of this.cases.casesOf(referralId)) {
      const events: CaseEvent[] = [];
      for await (const event of this.store.readStream(streams.case(caseId))) events.push({ type: event.type, data: event.data } as CaseEvent);
      const state = events.reduce(caseDecider.evolve, caseDecider.initialState());
      const moving = events.some((event) => (event.type === 'CaseTransferred' || event.type === 'CaseReferredOn') && !this.cases.find(event.data.toCaseId));
      if ((state.status === 'declined' && !state.declineResolved) || moving) return 'a case of this referral is being referred on or transferred now';
    }
    return null;
  }
}
