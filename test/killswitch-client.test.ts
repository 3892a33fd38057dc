/**
 * The runtime client against a real local HTTP server speaking the SSM JSON protocol,
 * through the real SSMClient. Expectations come from `resolveSwitches(policy)`.
 */
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KillSwitches, type KillSwitchProblem } from '../lib/client/kill-switches';
import { initialValue, parameterName, serializeSwitchValue, switchPrefix, type SwitchValue } from '../lib/core/killswitch/values';
import { durationSeconds, resolveSwitches, type ResolvedSwitch } from '../lib/core/policy';
import { policyFrom, shippedPolicyData } from './support/policy';
import { startSsmServer, type SsmServer } from './support/ssm-server';

const policy = policyFrom(shippedPolicyData());
const switches = resolveSwitches(policy);
const prefix = switchPrefix(policy);
const TTL_MS = durationSeconds(policy.kill_switches.cache_ttl) * 1000;
const T0 = Date.parse('2026-11-29T12:00:00Z');

const byKind = (kind: ResolvedSwitch['kind']) => switches.filter((s) => s.kind === kind);
const writeTools = switches.filter((s) => s.kind === 'tool' && s.writes);
const readTools = switches.filter((s) => s.kind === 'tool' && !s.writes);

let server: SsmServer;
let clock: number;
let problems: KillSwitchProblem[];

function client(extra: Partial<ConstructorParameters<typeof KillSwitches>[0]> = {}): KillSwitches {
  return new KillSwitches({ policy, ssm: server.client(), now: () => clock, onError: (p) => problems.push(p), ...extra });
}

function set(ref: string, value: Partial<SwitchValue> & Pick<SwitchValue, 'state'>): void {
  server.put(
    parameterName(prefix, ref),
    serializeSwitchValue({ reason: 'test', changed_by: 'tester', changed_at: new Date(clock).toISOString(), ...value }),
  );
}

/** Deploy-time documents for every switch, as the construct writes them. */
function deployAll(): void {
  for (const sw of switches) server.put(parameterName(prefix, sw.ref), serializeSwitchValue(initialValue(sw)));
}

/** Reads of all switches (a read is one or more pages; a page with a NextToken continues one). */
const reads = () => server.callsOf('GetParametersByPath').filter((c) => c.body.NextToken === undefined).length;

beforeEach(async () => {
  server = await startSsmServer();
  clock = T0;
  problems = [];
});
afterEach(async () => {
  await server.close();
});

describe('KillSwitches: reading', () => {
  it('fresh read: one GetParametersByPath on the prefix (recursive, no decryption) answers every question', async () => {
    deployAll();
    set('tools.create_ticket', { state: 'off' });
    set('connectors.hr_policies', { state: 'off' });
    set('human_review.hr_request', { state: 'on' });
    const ks = client();
    await ks.ready();

    const pages = server.callsOf('GetParametersByPath');
    expect(pages).toHaveLength(Math.ceil(switches.length / 10));
    expect(pages[0]).toEqual({
      operation: 'GetParametersByPath',
      body: { Path: prefix, Recursive: true, WithDecryption: false, MaxResults: 10 },
      signed: true,
    });
    expect(server.calls.every((c) => c.operation === 'GetParametersByPath')).toBe(true);
    expect(ks.isToolAllowed('create_ticket')).toBe(false);
    expect(ks.isToolAllowed('update_ticket')).toBe(true);
    expect(ks.isConnectorEnabled('hr_policies')).toBe(false);
    expect(ks.isConnectorEnabled('it_kb')).toBe(true);
    expect(ks.requiresHumanReview('hr_request')).toBe(true);
    expect(ks.requiresHumanReview('ticket_create')).toBe(false);
    expect(ks.isDebugCaptureAllowed()).toBe(false);
    for (const sw of switches) {
      const expected = ['tools.create_ticket', 'connectors.hr_policies'].includes(sw.ref)
        ? 'off'
        : sw.ref === 'human_review.hr_request'
          ? 'on'
          : sw.initial;
      expect(ks.evaluate(sw.ref), sw.ref).toEqual({ state: expected, source: 'set' });
    }
    expect(ks.status()).toEqual({ loadedAt: T0, failedAt: undefined, basis: 'fresh' });
    expect(problems).toEqual([]);
  });

  it('cached read: no second call within the TTL; the first question after it refreshes in the background', async () => {
    deployAll();
    const ks = client();
    await ks.ready();
    expect(reads()).toBe(1);
    set('tools.create_ticket', { state: 'off' }); // flipped after the read

    clock = T0 + TTL_MS - 1;
    for (let i = 0; i < 50; i++) expect(ks.isToolAllowed('create_ticket')).toBe(true);
    await ks.ready();
    expect(reads()).toBe(1);

    clock = T0 + TTL_MS;
    expect(ks.isToolAllowed('create_ticket')).toBe(true); // answered from the cache, not blocked on SSM
    expect(ks.status().basis).toBe('stale');
    await ks.ready();
    expect(reads()).toBe(1 + 1);
    expect(ks.isToolAllowed('create_ticket')).toBe(false); // the flip took effect within one TTL
    expect(ks.status()).toMatchObject({ loadedAt: T0 + TTL_MS, basis: 'fresh' });
  });

  it('never blocks the request path: questions answer while a slow read is in flight, and concurrent refreshes share one read', async () => {
    deployAll();
    server.delayMs = 150;
    const ks = client();
    const first = ks.ready();
    const second = ks.refresh();
    // Answered synchronously from the safe defaults while the read is held by the server.
    expect(ks.isToolAllowed('create_ticket')).toBe(false); // nothing read yet: safe default (write tools off)
    expect(ks.isToolAllowed('search_kb')).toBe(true);
    expect(ks.status().basis).toBe('safe_defaults');
    await Promise.all([first, second]);
    expect(reads()).toBe(1);
    expect(ks.isToolAllowed('create_ticket')).toBe(true);
  });

  it('paginates: follows NextToken until every switch is read', async () => {
    deployAll();
    server.pageSize = 3;
    set('human_review.ticket_create', { state: 'on' });
    const ks = client();
    await ks.ready();
    const pages = server.callsOf('GetParametersByPath');
    expect(pages).toHaveLength(Math.ceil(switches.length / 3));
    expect(pages.map((c) => c.body.NextToken)).toEqual([undefined, ...pages.slice(1).map((_, i) => `page-${(i + 1) * 3}`)]);
    for (const sw of switches) expect(ks.evaluate(sw.ref)?.source, sw.ref).toBe('set');
    expect(ks.requiresHumanReview('ticket_create')).toBe(true);
  });

  it('ignores parameters under the prefix that belong to no switch', async () => {
    deployAll();
    server.put(`${prefix}/tools/retired_tool`, serializeSwitchValue({ state: 'on', reason: 'old', changed_by: 'x' }));
    const ks = client();
    await ks.ready();
    expect(ks.isToolAllowed('retired_tool')).toBe(false);
    expect(problems).toEqual([{ kind: 'unknown', ref: 'tools.retired_tool', message: expect.stringContaining('not declared') }]);
  });
});

describe('KillSwitches: failing safe', () => {
  it('SSM failure with no last known state: every switch at its safe default (write tools off), reported', async () => {
    deployAll();
    server.failNext({ operation: 'GetParametersByPath', type: 'ThrottlingException', message: 'Rate exceeded' });
    const ks = client();
    await expect(ks.ready()).resolves.toBeUndefined();
    for (const sw of switches) expect(ks.evaluate(sw.ref), sw.ref).toEqual({ state: sw.safeDefault, source: 'unread' });
    for (const t of writeTools) expect(ks.isToolAllowed(t.target!), t.ref).toBe(false);
    for (const t of readTools) expect(ks.isToolAllowed(t.target!), t.ref).toBe(t.safeDefault === 'on');
    for (const c of byKind('connector')) expect(ks.isConnectorEnabled(c.target!)).toBe(c.safeDefault === 'on');
    for (const h of byKind('human_review')) expect(ks.requiresHumanReview(h.target!)).toBe(h.safeDefault === 'on');
    expect(ks.isDebugCaptureAllowed()).toBe(false);
    expect(ks.status().basis).toBe('safe_defaults');
    expect(problems).toEqual([
      expect.objectContaining({
        kind: 'read_failed',
        fallback: 'safe_defaults',
        message: expect.stringMatching(
          /^cannot read the kill switches under \/copilot\/prod\/kill-switches \(ThrottlingException: Rate exceeded\); using the safe defaults$/,
        ),
      }),
    ]);
  });

  it('SSM failure with a last known state: keeps it, reports it, and retries after retryMs, not on every question', async () => {
    deployAll();
    set('connectors.hr_policies', { state: 'off' });
    const ks = client({ retryMs: 1000 });
    await ks.ready();
    set('connectors.hr_policies', { state: 'on' });
    server.failNext({ operation: 'GetParametersByPath', type: 'InternalServerError', status: 500, times: 1 });

    clock = T0 + TTL_MS;
    expect(ks.isConnectorEnabled('hr_policies')).toBe(false);
    await ks.ready();
    expect(reads()).toBe(2);
    expect(ks.isConnectorEnabled('hr_policies')).toBe(false); // last known state, not the safe default (on)
    expect(ks.isToolAllowed('create_ticket')).toBe(true); // last known, not the write tool's safe default (off)
    expect(ks.status()).toEqual({ loadedAt: T0, failedAt: T0 + TTL_MS, basis: 'last_known' });
    expect(problems).toEqual([expect.objectContaining({ kind: 'read_failed', fallback: 'last_known' })]);

    clock += 999;
    for (let i = 0; i < 20; i++) ks.isConnectorEnabled('hr_policies');
    await new Promise((r) => setTimeout(r, 50));
    expect(reads()).toBe(2); // within retryMs of the failure: no new read
    clock += 1;
    ks.isConnectorEnabled('hr_policies'); // starts the retry in the background
    await ks.ready(); // joins it
    expect(reads()).toBe(3);
    expect(ks.isConnectorEnabled('hr_policies')).toBe(true);
    expect(ks.status().basis).toBe('fresh');
  });

  it('questions alone do not retry a failed read before retryMs', async () => {
    server.failNext({ operation: 'GetParametersByPath', type: 'ThrottlingException', times: 5 });
    const ks = client({ retryMs: 2000 });
    await ks.ready();
    expect(reads()).toBe(1);
    for (let i = 0; i < 100; i++) {
      clock += 10;
      ks.isToolAllowed('search_kb');
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(reads()).toBe(1);
    clock = T0 + 2000;
    ks.isToolAllowed('search_kb');
    await new Promise((r) => setTimeout(r, 50));
    expect(reads()).toBe(2);
  });

  it('malformed values: that switch at its safe default, reported without quoting the value; the others unaffected', async () => {
    deployAll();
    const secret = 'Bearer abc.def.ghi';
    server.put(parameterName(prefix, 'tools.update_ticket'), `{"state":"on","reason":"${secret}"`); // not JSON
    server.put(parameterName(prefix, 'connectors.it_kb'), JSON.stringify({ state: 'maybe', reason: secret, changed_by: 'x' }));
    server.put(parameterName(prefix, 'human_review.hr_request'), JSON.stringify({ state: 'off', changed_by: 'x' }));
    server.put(
      parameterName(prefix, 'read_only_mode'),
      JSON.stringify({ state: 'off', reason: 'r', changed_by: 'x', expires_at: 'tomorrow' }),
    );
    const ks = client();
    await ks.ready();
    const bad = ['tools.update_ticket', 'connectors.it_kb', 'human_review.hr_request', 'read_only_mode'];
    for (const sw of switches) {
      expect(ks.evaluate(sw.ref), sw.ref).toEqual(
        bad.includes(sw.ref) ? { state: sw.safeDefault, source: 'malformed' } : { state: sw.initial, source: 'set' },
      );
    }
    expect(ks.isToolAllowed('create_ticket')).toBe(false); // read_only_mode malformed -> safe default on
    expect(ks.isToolAllowed('search_kb')).toBe(true);
    expect(problems.map((p) => p.kind === 'malformed' && p.ref).sort()).toEqual([...bad].sort());
    expect(problems.find((p) => p.kind === 'malformed' && p.ref === 'connectors.it_kb')?.message).toBe(
      "connectors.it_kb: the parameter holds no valid switch document (state: state must be 'on' or 'off'); using its safe default",
    );
    for (const p of problems) expect(p.message).not.toContain(secret);
  });

  it('missing parameters: the safe default for each missing switch', async () => {
    deployAll();
    for (const ref of ['tools.search_kb', 'tools.create_ticket', 'connectors.service_desk', 'human_review.ticket_create'])
      server.parameters.delete(parameterName(prefix, ref));
    const ks = client();
    await ks.ready();
    expect(ks.evaluate('tools.create_ticket')).toEqual({ state: 'off', source: 'missing' });
    expect(ks.isToolAllowed('create_ticket')).toBe(false);
    expect(ks.isToolAllowed('search_kb')).toBe(true); // read tool: safe default on
    expect(ks.evaluate('connectors.service_desk')).toEqual({ state: 'on', source: 'missing' });
    expect(ks.requiresHumanReview('ticket_create')).toBe(true); // forced review is the safe default
    expect(ks.isToolAllowed('update_ticket')).toBe(true);
  });

  it('a parameter deleted after a good read goes to its safe default on the next read', async () => {
    deployAll();
    const ks = client();
    await ks.ready();
    expect(ks.isToolAllowed('update_ticket')).toBe(true);
    server.parameters.delete(parameterName(prefix, 'tools.update_ticket'));
    clock += TTL_MS;
    await ks.ready();
    expect(ks.isToolAllowed('update_ticket')).toBe(false);
  });

  it('expired overrides return to the policy initial state, on time, even between reads', async () => {
    deployAll();
    const expires = new Date(T0 + 60_000).toISOString();
    set('connectors.hr_policies', { state: 'off', expires_at: expires });
    set('human_review.hr_request', { state: 'on', expires_at: expires });
    set('tools.create_ticket', { state: 'off', expires_at: new Date(T0 - 1).toISOString() });
    const ks = client({ ttlMs: 10 * 60_000 });
    await ks.ready();
    expect(ks.evaluate('tools.create_ticket')).toEqual({ state: 'on', source: 'expired' });
    expect(ks.isConnectorEnabled('hr_policies')).toBe(false);
    expect(ks.requiresHumanReview('hr_request')).toBe(true);

    clock = T0 + 60_000;
    expect(ks.isConnectorEnabled('hr_policies')).toBe(true);
    expect(ks.requiresHumanReview('hr_request')).toBe(false);
    expect(ks.evaluate('connectors.hr_policies')).toEqual({ state: 'on', source: 'expired' });
    expect(reads()).toBe(1);
  });

  it('read_only_mode on turns off every write tool and leaves read tools alone', async () => {
    deployAll();
    set('read_only_mode', { state: 'on' });
    const ks = client();
    await ks.ready();
    for (const t of writeTools) expect(ks.isToolAllowed(t.target!), t.ref).toBe(false);
    for (const t of readTools) expect(ks.isToolAllowed(t.target!), t.ref).toBe(true);
    expect(writeTools.length).toBeGreaterThan(0);
    expect(readTools.length).toBeGreaterThan(0);
  });

  it('never throws into the caller: unreachable endpoint, timeouts, 500s, a throwing onError, unknown names', async () => {
    deployAll();
    const dead = new KillSwitches({
      policy,
      ssm: new (await import('@aws-sdk/client-ssm')).SSMClient({
        endpoint: 'http://127.0.0.1:9',
        region: 'eu-west-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        maxAttempts: 1,
      }),
      onError: () => {
        throw new Error('handler bug');
      },
    });
    await expect(dead.ready()).resolves.toBeUndefined();
    expect(dead.isToolAllowed('create_ticket')).toBe(false);

    server.delayMs = 500;
    const slow = client({ timeoutMs: 50 });
    await slow.ready();
    expect(problems).toEqual([expect.objectContaining({ kind: 'read_failed', fallback: 'safe_defaults' })]);
    server.delayMs = 0;

    server.failNext({ type: 'InternalServerError', status: 500 });
    const ks = client({
      onError: () => {
        throw new Error('handler bug');
      },
    });
    await expect(ks.refresh()).resolves.toBeUndefined();
    expect(() => {
      ks.isToolAllowed('no_such_tool');
      ks.isConnectorEnabled('no_such_connector');
      ks.requiresHumanReview('no_such_intent');
      ks.isDebugCaptureAllowed('no_such_cohort');
    }).not.toThrow();
    expect(ks.state('tools.no_such_tool')).toBeUndefined();
    expect(ks.isToolAllowed('no_such_tool')).toBe(false);
    expect(ks.isConnectorEnabled('no_such_connector')).toBe(false);
    expect(ks.requiresHumanReview('no_such_intent')).toBe(false);
  });

  it('reports an undeclared tool or connector once, however often it is asked about', async () => {
    deployAll();
    const ks = client();
    await ks.ready();
    for (let i = 0; i < 5; i++) ks.isToolAllowed('shell_exec');
    expect(problems).toEqual([
      {
        kind: 'unknown',
        ref: 'tools.shell_exec',
        message: "tools.shell_exec is not declared in the policy's kill_switches; it is treated as off",
      },
    ]);
  });
});

describe('KillSwitches: debug capture and construction', () => {
  it('debug capture needs the switch on and, for a cohort, an unexpired enrolment', async () => {
    deployAll();
    set('debug_capture', { state: 'on' });
    const enrolments = [
      { cohort: 'inc_4711', expires_at: new Date(T0 + 3_600_000).toISOString() },
      { cohort: 'inc_old', expires_at: new Date(T0 - 1).toISOString() },
    ];
    const ks = client({ enrolments });
    await ks.ready();
    expect(ks.isDebugCaptureAllowed()).toBe(true);
    expect(ks.isDebugCaptureAllowed('inc_4711')).toBe(true);
    expect(ks.isDebugCaptureAllowed('inc_old')).toBe(false);
    expect(ks.isDebugCaptureAllowed('unenrolled')).toBe(false);
    set('debug_capture', { state: 'off' });
    clock += TTL_MS;
    await ks.ready();
    expect(ks.isDebugCaptureAllowed('inc_4711')).toBe(false);
  });

  it('takes a resolved switch list and a prefix instead of a policy; the TTL defaults to the policy default', () => {
    const ks = new KillSwitches({ switches, prefix: `${prefix}/`, ssm: server.client() });
    expect(ks.prefix).toBe(prefix);
    expect(ks.ttlMs).toBe(30_000);
    expect(new KillSwitches({ policy, ssm: server.client() }).ttlMs).toBe(TTL_MS);
  });

  it('fails when neither a policy nor switches and a prefix are given', () => {
    expect(() => new KillSwitches({ switches })).toThrow(
      'KillSwitches needs a policy, or switches and a prefix (e.g. { switches: resolveSwitches(policy), prefix: "/copilot/prod/kill-switches" })',
    );
  });

  it('is importable without aws-cdk-lib: the bundle of kill-switches.ts contains no CDK module', async () => {
    const result = await build({
      entryPoints: ['lib/client/kill-switches.ts'],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      external: ['@aws-sdk/*'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('lib/client/kill-switches.ts');
    expect(inputs.filter((i) => /aws-cdk-lib|constructs|cdk-nag/.test(i))).toEqual([]);
  });
});
