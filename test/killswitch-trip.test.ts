/**
 * Automatic trips: the pure core (`planTrip`, `tripMap`), the runner and the Lambda
 * handler against the local SSM server.
 */
import type { SNSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readSwitch } from '../lib/aws/switch-store';
import { mappedRefs, parseAlarmNotification, planTrip, tripMap, type AlarmNotification } from '../lib/core/killswitch/trip';
import { decodeTripEnv, tripEnvFromPolicy } from '../lib/core/killswitch/env';
import { createTripHandler, handler as exportedHandler } from '../lambdas/trip/index';
import { runTrip } from '../lib/aws/trip-runner';
import { initialValue, parameterName, serializeSwitchValue, switchPrefix, type SwitchReading } from '../lib/core/killswitch/values';
import { alarmName, resolveSwitches } from '../lib/core/policy';
import { policyFrom, shippedPolicyData, variantPolicy } from './support/policy';
import { startSsmServer, type SsmServer } from './support/ssm-server';

const policy = policyFrom(shippedPolicyData());
const prefix = switchPrefix(policy);
const NOW = Date.parse('2026-11-29T12:00:00Z');
const map = tripMap(policy);
/** The shipped policy's one auto trip, from the policy itself. */
const trip = policy.kill_switches.auto_trips[0]!;
const [bucket, id] = trip.alarm.split('.') as [string, string];
const mappedAlarm = alarmName(policy, bucket, id);

const alarm = (over: Partial<AlarmNotification> = {}): AlarmNotification => ({
  AlarmName: mappedAlarm,
  NewStateValue: 'ALARM',
  NewStateReason: 'Threshold Crossed: 1 out of the last 1 datapoints [2.0 (29/11/26 11:55:00)] was greater than the threshold (0.0).',
  StateChangeTime: '2026-11-29T11:59:58.123+0000',
  ...over,
});
const value = (state: 'on' | 'off', extra: object = {}): SwitchReading => ({
  kind: 'value',
  value: { state, reason: 'r', changed_by: 'deploy', ...extra },
});

describe('tripMap', () => {
  it('maps each auto_trips alarm, by its physical name, to its switches', () => {
    expect(policy.kill_switches.auto_trips.length).toBeGreaterThan(0);
    expect(map).toEqual({ [mappedAlarm]: [{ ref: trip.switch, set: trip.set }] });
    expect(mappedAlarm).toBe('copilot-prod-safety-access-violation-hr');
  });

  it('groups several switches under one alarm and is empty without auto_trips', () => {
    const p = variantPolicy((d) => {
      d.kill_switches.auto_trips = [
        { alarm: 'safety.p0-events', switch: 'read_only_mode', set: 'on' },
        { alarm: 'safety.p0-events', switch: 'debug_capture', set: 'off' },
        { alarm: 'reliability.provider-timeouts', switch: 'read_only_mode', set: 'on' },
      ];
    });
    expect(tripMap(p)).toEqual({
      'copilot-prod-safety-p0-events': [
        { ref: 'read_only_mode', set: 'on' },
        { ref: 'debug_capture', set: 'off' },
      ],
      'copilot-prod-reliability-provider-timeouts': [{ ref: 'read_only_mode', set: 'on' }],
    });
    expect(
      tripMap(
        variantPolicy((d) => {
          d.kill_switches.auto_trips = [];
        }),
      ),
    ).toEqual({});
  });

  it('round-trips through the trip environment (SWITCH_PREFIX, TRIP_MAP)', () => {
    expect(decodeTripEnv(tripEnvFromPolicy(policy))).toEqual({ prefix, map });
  });
});

describe('planTrip (pure core)', () => {
  it('a mapped alarm in ALARM writes the tripped state with the alarm as reason and changed_by', () => {
    const plan = planTrip(alarm(), map, new Map([[trip.switch, value('on')]]), NOW);
    expect(plan).toEqual({
      alarm: mappedAlarm,
      outcome: 'trip',
      unchanged: [],
      writes: [
        {
          ref: trip.switch,
          value: {
            state: trip.set,
            reason: `${mappedAlarm}: ${alarm().NewStateReason}`,
            changed_by: `auto-trip:${mappedAlarm}`,
            changed_at: '2026-11-29T12:00:00.000Z',
          },
        },
      ],
    });
  });

  it('OK and INSUFFICIENT_DATA write nothing (a human re-enables a switch)', () => {
    for (const state of ['OK', 'INSUFFICIENT_DATA']) {
      const n = alarm({ NewStateValue: state });
      expect(mappedRefs(n, map)).toEqual([]);
      expect(planTrip(n, map, new Map([[trip.switch, value('on')]]), NOW)).toEqual({
        alarm: mappedAlarm,
        outcome: 'not_alarm_state',
        writes: [],
        unchanged: [],
      });
    }
  });

  it('an unmapped alarm writes nothing, including names that are Object prototype keys', () => {
    for (const name of ['copilot-prod-safety-p0-events', 'constructor', '__proto__', 'toString']) {
      expect(planTrip(alarm({ AlarmName: name }), map, new Map(), NOW)).toEqual({
        alarm: name,
        outcome: 'unmapped',
        writes: [],
        unchanged: [],
      });
    }
  });

  it('is idempotent: a switch already in the tripped state is not written', () => {
    const plan = planTrip(alarm(), map, new Map([[trip.switch, value(trip.set)]]), NOW);
    expect(plan).toEqual({ alarm: mappedAlarm, outcome: 'trip', writes: [], unchanged: [trip.switch] });
  });

  it('writes when the tripped state has expired, or the parameter is missing or malformed', () => {
    for (const r of [
      value(trip.set, { expires_at: new Date(NOW - 1).toISOString() }),
      { kind: 'missing' } as const,
      { kind: 'malformed', problem: 'x' } as const,
      undefined,
    ]) {
      const plan = planTrip(alarm(), map, new Map(r ? [[trip.switch, r]] : []), NOW);
      expect(plan.writes.map((w) => w.ref)).toEqual([trip.switch]);
    }
  });

  it('truncates a long state reason and strips control characters', () => {
    const plan = planTrip(alarm({ NewStateReason: `line1\nline2 ${'x'.repeat(2000)}` }), map, new Map(), NOW);
    const reason = plan.writes[0]!.value.reason;
    expect(reason.length).toBe(500);
    expect(reason.startsWith(`${mappedAlarm}: line1 line2 xxx`)).toBe(true);
    expect(reason.endsWith('…')).toBe(true);
  });

  it('parses alarm notifications and nothing else', () => {
    expect(parseAlarmNotification(JSON.stringify({ ...alarm(), AWSAccountId: '123456789012', Trigger: {} }))).toEqual(alarm());
    for (const m of ['not json', '{}', '[]', 'null', JSON.stringify({ AlarmName: 'x' })])
      expect(parseAlarmNotification(m), m).toBeUndefined();
  });
});

describe('runTrip and the handler against the local SSM server', () => {
  let server: SsmServer;
  beforeEach(async () => {
    server = await startSsmServer();
    for (const sw of resolveSwitches(policy)) server.put(parameterName(prefix, sw.ref), serializeSwitchValue(initialValue(sw)));
  });
  afterEach(async () => {
    await server.close();
  });

  it('writes the mapped switch once; a redelivery reads and writes nothing more', async () => {
    const deps = { ssm: server.client(), prefix, map, now: () => NOW };
    const name = parameterName(prefix, trip.switch);
    const first = await runTrip(JSON.stringify(alarm()), deps);
    expect(first).toEqual({ alarm: mappedAlarm, outcome: 'trip', written: [trip.switch], unchanged: [] });
    expect(server.callsOf('GetParameters').map((c) => c.body)).toEqual([{ Names: [name], WithDecryption: false }]);
    expect(server.callsOf('PutParameter').map((c) => c.body)).toEqual([
      { Name: name, Type: 'String', Overwrite: true, Value: expect.any(String) },
    ]);
    expect(await readSwitch(server.client(), prefix, trip.switch)).toEqual({
      kind: 'value',
      value: {
        state: trip.set,
        reason: `${mappedAlarm}: ${alarm().NewStateReason}`,
        changed_by: `auto-trip:${mappedAlarm}`,
        changed_at: '2026-11-29T12:00:00.000Z',
      },
    });
    const again = await runTrip(JSON.stringify(alarm()), deps);
    expect(again).toEqual({ alarm: mappedAlarm, outcome: 'trip', written: [], unchanged: [trip.switch] });
    expect(server.callsOf('PutParameter')).toHaveLength(1);
  });

  it('OK, unmapped and non-alarm messages make no SSM call at all', async () => {
    const deps = { ssm: server.client(), prefix, map, now: () => NOW };
    expect((await runTrip(JSON.stringify(alarm({ NewStateValue: 'OK' })), deps)).outcome).toBe('not_alarm_state');
    expect((await runTrip(JSON.stringify(alarm({ AlarmName: 'copilot-prod-safety-p0-events' })), deps)).outcome).toBe('unmapped');
    expect((await runTrip('hello', deps)).outcome).toBe('not_an_alarm');
    expect(server.calls).toEqual([]);
  });

  it('fails (so that the invocation is retried) when the write fails, naming the switch and the error only', async () => {
    server.failNext({ operation: 'PutParameter', type: 'AccessDeniedException' });
    await expect(runTrip(JSON.stringify(alarm()), { ssm: server.client(), prefix, map })).rejects.toThrow(
      `alarm ${mappedAlarm}: could not trip ${trip.switch} (AccessDeniedException); tripped none`,
    );
  });

  it('the Lambda handler trips from an SNS event, configured by SWITCH_PREFIX and TRIP_MAP on its first invocation', async () => {
    const logged: string[] = [];
    const logger = { info: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) };
    const handler = createTripHandler({ env: tripEnvFromPolicy(policy), ssm: server.client(), logger, now: () => NOW });
    const event = {
      Records: [
        { Sns: { MessageId: 'm-1', Message: JSON.stringify(alarm()) } },
        { Sns: { MessageId: 'm-2', Message: JSON.stringify(alarm()) } },
      ],
    } as unknown as SNSEvent;
    expect(await handler(event)).toEqual({ tripped: 1 });
    expect(server.callsOf('PutParameter')).toHaveLength(1);
    const r = await readSwitch(server.client(), prefix, trip.switch);
    expect(r.kind === 'value' && r.value.state).toBe(trip.set);
    expect(logged).toEqual(['trip processed', 'trip processed']);
  });

  it('fails when SWITCH_PREFIX and TRIP_MAP are missing: on the first invocation (not at import), naming both, with no SSM call', async () => {
    const logged: [string, unknown][] = [];
    const logger = { info: () => undefined, error: (m: string, ...f: unknown[]) => void logged.push([m, f[0]]) };
    const handler = createTripHandler({ env: { SWITCH_PREFIX: 'copilot/prod' }, ssm: server.client(), logger });
    const message = [
      'SWITCH_PREFIX is "copilot/prod"; expected a parameter path such as /copilot/prod/kill-switches',
      'TRIP_MAP is not set; expected JSON such as {"copilot-prod-safety-p0-events":[{"ref":"read_only_mode","set":"on"}]}',
    ].join('\n');
    const event = { Records: [{ Sns: { MessageId: 'm-1', Message: JSON.stringify(alarm()) } }] } as unknown as SNSEvent;
    await expect(handler(event)).rejects.toThrow(message);
    expect(logged).toEqual([['configuration failed', { error: message }]]);
    expect(server.calls).toEqual([]);
  });

  it('fails when the exported handler runs without its environment: importing it read nothing, its first call names the variables', async () => {
    for (const k of ['SWITCH_PREFIX', 'TRIP_MAP']) expect(process.env[k], k).toBeUndefined();
    const written: string[] = [];
    const capture = ((c: unknown) => (written.push(String(c)), true)) as typeof process.stdout.write;
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const event = { Records: [] } as unknown as SNSEvent;
    await expect(exportedHandler(event)).rejects.toThrow(/^SWITCH_PREFIX is not set; expected a parameter path/);
    vi.restoreAllMocks();
    // The Powertools Logger, named from the service table, says why.
    expect(written.join('')).toMatch(
      /"message":"configuration failed".*"service":"kill-switch-trip"|"service":"kill-switch-trip".*"message":"configuration failed"/,
    );
  });
});
