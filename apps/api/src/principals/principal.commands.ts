import { Inject, ServiceUnavailableException } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomBytes, randomUUID } from 'node:crypto';
import { principalDecider, streams, type PrincipalEvent, type PrincipalRole } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import type { CommandContext, EventCodec, ProjectionRunner } from '@spoc/platform';
import { hashToken } from '../config';
import { CODEC, PROJECTIONS } from '../infrastructure/tokens';
import { loadStream } from '../shared/load-stream';

export class RegisterPrincipal {
  constructor(
    readonly input: { role: PrincipalRole; name: string; agency: string | null; provision: string | null },
    readonly context: CommandContext,
  ) {}
}

export class RevokePrincipal {
  constructor(readonly principalId: string, readonly context: CommandContext) {}
}

@CommandHandler(RegisterPrincipal)
export class RegisterPrincipalHandler implements ICommandHandler<RegisterPrincipal, { id: string; token: string }> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CODEC) private readonly codec: EventCodec,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
  ) {}

  async execute({ input, context }: RegisterPrincipal): Promise<{ id: string; token: string }> {
    const principalId = randomUUID();
    // Shown once to the caller; only its hash is stored.
    const token = `spoc_${randomBytes(32).toString('base64url')}`;
    const events = principalDecider.decide(
      { type: 'RegisterPrincipal', data: { principalId, ...input, tokenHash: hashToken(token), at: new Date().toISOString() } },
      principalDecider.initialState(),
    );
    const result = await this.store.append(streams.principal(principalId), this.codec.encode(events, context), 'no-stream');
    await this.projections.waitFor(result.position);
    return { id: principalId, token };
  }
}

@CommandHandler(RevokePrincipal)
export class RevokePrincipalHandler implements ICommandHandler<RevokePrincipal, void> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CODEC) private readonly codec: EventCodec,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
  ) {}

  async execute({ principalId, context }: RevokePrincipal): Promise<void> {
    const streamId = streams.principal(principalId);
    const { events, revision } = await loadStream<PrincipalEvent>(this.store, this.codec, streamId);
    const state = events.reduce(principalDecider.evolve, principalDecider.initialState());
    const decided = principalDecider.decide({ type: 'RevokePrincipal', data: { principalId, at: new Date().toISOString() } }, state);
    // Revoked already (a retry): still answered only once the revocation is in force here.
    const position = decided.length === 0 ? await this.store.headPosition() : (await this.store.append(streamId, this.codec.encode(decided, context), revision ?? 'no-stream')).position;
    // "Stops working at once": the 204 is sent only after the token index has taken the revocation. Should it not
    // within the wait, the caller hears so rather than a 204 for a token that still works.
    if (position !== null && !(await this.projections.waitFor(position, 5000, 'read-your-writes'))) {
      throw new ServiceUnavailableException('the revocation is recorded but not yet in force: retry in a moment');
    }
  }
}
