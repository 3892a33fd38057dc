/** Producer example: one TelemetryClient per process, one request event per handled request, flush on shutdown. */
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { TelemetryClient } from '../lib/client';

/** Credentials and region come from the standard chain; the stream name from the environment. */
export function startTelemetry(firehose?: FirehoseClient): TelemetryClient {
  const telemetry = new TelemetryClient({
    streamName: process.env.TELEMETRY_STREAM_NAME ?? 'copilot-prod-events',
    firehose, // leave undefined in production: a FirehoseClient from the standard credential chain
    onDrop: (d) => console.warn(`telemetry: ${d.count} event(s) dropped: ${d.reason} (${d.detail})`),
  });
  // On shutdown, send what is buffered (bounded by the retry policy), then exit.
  process.once('SIGTERM', () => void telemetry.close().finally(() => process.exit(0)));
  return telemetry;
}

/** After each request: counts, lengths and outcomes, never the text. record() never throws or waits. */
export function recordRequest(telemetry: TelemetryClient, requestId: string, latencyMs: number): void {
  // The README shows this example: it stays compact.
  // prettier-ignore
  telemetry.record({
    event_type: 'request', trace_id: requestId, request_id: requestId, session_id: 'sess-7f3a', tenant_id: 'emea',
    user_role: 'employee', intent: 'policy_qna', risk_level: 'low', model: 'anthropic:claude-sonnet-4', prompt_version: 'pv-2',
    status: 'ok', latency_ms: latencyMs, retrieval_latency_ms: 180, llm_latency_ms: 950, tool_latency_ms: 0,
    input_tokens: 812, output_tokens: 143, llm_calls: 1, provider_retries: 0, fallback_used: false, cache_hit: false,
    retrieval_used: true, sources: ['it_kb'], sources_count: 3, access_denials: 0, citations_present: true,
    tool_path: 'none', tools_proposed: 0, tools_executed: 0, tool_validation_failures: 0, tool_errors: 0,
    false_confirmation: false, guardrail_action: 'allow', redaction_applied: false, input_chars: 240, output_chars: 1180,
    pii_detected: false, outcome: 'success',
  });
}
