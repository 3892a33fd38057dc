/**
 * DebugCaptureSender: a capture reaches the debug stream only for an enrolled,
 * unexpired cohort (of its tenant) while the real kill-switch client (against the local
 * SSM server) allows it; everything else is counted with its reason and never sent.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enrolmentVerdict } from '../lib/core/transform/transform';
import {
  DebugCaptureSender,
  captureVerdict,
  type DebugCaptureInput,
  type DebugCaptureSenderOptions,
  type DropNotice,
  type CaptureDropReason,
} from '../lib/client';
import { KillSwitches } from '../lib/client/kill-switches';
import { parameterName, serializeSwitchValue, switchPrefix } from '../lib/core/killswitch/values';
import type { Policy } from '../lib/core/policy';
import { TEST_NOW, variantPolicy } from './support/policy';
import { startFirehoseServer, type FirehoseServer } from './support/firehose-server';
import { startSsmServer, type SsmServer } from './support/ssm-server';

const DEBUG_STREAM = 'copilot-test-debug';
const T0 = TEST_NOW.getTime();
const HOUR = 3_600_000;

const policy: Policy = variantPolicy((d) => {
  d.debug_capture = {
    enabled: true,
    enrolments: [
      { cohort: 'inc_4711', tenant_id: 'emea', reason: 'INC-4711', expires_at: new Date(T0 + 24 * HOUR).toISOString() },
      { cohort: 'inc_short', user_role: 'employee', reason: 'INC-4712', expires_at: new Date(T0 + HOUR).toISOString() },
    ],
  };
});

const capture = (extra: Partial<DebugCaptureInput> = {}): DebugCaptureInput => ({
  trace_id: 'trace-1',
  request_id: 'req-1',
  tenant_id: 'emea',
  cohort: 'inc_4711',
  reason: 'INC-4711',
  prompt_text: 'How do I reset my VPN token? My email is someone@example.com',
  completion_text: 'Open the self-service portal...',
  ...extra,
});

let firehose: FirehoseServer;
let ssm: SsmServer;
let clock: number;
let drops: DropNotice<CaptureDropReason>[];
const senders: DebugCaptureSender[] = [];

async function switches(state: 'on' | 'off'): Promise<KillSwitches> {
  ssm.put(
    parameterName(switchPrefix(policy), 'debug_capture'),
    serializeSwitchValue({ state, reason: 'test', changed_by: 'tester', changed_at: new Date(T0).toISOString() }),
  );
  const ks = new KillSwitches({ policy, ssm: ssm.client(), now: () => clock, onError: () => undefined });
  await ks.ready();
  return ks;
}

function sender(opts: Partial<DebugCaptureSenderOptions> = {}): DebugCaptureSender {
  const s = new DebugCaptureSender({
    streamName: DEBUG_STREAM,
    firehose: firehose.client(),
    policy,
    now: () => clock,
    flushIntervalMs: 60_000,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    onDrop: (d) => drops.push(d),
    ...opts,
  });
  senders.push(s);
  return s;
}

beforeEach(async () => {
  [firehose, ssm] = await Promise.all([startFirehoseServer(), startSsmServer()]);
  clock = T0;
  drops = [];
});
afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
  await Promise.all([firehose.close(), ssm.close()]);
});

describe('DebugCaptureSender', () => {
  it('sends a capture of an enrolled, unexpired cohort while the switch is on, exactly as given (timestamp filled)', async () => {
    const s = sender({ killSwitches: await switches('on') });
    expect(s.send(capture())).toBe(true);
    await s.flush();
    expect(firehose.events(DEBUG_STREAM)).toEqual([{ ...capture(), timestamp: TEST_NOW.toISOString() }]);
    expect(s.stats()).toMatchObject({ recorded: 1, sent: 1, dropped: 0, invalid: 0 });
    expect(drops).toEqual([]);
  });

  it('does not send when the debug_capture switch is off: counted as switch_off', async () => {
    const s = sender({ killSwitches: await switches('off') });
    expect(s.send(capture())).toBe(false);
    await s.flush();
    expect(firehose.requests).toHaveLength(0);
    expect(s.stats()).toMatchObject({ recorded: 1, sent: 0, dropped: 1, droppedByReason: { switch_off: 1 } });
    expect(drops).toEqual([{ reason: 'switch_off', count: 1, detail: 'the debug_capture kill switch does not allow cohort inc_4711' }]);
  });

  it('does not send for a cohort that is not enrolled, of another tenant, or expired: each counted with its reason', async () => {
    const s = sender({ killSwitches: await switches('on') });
    expect(s.send(capture({ cohort: 'inc_9999' }))).toBe(false);
    expect(s.send(capture({ tenant_id: 'amer' }))).toBe(false);
    clock = T0 + 2 * HOUR;
    expect(s.send(capture({ cohort: 'inc_short', user_role: 'employee' }))).toBe(false);
    clock = T0 + 25 * HOUR;
    expect(s.send(capture())).toBe(false);
    await s.flush();
    expect(firehose.requests).toHaveLength(0);
    expect(s.stats()).toMatchObject({
      recorded: 4,
      sent: 0,
      dropped: 4,
      droppedByReason: { not_enrolled: 1, tenant_mismatch: 1, expired: 2 },
    });
    expect(drops.map((d) => d.detail)).toEqual([
      'cohort inc_9999: not enrolled',
      'cohort inc_4711: tenant mismatch',
      'cohort inc_short: expired',
      'cohort inc_4711: expired',
    ]);
  });

  it('does not send for a user role the enrolment does not name, nor for a capture without a role: role_mismatch', async () => {
    const s = sender({ killSwitches: await switches('on') });
    expect(s.send(capture({ cohort: 'inc_short', user_role: 'hr_specialist' }))).toBe(false);
    expect(s.send(capture({ cohort: 'inc_short' }))).toBe(false);
    expect(s.send(capture({ cohort: 'inc_short', user_role: 'employee' }))).toBe(true);
    await s.flush();
    expect(firehose.events(DEBUG_STREAM)).toEqual([
      { ...capture({ cohort: 'inc_short', user_role: 'employee' }), timestamp: TEST_NOW.toISOString() },
    ]);
    expect(s.stats()).toMatchObject({ recorded: 3, sent: 1, dropped: 2, droppedByReason: { role_mismatch: 2 } });
    expect(drops.map((d) => d.detail)).toEqual(['cohort inc_short: role mismatch', 'cohort inc_short: role mismatch']);
  });

  it('does not send when the policy has debug capture disabled', async () => {
    const off = variantPolicy((d) => void (d.debug_capture = { enabled: false, enrolments: [] }));
    const s = sender({ policy: off, killSwitches: await switches('on') });
    expect(s.send(capture())).toBe(false);
    expect(s.stats().droppedByReason.disabled).toBe(1);
  });

  it('without a kill-switch client, enrolment alone decides; a switch client that throws refuses', async () => {
    const plain = sender({ policy: undefined, enrolments: policy.debug_capture.enrolments });
    expect(plain.send(capture())).toBe(true);
    const broken = sender({
      killSwitches: {
        isDebugCaptureAllowed: () => {
          throw new Error('ssm');
        },
      },
    });
    expect(broken.send(capture())).toBe(false);
    expect(broken.stats().droppedByReason.switch_off).toBe(1);
    await plain.flush();
    expect(firehose.events(DEBUG_STREAM)).toHaveLength(1);
  });

  it('validates against the contract DebugCapture schema: invalid captures are counted, never sent, reported by key path', async () => {
    const s = sender({ killSwitches: await switches('on') });
    expect(s.send(capture({ trace_id: 'has spaces', reason: '' }))).toBe(false);
    expect(s.send(null as unknown as DebugCaptureInput)).toBe(false);
    expect(s.stats()).toMatchObject({ recorded: 0, invalid: 2, dropped: 0, droppedByReason: { invalid: 2 } });
    expect(drops.map((d) => d.detail)).toEqual([
      'schema_violation: trace_id: must match [A-Za-z0-9._:-]{1,128}; reason: too short (at least 1)',
      'not_an_object: record is null; expected a JSON object',
    ]);
  });

  it('never throws, whatever it is given (fast-check)', () => {
    const s = sender();
    let calls = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything({ withBigInt: true, withNullPrototype: true }),
          fc
            .record({ cohort: fc.string(), tenant_id: fc.string(), timestamp: fc.anything() }, { requiredKeys: [] })
            .map((x) => ({ ...capture(), ...x })),
        ),
        (x) => {
          expect(typeof s.send(x as DebugCaptureInput)).toBe('boolean');
          calls++;
        },
      ),
      { numRuns: 300 },
    );
    const st = s.stats();
    expect(st.recorded + st.invalid).toBe(calls);
    expect(st.recorded).toBe(st.sent + st.dropped + st.buffered);
  });

  it('fails when neither a policy nor enrolments are given', () => {
    expect(() => new DebugCaptureSender({ streamName: DEBUG_STREAM, firehose: firehose.client() })).toThrow(
      'DebugCaptureSender needs the policy or the enrolments (policy.debug_capture.enrolments): captures are only sent for enrolled cohorts',
    );
  });

  it('decides exactly as the ingest check does (fast-check against lambdas/redact enrolmentVerdict)', () => {
    const name = fc.constantFrom('a', 'b', 'c');
    const enrolment = fc.record({
      cohort: name,
      tenant_id: fc.option(fc.constantFrom('emea', 'amer'), { nil: undefined }),
      reason: fc.constant('r'),
      expires_at: fc.oneof(
        fc.integer({ min: -5, max: 5 }).map((h) => new Date(T0 + h * HOUR).toISOString()),
        fc.constant('not a date'),
      ),
    });
    fc.assert(
      fc.property(
        fc.array(enrolment, { maxLength: 5 }),
        name,
        fc.constantFrom('emea', 'amer'),
        fc.integer({ min: -6, max: 6 }),
        (enrolments, cohort, tenant, h) => {
          const c = { ...capture({ cohort, tenant_id: tenant }), timestamp: TEST_NOW.toISOString() };
          const now = T0 + h * HOUR;
          expect(captureVerdict(c, enrolments, now)).toBe(enrolmentVerdict(c, enrolments, new Date(now)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
