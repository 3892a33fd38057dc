/**
 * The README's examples run. The producer example (examples/producer.ts) is executed against the local
 * Firehose with the real SDK client, and type-checked with the repository's compiler
 * options, so it cannot rot; the construct example (examples/team-stack.ts) synthesizes.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTelemetryEvent } from '../lib/core/contract';
import { recordRequest, startTelemetry } from '../examples/producer';
import { teamStack } from '../examples/team-stack';
import { startFirehoseServer, type FirehoseServer } from './support/firehose-server';

const ROOT = resolve(import.meta.dirname, '..');
const EXAMPLE = resolve(ROOT, 'examples/producer.ts');

let server: FirehoseServer;
beforeEach(async () => {
  server = await startFirehoseServer();
});
afterEach(async () => {
  await server.close();
  delete process.env.TELEMETRY_STREAM_NAME;
});

describe('examples/producer.ts', () => {
  it('runs: the stream name comes from the environment, the request event arrives valid, SIGTERM closes the client', async () => {
    process.env.TELEMETRY_STREAM_NAME = 'copilot-example-events';
    const before = process.listeners('SIGTERM');
    const telemetry = startTelemetry(server.client());
    const added = process.listeners('SIGTERM').filter((l) => !before.includes(l));
    try {
      expect(added).toHaveLength(1);
      expect(telemetry.streamName).toBe('copilot-example-events');
      recordRequest(telemetry, 'req-example-1', 1_420);
      await telemetry.close();
    } finally {
      for (const l of added) process.off('SIGTERM', l);
    }
    const events = server.events('copilot-example-events');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event_type: 'request', request_id: 'req-example-1', latency_ms: 1_420 });
    expect(parseTelemetryEvent(events[0]).ok).toBe(true);
    expect(telemetry.stats()).toMatchObject({ recorded: 1, invalid: 0, sent: 1, dropped: 0 });
  });

  it('type-checks with the compiler options of tsconfig.json', () => {
    const config = ts.readConfigFile(resolve(ROOT, 'tsconfig.json'), (f) => readFileSync(f, 'utf8'));
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
    const program = ts.createProgram([EXAMPLE], { ...options, noEmit: true });
    // Only the example's own diagnostics: the rest of the program is type-checked by `npm run typecheck`.
    const file = program.getSourceFile(EXAMPLE);
    const diagnostics = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map((d) =>
      ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    );
    expect(diagnostics).toEqual([]);
  });

  it('stays short enough for the README (under 40 lines)', () => {
    expect(readFileSync(EXAMPLE, 'utf8').trimEnd().split('\n').length).toBeLessThan(40);
  });
});

describe('examples/team-stack.ts (the README construct example)', () => {
  it('synthesizes a stack with the storage tiers, both switches and the trip Lambda, and the service may only read the switches', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const template = Template.fromStack(teamStack(app));
    template.resourceCountIs('AWS::S3::Bucket', 5);
    expect(Object.values(template.findResources('Custom::KillSwitch')).map((p) => p.Properties.Name)).toEqual([
      '/refunds/dev/kill-switches/read_only_mode',
      '/refunds/dev/kill-switches/tools/issue_refund',
    ]);
    template.resourceCountIs('AWS::SSM::Parameter', 0);
    // the trip Lambda and the provider of the switches
    template.resourceCountIs('AWS::Lambda::Function', 2);
    // every log group under the storage's logs key
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(logGroups.length).toBeGreaterThan(0);
    for (const g of logGroups) expect(g.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^TelemetryLogsKey/), 'Arn'] });
    const serviceActions = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('RefundsService'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()));
    expect(serviceActions).toContain('ssm:GetParametersByPath');
    expect(serviceActions).not.toContain('ssm:PutParameter');
  });

  it('stays short enough for the README (under 40 lines)', () => {
    expect(readFileSync(resolve(ROOT, 'examples/team-stack.ts'), 'utf8').trimEnd().split('\n').length).toBeLessThan(40);
  });
});
