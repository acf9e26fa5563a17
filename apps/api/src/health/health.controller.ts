import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import type { KafkaRelay } from '@spoc/kafka-relay';
import type { PersonalDataVault, ProjectionRunner } from '@spoc/platform';
import type { Router } from '../../../router/src/router';
import { KAFKA_RELAY, PROJECTIONS, ROUTER, VAULT } from '../infrastructure/tokens';
import { ReferralStatusProjection } from '../referrals/referral-status.projection';
import { Public } from '../shared/auth/access.decorators';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
    @Inject(KAFKA_RELAY) private readonly relay: KafkaRelay | null,
    @Inject(ROUTER) private readonly router: Router | null,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
    private readonly referrals: ReferralStatusProjection,
  ) {}

  /**
   * "ok" when the event store answers and the read models and the router are still being fed (a stopped projection
   * is stale data; a stopped router routes nobody).
   * A relay that is retrying is still ok: Kafka is downstream of the log, so intake goes on and the relay catches up;
   * one that stopped is not, since providers would wait for ever. Only positions and counts, never event data.
   */
  @Get('health')
  @Public()
  async health() {
    try {
      await this.store.headPosition();
    } catch {
      throw new ServiceUnavailableException('the event store does not answer');
    }
    if (this.projections.failed) throw new ServiceUnavailableException('the read models stopped: see the log');
    if (this.projections.reconnecting) throw new ServiceUnavailableException('the read models lost the log and are reading it again');
    // A stopped router routes nobody; one that is retrying (the store refusing writes for a while) catches up.
    if (this.router?.failed) throw new ServiceUnavailableException('the router stopped: see the log');
    if (this.relay?.failed) throw new ServiceUnavailableException('the Kafka relay stopped: see the log');
    // A count only (the list is an auditor's): referrals the router could not decide wait for a person.
    const flagged = this.referrals.flaggedForRoutingByHandCount();
    // Keys the log names that the key file never held: people nobody can read or reach, though not erased.
    const keysMissing = this.vault.missingKeyCount;
    return {
      status: 'ok',
      ...(flagged > 0 ? { referralsFlaggedForRoutingByHand: flagged } : {}),
      ...(keysMissing > 0 ? { personalDataKeysMissing: keysMissing } : {}),
      ...(this.router ? { router: this.routerHealth(this.router) } : {}),
      ...(this.relay ? { kafkaRelay: { checkpoint: this.relay.checkpoint?.toString() ?? null, retrying: this.relay.retrying } } : {}),
    };
  }

  /** Where it has read to; and, if the log differs from the digests anchored apart from it, from where (positions only). */
  private routerHealth(router: Router) {
    const mismatch = router.logAnchorMismatch;
    return {
      checkpoint: router.checkpoint?.toString() ?? null,
      retrying: router.retrying,
      ...(mismatch ? { logDiffersFromAnchors: { position: mismatch.position.toString(), anchoredAt: mismatch.anchoredAt, reason: mismatch.reason } } : {}),
    };
  }
}
