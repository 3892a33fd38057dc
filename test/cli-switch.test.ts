/**
 * `llmops switch list|set` against the local SSM server (real SSMClient over HTTP).
 * The commands are run with the same error handling as `llmops` (lib/cli/main.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SWITCH_HELP } from '../lib/cli/switch';
import { KillSwitches } from '../lib/client/kill-switches';
import { readSwitch } from '../lib/aws/switch-store';
import { initialValue, parameterName, serializeSwitchValue, switchPrefix } from '../lib/core/killswitch/values';
import { resolveSwitches } from '../lib/core/policy';
import { policyFrom, shippedPolicyData } from './support/policy';
import { runLlmops } from './support/cli';
import { startSsmServer, type SsmServer } from './support/ssm-server';

const policy = policyFrom(shippedPolicyData());
const switches = resolveSwitches(policy);
const prefix = switchPrefix(policy);

let server: SsmServer;

/** Runs a command as `llmops switch <cmd>` does: a UserError prints `llmops switch <cmd>: <message>` and exits with its code. */
function run(cmd: 'list' | 'set', args: string[], env: Record<string, string> = {}) {
  return runLlmops(['switch', cmd, ...args, '--endpoint', server.endpoint], { ...server.env, ...env });
}

const stored = async (ref: string) => readSwitch(server.client(), prefix, ref);

beforeEach(async () => {
  server = await startSsmServer();
  for (const sw of switches) server.put(parameterName(prefix, sw.ref), serializeSwitchValue(initialValue(sw)));
});
afterEach(async () => {
  await server.close();
});

describe('llmops switch set', () => {
  it('writes the document with the reason, the operator and the time, and says when it takes effect', async () => {
    const before = Date.now();
    const r = await run('set', [
      'connectors.hr_policies',
      'off',
      '--reason',
      'INC-4711 HR docs seen by wrong roles',
      '--operator',
      'alice',
    ]);
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'connectors.hr_policies: on -> off (by alice). Applications see it within 30 s.\n' });
    const s = await stored('connectors.hr_policies');
    expect(s).toEqual({
      kind: 'value',
      value: { state: 'off', reason: 'INC-4711 HR docs seen by wrong roles', changed_by: 'alice', changed_at: expect.any(String) },
    });
    const at = Date.parse((s as { value: { changed_at: string } }).value.changed_at);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    expect(server.callsOf('PutParameter').map((c) => ({ ...c.body, Value: undefined }))).toEqual([
      { Name: '/copilot/prod/kill-switches/connectors/hr_policies', Type: 'String', Overwrite: true, Value: undefined },
    ]);
  });

  it('--expires-in records an expiry; after it the switch is back at its policy initial state', async () => {
    const r = await run('set', ['tools.create_ticket', 'off', '--reason', 'INC-1', '--expires-in', '2h'], { LLMOPS_OPERATOR: 'bob' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^tools\.create_ticket: on -> off \(by bob; expires \d{4}-\d\d-\d\dT[\d:.]+Z, then on \(policy initial\)\)\. Applications see it within 30 s\.\n$/,
    );
    const s = await stored('tools.create_ticket');
    if (s.kind !== 'value') throw new Error('not stored');
    expect(Date.parse(s.value.expires_at!) - Date.parse(s.value.changed_at!)).toBe(2 * 3600 * 1000);

    let now = Date.parse(s.value.changed_at!);
    const ks = new KillSwitches({ policy, ssm: server.client(), now: () => now, onError: () => {} });
    await ks.ready();
    expect(ks.isToolAllowed('create_ticket')).toBe(false);
    now += 2 * 3600 * 1000;
    expect(ks.isToolAllowed('create_ticket')).toBe(true);
  });

  it('takes the operator from --operator, else LLMOPS_OPERATOR, else USER', async () => {
    await run('set', ['read_only_mode', 'on', '--reason', 'a'], { USER: 'carol' });
    expect(await stored('read_only_mode')).toMatchObject({ value: { changed_by: 'carol' } });
    await run('set', ['read_only_mode', 'on', '--reason', 'b'], { USER: 'carol', LLMOPS_OPERATOR: 'dave' });
    expect(await stored('read_only_mode')).toMatchObject({ value: { changed_by: 'dave' } });
    await run('set', ['read_only_mode', 'off', '--reason', 'c', '--operator', 'erin'], { USER: 'carol', LLMOPS_OPERATOR: 'dave' });
    expect(await stored('read_only_mode')).toMatchObject({ value: { state: 'off', changed_by: 'erin' } });
  });

  for (const [label, args, env, message] of [
    [
      'the reason is missing',
      ['tools.create_ticket', 'off'],
      { USER: 'a' },
      'llmops switch set: --reason is required: say why (an incident id, a ticket); it is recorded with the switch and in the audit log\n',
    ],
    [
      'the reason is blank',
      ['tools.create_ticket', 'off', '--reason', '  '],
      { USER: 'a' },
      'llmops switch set: --reason is required: say why (an incident id, a ticket); it is recorded with the switch and in the audit log\n',
    ],
    [
      'the state is not on or off',
      ['tools.create_ticket', 'disabled', '--reason', 'x'],
      { USER: 'a' },
      'llmops switch set: state is "disabled"; expected on or off\n',
    ],
    [
      'the switch is not in the policy',
      ['tools.shell', 'off', '--reason', 'x'],
      { USER: 'a' },
      `llmops switch set: "tools.shell" is no kill switch of telemetry-policy.yaml; declared: ${switches.map((s) => s.ref).join(', ')}\n`,
    ],
    [
      '--expires-in is not a duration',
      ['tools.create_ticket', 'off', '--reason', 'x', '--expires-in', '2 hours'],
      { USER: 'a' },
      'llmops switch set: --expires-in is "2 hours"; expected a whole number followed by s, m, h or d, e.g. 2h\n',
    ],
    [
      'no operator can be told',
      ['tools.create_ticket', 'off', '--reason', 'x'],
      {},
      'llmops switch set: cannot tell who is flipping the switch: pass --operator NAME or set LLMOPS_OPERATOR\n',
    ],
    [
      'the arguments are missing',
      ['tools.create_ticket', '--reason', 'x'],
      { USER: 'a' },
      'llmops switch set: expected <switch> and on|off, got 1 argument(s); e.g. llmops switch set connectors.hr_policies off --reason "INC-4711"\n',
    ],
  ] as const) {
    it(`fails when ${label} (exit 2, nothing written)`, async () => {
      const r = await run('set', [...args], env);
      expect(r).toEqual({ code: 2, stdout: '', stderr: message });
      expect(server.callsOf('PutParameter')).toEqual([]);
    });
  }

  it('fails when the switch was never deployed (exit 1, nothing created)', async () => {
    server.parameters.delete(parameterName(prefix, 'tools.update_ticket'));
    const r = await run('set', ['tools.update_ticket', 'off', '--reason', 'x', '--operator', 'a']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'llmops switch set: tools.update_ticket has no parameter under /copilot/prod/kill-switches/ in this account and region; deploy the stack first (the CLI does not create switches)\n',
    });
    expect(server.callsOf('PutParameter')).toEqual([]);
  });

  it('fails when SSM refuses the write (exit 1, the error named)', async () => {
    server.failNext({ operation: 'PutParameter', type: 'AccessDeniedException', message: 'not authorized to perform ssm:PutParameter' });
    const r = await run('set', ['tools.update_ticket', 'off', '--reason', 'x', '--operator', 'a']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'llmops switch set: cannot write tools.update_ticket: AccessDeniedException: not authorized to perform ssm:PutParameter\n',
    });
  });

  it('prints its help', async () => {
    expect(await run('set', ['--help'])).toEqual({ code: 0, stdout: SWITCH_HELP.set, stderr: '' });
  });
});

describe('llmops switch list', () => {
  it('lists every switch of the policy with stored and effective state, reason, operator, times', async () => {
    await run('set', ['connectors.hr_policies', 'off', '--reason', 'INC-4711', '--operator', 'alice']);
    server.put(
      parameterName(prefix, 'tools.create_ticket'),
      serializeSwitchValue({
        state: 'off',
        reason: 'old',
        changed_by: 'bob',
        changed_at: '2020-01-01T00:00:00.000Z',
        expires_at: '2020-01-01T01:00:00.000Z',
      }),
    );
    server.parameters.delete(parameterName(prefix, 'tools.update_ticket'));
    server.put(parameterName(prefix, 'human_review.hr_request'), 'off');

    const r = await run('list', ['--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { switch: string }[];
    expect(rows.map((x) => x.switch)).toEqual(switches.map((s) => s.ref));
    const row = (ref: string) => rows.find((x) => x.switch === ref);
    expect(row('connectors.hr_policies')).toEqual({
      switch: 'connectors.hr_policies',
      state: 'off',
      effective: { state: 'off', source: 'set' },
      reason: 'INC-4711',
      changed_by: 'alice',
      changed_at: expect.any(String),
      expires: '-',
    });
    expect(row('tools.create_ticket')).toMatchObject({
      state: 'off',
      effective: { state: 'on', source: 'expired' },
      expires: '2020-01-01T01:00:00.000Z',
    });
    expect(row('tools.update_ticket')).toMatchObject({
      state: '-',
      effective: { state: 'off', source: 'missing' },
      reason: 'parameter not found',
    });
    expect(row('human_review.hr_request')).toMatchObject({
      state: '?',
      effective: { state: 'on', source: 'malformed' },
      reason: 'malformed: value is not JSON',
    });
    expect(row('read_only_mode')).toEqual({
      switch: 'read_only_mode',
      state: 'off',
      effective: { state: 'off', source: 'set' },
      reason: 'initial state from the telemetry policy',
      changed_by: 'deploy',
      changed_at: '-',
      expires: '-',
    });

    const text = await run('list', []);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^SWITCH +STATE +EFFECTIVE +REASON +CHANGED_BY +CHANGED_AT +EXPIRES$/);
    expect(lines.find((l) => l.startsWith('tools.create_ticket '))).toMatch(
      /^tools\.create_ticket +off +on \(expired: policy initial\) +old +bob +2020-01-01T00:00:00\.000Z +2020-01-01T01:00:00\.000Z$/,
    );
    expect(lines.find((l) => l.startsWith('tools.update_ticket '))).toMatch(
      /^tools\.update_ticket +- +off \(missing: safe default\) +parameter not found/,
    );
    expect(text.stdout).toContain(
      '\nParameters under /copilot/prod/kill-switches/; applications see a change within 30 s (kill_switches.cache_ttl).\n',
    );
  });

  it('warns about parameters under the path that are no switch of the policy', async () => {
    server.put(`${prefix}/tools/retired`, serializeSwitchValue({ state: 'on', reason: 'x', changed_by: 'y' }));
    const r = await run('list', []);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'warning: /copilot/prod/kill-switches/tools/retired is under the kill-switch path but is no switch of telemetry-policy.yaml; applications ignore it\n',
    );
  });

  it('fails when SSM cannot be read (exit 1, the error named)', async () => {
    server.failNext({ operation: 'GetParametersByPath', type: 'ThrottlingException', message: 'Rate exceeded', times: 3 });
    const r = await run('list', []);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'llmops switch list: cannot read the kill switches under /copilot/prod/kill-switches: ThrottlingException: Rate exceeded\n',
    });
  });

  it('fails when the policy file has problems (exit 1)', async () => {
    const r = await run('list', ['--policy', 'test/fixtures/does-not-exist.yaml']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'test/fixtures/does-not-exist.yaml:1:1 (root): file not found\n1 problem(s) in test/fixtures/does-not-exist.yaml\n',
    });
    expect(server.calls).toEqual([]);
  });

  it('prints its help', async () => {
    expect(await run('list', ['-h'])).toEqual({ code: 0, stdout: SWITCH_HELP.list, stderr: '' });
  });
});
