import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { caseDecider, caseOpenedElsewhere, DomainError, PROVISION_IDS, streams, type CaseworkerCommand, type CaseEvent, type CaseState, type ConsentRecorded, type ReferralRouted, type ReferralType, type RoutingPolicy, type AgesAtDecision } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { appendOnce, type CommandContext, type EventCodec, type PersonalDataVault, type ProjectionRunner } from '@spoc/platform';
import { CODEC, POLICY, PROJECTIONS, VAULT } from '../infrastructure/tokens';
import { QueueProjection } from '../queues/queue.projection';
import { loadStream } from '../shared/load-stream';
import { subjectKeyOf } from '../shared/subject-key';

/** What a transfer's rules look at, beyond the case: the handler looks them up. */
type Looked = 'referralType' | 'openAt' | 'consentGiven' | 'ages' | 'policy';
type Requested = CaseworkerCommand extends infer C ? (C extends { type: 'TransferCase'; data: infer D } ? { type: 'TransferCase'; data: Omit<D, Looked> } : C) : never;

/** A caseworker's action on a case: claim, contact attempt, decline, transfer or close. */
export class ActOnCase {
  constructor(readonly command: Requested, readonly context: CommandContext) {}
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
    private readonly cases: QueueProjection,
  ) {}

  /** The latest transfer of each referral's cases in this process: the next waits for it. */
  private readonly transfers = new Map<string, Promise<unknown>>();

  async execute({ command, context }: ActOnCase): Promise<CaseState> {
    const referralId = command.type === 'TransferCase' ? this.cases.find(command.data.caseId)?.referral_id : undefined;
    if (!referralId) return this.act(command, context);
    // One at a time per referral, each checking where it has open cases once the read models have the one before:
    // two cases of one person transferred to one provision at once would otherwise both open there. (Between API
    // processes the check still runs on the read model, a few milliseconds behind.)
    const before = this.transfers.get(referralId) ?? Promise.resolve();
    const done = before.catch(() => undefined).then(async () => {
      await this.projections.waitFor((await this.store.headPosition()) ?? 0n, 2000);
      return this.act(command, context);
    });
    this.transfers.set(referralId, done);
    try {
      return await done;
    } finally {
      if (this.transfers.get(referralId) === done) this.transfers.delete(referralId);
    }
  }

  private async act(requested: Requested, context: CommandContext): Promise<CaseState> {
    const streamId = streams.case(requested.data.caseId);
    const { events, revision } = await loadStream<CaseEvent>(this.store, this.codec, streamId);
    const state = events.reduce(caseDecider.evolve, caseDecider.initialState());
    const command = state.status === 'none' ? (requested as CaseworkerCommand) : await this.withWhatRulesLookAt(requested, state.opened.referralId);
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

  private async withWhatRulesLookAt(command: Requested, referralId: string): Promise<CaseworkerCommand> {
    if (command.type !== 'TransferCase') return command;
    let referralType: ReferralType | null = null;
    let consentGiven = false;
    const ages: AgesAtDecision = { subject: null, otherParty: null };
    for await (const event of this.store.readStream(streams.referral(referralId))) {
      if (event.type === 'ReferralReceived') referralType = (event.data as { referralType: ReferralType }).referralType;
      // Whichever came last: a decision's facts, or consent recorded since (withdrawn before the router decided again,
      // or while it is down). Both say it plainly; only the notes are sealed.
      if (event.type === 'ReferralRouted') {
        const { facts } = event.data as unknown as ReferralRouted['data'];
        consentGiven = facts.consent.given;
        // The ages the latest decision routed on (the dates of birth they come from are sealed).
        ages.subject = typeof facts.subjectAgeYears === 'number' ? facts.subjectAgeYears : null;
        ages.otherParty = typeof facts.otherPartyAgeYears === 'number' ? facts.otherPartyAgeYears : null;
      }
      if (event.type === 'ConsentRecorded') consentGiven = (event.data as unknown as ConsentRecorded['data']).given;
    }
    if (!referralType) throw new DomainError('not-found', 'no such referral');
    const openAt = PROVISION_IDS.filter((provision) => this.cases.hasOpenCaseAt(referralId, provision));
    return { ...command, data: { ...command.data, referralType, openAt, consentGiven, ages, policy: this.policy } };
  }
}
