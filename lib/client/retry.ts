/**
 * Retry policy of the producer: which failures are worth another attempt, and how long
 * to wait before it (exponential backoff with full jitter, bounded in attempts and in
 * total time).
 */

/** How the client retries records Firehose did not take. */
export interface RetryOptions {
  /**
   * Attempts per record, the first one included.
   * @default 8
   */
  readonly maxAttempts?: number;
  /**
   * Cap of the first backoff; it doubles with every attempt.
   * @default 100
   */
  readonly baseDelayMs?: number;
  /**
   * Cap of any one backoff.
   * @default 5000
   */
  readonly maxDelayMs?: number;
  /**
   * No retry starts later than this after the first attempt of a batch: the bound on
   * the time a record can stay in memory (plus one request timeout).
   * @default 30000
   */
  readonly maxElapsedMs?: number;
  /**
   * Time limit of one PutRecordBatch request; a request still running is aborted and
   * counts as a network failure.
   * @default 10000
   */
  readonly requestTimeoutMs?: number;
}

export type ResolvedRetry = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetry = {
  maxAttempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
  maxElapsedMs: 30_000,
  requestTimeoutMs: 10_000,
};

/** Fills the defaults; a value that is not a positive finite number takes its default. */
export function resolveRetry(opts: RetryOptions = {}): ResolvedRetry {
  const pick = <K extends keyof RetryOptions>(k: K, min: number): number => {
    const v = opts[k];
    return typeof v === 'number' && Number.isFinite(v) && v >= min ? v : DEFAULT_RETRY[k];
  };
  return {
    maxAttempts: Math.floor(pick('maxAttempts', 1)),
    baseDelayMs: pick('baseDelayMs', 0),
    maxDelayMs: pick('maxDelayMs', 0),
    maxElapsedMs: pick('maxElapsedMs', 0),
    requestTimeoutMs: pick('requestTimeoutMs', 1),
  };
}

/** Full jitter: a uniform delay in `[0, min(maxDelay, base * 2^(attempt-1))]` after the `attempt`-th failure. */
export function backoffMs(
  attempt: number,
  retry: Pick<ResolvedRetry, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}

/** Error names Firehose (and AWS generally) uses for throttling and transient server trouble. */
const RETRYABLE_NAMES = new Set([
  'ServiceUnavailableException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
  'InternalFailure',
  'InternalServerError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ExpiredTokenException',
  'ExpiredToken',
]);

/** What went wrong with a whole request, reduced to what the client needs. */
export interface RequestFailure {
  /** Worth another attempt: throttling, a 5xx, a network error, a timeout. */
  readonly retryable: boolean;
  /** Error name (and HTTP status when there was one), for the drop reason. Never content. */
  readonly code: string;
}

/**
 * Classifies an error thrown by `FirehoseClient.send`: an answer with a 4xx status is
 * final unless it names throttling (e.g. ResourceNotFoundException, AccessDenied,
 * InvalidArgumentException); throttling, 5xx and failures without an answer (refused or
 * dropped connections, timeouts, credential lookups) are retryable.
 */
export function classifyError(error: unknown): RequestFailure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const name = typeof e.name === 'string' && e.name ? e.name : 'Error';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  // Node's system error code (ECONNREFUSED, ECONNRESET, ...) says more than the name of a network error.
  const sys = typeof e.code === 'string' && /^E[A-Z0-9_]{2,30}$/.test(e.code) ? e.code : undefined;
  const code = status !== undefined ? `${name} (HTTP ${status})` : sys !== undefined ? `${name} (${sys})` : name;
  if (status === undefined || status >= 500 || status === 429) return { retryable: true, code };
  return { retryable: RETRYABLE_NAMES.has(name), code };
}
