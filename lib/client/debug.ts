/**
 * `DebugCaptureSender`: sends raw-content debug captures to the debug stream, only for
 * an enrolled, unexpired cohort and only while the `debug_capture` kill switch allows it.
 *
 * ```ts
 * const captures = new DebugCaptureSender({ streamName: process.env.DEBUG_STREAM!, policy, killSwitches });
 * captures.send({ trace_id, request_id, tenant_id, cohort: 'inc_4711', reason: 'INC-4711', prompt_text });
 * ```
 *
 * The checks here mirror the ingest's (cohort named by an enrolment, the enrolment's
 * tenant and user role if it names them, `expires_at` in the future) so that a capture that ingest
 * would drop never leaves the process; ingest checks again. Every capture not sent is
 * counted with its reason. Never throws; never logs content.
 */
import { enrolmentVerdict, type EnrolmentRule, type EnrolmentVerdict } from '../core/contract/enrolment';
import type { KillSwitches } from './kill-switches';
import { parseDebugCapture, type DebugCapture } from '../core/contract';
import type { Policy } from '../core/policy/schema';
import { toLine } from './packing';
import { DeliveryPipeline, type ClientStats, type DeliveryOptions, type DropReason } from './pipeline';

/** Why a valid capture was not sent, beyond the delivery reasons. */
export const CAPTURE_GATE_REASONS = [
  /** The policy's `debug_capture.enabled` is false. */
  'disabled',
  /** No enrolment names the capture's cohort. */
  'not_enrolled',
  /** The cohort's enrolments name other tenants. */
  'tenant_mismatch',
  /** The cohort's enrolments for this tenant name other user roles (or the capture carries no user_role). */
  'role_mismatch',
  /** Every matching enrolment has expired. */
  'expired',
  /** The kill-switch client refused (`isDebugCaptureAllowed(cohort)` is false, or it failed). */
  'switch_off',
] as const;
export type CaptureGateReason = (typeof CAPTURE_GATE_REASONS)[number];
export type CaptureDropReason = DropReason | CaptureGateReason;

/** A capture as `send()` takes it: `timestamp` may be left out. */
export type DebugCaptureInput = Omit<DebugCapture, 'timestamp'> & Partial<Pick<DebugCapture, 'timestamp'>>;

/** What the gate needs of an enrolment (lib/core/contract/enrolment.ts): cohort, expiry and, when it names them, the tenant and user role. */
export type CaptureEnrolment = EnrolmentRule;

export interface DebugCaptureSenderOptions extends DeliveryOptions<CaptureDropReason> {
  /**
   * The telemetry policy: its `debug_capture` section gives `enabled` and the enrolments.
   * Pass this or `enrolments`.
   */
  readonly policy?: { readonly debug_capture: Pick<Policy['debug_capture'], 'enabled' | 'enrolments'> };
  /**
   * The enrolments, when the application ships no policy.
   * @default - the policy's `debug_capture.enrolments` (none when it is disabled)
   */
  readonly enrolments?: readonly CaptureEnrolment[];
  /**
   * The kill-switch client; when given, a capture is sent only if
   * `isDebugCaptureAllowed(cohort)` answers true.
   * @default - no switch check (the enrolment check still applies)
   */
  readonly killSwitches?: Pick<KillSwitches, 'isDebugCaptureAllowed'>;
  /**
   * The clock, in epoch milliseconds (expiry and filled-in timestamps).
   * @default Date.now
   */
  readonly now?: () => number;
}

/**
 * Whether live enrolment allows a capture of `cohort` for its tenant and user role at `now` (epoch ms):
 * the ingest's own rule (lib/contract/enrolment.ts).
 */
export function captureVerdict(
  capture: Pick<DebugCapture, 'cohort' | 'tenant_id' | 'user_role'>,
  enrolments: readonly CaptureEnrolment[],
  now: number,
): EnrolmentVerdict {
  return enrolmentVerdict(capture, enrolments, now);
}

export class DebugCaptureSender {
  private readonly pipeline: DeliveryPipeline<CaptureGateReason>;
  private readonly enabled: boolean;
  private readonly enrolments: readonly CaptureEnrolment[];
  private readonly killSwitches: Pick<KillSwitches, 'isDebugCaptureAllowed'> | undefined;
  private readonly now: () => number;

  constructor(opts: DebugCaptureSenderOptions) {
    if (!opts.policy && !opts.enrolments) {
      throw new Error(
        'DebugCaptureSender needs the policy or the enrolments (policy.debug_capture.enrolments): captures are only sent for enrolled cohorts',
      );
    }
    this.pipeline = new DeliveryPipeline(opts, CAPTURE_GATE_REASONS);
    this.enabled = opts.policy ? opts.policy.debug_capture.enabled : true;
    this.enrolments = opts.enrolments ?? opts.policy?.debug_capture.enrolments ?? [];
    this.killSwitches = opts.killSwitches;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Validates a capture against the contract, checks enrolment, expiry and the kill
   * switch, and buffers it; returns at once. True when buffered. Never throws.
   */
  send(capture: DebugCaptureInput): boolean {
    try {
      if (this.pipeline.closed) return this.pipeline.dropRecorded('closed', 'the sender is closed');
      const parsed = parseDebugCapture(this.complete(capture));
      if (!parsed.ok) return this.pipeline.rejectInvalid(`${parsed.reason}: ${parsed.detail}`);
      const c = parsed.value;
      if (!this.enabled) return this.pipeline.dropRecorded('disabled', 'debug_capture.enabled is false in the policy');
      const verdict = captureVerdict(c, this.enrolments, this.now());
      if (verdict !== 'enrolled') return this.pipeline.dropRecorded(verdict, `cohort ${c.cohort}: ${verdict.replace('_', ' ')}`);
      if (!this.switchAllows(c.cohort))
        return this.pipeline.dropRecorded('switch_off', `the debug_capture kill switch does not allow cohort ${c.cohort}`);
      return this.pipeline.enqueue(toLine(c));
    } catch (e) {
      return this.pipeline.rejectInvalid(`unreadable: ${e instanceof Error ? e.name : typeof e} while reading the capture`);
    }
  }

  /** Sends everything buffered; resolves when it is sent or dropped. Never rejects. */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  /** Flushes and stops the timer. Idempotent; never rejects. */
  close(): Promise<void> {
    return this.pipeline.close();
  }

  /** Counters, with the gate reasons among `droppedByReason`. */
  stats(): ClientStats<CaptureDropReason> {
    return this.pipeline.stats();
  }

  /** A switch client that throws counts as a refusal (fail safe). */
  private switchAllows(cohort: string): boolean {
    if (!this.killSwitches) return true;
    try {
      return this.killSwitches.isDebugCaptureAllowed(cohort) === true;
    } catch {
      return false;
    }
  }

  private complete(capture: unknown): unknown {
    if (typeof capture !== 'object' || capture === null || Array.isArray(capture)) return capture;
    const copy: Record<string, unknown> = { ...capture };
    if (copy.timestamp === undefined) copy.timestamp = new Date(this.now()).toISOString();
    return copy;
  }
}
