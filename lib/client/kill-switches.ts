/**
 * The runtime kill-switch client for applications (orchestrator, tool gateway).
 *
 * ```ts
 * const switches = new KillSwitches({ policy });   // or { switches, prefix, ttlMs }
 * await switches.ready();                          // at start-up: first read (never rejects)
 * if (!switches.isToolAllowed('create_ticket')) return refuse();
 * ```
 *
 * - One paginated `GetParametersByPath` on the prefix reads every switch per refresh.
 * - Questions are synchronous and answer from the cache. When the cache is older than
 *   the TTL (`kill_switches.cache_ttl`, the worst-case time for a flip to take effect),
 *   a question starts a background refresh and answers from what it has: the request
 *   path never waits for SSM.
 * - When SSM cannot be read, the last known state stays in force; with none, every
 *   switch is at its policy safe default (write tools off). A malformed or missing
 *   parameter puts that switch at its safe default. An expired document returns the
 *   switch to its policy `initial` state.
 * - Nothing here throws into the caller: failures go to `onError`.
 *
 * No aws-cdk-lib in this module or what it imports.
 */
import { enrolmentVerdict } from '../core/contract/enrolment';
import { SSMClient } from '@aws-sdk/client-ssm';
import { durationSeconds } from '../core/policy/durations';
import type { Enrolment, Policy } from '../core/policy/schema';
import { resolveSwitches, type ResolvedSwitch, type SwitchState } from '../core/policy/switches';
import { readAllSwitches } from '../aws/switch-store';
import { evaluateSwitch, switchPrefix, type Evaluation, type SwitchReading } from '../core/killswitch/values';

/** TTL when neither `ttlMs` nor a policy gives one (the policy's own default). */
export const DEFAULT_TTL_MS = 30_000;
/** How long one read of all switches may take before it counts as failed. */
export const DEFAULT_TIMEOUT_MS = 3_000;

/** Something the client could not do; it has already fallen back safely. */
export type KillSwitchProblem =
  /** SSM could not be read; `fallback` says what the answers now rest on. */
  | { readonly kind: 'read_failed'; readonly message: string; readonly fallback: 'last_known' | 'safe_defaults'; readonly error: unknown }
  /** A parameter holds no valid document; the switch is at its safe default. */
  | { readonly kind: 'malformed'; readonly ref: string; readonly message: string }
  /** A question about a tool or connector the policy does not declare (reported once per name). */
  | { readonly kind: 'unknown'; readonly ref: string; readonly message: string };

export interface KillSwitchesOptions {
  /**
   * The telemetry policy: gives the switches, the prefix, the TTL and the debug
   * enrolments. Pass this or `switches`.
   */
  readonly policy?: Pick<Policy, 'name' | 'environment' | 'kill_switches' | 'debug_capture' | 'sources'>;
  /**
   * The resolved switches (`resolveSwitches(policy)`), when the application ships no policy.
   * @default - resolved from `policy`
   */
  readonly switches?: readonly ResolvedSwitch[];
  /**
   * The parameter path, e.g. `/copilot/prod/kill-switches`.
   * @default - `/<name>/<environment>/kill-switches` from `policy` (required without a policy)
   */
  readonly prefix?: string;
  /**
   * The SSM client.
   * @default - `new SSMClient({})` (region and credentials from the environment)
   */
  readonly ssm?: SSMClient;
  /**
   * Cache TTL in milliseconds: the worst-case time for a flip to take effect.
   * @default - `kill_switches.cache_ttl` of the policy, else 30 s
   */
  readonly ttlMs?: number;
  /**
   * After a failed read, how long to wait before the next attempt (so that an SSM
   * outage or throttling is not met with a read per request).
   * @default - the smaller of the TTL and 5 s
   */
  readonly retryMs?: number;
  /**
   * Time limit of one read of all switches.
   * @default 3000
   */
  readonly timeoutMs?: number;
  /**
   * Debug-capture enrolments for `isDebugCaptureAllowed(cohort)`.
   * @default - the policy's `debug_capture.enrolments`, else none
   */
  readonly enrolments?: readonly Pick<Enrolment, 'cohort' | 'expires_at'>[];
  /**
   * The clock, in epoch milliseconds.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Receives every problem; a throwing handler is ignored.
   * @default - one line on console.warn
   */
  readonly onError?: (problem: KillSwitchProblem) => void;
}

/** Health of the cache, for a readiness probe or a log line. */
export interface KillSwitchStatus {
  /** When the last successful read began (epoch ms). */
  readonly loadedAt?: number;
  /** When the last failed read ended (epoch ms), if it failed after the last success. */
  readonly failedAt?: number;
  /** What answers rest on now. */
  readonly basis: 'fresh' | 'stale' | 'last_known' | 'safe_defaults';
}

export class KillSwitches {
  /** The parameter path the switches live under. */
  readonly prefix: string;
  /** Cache TTL in milliseconds. */
  readonly ttlMs: number;

  private readonly switches: ReadonlyMap<string, ResolvedSwitch>;
  private readonly ssm: SSMClient;
  private readonly retryMs: number;
  private readonly timeoutMs: number;
  private readonly enrolments: readonly Pick<Enrolment, 'cohort' | 'expires_at'>[];
  private readonly now: () => number;
  private readonly onError: (problem: KillSwitchProblem) => void;
  private readonly reportedUnknown = new Set<string>();

  private readings: ReadonlyMap<string, SwitchReading> | undefined;
  private loadedAt: number | undefined;
  private failedAt: number | undefined;
  private inflight: Promise<void> | undefined;

  constructor(opts: KillSwitchesOptions) {
    const list = opts.switches ?? (opts.policy ? resolveSwitches(opts.policy) : undefined);
    const prefix = opts.prefix ?? (opts.policy ? switchPrefix(opts.policy) : undefined);
    if (!list || prefix === undefined) {
      throw new Error(
        'KillSwitches needs a policy, or switches and a prefix (e.g. { switches: resolveSwitches(policy), prefix: "/copilot/prod/kill-switches" })',
      );
    }
    this.switches = new Map(list.map((s) => [s.ref, s]));
    this.prefix = prefix.replace(/\/+$/, '');
    this.ttlMs = opts.ttlMs ?? (opts.policy ? durationSeconds(opts.policy.kill_switches.cache_ttl) * 1000 : DEFAULT_TTL_MS);
    this.retryMs = opts.retryMs ?? Math.min(this.ttlMs, 5_000);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.enrolments = opts.enrolments ?? opts.policy?.debug_capture.enrolments ?? [];
    this.ssm = opts.ssm ?? new SSMClient({});
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? ((p) => console.warn(`[kill-switches] ${p.message}`));
  }

  // ------------------------------------------------------------ reading

  /**
   * Resolves once the cache is fresh, or once a read failed (answers then rest on the
   * last known state or the safe defaults). Never rejects. Await it at start-up.
   */
  ready(): Promise<void> {
    if (this.inflight) return this.inflight;
    return this.isStale() ? this.refresh() : Promise.resolve();
  }

  /** Reads every switch now (joining a read in progress). Never rejects. */
  refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Health of the cache. */
  status(): KillSwitchStatus {
    const basis =
      this.readings === undefined ? 'safe_defaults' : this.failedAt !== undefined ? 'last_known' : this.isStale() ? 'stale' : 'fresh';
    return { loadedAt: this.loadedAt, failedAt: this.failedAt, basis };
  }

  // ------------------------------------------------------------ questions

  /**
   * Whether a tool may run: its switch is on and, for a write tool, read-only mode is
   * off. A tool the policy does not declare is never allowed (it could not be
   * switched off in an incident), and is reported once.
   */
  isToolAllowed(tool: string): boolean {
    const sw = this.lookup(`tools.${tool}`);
    if (!sw) return false;
    if (sw.writes && this.stateOf('read_only_mode') === 'on') return false;
    return this.stateOf(sw.ref) === 'on';
  }

  /**
   * Whether a retrieval connector may be queried. An undeclared connector is never
   * enabled (it could not be switched off in an incident), and is reported once.
   */
  isConnectorEnabled(connector: string): boolean {
    const sw = this.lookup(`connectors.${connector}`);
    return sw !== undefined && this.stateOf(sw.ref) === 'on';
  }

  /**
   * Whether every request of the intent must go to a human first. Review can only be
   * forced for intents the policy declares under `human_review`; any other intent
   * answers false (and is not reported: most intents have no such switch).
   */
  requiresHumanReview(intent: string): boolean {
    this.touch();
    return this.switches.has(`human_review.${intent}`) && this.stateOf(`human_review.${intent}`) === 'on';
  }

  /**
   * Whether debug captures may be sent: the `debug_capture` switch is on and, when a
   * cohort is given, it has an enrolment that has not expired.
   */
  isDebugCaptureAllowed(cohort?: string): boolean {
    if (this.stateOf('debug_capture') !== 'on') return false;
    if (cohort === undefined) return true;
    const now = this.now();
    return enrolmentVerdict({ cohort }, this.enrolments, now, 'cohort') === 'enrolled';
  }

  /** The effective state of a switch by ref (`tools.create_ticket`); undefined for a ref the policy does not declare. */
  state(ref: string): SwitchState | undefined {
    return this.evaluate(ref)?.state;
  }

  /** The effective state of a switch and why (`set`, `expired`, `missing`, `malformed`, `unread`). */
  evaluate(ref: string): Evaluation | undefined {
    this.touch();
    const sw = this.switches.get(ref);
    return sw ? evaluateSwitch(sw, this.readings?.get(ref), this.now()) : undefined;
  }

  // ------------------------------------------------------------ internals

  private stateOf(ref: string): SwitchState | undefined {
    return this.evaluate(ref)?.state;
  }

  private lookup(ref: string): ResolvedSwitch | undefined {
    this.touch();
    const sw = this.switches.get(ref);
    if (!sw && !this.reportedUnknown.has(ref)) {
      this.reportedUnknown.add(ref);
      this.report({ kind: 'unknown', ref, message: `${ref} is not declared in the policy's kill_switches; it is treated as off` });
    }
    return sw;
  }

  private isStale(): boolean {
    return this.loadedAt === undefined || this.now() - this.loadedAt >= this.ttlMs;
  }

  /** Starts a background refresh when the cache is stale, unless one runs or a read failed within `retryMs`. */
  private touch(): void {
    if (this.inflight || !this.isStale()) return;
    if (this.failedAt !== undefined && this.now() - this.failedAt < this.retryMs) return;
    void this.refresh();
  }

  private async load(): Promise<void> {
    const started = this.now();
    try {
      const { readings } = await readAllSwitches(this.ssm, this.prefix, [...this.switches.values()], {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      this.readings = readings;
      this.loadedAt = started;
      this.failedAt = undefined;
      for (const [ref, r] of readings) {
        if (r.kind === 'malformed')
          this.report({
            kind: 'malformed',
            ref,
            message: `${ref}: the parameter holds no valid switch document (${r.problem}); using its safe default`,
          });
      }
    } catch (error) {
      this.failedAt = this.now();
      const fallback = this.readings ? 'last_known' : 'safe_defaults';
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.report({
        kind: 'read_failed',
        fallback,
        error,
        message: `cannot read the kill switches under ${this.prefix} (${why}); using ${fallback === 'last_known' ? 'the last known state' : 'the safe defaults'}`,
      });
    }
  }

  private report(problem: KillSwitchProblem): void {
    try {
      this.onError(problem);
    } catch {
      // a failing error handler must not reach the request path
    }
  }
}
