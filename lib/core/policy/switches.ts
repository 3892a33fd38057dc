/**
 * The kill switches a policy declares, resolved with their defaults. One list serves the
 * rules, the SSM parameters, the runtime client and the generated spec.
 */
import type { Policy } from './schema';

export type SwitchState = 'on' | 'off';
export type SwitchKind = 'read_only_mode' | 'debug_capture' | 'tool' | 'connector' | 'human_review';

export interface ResolvedSwitch {
  /** Stable reference, as written in `auto_trips`: `tools.create_ticket`, `read_only_mode`... */
  readonly ref: string;
  readonly kind: SwitchKind;
  /** The tool, connector or intent it governs (undefined for the global switches). */
  readonly target?: string;
  /** For tools: whether the tool writes. */
  readonly writes?: boolean;
  /** What `on` means, in words. */
  readonly meaning: string;
  /** State written at deploy. */
  readonly initial: SwitchState;
  /** State an application assumes when it cannot read the switch and has no last known state. */
  readonly safeDefault: SwitchState;
  /** The state an alarm or an operator sets to contain an incident. */
  readonly tripped: SwitchState;
  readonly description?: string;
}

/** Every switch of the policy, in a stable order: global switches, tools, connectors, intents. */
export function resolveSwitches(policy: Pick<Policy, 'kill_switches' | 'debug_capture' | 'sources'>): ResolvedSwitch[] {
  const ks = policy.kill_switches;
  const out: ResolvedSwitch[] = [
    {
      ref: 'read_only_mode',
      kind: 'read_only_mode',
      meaning: 'every write tool is disabled',
      initial: ks.read_only_mode.initial ?? 'off',
      safeDefault: ks.read_only_mode.safe_default ?? 'on',
      tripped: 'on',
      description: ks.read_only_mode.description,
    },
    {
      ref: 'debug_capture',
      kind: 'debug_capture',
      meaning: 'debug captures are sent for enrolled, unexpired cohorts',
      initial: ks.debug_capture.initial ?? (policy.debug_capture.enabled ? 'on' : 'off'),
      safeDefault: ks.debug_capture.safe_default ?? 'off',
      tripped: 'off',
      description: ks.debug_capture.description,
    },
  ];
  for (const [name, t] of Object.entries(ks.tools)) {
    out.push({
      ref: `tools.${name}`,
      kind: 'tool',
      target: name,
      writes: t.kind === 'write',
      meaning: `the ${t.kind} tool ${name} may run`,
      initial: t.initial ?? 'on',
      safeDefault: t.safe_default ?? (t.kind === 'write' ? 'off' : 'on'),
      tripped: 'off',
      description: t.description,
    });
  }
  for (const [name, c] of Object.entries(policy.sources)) {
    out.push({
      ref: `connectors.${name}`,
      kind: 'connector',
      target: name,
      meaning: `retrieval from ${name} is enabled`,
      initial: c.initial ?? 'on',
      safeDefault: c.safe_default ?? 'on',
      tripped: 'off',
      description: c.description,
    });
  }
  for (const [intent, h] of Object.entries(ks.human_review)) {
    out.push({
      ref: `human_review.${intent}`,
      kind: 'human_review',
      target: intent,
      meaning: `every ${intent} request needs human review`,
      initial: h.initial ?? 'off',
      safeDefault: h.safe_default ?? 'on',
      tripped: 'on',
      description: h.description,
    });
  }
  return out;
}

/**
 * Which alarms may trip a switch automatically. A trip acts without a human, so it must
 * act on what the alarm saw: an alarm that fires on any connector's data must not switch
 * off one connector (it would cut a healthy one and leave the leaking one on).
 *
 * - `global`: read_only_mode and debug_capture govern every tool or capture, so any page
 *   alarm may trip them.
 * - `slice`: a connector switch needs an alarm restricted to that connector (`source`
 *   slice), a human_review switch one restricted to that intent (`intent` slice). The
 *   value must be listed in the slice's `values`: an unlisted value can fold into "other",
 *   and the alarm would never see it.
 * - `none`: no metric of the dictionary is cut by tool name (`tool_path` is only none, read
 *   or write), so no alarm is scoped to one tool and a tool switch is never tripped
 *   automatically (read_only_mode covers every write tool).
 */
export type TripScope =
  { readonly kind: 'global' } | { readonly kind: 'slice'; readonly dimension: 'source' | 'intent' } | { readonly kind: 'none' };

export function tripScope(kind: SwitchKind): TripScope {
  switch (kind) {
    case 'read_only_mode':
    case 'debug_capture':
      return { kind: 'global' };
    case 'connector':
      return { kind: 'slice', dimension: 'source' };
    case 'human_review':
      return { kind: 'slice', dimension: 'intent' };
    case 'tool':
      return { kind: 'none' };
  }
}
