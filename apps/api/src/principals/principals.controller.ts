import { Body, Controller, Delete, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { actorOf, type Principal } from '../shared/auth/principal';
import { Allow, CorrelationId, CurrentPrincipal } from '../shared/auth/access.decorators';
import { ValidationFailed } from '../shared/http/problem.filter';
import { validateInput } from '../shared/validation';
import { RegisterPrincipal, RevokePrincipal } from './principal.commands';
import { CreatePrincipalDto } from './principal.dto';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/principals')
export class PrincipalsController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @Allow('admin')
  @HttpCode(201)
  async create(@Body() body: CreatePrincipalDto, @CurrentPrincipal() caller: Principal, @CorrelationId() correlationId: string) {
    const input = validateInput(CreatePrincipalDto, body);
    const fields = (body ?? {}) as Partial<CreatePrincipalDto>;
    const misplaced = [
      ...(fields.agency !== undefined && fields.role !== 'referrer' ? [{ field: 'agency', problem: 'only a referrer is bound to an agency' }] : []),
      ...(fields.provision !== undefined && fields.role !== 'caseworker' ? [{ field: 'provision', problem: 'only a caseworker is bound to a provision' }] : []),
    ];
    if (!input.ok || misplaced.length > 0) {
      const details = [...(input.ok ? [] : input.details), ...misplaced];
      throw new ValidationFailed(details.filter((detail, index) => details.findIndex((other) => other.field === detail.field) === index));
    }
    const { role, name, agency, provision } = input.value;
    return this.commands.execute(
      new RegisterPrincipal(
        { role, name, agency: agency ?? null, provision: provision ?? null },
        { actor: actorOf(caller), correlationId, causationId: null },
      ),
    );
  }

  @Delete(':id')
  @Allow('admin')
  @HttpCode(204)
  async revoke(
    @Param('id', new ParseUUIDPipe({ errorHttpStatusCode: 404 })) id: string,
    @CurrentPrincipal() caller: Principal,
    @CorrelationId() correlationId: string,
  ): Promise<void> {
    await this.commands.execute(new RevokePrincipal(id, { actor: actorOf(caller), correlationId, causationId: null }));
  }
}
