import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import type { ProjectionRunner } from '@spoc/platform';
import { PROJECTIONS } from '../infrastructure/tokens';
import { Public } from '../shared/auth/access.decorators';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
  ) {}

  /** "ok" when the event store answers and the read models are still being fed (a stopped projection is stale data). */
  @Get('health')
  @Public()
  async health() {
    try {
      await this.store.headPosition();
    } catch {
      throw new ServiceUnavailableException('the event store does not answer');
    }
    if (this.projections.failed) throw new ServiceUnavailableException('the read models stopped: see the log');
    return { status: 'ok' };
  }
}
