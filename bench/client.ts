/**
 * Producer benchmark (`npm run bench`; never a timed test): events per second through
 * `TelemetryClient` and the real FirehoseClient into the local Firehose server
 * (loopback, so this measures the client, the SDK and the packing, not the network),
 * the cost of one `record()` call on the request path, and the bytes Firehose would bill
 * (every record rounded up to 5 KB) for the packed records vs one event per record.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { TelemetryClient, billedBytes, toLine, type TelemetryEventInput } from '../lib/client';
import { startFirehoseServer } from '../test/support/firehose-server';

const STREAM = 'bench-events';
const MB = 1024 * 1024;

/** A realistic request event (about 1.1 KB serialized): tags, versions, counts, no text. */
function requestEvent(i: number): TelemetryEventInput {
  return {
    event_type: 'request',
    trace_id: `4bf92f3577b34da6a3ce929d0e0e${String(i % 10_000).padStart(4, '0')}`,
    request_id: `req-${i}`,
    session_id: `sess-${i % 97}`,
    tenant_id: i % 2 ? 'emea' : 'amer',
    user_id: `user-${i % 500}`,
    user_role: 'employee',
    region: 'eu-west-1',
    channel: 'teams',
    locale: 'en-GB',
    intent: 'policy_qna',
    risk_level: 'low',
    app_version: '2026.11.3',
    prompt_version: 'pv-2025-12-18',
    orchestration_version: 'orc-14',
    retrieval_config: 'hybrid-k8',
    model: 'bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0',
    attributes: { team: 'hr', experiment: 'citations-v2' },
    status: 'ok',
    latency_ms: 1532 + (i % 900),
    retrieval_latency_ms: 120,
    llm_latency_ms: 1200,
    tool_latency_ms: 80,
    input_tokens: 2048,
    output_tokens: 512,
    cost_usd: 0.0123,
    llm_calls: 2,
    provider_retries: 0,
    fallback_used: false,
    cache_hit: false,
    retrieval_used: true,
    sources: ['confluence', 'sharepoint'],
    sources_count: 4,
    access_denials: 0,
    citations_present: true,
    tool_path: 'read',
    tools_proposed: 1,
    tools_executed: 1,
    tool_validation_failures: 0,
    tool_errors: 0,
    false_confirmation: false,
    guardrail_action: 'allow',
    redaction_applied: false,
    input_chars: 420,
    output_chars: 1800,
    language: 'en',
    pii_detected: false,
    structured_output_valid: true,
    outcome: 'success',
  };
}

const fmt = (x: number, digits = 1) => x.toLocaleString('en-US', { maximumFractionDigits: digits });

export async function runClientBench(): Promise<void> {
  const server = await startFirehoseServer();
  try {
    // Warm the JIT (validation, serialization, SDK) on a client of its own.
    const warm = new TelemetryClient({ streamName: STREAM, firehose: server.client() });
    for (let i = 0; i < 5_000; i++) warm.record(requestEvent(i));
    await warm.close();
    server.records.length = 0;
    server.requests.length = 0;

    // Throughput: record in bursts as a busy service would, yielding to the event loop
    // between bursts so the client sends while the application records.
    const N = 100_000;
    const BURST = 2_000;
    const client = new TelemetryClient({
      streamName: STREAM,
      firehose: server.client(),
      maxBufferedEvents: 50_000,
      maxBufferedBytes: 128 * MB,
    });
    let recordMs = 0;
    const t0 = performance.now();
    for (let i = 0; i < N; i += BURST) {
      const t = performance.now();
      for (let j = i; j < i + BURST; j++) client.record(requestEvent(j));
      recordMs += performance.now() - t;
      await yieldToLoop();
    }
    await client.close();
    const totalMs = performance.now() - t0;
    const s = client.stats();

    console.log(
      `client:        ${fmt(N)} request events (~${fmt(toLine(requestEvent(0)).bytes, 0)} B each) through TelemetryClient + FirehoseClient to a loopback Firehose`,
    );
    console.log(
      `               ${fmt(N / (totalMs / 1000), 0)} events/s end to end (${fmt(totalMs, 0)} ms, ${s.requests} PutRecordBatch, ${s.records} records); sent ${fmt(s.sent)}, dropped ${fmt(s.dropped)}`,
    );
    console.log(`record():      ${fmt((recordMs * 1000) / N, 2)} µs per call on average (validate, fill ids, serialize, buffer)`);

    // Billing: the packed records as received vs one record per event.
    const packed = billedBytes(server.records.map((r) => r.bytes));
    const eventSizes = server.records.flatMap((r) =>
      r.data
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => Buffer.byteLength(l) + 1),
    );
    const single = billedBytes(eventSizes);
    const payload = eventSizes.reduce((a, b) => a + b, 0);
    console.log(
      `billed bytes:  payload ${fmt(payload / MB)} MB; packed ${fmt(packed / MB)} MB in ${s.records} records; one event per record ${fmt(single / MB)} MB`,
    );
    console.log(`               one-per-record / packed = ${fmt(single / packed, 2)}x (Firehose rounds every record up to 5 KB)`);
  } finally {
    await server.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runClientBench();
