import { PROVISION_IDS } from '@spoc/domain';
import { checkpointAt, logReplaced, type EventStore, type LogCheckpoint, type RecordedEvent, type Subscription } from '@spoc/event-store';
import type { CasePublisher } from './case-publisher';
import { caseIdOf, learnCase, toCaseMessage, topicFor, type CaseMessage, type KnownCase } from './cloud-event';
import { KafkajsPublisher, type KafkajsPublisherOptions } from './kafkajs-publisher';
import { RelayState } from './relay-state';

/** What a paused loop waits for: the sender for events, the reader for room in the queue, a back-off for its time. */
type Pause = 'events' | 'room' | 'backoff';

export interface KafkaRelayOptions extends KafkajsPublisherOptions {
  /** Replaces the kafkajs adapter (another client, or a test double); `brokers` is then unused. */
  publisher?: CasePublisher;
  /** Provisions whose topics are created at start; a case of any other provision gets its topic when it first appears. */
  provisions?: readonly string[];
  /** Most events read from the log per request to the broker. */
  batchSize?: number;
  /** Waits between attempts while the broker is unreachable: doubling from `initialMs` up to `maxMs`. */
  retry?: { initialMs?: number; maxMs?: number };
  /** One line per failed attempt (error kind and checkpoint, never event data); default stderr. */
  log?: (line: string) => void;
}

/**
 * Publishes every case event of the log to Kafka (topic per provision, key = case id, CloudEvents headers) and
 * advances its checkpoint only after the broker has acknowledged with acks=all. At-least-once: after a crash it
 * re-sends from the checkpoint, so a provider drops duplicates by `ce_id`. It only reads the log, so a broker that
 * is down delays the topics but never intake; it waits, retries and resumes where it stopped.
 *
 * A relay runs once: `start()`, then `stop()` at shutdown, which also closes its state file.
 */
export class KafkaRelay {
  private readonly state: RelayState;
  private readonly publisher: CasePublisher;
  private readonly provisionTopics: string[];
  private readonly topicsReady = new Set<string>();
  private readonly batchSize: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly log: (line: string) => void;
  /** The last event the broker acknowledged. */
  private acknowledged: LogCheckpoint | null;
  private subscription: Subscription | null = null;
  private running: Promise<unknown> | null = null;
  private queue: RecordedEvent[] = [];
  private stopping = false;
  private failure: unknown = null;
  private failedAttempts = 0;
  private waiters: Array<{ position: bigint; resolve: () => void }> = [];
  private readonly paused: Record<Pause, Set<() => void>> = { events: new Set(), room: new Set(), backoff: new Set() };

  constructor(
    private readonly store: EventStore,
    brokers: readonly string[],
    stateDbFile: string,
    options: KafkaRelayOptions = {},
  ) {
    this.state = new RelayState(stateDbFile);
    this.acknowledged = this.state.checkpoint();
    this.publisher = options.publisher ?? new KafkajsPublisher(brokers, options);
    this.provisionTopics = (options.provisions ?? PROVISION_IDS).map(topicFor);
    this.batchSize = options.batchSize ?? 500;
    this.retryInitialMs = options.retry?.initialMs ?? 250;
    this.retryMaxMs = options.retry?.maxMs ?? 5000;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** The last log position the broker acknowledged (everything up to it is published), or null before any. */
  get checkpoint(): bigint | null {
    return this.acknowledged?.position ?? null;
  }

  /** Set when the relay stopped on an event it cannot map; a restart (after a fix) retries that event. */
  get failed(): unknown {
    return this.failure;
  }

  /** How many attempts in a row have failed (0 while the broker answers): for health and tests. */
  get retrying(): number {
    return this.failedAttempts;
  }

  start(): void {
    if (this.running) return;
    const guard = (loop: Promise<void>) => loop.catch((error: unknown) => this.fail(error));
    this.running = guard(
      (async () => {
        await this.alignWithLog();
        if (this.stopping) return;
        // Unfiltered on purpose: the checkpoint must move past events of other streams too, or it would lag the log.
        const subscription = this.store.subscribeToAll({ fromPosition: this.acknowledged?.position });
        this.subscription = subscription;
        await Promise.all([guard(this.read(subscription)), guard(this.send())]);
      })(),
    );
  }

  /**
   * A log that is not the one the relay read (restored from a backup: shorter than the checkpoint, or grown again
   * with other events at its positions): events appended from now on would be skipped up to the old checkpoint.
   * Which of this log's events were published is not known (some may have been appended since the restore, before
   * the relay started), so it sends the log again from the start: providers drop what they already have by `ce_id`.
   */
  private async alignWithLog(): Promise<void> {
    const replaced = await logReplaced(this.store, this.acknowledged);
    if (replaced === null) return;
    this.log(`kafka relay: ${replaced} (was the log restored?); sending the log again from the start`);
    this.state.rewind();
    this.acknowledged = null;
  }

  /** Resolves true once everything up to `position` is acknowledged by the broker; false on timeout. */
  waitFor(position: bigint, timeoutMs = 5000): Promise<boolean> {
    if (this.acknowledged && this.acknowledged.position >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { position, resolve: () => (clearTimeout(timer), resolve(true)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeAll();
    await this.subscription?.close();
    await this.running;
    await this.publisher.close();
    this.state.close();
  }

  /** Pulls the log into the queue, pausing while the sender is a few batches behind. */
  private async read(subscription: Subscription): Promise<void> {
    for await (const event of subscription) {
      if (this.stopping || this.failure) return;
      this.queue.push(event);
      this.wake('events');
      while (this.queue.length >= this.batchSize * 4 && !this.stopping && !this.failure) await this.pause('room');
    }
    // Ended without being stopped (a dropped connection to the server): providers would wait for ever unseen.
    if (!this.stopping) throw new Error('the subscription to the log ended');
  }

  private async send(): Promise<void> {
    if (!(await this.untilDone(() => this.publisher.ensureTopics(this.provisionTopics)))) return;
    this.provisionTopics.forEach((topic) => this.topicsReady.add(topic));
    while (!this.stopping && !this.failure) {
      if (this.queue.length === 0) {
        await this.pause('events');
        continue;
      }
      const batch = this.queue.splice(0, this.batchSize);
      this.wake('room');
      if (!(await this.deliver(batch))) return;
    }
  }

  /** Sends one batch until the broker acknowledges it, then moves the checkpoint past it. False if stopped first. */
  private async deliver(batch: RecordedEvent[]): Promise<boolean> {
    const learned = new Map<string, KnownCase>();
    const messages: CaseMessage[] = [];
    for (const event of batch) {
      const caseId = caseIdOf(event.streamId);
      if (caseId === null) continue;
      const opened = learnCase(event);
      if (opened) learned.set(caseId, opened);
      const known = learned.get(caseId) ?? this.state.knownCase(caseId);
      if (known?.held) continue; // the provision may not know of it: the victim has not consented
      messages.push(toCaseMessage(event, known));
    }
    const newTopics = [...new Set(messages.map((message) => message.topic))].filter((topic) => !this.topicsReady.has(topic));
    const sent = await this.untilDone(async () => {
      if (newTopics.length > 0) await this.publisher.ensureTopics(newTopics);
      await this.publisher.publish(messages);
    });
    if (!sent) return false;
    newTopics.forEach((topic) => this.topicsReady.add(topic));
    const last = checkpointAt(batch[batch.length - 1]);
    this.state.commit(last, learned);
    this.acknowledged = last;
    const ready = this.waiters.filter((waiter) => waiter.position <= last.position);
    this.waiters = this.waiters.filter((waiter) => waiter.position > last.position);
    ready.forEach((waiter) => waiter.resolve());
    return true;
  }

  /** Runs `attempt` until it succeeds, backing off between failures; false if the relay is stopped first. */
  private async untilDone(attempt: () => Promise<void>): Promise<boolean> {
    while (!this.stopping && !this.failure) {
      try {
        await attempt();
        this.failedAttempts = 0;
        return true;
      } catch (error) {
        if (this.stopping || this.failure) return false;
        this.failedAttempts += 1;
        const waitMs = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** Math.min(this.failedAttempts - 1, 16));
        const kind = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : 'error';
        this.log(`kafka relay: broker unreachable or refused (${kind}); attempt ${this.failedAttempts}, retrying in ${waitMs} ms from checkpoint ${this.acknowledged?.position ?? 'none'}`);
        await this.publisher.reset();
        await this.pause('backoff', waitMs);
      }
    }
    return false;
  }

  private pause(until: Pause, ms?: number): Promise<void> {
    if (this.stopping || this.failure) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        if (timer) clearTimeout(timer);
        this.paused[until].delete(wake);
        resolve();
      };
      const timer = ms === undefined ? null : setTimeout(wake, ms);
      this.paused[until].add(wake);
    });
  }

  private wake(who: Pause): void {
    for (const wake of [...this.paused[who]]) wake();
  }

  private wakeAll(): void {
    this.wake('events');
    this.wake('room');
    this.wake('backoff');
  }

  /**
   * Stop rather than skip: a provider that silently missed an event would hold a wrong case. The checkpoint stays
   * before the batch that failed, so a restart retries it. Logged by kind and place only.
   */
  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error;
    this.queue = [];
    this.wakeAll();
    void this.subscription?.close();
    this.log(`kafka relay stopped after position ${this.acknowledged?.position ?? 'none'}: ${error instanceof Error ? `${error.name}: ${error.message}` : 'error'}`);
  }
}
