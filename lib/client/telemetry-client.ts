/**
 * `TelemetryClient`: the application-side producer of contract records.
 *
 * ```ts
 * const telemetry = new TelemetryClient({ streamName: process.env.TELEMETRY_STREAM! });
 * telemetry.record({ event_type: 'request', ... });   // validates, buffers, returns at once
 * await telemetry.close();                            // on shutdown: sends what is buffered
 * ```
 *
 * `record()` never throws, never awaits, and never logs: an invalid event is counted and
 * reported through `onDrop` with the contract's key paths (never values). Valid events
 * get `event_id`, `timestamp` and `schema_version` when absent, lose unknown fields
 * (the contract is an allowlist), and are packed many per Firehose record.
 */
import { randomUUID } from 'node:crypto';
import { SCHEMA_VERSION, isJsonObject, parseTelemetryEvent, type TelemetryEvent } from '../core/contract';
import { toLine } from './packing';
import { DeliveryPipeline, type ClientStats, type DeliveryOptions, type DropReason } from './pipeline';

/** Fields `record()` fills when they are absent. */
export type FilledFields = 'event_id' | 'timestamp' | 'schema_version';

/** A contract record as `record()` takes it: `event_id`, `timestamp` and `schema_version` may be left out. */
export type TelemetryEventInput = TelemetryEvent extends infer E
  ? E extends TelemetryEvent
    ? Omit<E, FilledFields> & Partial<Pick<E, FilledFields>>
    : never
  : never;

export interface TelemetryClientOptions extends DeliveryOptions<DropReason> {
  /**
   * The clock for filled-in timestamps, in epoch milliseconds.
   * @default Date.now
   */
  readonly now?: () => number;
}

export class TelemetryClient {
  private readonly pipeline: DeliveryPipeline;
  private readonly now: () => number;

  constructor(opts: TelemetryClientOptions) {
    this.pipeline = new DeliveryPipeline(opts);
    this.now = opts.now ?? Date.now;
  }

  /** The Firehose stream the events go to. */
  get streamName(): string {
    return this.pipeline.streamName;
  }

  /**
   * Validates, completes and buffers one event; returns at once. True when the event
   * was buffered; false when it was invalid or dropped (counted, and reported to
   * `onDrop`). Never throws, whatever it is given.
   */
  record(event: TelemetryEventInput): boolean {
    try {
      if (this.pipeline.closed) return this.pipeline.dropRecorded('closed', 'the client is closed');
      const parsed = parseTelemetryEvent(this.complete(event));
      if (!parsed.ok) return this.pipeline.rejectInvalid(`${parsed.reason}: ${parsed.detail}`);
      return this.pipeline.enqueue(toLine(parsed.value), parsed.value.event_id);
    } catch (e) {
      // A getter or proxy that throws, or anything else unreadable: invalid, never thrown.
      return this.pipeline.rejectInvalid(`unreadable: ${e instanceof Error ? e.name : typeof e} while reading the event`);
    }
  }

  /** Sends everything buffered; resolves when it is sent or dropped (retries included). Never rejects. */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  /** Flushes, then stops the timer; later `record()` calls are dropped as `closed`. Idempotent; never rejects. */
  close(): Promise<void> {
    return this.pipeline.close();
  }

  /** Counters: recorded, invalid, sent, retried, dropped (and by reason), buffered, records, bytes, requests. */
  stats(): ClientStats<DropReason> {
    return this.pipeline.stats();
  }

  /** A shallow copy with `event_id`, `timestamp` and `schema_version` filled when absent. */
  private complete(event: unknown): unknown {
    if (!isJsonObject(event)) return event;
    // Spread defines own properties: a `__proto__` key stays data, never a prototype.
    const copy: Record<string, unknown> = { ...event };
    if (copy.event_id === undefined) copy.event_id = randomUUID();
    if (copy.timestamp === undefined) copy.timestamp = new Date(this.now()).toISOString();
    if (copy.schema_version === undefined) copy.schema_version = SCHEMA_VERSION;
    return copy;
  }
}
