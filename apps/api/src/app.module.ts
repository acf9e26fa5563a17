import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import type { KafkaRelay } from '@spoc/kafka-relay';
import type { ProjectionRunner } from '@spoc/platform';
import type { AppConfig } from './config';
import { HealthController } from './health/health.controller';
import type { Clock } from './infrastructure/clock';
import { InfrastructureModule } from './infrastructure/infrastructure.module';
import { kafkaRelayProvider } from './infrastructure/kafka-relay.provider';
import { projectionsProvider, READ_MODELS } from './infrastructure/projections.provider';
import { routerProvider } from './infrastructure/router.provider';
import { KAFKA_RELAY, PROJECTIONS, ROUTER } from './infrastructure/tokens';
import type { Router } from '../../router/src/router';
import { AuditController } from './audit/audit.controller';
import { AUDIT_PROVIDERS } from './audit/audit.providers';
import { ActOnCaseHandler } from './cases/act-on-case.command';
import { CasesController } from './cases/cases.controller';
import { EncompassController } from './encompass/encompass.controller';
import { MarkEncompassSentHandler } from './encompass/mark-sent.command';
import { MaracController } from './marac/marac.controller';
import { ApiMetrics } from './metrics/api-metrics';
import { MetricsController } from './metrics/metrics.controller';
import { RegisterPrincipalHandler, RevokePrincipalHandler } from './principals/principal.commands';
import { PrincipalsController } from './principals/principals.controller';
import { QueuesController } from './queues/queues.controller';
import { ReassessRiskHandler } from './referrals/reassess-risk.command';
import { RecordConsentHandler } from './referrals/record-consent.command';
import { EraseReferralHandler } from './referrals/erase-referral.command';
import { ErasureController } from './referrals/erasure.controller';
import { ReceiveReferralHandler } from './referrals/receive-referral.command';
import { ReferralsController } from './referrals/referrals.controller';
import { PerformanceQuery } from './reports/performance.query';
import { ReportsController } from './reports/reports.controller';
import { AuthGuard } from './shared/auth/auth.guard';
import { ProblemFilter } from './shared/http/problem.filter';

@Module({})
export class AppModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  static forRoot(config: AppConfig, clock?: Clock): DynamicModule {
    return {
      module: AppModule,
      imports: [InfrastructureModule.forRoot(config, clock), CqrsModule.forRoot()],
      controllers: [HealthController, MetricsController, PrincipalsController, ReferralsController, ErasureController, MaracController, EncompassController, QueuesController, CasesController, AuditController, ReportsController],
      providers: [
        ...READ_MODELS,
        PerformanceQuery,
        projectionsProvider,
        routerProvider,
        kafkaRelayProvider,
        ApiMetrics,
        MarkEncompassSentHandler,
        RegisterPrincipalHandler,
        RevokePrincipalHandler,
        ReceiveReferralHandler,
        ReassessRiskHandler,
        RecordConsentHandler,
        EraseReferralHandler,
        ActOnCaseHandler,
        ...AUDIT_PROVIDERS,
        AuthGuard,
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }

  constructor(
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
    @Inject(ROUTER) private readonly router: Router | null,
    @Inject(KAFKA_RELAY) private readonly relay: KafkaRelay | null,
  ) {}

  /** The read models catch up with the log before the first request is served (tokens included). */
  async onApplicationBootstrap(): Promise<void> {
    this.projections.start();
    await this.projections.catchUp();
    this.router?.start();
    this.relay?.start();
  }

  // Before any module's onApplicationShutdown: the store (InfrastructureModule) must outlive its readers.
  async beforeApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
    await this.router?.stop();
    await this.projections.stop();
  }
}
