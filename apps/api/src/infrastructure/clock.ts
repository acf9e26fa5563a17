/**
 * The time the service stamps on what it records (receivedAt, routedAt, attemptedAt...). Bound once, as `CLOCK`,
 * so that the demo-data generator can replay a year in minutes through the real command path; production and
 * every test that does not say otherwise run on the system clock. Metadata (`occurredAt`) and the store's own
 * `recordedAt` stay on the system clock: they say when the write really happened.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
