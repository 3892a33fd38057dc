import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { redactCommand, transformCommand } from '../lib/cli/redact';
import { transformConfigFromPolicy } from '../lib/core/transform/env';
import type { CliCommand } from '../lib/cli/io';
import { loadPolicy } from '../lib/core/policy';
import { sampleEvents } from './fixtures/redaction-corpus';

const KEY_ENV = { LLMOPS_HASH_KEY: 'test-key-0123456789abcdef' };

async function run(cmd: CliCommand, args: string[], input: string | (string | Uint8Array)[], env: Record<string, string> = KEY_ENV) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await cmd(args, { stdin: Readable.from(Array.isArray(input) ? input : [input]), stdout, stderr, env });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

const dir = mkdtempSync(join(tmpdir(), 'llmops-cli-redact-'));

describe('llmops redact --text', () => {
  it('redacts each line to exactly one line, across chunk boundaries and CRLF', async () => {
    const r = await run(redactCommand, ['--text'], ['mail bob@exa', 'mple.com\r\nline two AKIAIOSFODNN7EXAMPLE\n\nlast +44 20 7946 0958']);
    expect(r).toEqual({ code: 0, stdout: 'mail [EMAIL]\r\nline two [AWS_ACCESS_KEY]\n\nlast [PHONE]', stderr: '' });
  });

  it('decodes lines from bytes: a character split across chunks, a line over many chunks, invalid bytes, no final line break', async () => {
    const euro = Buffer.from('€', 'utf8');
    const long = 'x'.repeat(5000);
    const chunks = [
      Buffer.concat([Buffer.from('price 12 '), euro.subarray(0, 1)]),
      Buffer.concat([euro.subarray(1), Buffer.from(' to bob@example.com\n')]),
      ...Array.from({ length: 5 }, (_, k) => Buffer.from(long.slice(k * 1000, (k + 1) * 1000))),
      Buffer.from(' a@b.co\n\n'),
      Buffer.from([0x62, 0xff, 0x0a, 0x63]),
      Buffer.from(' +44 20 7946 0958'),
    ];
    const r = await run(redactCommand, ['--text'], chunks);
    expect(r).toEqual({ code: 0, stdout: `price 12 € to [EMAIL]\n${long} [EMAIL]\n\nb\uFFFD\nc [PHONE]`, stderr: '' });
  });

  it('reads plain Uint8Array chunks as bytes (a web stream gives them)', async () => {
    const bytes = new TextEncoder().encode('bob@example.com\nx\n');
    const r = await run(redactCommand, ['--text'], [bytes.subarray(0, 7), bytes.subarray(7)]);
    expect(r).toEqual({ code: 0, stdout: '[EMAIL]\nx\n', stderr: '' });
  });

  it('blanks a multi-line PEM block line by line', async () => {
    const r = await run(
      redactCommand,
      ['--text'],
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----\nok\n',
    );
    expect(r.stdout).toBe('[PRIVATE_KEY]\n[PRIVATE_KEY]\n[PRIVATE_KEY]\n[PRIVATE_KEY]\nok\n');
  });

  it('warns on stderr when no hash key is given and uses an ephemeral one', async () => {
    const r = await run(redactCommand, ['--text'], 'x\n', {});
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'llmops: warning: no hash key (--hash-key-file or LLMOPS_HASH_KEY); using an ephemeral random key, so user_id hashes and keyed tokens will not match any other run\n',
    );
  });

  it('fails when neither or both of --text and --events are given', async () => {
    expect(await run(redactCommand, [], '')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'llmops redact: give exactly one of --text or --events\n',
    });
    expect((await run(redactCommand, ['--text', '--events'], '')).stderr).toBe('llmops redact: give exactly one of --text or --events\n');
  });

  it('fails when an option is unknown', async () => {
    expect(await run(redactCommand, ['--text', '--bogus'], '')).toEqual({
      code: 2,
      stdout: '',
      stderr: "llmops redact: Unknown option '--bogus'\n",
    });
  });

  it('fails when the hash key file is missing or too short', async () => {
    expect((await run(redactCommand, ['--text', '--hash-key-file', join(dir, 'none')], '')).stderr).toBe(
      `llmops redact: cannot read the hash key file ${join(dir, 'none')} (ENOENT)\n`,
    );
    const short = join(dir, 'short.key');
    writeFileSync(short, 'abc\n');
    expect(await run(redactCommand, ['--text', '--hash-key-file', short], '')).toEqual({
      code: 2,
      stdout: '',
      stderr: `llmops redact: the hash key file ${short} holds 3 bytes; the hash key must be at least 16 bytes\n`,
    });
  });

  it('a key file and LLMOPS_HASH_KEY with the same bytes give the same keyed tokens', async () => {
    const keyFile = join(dir, 'k.key');
    writeFileSync(keyFile, 'test-key-0123456789abcdef\n');
    const ev = `${JSON.stringify(sampleEvents().feedback)}\n`;
    const a = await run(redactCommand, ['--events', '--hash-key-file', keyFile], ev, {});
    const b = await run(redactCommand, ['--events'], ev);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stderr).toBe('');
  });
});

describe('llmops redact --events', () => {
  it('writes redacted events and reports rejected lines on stderr without values', async () => {
    const good = JSON.stringify(sampleEvents().request);
    const bad = JSON.stringify({ ...sampleEvents().span, trace_id: 'alice@example.com' });
    const r = await run(redactCommand, ['--events'], `${good}\n{"oops": "bob@example.com"\n\n${bad}\n[1]`);
    expect(r.code).toBe(1);
    const outLines = r.stdout.trim().split('\n');
    expect(outLines).toHaveLength(1);
    const ev = JSON.parse(outLines[0] ?? '') as Record<string, unknown>;
    expect(ev.error_message).toBe('mail to [EMAIL] failed');
    expect(ev.user_id).toMatch(/^[0-9a-f]{64}$/);
    // No policy: no attribute key is declared, so every attribute is dropped.
    expect(ev.attributes).toEqual({});
    expect(
      r.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { line: 2, reason: 'unparseable_json', detail: 'record is not valid JSON' },
      { line: 4, reason: 'schema_violation', detail: 'trace_id: must match [A-Za-z0-9._:-]{1,128}' },
      { line: 5, reason: 'not_an_object', detail: 'record is an array; expected a JSON object' },
    ]);
    expect(r.stderr).not.toContain('example.com');
  });

  it('keeps the attributes the policy declares', async () => {
    const policy = loadPolicy('telemetry-policy.yaml').policy;
    const declared = policy.capture.attributes[0];
    expect(typeof declared, 'the shipped policy declares at least one attribute').toBe('string');
    const ev = { ...sampleEvents().request, attributes: { [declared as string]: 'reach me at carol@example.com', undeclared_key: 'x' } };
    const r = await run(redactCommand, ['--events', '--policy', 'telemetry-policy.yaml'], JSON.stringify(ev));
    const attributes = (JSON.parse(r.stdout) as { attributes: Record<string, string> }).attributes;
    expect(Object.keys(attributes)).toEqual([declared]);
    // The shipped policy may set email to keyed: either placeholder form is a redaction.
    expect(attributes[declared as string]).toMatch(/^reach me at \[EMAIL(:[0-9a-f]{10})?\]$/);
  });

  it('fails when the policy is invalid', async () => {
    const bad = join(dir, 'bad-policy.yaml');
    writeFileSync(bad, 'name: x\n');
    const r = await run(redactCommand, ['--events', '--policy', bad], '');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^llmops redact: policy ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is invalid: .+\\n$`));
  });
});

describe('llmops transform', () => {
  const event = (datas: string[]) =>
    JSON.stringify({ invocationId: 'i', records: datas.map((d, i) => ({ recordId: `r${i}`, data: Buffer.from(d).toString('base64') })) });

  it('prints the exact Lambda response and writes the EMF documents', async () => {
    const emf = join(dir, 'emf.jsonl');
    const r = await run(transformCommand, ['--emf', emf], event([JSON.stringify(sampleEvents().request), 'nope']));
    expect(r.code).toBe(0);
    const resp = JSON.parse(r.stdout) as {
      records: { recordId: string; result: string; metadata: { partitionKeys: Record<string, string> } }[];
    };
    expect(resp.records.map((x) => [x.recordId, x.result, x.metadata.partitionKeys.area])).toEqual([
      ['r0', 'Ok', 'events'],
      ['r1', 'Ok', 'quarantine'],
    ]);
    const docs = readFileSync(emf, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(docs[0]).toMatchObject({ RecordsIn: 2, RecordsOk: 1, RecordsQuarantined: 1, service: 'ingest' });
    expect(docs.slice(1, 3).map((d) => [d.Reason ?? d.Type, d.RecordsQuarantined ?? d.Redactions])).toEqual([
      ['unparseable_json', 1],
      ['email', 1],
    ]);
    // the bucket metrics of the valid record follow, one document per dimension set
    expect(
      docs.find((d) => Object.keys(d).includes('Requests') && !Object.keys(d).some((k) => ['Path', 'Category', 'intent'].includes(k))),
    ).toMatchObject({ Requests: 1, service: 'ingest' });
    expect(readFileSync(emf, 'utf8')).not.toContain('example.com');
  });

  it('runs the debug-capture transform with --debug-capture', async () => {
    const cap = {
      trace_id: 't',
      request_id: 'r',
      tenant_id: 'acme',
      timestamp: '2026-11-29T10:00:00Z',
      cohort: 'nobody',
      reason: 'x',
      prompt_text: 'a@example.com',
    };
    const r = await run(transformCommand, ['--debug-capture'], event([JSON.stringify(cap)]));
    expect((JSON.parse(r.stdout) as { records: { result: string }[] }).records.map((x) => x.result)).toEqual(['Dropped']);
  });

  it('fails when stdin is not a Firehose transformation event', async () => {
    expect(await run(transformCommand, [], 'nope')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'llmops transform: stdin is not JSON; expected a Firehose transformation event {"records":[{"recordId","data"}]}\n',
    });
    expect((await run(transformCommand, [], '{"records":[{"recordId":1}]}')).stderr).toBe(
      'llmops transform: records[0] needs a string recordId and a base64 string data\n',
    );
    expect((await run(transformCommand, [], '{}')).stderr).toBe(
      'llmops transform: stdin has no "records" array; expected a Firehose transformation event {"records":[{"recordId","data"}]}\n',
    );
  });
});

describe('transformConfigFromPolicy (what --policy gives the CLI, and the Lambdas their environment)', () => {
  it('maps detectors, custom patterns, declared attributes and bucket metrics; no enrolment while debug capture is off', () => {
    const policy = loadPolicy('telemetry-policy.yaml').policy;
    const cfg = transformConfigFromPolicy(policy);
    expect(cfg.redaction.detectors).toEqual(policy.redaction.detectors);
    expect(cfg.redaction.customPatterns).toEqual(
      policy.redaction.custom_patterns.map((c) => ({ name: c.name, pattern: c.pattern, placeholder: c.placeholder })),
    );
    expect(cfg.redaction.allowedAttributes).toEqual(policy.capture.attributes);
    expect(cfg.metrics).toEqual({
      slices: policy.slices.dimensions,
      pricing: policy.pricing.models,
      rating_scale: policy.capture.rating_scale,
      citation_required_intents: ['policy_qna'],
    });
    expect(cfg.capture).toEqual({ samplingRate: 1, outcomeSignals: policy.capture.user_outcome_signals });
    expect(policy.debug_capture.enabled).toBe(false);
    expect(cfg.enrolments).toEqual([]);
  });
});
