import { referralDecider, streams, type ReferralCommand, type ReferralEvent } from '@spoc/domain';
import type { EventStore } from '@spoc/event-store';
import type { CommandContext, EventCodec, PersonalDataVault, ProjectionRunner } from '@spoc/platform';
import { loadStream } from '../shared/load-stream';
import { subjectKeyOf } from '../shared/subject-key';

export interface ReferralWriteDeps {
  store: EventStore;
  codec: EventCodec;
  vault: PersonalDataVault;
  projections: ProjectionRunner;
}

/**
 * A command on a referral already received: load its stream, decide, seal with the referral's own key and append
 * at the revision it was decided on (a concurrent change makes this a 409 to retry, never a lost update); then
 * wait until the read models show it.
 */
export async function decideOnReferral(deps: ReferralWriteDeps, referralId: string, command: ReferralCommand, context: CommandContext): Promise<void> {
  const streamId = streams.referral(referralId);
  const { events, revision } = await loadStream<ReferralEvent>(deps.store, deps.codec, streamId);
  const decided = referralDecider.decide(command, events.reduce(referralDecider.evolve, referralDecider.initialState()));
  const subject = await subjectKeyOf(deps.store, deps.vault, referralId);
  const result = await deps.store.append(streamId, deps.codec.encode(decided, context, subject), revision ?? 'no-stream');
  await deps.projections.waitFor(result.position, 2000);
}
