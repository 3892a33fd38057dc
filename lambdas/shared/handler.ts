/**
 * The shared shape of both transform Lambdas: configuration and key read once per cold
 * start, the pure core called per batch, ingest metrics published, one log line of ids
 * and counts. Record content is never logged.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  transformBatch,
  transformDebugBatch,
  type Enrolment,
  type FirehoseEventIn,
  type FirehoseResponse,
  type TransformContext,
} from '../../lib/core/transform/transform';
import { aggregateBatch, type AggregateOptions } from '../../lib/core/transform/aggregate';
import { aggregateOptionsFrom, type BucketMetricsConfig } from '../../lib/core/transform/metrics-config';
import { readEnrolmentsEnv, readMetricsEnv, readRedactionEnv, redactorFromEnv } from '../../lib/core/transform/env';
import { secretsManagerHashKey, type HashKeyLoader } from './hash-key';
import { publishIngestMetrics } from '../../lib/core/transform/emf';

export type StreamKind = 'events' | 'captures';

export interface HandlerDeps {
  /** Environment. Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Hash key source. Default: Secrets Manager via HASH_KEY_SECRET_ARN. */
  readonly loadHashKey?: HashKeyLoader;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

export type TransformHandler = (event: FirehoseEventIn) => Promise<FirehoseResponse>;

interface Ready {
  readonly ctx: TransformContext;
  readonly enrolments: readonly Enrolment[];
  /** Bucket metrics settings (events stream); slice admission lives as long as the container. */
  readonly metrics: AggregateOptions;
}

/** Builds a Firehose transformation handler for the events stream or the debug-capture stream. */
export function createTransformHandler(kind: StreamKind, deps: HandlerDeps = {}): TransformHandler {
  const env = deps.env ?? process.env;
  const serviceName = kind === 'events' ? 'llmops-redact' : 'llmops-debug-capture';
  const logger = deps.logger ?? new Logger({ serviceName });
  const loadHashKey = deps.loadHashKey ?? secretsManagerHashKey(env);
  const now = deps.now ?? (() => new Date());
  let ready: Promise<Ready> | undefined;

  const init = async (): Promise<Ready> => {
    const cfg = readRedactionEnv(env);
    const enrolments = kind === 'captures' ? readEnrolmentsEnv(env) : [];
    const metrics = aggregateOptionsFrom(readMetricsEnv(env) as BucketMetricsConfig);
    const hashKey = await loadHashKey();
    const ctx: TransformContext = {
      redactor: redactorFromEnv(cfg, hashKey),
      hashKey,
      allowedAttributes: new Set(cfg.allowedAttributes),
      now,
    };
    logger.info('configured', {
      detectors: cfg.detectors,
      customPatterns: cfg.customPatterns.length,
      allowedAttributes: cfg.allowedAttributes.length,
      enrolments: enrolments.length,
    });
    return { ctx, enrolments, metrics };
  };

  return async (event) => {
    // A failed cold start is retried on the next invocation rather than cached.
    ready ??= init().catch((e: unknown) => {
      ready = undefined;
      throw e;
    });
    let r: Ready;
    try {
      r = await ready;
    } catch (e) {
      // Configuration problems are ours, not the records': fail the invocation (Firehose
      // retries it) and log only the error's message, which holds no record content.
      logger.error('configuration failed', { error: (e as Error).message });
      throw e;
    }
    const started = performance.now();
    const { response, stats, events } =
      kind === 'events' ? transformBatch(event, r.ctx) : transformDebugBatch(event, { ...r.ctx, enrolments: r.enrolments });
    publishIngestMetrics(stats, { kind, groups: events ? aggregateBatch(events, r.metrics) : [] });
    logger.info('batch transformed', {
      invocationId: event.invocationId,
      recordsIn: stats.recordsIn,
      ok: stats.ok,
      quarantined: stats.quarantined,
      dropped: stats.dropped,
      fieldsDropped: stats.fieldsDropped,
      attributesDropped: stats.attributesDropped,
      redactions: stats.redactions,
      durationMs: Math.round(performance.now() - started),
    });
    return response;
  };
}
