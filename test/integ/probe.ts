/**
 * The deploy test's probe Lambda (bundled by the integ app; never part of the stack).
 *
 * - `send`: the producer SDK (`TelemetryClient`) sends the run's requests to the events
 *   stream, with the stack's producer policy as the only Firehose permission.
 * - `check`: as the trace analyst role (AssumeRole; the tier's reader, the principal the
 *   bucket policy lets read `events/`), lists the run's partitions, reads the magic bytes
 *   of the newest object, and queries the run's rows in the analysts' Athena workgroup.
 *
 * It returns numbers and verdicts, and the planted request's redacted `error_message`;
 * never a raw value. A denied or failing call is reported as `error: ...`, so the waiter
 * stops at once instead of polling until its timeout.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { runAthenaQuery } from '../../lib/aws/athena';
import { TelemetryClient } from '../../lib/client';
import { checkVerdict, runDates, runEvents, runQuery, type CheckReport, type ProbeRequest, type SendReport } from './probe-core';

/** The probe's environment, set by the integ app. */
export const PROBE_ENV = ['STREAM_NAME', 'ANALYST_ROLE_ARN', 'TRACES_BUCKET', 'DATABASE', 'WORKGROUP'] as const;
type ProbeEnv = Record<(typeof PROBE_ENV)[number], string>;

function probeEnv(env: Record<string, string | undefined>): ProbeEnv {
  const missing = PROBE_ENV.filter((k) => !env[k]);
  if (missing.length > 0) throw new Error(`the probe needs ${missing.join(', ')} in its environment`);
  return Object.fromEntries(PROBE_ENV.map((k) => [k, env[k] as string])) as ProbeEnv;
}

export async function handler(event: ProbeRequest): Promise<SendReport | CheckReport> {
  const env = probeEnv(process.env);
  if (event?.action === 'send') return send(env, event.run);
  if (event?.action === 'check') return check(env, event.run);
  throw new Error(`action must be 'send' or 'check'; got ${JSON.stringify((event as { action?: unknown })?.action)}`);
}

async function send(env: ProbeEnv, run: string): Promise<SendReport> {
  const drops: string[] = [];
  const telemetry = new TelemetryClient({
    streamName: env.STREAM_NAME,
    onDrop: (d) => drops.push(`${d.count} ${d.reason} (${d.detail})`),
  });
  const events = runEvents(run);
  for (const e of events) telemetry.record(e);
  await telemetry.close();
  const s = telemetry.stats();
  const ok = s.sent === events.length && s.dropped === 0 && s.invalid === 0;
  return {
    status: ok ? 'sent' : `failed: ${drops.join('; ') || `${s.invalid} invalid`}`,
    events: String(events.length),
    sent: String(s.sent),
    dropped: String(s.dropped),
    records: String(s.records),
  };
}

async function check(env: ProbeEnv, run: string): Promise<CheckReport> {
  const dates = runDates(new Date());
  try {
    const credentials = await assumeRole(env.ANALYST_ROLE_ARN, `llmops-${run}`.slice(0, 64));
    const s3 = new S3Client({ credentials });
    const listed = await Promise.all(
      dates.map((dt) => s3.send(new ListObjectsV2Command({ Bucket: env.TRACES_BUCKET, Prefix: `events/event_type=request/dt=${dt}/` }))),
    );
    const objects = listed
      .flatMap((l) => l.Contents ?? [])
      .sort((a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0));
    const newest = objects[0]?.Key;
    const bytes = async (range: string) => {
      const o = await s3.send(new GetObjectCommand({ Bucket: env.TRACES_BUCKET, Key: newest, Range: range }));
      return Buffer.from((await o.Body?.transformToByteArray()) ?? []).toString('latin1');
    };
    const [head, tail] = newest ? await Promise.all([bytes('bytes=0-3'), bytes('bytes=-4')]) : ['', ''];
    const rows = newest
      ? (
          await runAthenaQuery(new AthenaClient({ credentials }), runQuery(env.DATABASE, run, dates), {
            workGroup: env.WORKGROUP,
            database: env.DATABASE,
            deadlineMs: 60_000,
          })
        ).rows
      : [];
    return checkVerdict({ run, objects: objects.length, head, tail, rows });
  } catch (e) {
    const err = e as { name?: string; message?: string };
    return {
      status: `error: ${err.name ?? 'Error'}: ${err.message ?? String(e)}`.slice(0, 500),
      parquet: 'unknown',
      objects: 'unknown',
      events: 'unknown',
      planted_email: 'unknown',
      planted_key: 'unknown',
      error_message: '',
    };
  }
}

/**
 * The Lambda runtime ships all of AWS SDK v3, but this repository installs only the
 * clients the stack uses, and STS is not one of them: the probe loads the runtime's
 * `@aws-sdk/client-sts` by name (its bundle keeps `@aws-sdk/*` external, as every house
 * function's does), typed here with the two members it uses.
 */
const RUNTIME_STS: string = '@aws-sdk/client-sts';

interface StsModule {
  STSClient: new (config: object) => {
    send(command: unknown): Promise<{
      Credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date };
    }>;
  };
  AssumeRoleCommand: new (input: { RoleArn: string; RoleSessionName: string; DurationSeconds?: number }) => unknown;
}

async function assumeRole(roleArn: string, sessionName: string) {
  const { STSClient, AssumeRoleCommand } = (await import(RUNTIME_STS)) as StsModule;
  const out = await new STSClient({}).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 900 }));
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole of ${roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
}
