/**
 * The delivery pipeline shared by `TelemetryClient` and `DebugCaptureSender`: a bounded
 * buffer of serialized lines, packing into records and batches, PutRecordBatch with
 * retries of what Firehose did not take, and the accounting of every event.
 *
 * Accounting: every event handed to `enqueue` (or counted with `dropRecorded`) is
 * `recorded`, and at every moment `recorded = sent + dropped + buffered`, where
 * `buffered` holds the events waiting, in flight and awaiting a retry. Events that fail
 * the contract are counted apart, as `invalid`.
 *
 * Nothing here throws into the caller, logs event content, or keeps the process alive:
 * the flush timer and the retry waits are unref'd, except while someone awaits `flush()`
 * or `close()` (so that an orderly shutdown really sends what is buffered).
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { FIREHOSE_LIMITS, billedBytes, packBatches, packRecords, type Line, type PackedRecord, type PackingLimits } from './packing';
import { backoffMs, classifyError, resolveRetry, type ResolvedRetry, type RetryOptions } from './retry';

/** Why events were not sent (the telemetry client's reasons). */
export const DROP_REASONS = [
  /** Failed the event contract (counted as `invalid`, not `dropped`). */
  'invalid',
  /** `maxBufferedEvents` or `maxBufferedBytes` reached. */
  'buffer_full',
  /** One event larger than a Firehose record (1,000 KiB). */
  'oversized',
  /** Still failing (throttled, failed records, network) when the retry bound was reached. */
  'send_failed',
  /** Firehose answered an error that retrying cannot fix (unknown stream, access denied, invalid argument). */
  'rejected',
  /** Recorded after `close()`. */
  'closed',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** What `onDrop` receives. Ids, counts and reasons only; never event content. */
export interface DropNotice<R extends string = DropReason> {
  readonly reason: R;
  /** Events affected. */
  readonly count: number;
  /** What was wrong: a contract violation's key paths, the last error code, a limit. */
  readonly detail: string;
  /** The event's id, when one event with a known id was dropped. */
  readonly eventId?: string;
}

/** Counters of a client since it was created. */
export interface ClientStats<R extends string = DropReason> {
  /** Events accepted by `record()`: valid against the contract (or recorded after close). */
  readonly recorded: number;
  /** Events that failed the contract; not part of `recorded`. */
  readonly invalid: number;
  /** Events in records Firehose acknowledged. */
  readonly sent: number;
  /** Events sent again after a failure (once per retry). */
  readonly retried: number;
  /** Events given up: the sum of `droppedByReason` minus `invalid`. */
  readonly dropped: number;
  /** Events given up, by reason (`invalid` included). */
  readonly droppedByReason: Readonly<Record<R, number>>;
  /** Events waiting, in flight or awaiting a retry. */
  readonly buffered: number;
  /** Bytes of those events. */
  readonly bufferedBytes: number;
  /** Firehose records acknowledged. */
  readonly records: number;
  /** Bytes of those records. */
  readonly bytes: number;
  /** What Firehose bills for those records (each rounded up to 5 KB). */
  readonly billedBytes: number;
  /** PutRecordBatch requests made (retries included). */
  readonly requests: number;
}

/** Options of the pipeline that both clients expose. */
export interface DeliveryOptions<R extends string = DropReason> {
  /** The Firehose stream (delivery stream name). */
  readonly streamName: string;
  /**
   * The Firehose client.
   * @default - `new FirehoseClient({ maxAttempts: 1 })`: region and credentials from the
   * standard chain; this client does the retrying, so the SDK's own retries are off.
   */
  readonly firehose?: FirehoseClient;
  /**
   * Events held at most (waiting, in flight and awaiting a retry); past it, new events
   * are dropped and counted as `buffer_full`.
   * @default 10000
   */
  readonly maxBufferedEvents?: number;
  /**
   * Bytes of serialized events held at most; past it, new events are dropped as `buffer_full`.
   * @default 33554432 (32 MiB)
   */
  readonly maxBufferedBytes?: number;
  /**
   * How often buffered events are sent. A full batch's worth (4 MiB) is sent at once.
   * @default 1000
   */
  readonly flushIntervalMs?: number;
  /**
   * PutRecordBatch requests in flight at most.
   * @default 4
   */
  readonly maxConcurrentRequests?: number;
  /** Retry policy. @default - see `RetryOptions` */
  readonly retry?: RetryOptions;
  /** Receives every drop (never event content); a handler that throws is ignored. @default - none */
  readonly onDrop?: (notice: DropNotice<R>) => void;
}

const DEFAULTS = {
  maxBufferedEvents: 10_000,
  maxBufferedBytes: 32 * 1024 * 1024,
  flushIntervalMs: 1_000,
  maxConcurrentRequests: 4,
} as const;

/** The number when it is a finite number at least `min`, else the default. */
function num(v: number | undefined, min: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? v : fallback;
}

/** A counting semaphore without timers. */
class Slots {
  private readonly waiting: (() => void)[] = [];
  constructor(private free: number) {}
  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** What one PutRecordBatch attempt left over. */
interface AttemptResult {
  readonly failed: PackedRecord[];
  readonly retryable: boolean;
  readonly code: string;
}

/**
 * One stream's buffer and sender. `X` are reasons a wrapper adds to `DropReason`
 * (e.g. the debug-capture gates).
 */
export class DeliveryPipeline<X extends string = never> {
  readonly streamName: string;
  private readonly firehose: FirehoseClient;
  private readonly ownsFirehose: boolean;
  private readonly maxBufferedEvents: number;
  private readonly maxBufferedBytes: number;
  private readonly retry: ResolvedRetry;
  private readonly limits: PackingLimits;
  private readonly onDrop: ((notice: DropNotice<DropReason | X>) => void) | undefined;
  private readonly slots: Slots;
  private readonly interval: ReturnType<typeof setInterval>;

  private pending: Line[] = [];
  private pendingBytes = 0;
  private inflightEvents = 0;
  private inflightBytes = 0;
  private drainScheduled = false;
  private readonly tasks = new Set<Promise<void>>();
  private readonly sleeping = new Set<ReturnType<typeof setTimeout>>();
  private holds = 0;
  private closing: Promise<void> | undefined;

  private readonly counts = { recorded: 0, invalid: 0, sent: 0, retried: 0, dropped: 0, records: 0, bytes: 0, billedBytes: 0, requests: 0 };
  private readonly byReason: Record<string, number>;

  constructor(opts: DeliveryOptions<DropReason | X>, extraReasons: readonly X[] = [], limits: PackingLimits = FIREHOSE_LIMITS) {
    if (typeof opts.streamName !== 'string' || opts.streamName.length === 0) {
      throw new Error('streamName is required: the name of the Firehose stream, e.g. "copilot-prod-events"');
    }
    this.streamName = opts.streamName;
    this.ownsFirehose = opts.firehose === undefined;
    this.firehose = opts.firehose ?? new FirehoseClient({ maxAttempts: 1 });
    this.maxBufferedEvents = Math.floor(num(opts.maxBufferedEvents, 1, DEFAULTS.maxBufferedEvents));
    this.maxBufferedBytes = num(opts.maxBufferedBytes, 1, DEFAULTS.maxBufferedBytes);
    this.retry = resolveRetry(opts.retry);
    this.limits = limits;
    this.onDrop = opts.onDrop;
    this.slots = new Slots(Math.floor(num(opts.maxConcurrentRequests, 1, DEFAULTS.maxConcurrentRequests)));
    this.byReason = Object.fromEntries([...DROP_REASONS, ...extraReasons].map((r) => [r, 0]));
    this.interval = setInterval(() => this.drain(), num(opts.flushIntervalMs, 1, DEFAULTS.flushIntervalMs));
    this.interval.unref();
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Events held now: waiting, in flight, awaiting a retry. */
  get buffered(): number {
    return this.pending.length + this.inflightEvents;
  }

  // ------------------------------------------------------------ intake

  /** Buffers one valid, serialized event (or drops it and says why). True when buffered. */
  enqueue(line: Line, eventId?: string): boolean {
    this.counts.recorded++;
    if (this.closed) return this.dropOne('closed', 'the client is closed', eventId);
    if (line.bytes > this.limits.maxRecordBytes) {
      return this.dropOne(
        'oversized',
        `the event is ${line.bytes} bytes; a Firehose record holds at most ${this.limits.maxRecordBytes}`,
        eventId,
      );
    }
    if (this.buffered >= this.maxBufferedEvents) {
      return this.dropOne('buffer_full', `${this.buffered} events buffered (maxBufferedEvents ${this.maxBufferedEvents})`, eventId);
    }
    if (this.pendingBytes + this.inflightBytes + line.bytes > this.maxBufferedBytes) {
      return this.dropOne(
        'buffer_full',
        `${this.pendingBytes + this.inflightBytes} bytes buffered (maxBufferedBytes ${this.maxBufferedBytes})`,
        eventId,
      );
    }
    this.pending.push(line);
    this.pendingBytes += line.bytes;
    if (
      this.pendingBytes >= this.limits.maxBatchBytes ||
      this.pending.length >= this.limits.maxBatchRecords * this.limits.maxEventsPerRecord
    ) {
      this.scheduleDrain();
    }
    return true;
  }

  /** Counts an event that was recorded but is not sent (e.g. a capture without enrolment). Returns false. */
  dropRecorded(reason: DropReason | X, detail: string, eventId?: string): false {
    this.counts.recorded++;
    return this.dropOne(reason, detail, eventId);
  }

  /** Counts an event that failed the contract. Returns false. */
  rejectInvalid(detail: string): false {
    this.counts.invalid++;
    this.byReason.invalid = (this.byReason.invalid ?? 0) + 1;
    this.notify({ reason: 'invalid', count: 1, detail });
    return false;
  }

  // ------------------------------------------------------------ lifecycle

  /**
   * Sends everything buffered now and resolves when those events are sent or dropped
   * (retries included, so at most about `retry.maxElapsedMs` plus a request timeout).
   * Never rejects.
   */
  async flush(): Promise<void> {
    const release = this.hold();
    try {
      this.drain();
      await Promise.all([...this.tasks]);
    } finally {
      release();
    }
  }

  /** Flushes, stops the timer, and (if this pipeline created it) destroys the Firehose client. Idempotent; never rejects. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.interval);
      await this.flush();
      if (this.ownsFirehose) this.firehose.destroy();
    })();
    return this.closing;
  }

  /** A snapshot of the counters. */
  stats(): ClientStats<DropReason | X> {
    return {
      ...this.counts,
      droppedByReason: { ...this.byReason } as Record<DropReason | X, number>,
      buffered: this.buffered,
      bufferedBytes: this.pendingBytes + this.inflightBytes,
    };
  }

  // ------------------------------------------------------------ sending

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    }).unref();
  }

  /** Packs everything waiting into batches and starts delivering them. */
  private drain(): void {
    if (this.pending.length === 0) return;
    const lines = this.pending;
    const lineBytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.inflightEvents += lines.length;
    this.inflightBytes += lineBytes;
    for (const batch of packBatches(packRecords(lines, this.limits), this.limits)) {
      const task = this.deliver(batch);
      this.tasks.add(task);
      void task.then(() => this.tasks.delete(task));
    }
  }

  /** Sends a batch, retrying what fails, until it is all sent or given up. Never rejects. */
  private async deliver(batch: PackedRecord[]): Promise<void> {
    const started = Date.now();
    let remaining = batch;
    try {
      for (let attempt = 1; ; attempt++) {
        const result = await this.attempt(remaining);
        remaining = result.failed;
        if (remaining.length === 0) return;
        if (!result.retryable) {
          this.settle(remaining, 'rejected', `${result.code}; not retried`);
          return;
        }
        const delay = backoffMs(attempt, this.retry);
        if (attempt >= this.retry.maxAttempts || Date.now() - started + delay > this.retry.maxElapsedMs) {
          this.settle(remaining, 'send_failed', `${result.code} after ${attempt} attempt(s)`);
          return;
        }
        this.counts.retried += remaining.reduce((n, r) => n + r.events, 0);
        await this.sleep(delay);
      }
    } catch (e) {
      // Defensive: nothing above should throw, but a bug must not lose the accounting.
      this.settle(remaining, 'send_failed', `internal error (${e instanceof Error ? e.name : typeof e})`);
    }
  }

  /** One PutRecordBatch: acknowledges what Firehose took, returns what it did not. */
  private async attempt(records: PackedRecord[]): Promise<AttemptResult> {
    await this.slots.acquire();
    try {
      this.counts.requests++;
      const out = await this.firehose.send(
        new PutRecordBatchCommand({ DeliveryStreamName: this.streamName, Records: records.map((r) => ({ Data: r.data })) }),
        { abortSignal: AbortSignal.timeout(this.retry.requestTimeoutMs) },
      );
      const responses = out.RequestResponses ?? [];
      const failed: PackedRecord[] = [];
      let code = '';
      records.forEach((r, i) => {
        const entry = responses[i];
        // A missing entry is treated as a failure: resending can only duplicate, never lose.
        if (entry === undefined || entry.ErrorCode) {
          failed.push(r);
          code ||= `${entry?.ErrorCode ?? 'MissingResponse'} (record)`;
        } else {
          this.settle([r]);
        }
      });
      return { failed, retryable: true, code };
    } catch (error) {
      const { retryable, code } = classifyError(error);
      return { failed: records, retryable, code };
    } finally {
      this.slots.release();
    }
  }

  /** Takes records out of flight: acknowledged (no reason) or dropped with a reason. */
  private settle(records: readonly PackedRecord[], reason?: DropReason | X, detail?: string): void {
    let events = 0;
    for (const r of records) {
      events += r.events;
      this.inflightEvents -= r.events;
      // A record's bytes are exactly the bytes of its lines.
      this.inflightBytes -= r.data.length;
      if (reason === undefined) {
        this.counts.records++;
        this.counts.bytes += r.data.length;
        this.counts.billedBytes += billedBytes([r.data.length]);
      }
    }
    if (reason === undefined) {
      this.counts.sent += events;
      return;
    }
    this.counts.dropped += events;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + events;
    this.notify({ reason, count: events, detail: detail ?? reason });
  }

  private dropOne(reason: DropReason | X, detail: string, eventId?: string): false {
    this.counts.dropped++;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    this.notify(eventId === undefined ? { reason, count: 1, detail } : { reason, count: 1, detail, eventId });
    return false;
  }

  private notify(notice: DropNotice<DropReason | X>): void {
    if (!this.onDrop) return;
    try {
      this.onDrop(notice);
    } catch {
      // a failing drop handler must not reach the application
    }
  }

  // ------------------------------------------------------------ timers

  /** A retry wait: unref'd unless someone awaits `flush()`. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.sleeping.delete(t);
        resolve();
      }, ms);
      if (this.holds === 0) t.unref();
      this.sleeping.add(t);
    });
  }

  /** While held, retry waits keep the process alive (an awaited flush finishes its retries). */
  private hold(): () => void {
    if (this.holds++ === 0) for (const t of this.sleeping) t.ref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds === 0) for (const t of this.sleeping) t.unref();
    };
  }
}
