import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { Public } from '../shared/auth/access.decorators';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** "ok" when the event store answers. */
  @Get('health')
  @Public()
  async health() {
    try {
      await this.store.headPosition();
      return { status: 'ok' };
    } catch {
      throw new ServiceUnavailableException('the event store does not answer');
    }
  }
}
