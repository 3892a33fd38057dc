/**
 * `llmops gate`: the release gate for a canary. Reads the baseline's and the canary's
 * metrics over the window and applies the policy's `gates` (lib/gate/decide.ts); prints
 * a table naming the slice and metric that decided, and exits 0 pass, 1 fail,
 * 3 inconclusive, 2 usage, so a CI/CD pipeline can stop a rollout.
 *
 * Sources: `cloudwatch` (default; GetMetricData, the versions as a whole) and `athena`
 * (the canary-vs-baseline query in the analysts workgroup: per intent and as a whole).
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { parseArgs } from 'node:util';
import { metricsNamespace } from '../core/metrics/dictionary';
import { readGateFromAthena } from '../aws/gate-athena';
import { readGateFromCloudWatch, windowRange } from '../aws/gate-cloudwatch';
import { evaluateGate, type GateResult, type GateRow, type SliceFigures } from '../core/gate/decide';
import { GATE_EXIT_CODES } from '../core/spec/gate';
import { DEFAULT_POLICY_FILE as DEFAULT_FILE, parseDuration, VERSION_TAGS, type Policy } from '../core/policy';
import { analystsWorkGroupName, catalogDatabaseName } from '../core/rollup/names';
import { type CliCommand, type CliIO, loadCliPolicy, UserError } from './io';

const VERSION_VALUE = /^[A-Za-z0-9._:-]{1,128}$/;
const SOURCES = ['cloudwatch', 'athena'] as const;
type Source = (typeof SOURCES)[number];

/** One-line summary for `llmops --help`. */
export const GATE_SUMMARY = 'release gate: compare a canary version with its baseline (exit 0 pass, 1 fail, 3 inconclusive, 2 usage)';

export const GATE_HELP = `Usage: llmops gate --baseline <version> --canary <version> [--dimension prompt_version]
                   [--window 1h] [--source cloudwatch|athena] [--policy FILE] [--json]
                   [--now RFC3339] [--region REGION] [--endpoint URL]

Compares the canary with the baseline over the window and applies the policy's gates:
no P0 event for the canary; error rate, p95 latency, refusal rate and tool failure rate
no worse than the baseline beyond the policy's tolerances; at least gates.min_requests
requests on each version (otherwise inconclusive). Prints one row per metric and slice
(metric, slice, baseline, canary, tolerance, verdict) and names what decided.

Sources:
  cloudwatch  GetMetricData over the stack's metrics by the version dimension. The ingest
              publishes one dimension set per slice (never version x intent), so the
              versions are compared as a whole; P0Events has no version dimension, so
              every P0 event in the window counts against the canary (fails safe).
  athena      the canary-vs-baseline query in the analysts workgroup: every intent and
              the whole version, P0 attributed per request. Whole UTC days: from the day
              the window starts to the day it ends.

Options:
  --baseline VERSION  the version serving most traffic (required)
  --canary VERSION    the version under test (required)
  --dimension TAG     the version tag: ${VERSION_TAGS.join(', ')}
                      (default: the policy's gates.dimension)
  --window DURATION   e.g. 30m, 1h, 6h (default: the policy's gates.window)
  --source SOURCE     cloudwatch (default) or athena
  --policy FILE       the telemetry policy (default: ${DEFAULT_FILE})
  --json              print the result as JSON
  --now TIME          end the window at TIME instead of now (RFC 3339)
  --region REGION     AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the AWS config)
  --endpoint URL      CloudWatch or Athena endpoint override (local endpoints and tests)
  -h, --help          show this help

Exit codes: 0 pass, 1 fail (or the metrics could not be read: never a silent pass),
3 inconclusive, 2 usage or policy error.
`;

interface GateOptions {
  readonly policy: Policy;
  readonly dimension: string;
  readonly baseline: string;
  readonly canary: string;
  readonly windowText: string;
  readonly windowSeconds: number;
  readonly end: Date;
  readonly source: Source;
}

function usage(message: string): UserError {
  return new UserError(`${message}; see 'llmops gate --help'`, GATE_EXIT_CODES.usage);
}

function loadGatePolicy(file: string, io: CliIO): Policy {
  const loaded = loadCliPolicy(file, io);
  if ('problems' in loaded) throw new UserError(loaded.problems, GATE_EXIT_CODES.usage);
  return loaded.policy;
}

function parse(args: string[], io: CliIO): (GateOptions & { json: boolean; region?: string; endpoint?: string }) | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      baseline: { type: 'string' },
      canary: { type: 'string' },
      dimension: { type: 'string' },
      window: { type: 'string' },
      source: { type: 'string' },
      policy: { type: 'string' },
      json: { type: 'boolean' },
      now: { type: 'string' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length) throw usage(`unexpected argument ${JSON.stringify(positionals[0])}`);
  for (const arm of ['baseline', 'canary'] as const) {
    const v = values[arm];
    if (v === undefined) throw usage(`--${arm} is required`);
    if (!VERSION_VALUE.test(v)) throw usage(`--${arm} is ${JSON.stringify(v)}; a version is 1 to 128 letters, digits and . _ : -`);
  }
  if (values.baseline === values.canary)
    throw usage(`--baseline and --canary are both ${JSON.stringify(values.baseline)}; compare two different versions`);
  const source = (values.source ?? 'cloudwatch') as Source;
  if (!SOURCES.includes(source)) throw usage(`--source is ${JSON.stringify(values.source)}; expected ${SOURCES.join(' or ')}`);
  if (values.endpoint !== undefined && !/^https?:\/\/\S+$/.test(values.endpoint))
    throw usage(`--endpoint is ${JSON.stringify(values.endpoint)}; expected an http(s) URL`);
  let end = new Date();
  if (values.now !== undefined) {
    end = new Date(values.now);
    if (!/^\d{4}-\d\d-\d\dT/.test(values.now) || Number.isNaN(end.getTime()))
      throw usage(`--now is ${JSON.stringify(values.now)}; expected an RFC 3339 time such as 2026-11-04T12:00:00Z`);
  }

  const policy = loadGatePolicy(values.policy ?? DEFAULT_FILE, io);
  const dimension = values.dimension ?? policy.gates.dimension;
  if (!(VERSION_TAGS as readonly string[]).includes(dimension))
    throw usage(`--dimension is ${JSON.stringify(dimension)}; expected one of ${VERSION_TAGS.join(', ')}`);
  const windowText = values.window ?? policy.gates.window;
  const d = parseDuration(windowText);
  if (!d || (d.unit !== 'm' && d.unit !== 'h'))
    throw usage(`--window is ${JSON.stringify(windowText)}; expected minutes or hours, e.g. 30m or 1h`);
  if (d.seconds > 14 * 86_400) throw usage(`--window is ${windowText}; at most 336h (CloudWatch keeps 1-minute data for 15 days)`);
  return {
    policy,
    dimension,
    windowText,
    windowSeconds: d.seconds,
    end,
    source,
    json: values.json === true,
    baseline: values.baseline as string,
    canary: values.canary as string,
    region: values.region,
    endpoint: values.endpoint,
  };
}

/** Static credentials from the command's environment when given, else the SDK's chain. */
function clientConfig(values: { region?: string; endpoint?: string }, io: CliIO) {
  const env = io.env;
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
      : undefined;
  return { region: values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION, endpoint: values.endpoint, credentials, maxAttempts: 3 };
}

/** What the CloudWatch source cannot judge, and ingest caveats for the version dimension. Throws a usage error when nothing can be read. */
function cloudWatchNotes(o: GateOptions): string[] {
  const slice = o.policy.slices.dimensions[o.dimension as keyof Policy['slices']['dimensions']];
  if (!slice) {
    throw usage(
      `slices.dimensions does not list ${o.dimension}, so the ingest publishes no per-${o.dimension} metrics to compare; add it to slices.dimensions or use --source athena`,
    );
  }
  if (slice.values) {
    const unlisted = [o.baseline, o.canary].filter((v) => !slice.values!.includes(v));
    if (unlisted.length) {
      throw usage(
        `${unlisted.join(' and ')} ${unlisted.length > 1 ? 'are' : 'is'} not in slices.dimensions.${o.dimension}.values, so the ingest counts ${unlisted.length > 1 ? 'them' : 'it'} as "other"; list the versions or use --source athena`,
      );
    }
  }
  const notes = [
    'P0Events has no version dimension: every P0 event in the window counts against the canary. Confirm with --source athena, which attributes each P0 request to its version.',
  ];
  if (!slice.values) {
    notes.push(
      `slices.dimensions.${o.dimension} has no values list: each ingest instance gives its first ${slice.max_values} versions their own series and counts later ones as "other"; list the versions to be sure both have series.`,
    );
  }
  const others = Object.keys(o.policy.slices.dimensions).filter((k) => k !== o.dimension);
  if (others.length) {
    notes.push(
      `Compared as a whole: CloudWatch has one dimension set per slice, never ${o.dimension} x ${others.join('/')}. Per-intent comparison: --source athena (the canary-vs-baseline query).`,
    );
  }
  return notes;
}

async function readFigures(
  o: GateOptions,
  conn: { region?: string; endpoint?: string },
  io: CliIO,
): Promise<{ slices: SliceFigures[]; notes: string[]; start: Date; end: Date }> {
  const { start, end } = windowRange({ end: o.end, seconds: o.windowSeconds });
  if (o.source === 'cloudwatch') {
    const notes = cloudWatchNotes(o);
    const cw = new CloudWatchClient(clientConfig(conn, io));
    try {
      const figures = await readGateFromCloudWatch(cw, {
        namespace: metricsNamespace(o.policy),
        dimension: o.dimension,
        baseline: o.baseline,
        canary: o.canary,
        window: { end: o.end, seconds: o.windowSeconds },
      });
      return { slices: [figures], notes, start, end };
    } finally {
      cw.destroy();
    }
  }
  const athena = new AthenaClient(clientConfig(conn, io));
  try {
    const r = await readGateFromAthena(athena, {
      workGroup: analystsWorkGroupName(o.policy),
      database: catalogDatabaseName(o.policy),
      dimension: o.dimension,
      baseline: o.baseline,
      canary: o.canary,
      start,
      end,
    });
    return { ...r, start, end };
  } finally {
    athena.destroy();
  }
}

const UNITS: Record<GateRow['metric'], string> = {
  p0_events: '',
  requests: '',
  error_rate: '%',
  p95_latency: ' ms',
  refusal_rate: '%',
  tool_failure_rate: '%',
};
const show = (v: number | null, metric: GateRow['metric']) => (v === null ? '-' : `${Math.round(v * 100) / 100}${UNITS[metric]}`);

/** The text table: one line per row, then the verdict and what decided it. */
export function renderGate(result: GateResult, o: Pick<GateOptions, 'baseline' | 'canary' | 'dimension'>): string {
  const head = ['METRIC', 'SLICE', `BASELINE (${o.baseline})`, `CANARY (${o.canary})`, 'TOLERANCE', 'VERDICT'];
  const cells = result.rows.map((r) => [r.metric, r.slice, show(r.baseline, r.metric), show(r.canary, r.metric), r.tolerance, r.verdict]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const lines = [head, ...cells].map((c) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]!))).join('  '));
  lines.push(
    '',
    `Verdict: ${result.verdict.toUpperCase()} (exit ${GATE_EXIT_CODES[result.verdict]}) for ${o.dimension} ${o.canary} against ${o.baseline}.`,
  );
  for (const r of result.decidedBy) lines.push(`  decided by ${r.metric} in slice ${r.slice}: ${r.reason}`);
  return `${lines.join('\n')}\n`;
}

export const gateCommand: CliCommand = async (args, io) => {
  const parsed = parse(args, io);
  if (parsed === 'help') return (io.stdout.write(GATE_HELP), 0);
  let figures: Awaited<ReturnType<typeof readFigures>>;
  try {
    figures = await readFigures(parsed, parsed, io);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const err = e as { name?: string; message?: string };
    throw new UserError(
      `cannot read the ${parsed.source === 'cloudwatch' ? 'metrics' : 'canary-vs-baseline query'}: ${err.name ?? 'Error'}: ${err.message ?? String(e)}. The gate did not pass.`,
      GATE_EXIT_CODES.fail,
    );
  }
  const result = evaluateGate(figures.slices, parsed.policy.gates);
  if (parsed.json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          verdict: result.verdict,
          exit_code: GATE_EXIT_CODES[result.verdict],
          summary: result.summary,
          dimension: parsed.dimension,
          baseline: parsed.baseline,
          canary: parsed.canary,
          source: parsed.source,
          window: { duration: parsed.windowText, start: figures.start.toISOString(), end: figures.end.toISOString() },
          gates: { min_requests: parsed.policy.gates.min_requests, tolerances: parsed.policy.gates.tolerances },
          rows: result.rows,
          decided_by: result.decidedBy,
          notes: figures.notes,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    io.stdout.write(
      `Gate: ${parsed.dimension} ${parsed.canary} (canary) vs ${parsed.baseline} (baseline), ${parsed.source}, ${figures.start.toISOString()} to ${figures.end.toISOString()} (${parsed.windowText})\n\n`,
    );
    io.stdout.write(renderGate(result, parsed));
    for (const n of figures.notes) io.stdout.write(`note: ${n}\n`);
  }
  return GATE_EXIT_CODES[result.verdict];
};
