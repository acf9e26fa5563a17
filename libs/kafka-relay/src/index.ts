export * from './cloud-event';
export type { CasePublisher } from './case-publisher';
export { KafkaRelay, type KafkaRelayOptions } from './kafka-relay';
