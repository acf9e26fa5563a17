import { randomUUID } from 'node:crypto';
import type { Actor, NewEvent, RecordedEvent } from '@spoc/event-store';
import { EVENT_SCHEMAS, PERSONAL_FIELDS, type StoredEventType } from '@spoc/domain';
import { isSealed, type PersonalDataVault } from './personal-data-vault';

export interface DomainEvent {
  type: string;
  data: object;
}

/** Who and why, set at the edge (the HTTP request, the subscription) and copied onto every event appended. */
export interface CommandContext {
  actor: Actor;
  correlationId: string;
  causationId: string | null;
}

/** A stored event with its personal fields opened (or null where they were erased). */
export interface DecodedEvent<Data = Record<string, unknown>> extends RecordedEvent<Data> {
  erased: boolean;
}

/**
 * Maps domain events to stored ones and back: the stable type and schema version from the registry, the
 * metadata from the context, and the personal fields sealed with the subject's key.
 */
export class EventCodec {
  constructor(private readonly vault: PersonalDataVault) {}

  encode(events: DomainEvent[], context: CommandContext, subject?: { keyId: string; key: Buffer }): NewEvent[] {
    const occurredAt = new Date().toISOString();
    return events.map((event) => {
      const schemaVersion = EVENT_SCHEMAS[event.type as StoredEventType];
      if (!schemaVersion) throw new Error(`event type ${event.type} is not registered`);
      const personal = PERSONAL_FIELDS[event.type as StoredEventType] ?? [];
      let data = event.data as Record<string, unknown>;
      if (personal.length > 0) {
        if (!subject) throw new Error(`event type ${event.type} carries personal data and needs a subject key`);
        data = { ...data };
        // A field the event leaves out has nothing to seal (JSON has no undefined to seal either).
        for (const field of personal) if (data[field] !== undefined) data[field] = this.vault.seal(subject.key, subject.keyId, data[field]);
      }
      return {
        id: randomUUID(),
        type: event.type,
        schemaVersion,
        data,
        metadata: { ...context, occurredAt },
      };
    });
  }

  decode<Data = Record<string, unknown>>(event: RecordedEvent): DecodedEvent<Data> {
    const personal = PERSONAL_FIELDS[event.type as StoredEventType];
    if (!personal) return { ...(event as RecordedEvent<Data>), erased: false };
    const data = { ...(event.data as Record<string, unknown>) };
    let erased = false;
    for (const field of personal) {
      const value = data[field];
      if (!isSealed(value)) continue;
      data[field] = this.vault.open(value);
      if (data[field] === null) erased = true;
    }
    return { ...(event as RecordedEvent), data: data as Data, erased };
  }
}

/** The id of the key that sealed this event's personal data, if it has any. */
export function sealingKeyId(event: { type: string; data: unknown }): string | null {
  for (const field of PERSONAL_FIELDS[event.type as StoredEventType] ?? []) {
    const value = (event.data as Record<string, unknown>)[field];
    if (isSealed(value)) return value.keyId;
  }
  return null;
}

/** The event with its personal fields set to null, unopened: for a reader no longer entitled to them. */
export function withoutPersonalData(event: RecordedEvent): RecordedEvent {
  const personal = PERSONAL_FIELDS[event.type as StoredEventType];
  if (!personal) return event;
  const data = { ...(event.data as Record<string, unknown>) };
  for (const field of personal) if (field in data) data[field] = null;
  return { ...event, data };
}
