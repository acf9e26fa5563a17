import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { caseDecider, caseOpenedElsewhere, streams, type CaseworkerCommand, type CaseEvent, type CaseState, type RoutingPolicy } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { appendOnce, type CommandContext, type EventCodec, type PersonalDataVault, type ProjectionRunner } from '@spoc/platform';
import { CODEC, POLICY, PROJECTIONS, VAULT } from '../infrastructure/tokens';
import { loadStream } from '../shared/load-stream';
import { subjectKeyOf } from '../shared/subject-key';

/** A caseworker's action on a case: claim, contact attempt, decline, transfer or close. */
export class ActOnCase {
  constructor(readonly command: CaseworkerCommand, readonly context: CommandContext) {}
}

/**
 * Loads the case, decides, and appends at the revision it read: of two caseworkers claiming at once, one appends
 * and the other gets a wrong-expected-version (409). A transfer also opens the case at the target provision; the
 * router opens it too if this process dies in between (same event id, so only one lands).
 */
@CommandHandler(ActOnCase)
export class ActOnCaseHandler implements ICommandHandler<ActOnCase, CaseState> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CODEC) private readonly codec: EventCodec,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
    @Inject(POLICY) private readonly policy: RoutingPolicy,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
  ) {}

  async execute({ command, context }: ActOnCase): Promise<CaseState> {
    const streamId = streams.case(command.data.caseId);
    const { events, revision } = await loadStream<CaseEvent>(this.store, this.codec, streamId);
    const state = events.reduce(caseDecider.evolve, caseDecider.initialState());
    const decided = caseDecider.decide(command, state);
    if (state.status === 'none' || revision === null) return state; // decide has thrown not-found already
    const subject = await subjectKeyOf(this.store, this.vault, state.opened.referralId);
    let { position } = await this.store.append(streamId, this.codec.encode(decided, context, subject), revision);
    if (command.type === 'TransferCase') {
      const opened = caseOpenedElsewhere(state.opened, { ...command.data, kind: 'transfer' }, this.policy);
      const target = { streamId: streams.case(command.data.toCaseId), expected: 'no-stream' as const, idName: `opened\n${command.data.toCaseId}` };
      position = (await appendOnce(this.store, this.codec, target, opened, context)) ?? position;
    }
    await this.projections.waitFor(position, 2000);
    return decided.reduce(caseDecider.evolve, state);
  }
}
