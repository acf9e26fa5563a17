import { Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import type { ProjectionRunner } from '@spoc/platform';
import type { AppConfig } from './config';
import { HealthController } from './health/health.controller';
import { InfrastructureModule } from './infrastructure/infrastructure.module';
import { projectionsProvider, READ_MODELS } from './infrastructure/projections.provider';
import { routerProvider } from './infrastructure/router.provider';
import { PROJECTIONS, ROUTER } from './infrastructure/tokens';
import type { Router } from '../../router/src/router';
import { EncompassController } from './encompass/encompass.controller';
import { MarkEncompassSentHandler } from './encompass/mark-sent.command';
import { MaracController } from './marac/marac.controller';
import { RegisterPrincipalHandler, RevokePrincipalHandler } from './principals/principal.commands';
import { PrincipalsController } from './principals/principals.controller';
import { ReassessRiskHandler } from './referrals/reassess-risk.command';
import { ReceiveReferralHandler } from './referrals/receive-referral.command';
import { ReferralsController } from './referrals/referrals.controller';
import { AuthGuard } from './shared/auth/auth.guard';
import { ProblemFilter } from './shared/http/problem.filter';

@Module({})
export class AppModule implements OnApplicationBootstrap, OnApplicationShutdown {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfrastructureModule.forRoot(config), CqrsModule.forRoot()],
      controllers: [HealthController, PrincipalsController, ReferralsController, MaracController, EncompassController],
      providers: [
        ...READ_MODELS,
        projectionsProvider,
        routerProvider,
        MarkEncompassSentHandler,
        RegisterPrincipalHandler,
        RevokePrincipalHandler,
        ReceiveReferralHandler,
        ReassessRiskHandler,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }

  constructor(
    @Inject(PROJECTIONS) private readonly projections: ProjectionRunner,
    @Inject(ROUTER) private readonly router: Router | null,
  ) {}

  /** The read models catch up with the log before the first request is served (tokens included). */
  async onApplicationBootstrap(): Promise<void> {
    this.projections.start();
    await this.projections.catchUp();
    this.router?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.router?.stop();
    await this.projections.stop();
  }
}
