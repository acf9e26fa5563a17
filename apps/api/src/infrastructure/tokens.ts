/** Injection tokens for what the infrastructure module provides (ports as symbols, bound in one place). */
export const VAULT = Symbol('PersonalDataVault');
export const CODEC = Symbol('EventCodec');
export const READ_DB = Symbol('ReadModelDb');
export const POLICY = Symbol('RoutingPolicy');
export const PROJECTIONS = Symbol('ProjectionRunner');
export const ROUTER = Symbol('Router');
export const KAFKA_RELAY = Symbol('KafkaRelay');
/** What time it is (`() => Date`, see clock.ts): the system clock in production, a simulated one for demo data. */
export const CLOCK = Symbol('Clock');
