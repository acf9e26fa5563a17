import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError, streams } from '@spoc/domain';
import { EVENT_STORE, WrongExpectedVersionError, type EventStore } from '@spoc/event-store';
import type { CommandContext, EventCodec, ProjectionRunner } from '@spoc/platform';
import type { Clock } from '../infrastructure/clock';
import { CLOCK, CODEC, PROJECTIONS } from '../infrastructure/tokens';

export class MarkEncompassSent {
  constructor(readonly notificationId: string, readonly referralId: string, readonly context: CommandContext) {}
}

/** Records that a school was told. Its own stream, created once: a second "sent" is a conflict, not a second record. */
@CommandHandler(MarkEncompassSent)
export class MarkEncompassSentHandler implements ICommandHandler<MarkEncompassSent, void> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CODEC) private readonly codec: EventCodec,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ notificationId, referralId, context }: MarkEncompassSent): Promise<void> {
    const event = { type: 'EncompassNotificationSent', data: { notificationId, referralId, sentAt: this.clock().toISOString() } };
    try {
      const result = await this.store.append(streams.encompass(notificationId), this.codec.encode([event], context), 'no-stream');
      await this.projections.waitFor(result.position, 2000);
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) throw new DomainError('invalid-transition', 'this notification was already marked sent');
      throw error;
    }
  }
}
