/**
 * The release checklist, in Markdown, derived from the policy's `gates`: what
 * `llmops policy explain` prints about the gate, so the thresholds a reviewer reads are
 * the ones the gate applies.
 */
import type { Policy } from '../policy/schema';

/** Exit codes of `llmops gate`, for pipelines. */
export const GATE_EXIT_CODES = { pass: 0, fail: 1, usage: 2, inconclusive: 3 } as const;

/** The release checklist (Markdown, starting with a level-2 heading). */
export function explainGate(policy: Pick<Policy, 'gates' | 'slices'>): string {
  const g = policy.gates;
  const t = g.tolerances;
  const sliced = Object.keys(policy.slices.dimensions).includes(g.dimension);
  const lines = [
    '## Release checklist',
    '',
    `Before a new \`${g.dimension}\` (a prompt, model or configuration version) goes wider than its canary:`,
    '',
    `1. Run the canary beside the baseline, every record tagged with its own \`${g.dimension}\`.`,
    `2. Let the canary serve at least ${g.min_requests} requests within the gate window (${g.window}).`,
    '3. Run the gate in the pipeline and act on its exit code:',
    '',
    '   ```sh',
    `   npx llmops gate --baseline <current ${g.dimension}> --canary <new ${g.dimension}> --dimension ${g.dimension} --window ${g.window}`,
    '   ```',
    '',
    `   - exit ${GATE_EXIT_CODES.pass} **pass**: promote the canary;`,
    `   - exit ${GATE_EXIT_CODES.fail} **fail**: roll the canary back; the output names the slice and metric that failed;`,
    `   - exit ${GATE_EXIT_CODES.inconclusive} **inconclusive**: too little traffic (or no baseline to compare with); keep the canary at its share and run the gate again later;`,
    `   - exit ${GATE_EXIT_CODES.usage}: usage error. \`--json\` prints the rows for machines.`,
    '4. Per intent: `llmops gate ... --source athena` runs the canary-vs-baseline query in the analysts workgroup and applies the same gate to every intent and to the whole version. The default source, CloudWatch, compares the versions as a whole: the ingest publishes one dimension set per slice, never version x intent.',
    '',
    '| check | threshold | when breached |',
    '|---|---|---|',
    '| P0 events for the canary in the window | 0 | fail |',
    `| requests in the window, each version | at least ${g.min_requests} | inconclusive (P0 still fails) |`,
    `| error rate | baseline + ${t.error_rate_pp} percentage points | fail |`,
    `| p95 latency | baseline + ${t.p95_latency_pct}% | fail |`,
    `| refusal rate | baseline + ${t.refusal_rate_pp} percentage points | fail |`,
    `| tool failure rate | baseline + ${t.tool_failure_rate_pp} percentage points | fail |`,
    '',
    'With the CloudWatch source, P0 events are not published per version: every P0 event in the window counts against the canary (it fails safe; confirm with `--source athena`, which attributes each P0 request to its version). Its tool failure rate covers write-tool tasks (ToolTasks, ToolTaskSuccesses); the Athena source covers read and write tool paths.',
  ];
  if (!sliced) {
    lines.push(
      '',
      `**Warning:** \`slices.dimensions\` does not list \`${g.dimension}\`, so the ingest publishes no per-version metrics and only \`--source athena\` can judge a canary.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
