/**
 * The deploy test (`npm run integ`, needs an AWS account): an `@aws-cdk/integ-tests-alpha`
 * app that deploys the minimal policy's stack and a probe, then, as CloudFormation
 * custom resources of the DeployAssert stack:
 *
 * 1. the probe sends ten requests through the producer SDK (one plants an email address
 *    and an AWS access key id), holding only the stack's producer policy;
 * 2. a waiter invokes the probe every 30 s, up to 15 min, until the run's Parquet object
 *    is under `events/` and the run's rows are in the events table (queried in the
 *    analysts' workgroup as the trace analyst role), or a call fails;
 * 3. assertions: the object is Parquet, all ten events are there, the planted values are
 *    in no column, the placeholders are in `error_message`;
 * 4. the `read_only_mode` kill switch is flipped with PutParameter (a valid switch
 *    document) and read back with GetParameter.
 *
 * Every assertion fails the deployment when it does not hold, so `cdk deploy` alone
 * reports the result; scripts/integ.ts deploys, then destroys. Without an account,
 * test/integ.test.ts synthesizes this app and checks the assertions are in it.
 *
 * integ-runner is not used: the newest on the registry (2.197.x) cannot read the cloud
 * assembly of this aws-cdk-lib (schema 55); the project's cdk CLI can.
 */
import { IntegTest, ActualResult, EqualsAssertion, ExpectedResult, InvocationType, type IApiCall } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack, aws_iam as iam, aws_logs as logs, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { TelemetryFunction } from '../../lib/constructs/shared/function';
import { stackNameFor, TelemetryStack } from '../../lib/constructs/stack';
import { parameterName, serializeSwitchValue, switchPrefix } from '../../lib/core/killswitch/values';
import { parsePolicy, type Policy } from '../../lib/core/policy';
import { analystsWorkGroupName, catalogDatabaseName } from '../../lib/core/rollup/names';
import { EVENTS_PER_RUN, EXPECTED_ERROR_MESSAGE, runId, type ProbeRequest } from './probe-core';

export const MINIMAL_POLICY_FILE = 'test/fixtures/minimal-policy.yaml';
/** How the project's cdk CLI runs this app: `cdk synth|deploy|destroy --app "<this>"`. */
export const INTEG_APP_COMMAND = 'node --import tsx test/integ/integ.telemetry.ts';
/** The construct id of the IntegTest (its DeployAssert stack is named from it). */
export const INTEG_TEST_ID = 'TelemetryInteg';
/** The switch the test flips, and the document it writes. */
export const FLIPPED_SWITCH = 'read_only_mode';
export const FLIP = { state: 'on', reason: 'deploy test: flip and read back', changed_by: 'integ-test' } as const;

/**
 * The minimal policy, made deployable in any account: its principals name account
 * 111122223333, which IAM and KMS refuse in a trust or key policy of another account,
 * so every role is trusted by the deploying account (`this-account`); and the page
 * topic's https subscription (hooks.example.org) is dropped, so no request leaves AWS.
 * Everything else (retention, removal, alarms, switches) is the fixture's.
 */
export function integPolicy(file = MINIMAL_POLICY_FILE): Policy {
  const data = parse(readFileSync(file, 'utf8')) as Record<string, any>;
  for (const role of Object.keys(data.access)) data.access[role] = { ...data.access[role], principals: ['this-account'] };
  data.alerting = { page: {}, ticket: {} };
  return parsePolicy(stringify(data), file).policy;
}

interface ProbeStackProps extends StackProps {
  readonly telemetry: TelemetryStack;
}

/** The probe: a Lambda with the producer policy and the right to assume the trace analyst role, nothing else. */
export class ProbeStack extends Stack {
  readonly probe: TelemetryFunction;

  constructor(scope: Construct, id: string, props: ProbeStackProps) {
    super(scope, id, props);
    const { telemetry } = props;
    const { policy, ingest, storage } = telemetry;
    const role = new iam.Role(this, 'ProbeRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // What an application gets: the stack's producer policy (PutRecord/PutRecordBatch on the events stream).
    role.addManagedPolicy(ingest.producerPolicy);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [storage.traceAnalystRole.roleArn] }));
    this.probe = new TelemetryFunction(this, 'Probe', {
      entry: 'test/integ/probe.ts',
      description: 'Deploy test probe: sends through the producer SDK, reads back as the trace analyst',
      role,
      timeout: Duration.seconds(90),
      memorySize: 512,
      logRetention: logs.RetentionDays.ONE_DAY,
      logRemovalPolicy: RemovalPolicy.DESTROY,
      environment: {
        STREAM_NAME: ingest.eventsStream.deliveryStreamName,
        ANALYST_ROLE_ARN: storage.traceAnalystRole.roleArn,
        TRACES_BUCKET: storage.tracesBucket.bucketName,
        DATABASE: catalogDatabaseName(policy),
        WORKGROUP: analystsWorkGroupName(policy),
      },
    });
  }
}

/** The integ app: the stack, the probe, and the assertions. */
export function integApp(opts: { app?: App; run?: string } = {}): {
  app: App;
  telemetry: TelemetryStack;
  probe: ProbeStack;
  integ: IntegTest;
} {
  const app = opts.app ?? new App();
  const run = opts.run ?? runId(new Date(), randomBytes(3).toString('hex'));
  if (!/^[A-Za-z0-9-]{1,48}$/.test(run)) throw new Error(`run is ${JSON.stringify(run)}; use letters, digits and hyphens, at most 48`);
  const policy = integPolicy();
  // Environment-agnostic like the DeployAssert stack, so the cross-stack references
  // resolve; `cdk deploy` deploys all three to the CLI's account and region.
  const telemetry = new TelemetryStack(app, stackNameFor(policy), { policy });
  const probe = new ProbeStack(app, `${stackNameFor(policy)}-integ-probe`, { telemetry });
  const integ = new IntegTest(app, INTEG_TEST_ID, {
    testCases: [telemetry, probe],
    // No snapshot is committed: there is no earlier version to deploy first.
    stackUpdateWorkflow: false,
    cdkCommandOptions: { destroy: { args: { force: true } } },
  });
  const a = integ.assertions;
  const invoke = (req: ProbeRequest): IApiCall =>
    a.invokeFunction({
      functionName: probe.probe.functionName,
      invocationType: InvocationType.REQUEST_RESPONSE,
      payload: JSON.stringify(req),
    });
  // 1. Send through the producer SDK.
  const send = invoke({ action: 'send', run });
  const assertStack = Stack.of(send);
  // Ordered by integ.json for integ-runner; `cdk deploy --all` needs the dependency.
  assertStack.addStackDependency(telemetry);
  assertStack.addStackDependency(probe);
  const equals = (id: string, call: IApiCall, path: string, expected: string) =>
    new EqualsAssertion(assertStack, id, {
      actual: ActualResult.fromAwsApiCall(call, path),
      expected: ExpectedResult.exact(expected),
      failDeployment: true,
    });

  equals('Sent', send, 'Payload.status', 'sent');
  equals('SentEvents', send, 'Payload.sent', String(EVENTS_PER_RUN));

  // 2. Wait for the Parquet object and the rows, or an error.
  const wait = invoke({ action: 'check', run });
  wait.assertAtPath('Payload.status', ExpectedResult.stringLikeRegexp('^(found|error)')).waitForAssertions({
    totalTimeout: Duration.minutes(15),
    interval: Duration.seconds(30),
    backoffRate: 1,
  });
  send.next(wait);

  // 3. Read once more and assert what is stored.
  const stored = invoke({ action: 'check', run });
  wait.next(stored);
  equals('Found', stored, 'Payload.status', 'found');
  equals('IsParquet', stored, 'Payload.parquet', 'PAR1');
  equals('AllEvents', stored, 'Payload.events', String(EVENTS_PER_RUN));
  equals('NoPlantedEmail', stored, 'Payload.planted_email', 'absent');
  equals('NoPlantedKey', stored, 'Payload.planted_key', 'absent');
  equals('Placeholders', stored, 'Payload.error_message', EXPECTED_ERROR_MESSAGE);

  // 4. Flip a kill switch and read it back.
  const name = parameterName(switchPrefix(policy), FLIPPED_SWITCH);
  const flip = a.awsApiCall('SSM', 'putParameter', { Name: name, Value: serializeSwitchValue(FLIP), Type: 'String', Overwrite: true });
  const read = a.awsApiCall('SSM', 'getParameter', { Name: name });
  flip.next(read);
  // GetParameter's Value is the switch document; the provider parses it, so its fields are paths.
  equals('SwitchState', read, 'Parameter.Value.state', FLIP.state);
  equals('SwitchReason', read, 'Parameter.Value.reason', FLIP.reason);
  equals('SwitchChangedBy', read, 'Parameter.Value.changed_by', FLIP.changed_by);
  return { app, telemetry, probe, integ };
}

// Run as the app (`node --import tsx test/integ/integ.telemetry.ts`); importing it synthesizes nothing.
if (process.argv[1]?.endsWith('integ.telemetry.ts')) {
  integApp({ run: process.env.LLMOPS_INTEG_RUN }).app.synth();
}
