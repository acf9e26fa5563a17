import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../shared/auth/access.decorators';
import { ApiMetrics } from './api-metrics';
import { EXPOSITION_CONTENT_TYPE } from './metrics-registry';

@ApiTags('operations')
@Controller()
export class MetricsController {
  constructor(private readonly apiMetrics: ApiMetrics) {}

  /** Public like /health, for the scraper on the operations network; it holds no personal data and no ids. */
  @Get('metrics')
  @Public()
  @Header('Content-Type', EXPOSITION_CONTENT_TYPE)
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format', schema: { type: 'string' } })
  metrics(): Promise<string> {
    return this.apiMetrics.render();
  }
}
