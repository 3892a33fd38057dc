/**
 * The producer SDK for applications: `TelemetryClient` (contract records to the events
 * stream), `DebugCaptureSender` (captures of enrolled cohorts to the debug stream) and
 * `fromOtelSpan` (OpenTelemetry GenAI spans to contract records).
 *
 * No aws-cdk-lib in this module or anything it imports: it ships inside applications.
 */
export { TelemetryClient, type TelemetryClientOptions, type TelemetryEventInput, type FilledFields } from './telemetry-client';
export {
  DebugCaptureSender,
  captureVerdict,
  CAPTURE_GATE_REASONS,
  type CaptureDropReason,
  type CaptureEnrolment,
  type CaptureGateReason,
  type DebugCaptureInput,
  type DebugCaptureSenderOptions,
} from './debug';
export {
  fromOtelSpan,
  spanTimeMs,
  OPERATION_KINDS,
  type OtelMapResult,
  type OtelSpanContext,
  type OtelSpanInput,
  type SpanIds,
  type SpanTime,
} from './otel';
export { DROP_REASONS, type ClientStats, type DeliveryOptions, type DropNotice, type DropReason } from './pipeline';
export {
  FIREHOSE_LIMITS,
  billedBytes,
  packBatches,
  packRecords,
  toLine,
  type Line,
  type PackedRecord,
  type PackingLimits,
} from './packing';
export { DEFAULT_RETRY, backoffMs, classifyError, type RetryOptions } from './retry';
