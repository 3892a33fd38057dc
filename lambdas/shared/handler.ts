/**
 * The shared shape of both transform Lambdas: the environment decoded and the key read
 * once, on the first invocation; the pure core called per batch; ingest metrics published;
 * one log line of ids and counts. Record content is never logged.
 */
import { aggregateBatch } from '../../lib/core/transform/aggregate';
import { publishIngestMetrics, TRANSFORM_LAMBDA } from '../../lib/core/transform/emf';
import { aggregateOptionsFrom, captureContext, decodeTransformEnv, transformContextFromEnv } from '../../lib/core/transform/env';
import {
  transformBatch,
  transformDebugBatch,
  type FirehoseEventIn,
  type FirehoseResponse,
  type StreamKind,
} from '../../lib/core/transform/transform';
import { configuredOnFirstCall, lazyLogger, type Log } from './configure';
import { secretsManagerHashKey, type HashKeyLoader } from './hash-key';

export interface HandlerDeps {
  /** The environment, decoded on the first invocation. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Hash key source, given HASH_KEY_SECRET_ARN. @default Secrets Manager */
  readonly loadHashKey?: HashKeyLoader;
  /** @default - a Powertools Logger named from the service table */
  readonly logger?: Log;
  readonly now?: () => Date;
}

export type TransformHandler = (event: FirehoseEventIn) => Promise<FirehoseResponse>;

/** Builds the Firehose transformation handler of the events stream or the debug-capture stream. */
export function createTransformHandler(kind: StreamKind, deps: HandlerDeps = {}): TransformHandler {
  const log = lazyLogger(TRANSFORM_LAMBDA[kind], deps.logger);
  const loadHashKey = deps.loadHashKey ?? secretsManagerHashKey;
  const now = deps.now ?? (() => new Date());

  return configuredOnFirstCall(async (): Promise<TransformHandler> => {
    const env = deps.env ?? process.env;
    const settings = decodeTransformEnv(kind, env);
    const namespace = env.POWERTOOLS_METRICS_NAMESPACE;
    const hashKey = await loadHashKey(settings.hashKeySecretArn);
    const ctx = { ...transformContextFromEnv(settings.redaction, hashKey, now), ...captureContext(settings.capture) };
    // Slice admission lives as long as the container.
    const metrics = aggregateOptionsFrom(settings.metrics);
    log().info('configured', {
      detectors: settings.redaction.detectors,
      customPatterns: settings.redaction.customPatterns.length,
      allowedAttributes: settings.redaction.allowedAttributes.length,
      enrolments: settings.enrolments.length,
    });
    return async (event) => {
      const started = performance.now();
      const { response, stats, events } =
        kind === 'events' ? transformBatch(event, ctx) : transformDebugBatch(event, { ...ctx, enrolments: settings.enrolments });
      publishIngestMetrics(stats, { kind, namespace, groups: events ? aggregateBatch(events, metrics) : [] });
      log().info('batch transformed', {
        invocationId: event.invocationId,
        recordsIn: stats.recordsIn,
        ok: stats.ok,
        quarantined: stats.quarantined,
        dropped: stats.dropped,
        fieldsDropped: stats.fieldsDropped,
        attributesDropped: stats.attributesDropped,
        sampledOut: stats.sampledOut,
        signalsDropped: stats.signalsDropped,
        redactions: stats.redactions,
        durationMs: Math.round(performance.now() - started),
      });
      return response;
    };
  }, log);
}
