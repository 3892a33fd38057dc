/**
 * Who can do what: the access matrix a security reviewer signs, as data derived from the
 * policy. Rows are capabilities (send to a stream, read a store's prefix, decrypt with a
 * key, query in a workgroup, flip a switch, read the switches, read who flipped them),
 * columns are principals (the producer, each tier role, the trip and rollup Lambdas, and
 * three principals the stack grants nothing: an ordinary principal and an administrator
 * of the deploying account, and an administrator of another account). A second table
 * says who may assume each tier role.
 *
 * Written once: `llmops policy explain` prints it, and test/access-matrix.test.ts
 * evaluates every cell against the synthesized template with an IAM policy evaluator
 * (`scripts/access-matrix.ts` does the same for any template). The stores, switches,
 * tiers and trusted principals come from the policy and the store layout; what each
 * principal is meant to do is the `INTENTS` table below.
 */
import type { Policy } from '../policy/schema';
import { resolveSwitches } from '../policy/switches';
import { tripMap } from '../killswitch/trip';
import { describeTiers, type RoleName, type TierDescription } from '../storage/tiers';
import { table } from './markdown';
import { AUDIT_KEY, DATA_KEY, DEBUG_KEY, LOGS_KEY, STORE_LAYOUT, STORE_NAMES, type StorageTier, type StoreName } from '../storage/stores';

/**
 * - `allowed`: every call the capability needs is allowed.
 * - `denied`: a bucket, key or trust policy denies it explicitly, whatever the principal's
 *   own IAM policy says (the second line of defence).
 * - `not granted`: nothing allows it (no grant), and no resource policy denies it.
 */
export type Verdict = 'allowed' | 'denied' | 'not granted';
export const VERDICTS: readonly Verdict[] = ['allowed', 'denied', 'not granted'];

export const MATRIX_PRINCIPAL_IDS = [
  'producer',
  'metrics_reader',
  'trace_analyst',
  'incident_responder',
  'kill_switch_operator',
  'trip_function',
  'rollup_function',
  'account_principal',
  'account_admin',
  'other_account',
] as const;
export type MatrixPrincipalId = (typeof MATRIX_PRINCIPAL_IDS)[number];

export interface MatrixPrincipal {
  readonly id: MatrixPrincipalId;
  /** Column header. */
  readonly title: string;
  /** Who it is, in words (the legend under the table). */
  readonly who: string;
  /** The tier role it is a session of. */
  readonly role?: RoleName;
  /** Its sessions carry `aws:MultiFactorAuthPresent` (the role can only be assumed with MFA). */
  readonly mfa?: boolean;
  /** Its own IAM policy allows every action on every resource (an administrator). */
  readonly administrator?: boolean;
  /** A principal of an account the policy does not name. */
  readonly otherAccount?: boolean;
}

/** The keys of the stack: data, debug, the audit key of CloudTrail's files, the logs key of every log group, the alert topics' key. */
export const MATRIX_KEYS = ['data', 'debug', 'audit', 'logs', 'alerts'] as const;
export type MatrixKey = (typeof MATRIX_KEYS)[number];
const KEY_LABELS: Record<MatrixKey, string> = {
  data: 'the data key',
  debug: 'the debug key',
  audit: 'the audit key (CloudTrail files)',
  logs: 'the logs key (log groups)',
  alerts: 'the alert topics key',
};

/** The Athena workgroups, named like the results prefixes they write (`analysts/`, `incident/`). */
export type MatrixWorkGroup = string;
export type MatrixStream = 'events' | 'debug';

export type Capability =
  /** PutRecord(Batch) on a Firehose stream, with the KMS calls its encryption needs of the caller. */
  | { readonly kind: 'put-records'; readonly stream: MatrixStream }
  /** ListBucket on the prefix, GetObject under it, and kms:Decrypt (through S3) with the key its objects are written with. */
  | { readonly kind: 'read'; readonly store: StoreName; readonly prefix: string; readonly tier: StorageTier; readonly key?: MatrixKey }
  /** kms:Decrypt called directly. */
  | { readonly kind: 'decrypt'; readonly key: MatrixKey }
  /** A query that answers: Athena in the workgroup, Glue reads of the tier's tables, the tier's data read as the caller, results written and read back under the workgroup's key. */
  | { readonly kind: 'query'; readonly workGroup: MatrixWorkGroup; readonly tier: StorageTier; readonly key: MatrixKey }
  /** ssm:PutParameter on one switch. */
  | { readonly kind: 'flip'; readonly ref: string }
  /** ssm:GetParametersByPath on the switch path (how applications and `llmops switch list` read them). */
  | { readonly kind: 'read-switches' }
  /** Reading the kill-switch audit log group (who flipped what). */
  | { readonly kind: 'read-switch-audit' };

export interface MatrixCell {
  readonly verdict: Verdict;
  /** A condition a reviewer should see, e.g. `MFA session`. */
  readonly note?: string;
}

export interface MatrixRow {
  /** Stable id: `read traces events/`, `flip tools.create_ticket`... */
  readonly id: string;
  /** The row heading. */
  readonly label: string;
  readonly capability: Capability;
  readonly cells: Readonly<Record<MatrixPrincipalId, MatrixCell>>;
}

export interface AccessMatrix {
  /** The columns, in order; the trip Lambda only when `kill_switches.auto_trips` maps an alarm. */
  readonly principals: readonly MatrixPrincipal[];
  readonly rows: readonly MatrixRow[];
}

/** What a principal is meant to do: the expected matrix, once. */
interface Intent {
  /** Tiers it reads (exempt from their bucket and key denies). */
  readonly reads: readonly StorageTier[];
  /** Stores it writes (exempt from their read denies, without a read grant). */
  readonly writes: readonly StoreName[];
  /** Workgroups it queries in. */
  readonly queries: readonly MatrixWorkGroup[];
  readonly streams: readonly MatrixStream[];
  /** Switches it may flip. */
  readonly flips: 'all' | readonly string[];
  readonly readsSwitches: boolean;
  readonly readsSwitchAudit: boolean;
}

const NOTHING: Intent = { reads: [], writes: [], queries: [], streams: [], flips: [], readsSwitches: false, readsSwitchAudit: false };

/** The workgroup that queries a tier: the name of the results prefix of that tier. */
function workGroupOf(tier: StorageTier): MatrixWorkGroup | undefined {
  return STORE_LAYOUT.results.prefixes.find((p) => p.tier === tier)?.prefix.replace(/\/$/, '');
}

/** The key of each tier, in the tier table's words, as a matrix key (undefined: S3-managed). */
const KEY_OF_WORDS: ReadonlyMap<string, MatrixKey> = new Map([
  [DATA_KEY, 'data'],
  [DEBUG_KEY, 'debug'],
  [AUDIT_KEY, 'audit'],
  [LOGS_KEY, 'logs'],
]);

/** The tier table's key of a tier. */
function tierKey(tiers: readonly TierDescription[], tier: StorageTier): MatrixKey | undefined {
  const t = tiers.find((x) => x.tier === tier);
  if (!t) throw new Error(`the tier table has no ${tier} tier`);
  return KEY_OF_WORDS.get(t.key);
}

/**
 * The key objects under a prefix are written with: the store's key, or for a prefix with a
 * key of its own (Athena results: the workgroup writes them with its tier's key) its tier's
 * key. Undefined: S3-managed, nothing to decrypt.
 */
export function keyOfPrefix(tiers: readonly TierDescription[], store: StoreName, prefix: string): MatrixKey | undefined {
  const layout = STORE_LAYOUT[store];
  const p = layout.prefixes.find((x) => x.prefix === prefix);
  if (!p) throw new Error(`the ${store} store has no prefix ${prefix}; its prefixes: ${layout.prefixes.map((x) => x.prefix).join(', ')}`);
  // A prefix with a key of its own: a key the table names (CloudTrail's audit key), else its tier's key (Athena results).
  return p.key ? (KEY_OF_WORDS.get(p.key) ?? tierKey(tiers, p.tier)) : KEY_OF_WORDS.get(layout.key);
}

/** The Athena workgroups with the tier each queries: one per results prefix, named like it. */
export function matrixWorkGroups(
  tiers: readonly TierDescription[],
): { workGroup: MatrixWorkGroup; tier: StorageTier; resultsPrefix: string; key: MatrixKey }[] {
  return STORE_LAYOUT.results.prefixes.map((p) => {
    const key = keyOfPrefix(tiers, 'results', p.prefix);
    if (!key) throw new Error(`Athena results under results/${p.prefix} need a KMS key`);
    return { workGroup: p.prefix.replace(/\/$/, ''), tier: p.tier, resultsPrefix: p.prefix, key };
  });
}

/** The tiers each tier role reads (the tier table's readers). */
function tierReaders(tiers: readonly TierDescription[]): Map<RoleName, StorageTier[]> {
  const out = new Map<RoleName, StorageTier[]>();
  for (const t of tiers) {
    if (t.tier === 'logs' || !t.reader) continue;
    out.set(t.reader, [...(out.get(t.reader) ?? []), t.tier]);
  }
  return out;
}

/** The principals of the matrix for a policy. */
export function matrixPrincipals(policy: Policy): MatrixPrincipal[] {
  const hasTrips = Object.keys(tripMap(policy)).length > 0;
  const all: MatrixPrincipal[] = [
    {
      id: 'producer',
      title: 'producer',
      who: 'an application role holding the policies the stack publishes for applications: the events and debug producer policies and the kill-switch read policy',
    },
    { id: 'metrics_reader', title: 'metrics reader', who: 'a session of the metrics-reader role', role: 'metrics_readers' },
    { id: 'trace_analyst', title: 'trace analyst', who: 'a session of the trace-analyst role', role: 'trace_analysts' },
    {
      id: 'incident_responder',
      title: 'incident responder',
      who: 'a session of the incident-responder role, which can only be assumed with MFA',
      role: 'incident_responders',
      mfa: true,
    },
    {
      id: 'kill_switch_operator',
      title: 'kill-switch operator',
      who: 'a session of the kill-switch-operator role',
      role: 'kill_switch_operators',
    },
    { id: 'trip_function', title: 'trip Lambda', who: 'the trip Lambda, which flips the switches `auto_trips` maps to page alarms' },
    {
      id: 'rollup_function',
      title: 'rollup Lambda',
      who: 'the scheduled rollup: reads the traces tier through Athena, writes the metrics tier',
    },
    {
      id: 'account_principal',
      title: 'account principal',
      who: 'an IAM principal of the deploying account with no permissions of its own',
    },
    {
      id: 'account_admin',
      title: 'account administrator',
      who: "an IAM principal of the deploying account whose own policy allows every action on every resource: what stops it is the stack's bucket and key policies",
      administrator: true,
    },
    {
      id: 'other_account',
      title: 'other account',
      who: 'an administrator of an account the policy does not name (its own policy allows everything)',
      administrator: true,
      otherAccount: true,
    },
  ];
  return all.filter((p) => p.id !== 'trip_function' || hasTrips);
}

function intents(policy: Policy, tiers: readonly TierDescription[]): Record<MatrixPrincipalId, Intent> {
  const readers = tierReaders(tiers);
  const tiersOf = (role: RoleName) => readers.get(role) ?? [];
  const tripRefs = [...new Set(Object.values(tripMap(policy)).flatMap((actions) => actions.map((a) => a.ref)))];
  const analysts = workGroupOf('traces');
  const incident = workGroupOf('debug');
  return {
    producer: { ...NOTHING, streams: ['events', 'debug'], readsSwitches: true },
    metrics_reader: { ...NOTHING, reads: tiersOf('metrics_readers') },
    trace_analyst: { ...NOTHING, reads: tiersOf('trace_analysts'), queries: analysts ? [analysts] : [] },
    incident_responder: {
      ...NOTHING,
      reads: tiersOf('incident_responders'),
      queries: incident ? [incident] : [],
      readsSwitchAudit: true,
    },
    kill_switch_operator: { ...NOTHING, flips: 'all', readsSwitches: true },
    trip_function: { ...NOTHING, flips: tripRefs },
    rollup_function: { ...NOTHING, reads: ['traces'], writes: ['metrics'], queries: analysts ? [analysts] : [] },
    account_principal: NOTHING,
    account_admin: NOTHING,
    other_account: NOTHING,
  };
}

/** Every capability of the matrix for a policy, in the order of the table. */
export function matrixCapabilities(policy: Policy): {
  id: string;
  label: string;
  capability: Capability;
}[] {
  const tiers = describeTiers(policy);
  const out: { id: string; label: string; capability: Capability }[] = [];
  for (const stream of ['events', 'debug'] as const)
    out.push({
      id: `put-records ${stream}`,
      label: `send to the ${stream} stream (PutRecordBatch)`,
      capability: { kind: 'put-records', stream },
    });
  for (const store of STORE_NAMES) {
    for (const p of STORE_LAYOUT[store].prefixes) {
      const key = keyOfPrefix(tiers, store, p.prefix);
      out.push({
        id: `read ${store} ${p.prefix}`,
        label: `read ${STORE_LAYOUT[store].label}, \`${p.prefix}\` (${p.tier} tier)`,
        capability: { kind: 'read', store, prefix: p.prefix, tier: p.tier, ...(key ? { key } : {}) },
      });
    }
  }
  for (const key of MATRIX_KEYS)
    out.push({ id: `decrypt ${key}`, label: `kms:Decrypt with ${KEY_LABELS[key]}`, capability: { kind: 'decrypt', key } });
  for (const wg of matrixWorkGroups(tiers))
    out.push({
      id: `query ${wg.workGroup}`,
      label: `query in the ${wg.workGroup} workgroup (${wg.tier} tier)`,
      capability: { kind: 'query', workGroup: wg.workGroup, tier: wg.tier, key: wg.key },
    });
  for (const s of resolveSwitches(policy))
    out.push({ id: `flip ${s.ref}`, label: `flip \`${s.ref}\``, capability: { kind: 'flip', ref: s.ref } });
  out.push({ id: 'read-switches', label: 'read every switch (GetParametersByPath)', capability: { kind: 'read-switches' } });
  out.push({ id: 'read-switch-audit', label: 'read the kill-switch audit log', capability: { kind: 'read-switch-audit' } });
  return out;
}

/** Principals exempt from a tier's read denies in a store: its readers and the store's writers. */
function exempt(intent: Intent, tier: StorageTier, store: StoreName): boolean {
  return intent.reads.includes(tier) || intent.writes.includes(store);
}

/** Tiers whose reads the key's policy guards: the debug key denies Decrypt outside the debug tier and the debug store's writers. */
const KEY_GUARDS: Partial<Record<MatrixKey, { tier: StorageTier; store: StoreName }>> = { debug: { tier: 'debug', store: 'debug' } };

function verdictOf(tiers: readonly TierDescription[], p: MatrixPrincipal, intent: Intent, c: Capability): MatrixCell {
  const admin = p.administrator === true && !p.otherAccount;
  const yes = (): MatrixCell => ({ verdict: 'allowed', ...(p.mfa ? { note: 'MFA session' } : {}) });
  const no: MatrixCell = { verdict: 'not granted' };
  const denied: MatrixCell = { verdict: 'denied' };
  switch (c.kind) {
    case 'put-records':
      return admin || intent.streams.includes(c.stream) ? yes() : no;
    case 'read':
      if (intent.reads.includes(c.tier)) return yes();
      return exempt(intent, c.tier, c.store) ? no : denied;
    case 'decrypt': {
      const guard = KEY_GUARDS[c.key];
      if (guard && !exempt(intent, guard.tier, guard.store)) return denied;
      const reads = STORE_NAMES.some((s) =>
        STORE_LAYOUT[s].prefixes.some((x) => intent.reads.includes(x.tier) && keyOfPrefix(tiers, s, x.prefix) === c.key),
      );
      const queries = matrixWorkGroups(tiers).some((w) => intent.queries.includes(w.workGroup) && w.key === c.key);
      return admin || reads || queries ? yes() : no;
    }
    case 'query': {
      if (intent.queries.includes(c.workGroup) && intent.reads.includes(c.tier)) return yes();
      // The query reads the tier's data and its results as the caller: the tier's bucket denies that.
      return intent.reads.includes(c.tier) ? no : denied;
    }
    case 'flip':
      return admin || intent.flips === 'all' || intent.flips.includes(c.ref) ? yes() : no;
    case 'read-switches':
      return admin || intent.readsSwitches ? yes() : no;
    case 'read-switch-audit':
      return admin || intent.readsSwitchAudit ? yes() : no;
  }
}

/** The expected access matrix of a policy: every capability for every principal. */
export function accessMatrix(policy: Policy): AccessMatrix {
  const tiers = describeTiers(policy);
  const principals = matrixPrincipals(policy);
  const intent = intents(policy, tiers);
  const rows = matrixCapabilities(policy).map(({ id, label, capability }) => ({
    id,
    label,
    capability,
    cells: Object.fromEntries(principals.map((p) => [p.id, verdictOf(tiers, p, intent[p.id], capability)])) as Record<
      MatrixPrincipalId,
      MatrixCell
    >,
  }));
  return { principals, rows };
}

// ---------------------------------------------------------------- assuming the tier roles

/**
 * - `allowed`: with or without MFA.
 * - `MFA only`: only in a session that carries MFA.
 * - `not granted`: never (the trust policy names it but its own IAM policy does not allow it, or the trust policy does not name it).
 */
export type AssumeVerdict = 'allowed' | 'MFA only' | 'not granted';

export interface Assumer {
  /** Stable id: `account`, `account-no-permissions`, `other-account`, or the policy's principal spec. */
  readonly id: string;
  readonly title: string;
  /** The account it belongs to: `this-account`, a 12-digit id, or `other` (an account the policy does not name). */
  readonly account: string;
  /** The role or user ARN, for a principal the policy names by ARN. */
  readonly arn?: string;
  /** Its own IAM policy allows sts:AssumeRole. */
  readonly allowedByOwnPolicy: boolean;
  /**
   * A federated session of the deploying account, which never carries
   * `aws:MultiFactorAuthPresent` (AssumeRoleWithSAML has no MFA parameters): an IAM Identity
   * Center session of this permission set, or a session with these tags.
   */
  readonly federated?: { readonly permissionSet: string } | { readonly tags: Readonly<Record<string, string>> };
}

export interface AssumeRow {
  readonly role: RoleName;
  readonly label: string;
  readonly cells: Readonly<Record<string, AssumeVerdict>>;
}

export interface AssumeMatrix {
  readonly assumers: readonly Assumer[];
  readonly rows: readonly AssumeRow[];
}

export const ROLE_TITLES: Readonly<Record<RoleName, string>> = {
  metrics_readers: 'metrics reader',
  trace_analysts: 'trace analyst',
  incident_responders: 'incident responder',
  kill_switch_operators: 'kill-switch operator',
};

const ARN_ACCOUNT = /^arn:[^:]+:(?:iam|sts)::([0-9]{12}):/;

/** Who may assume each tier role: the deploying account's principals, each principal the policy names, another account. */
export function assumeMatrix(policy: Pick<Policy, 'access'>): AssumeMatrix {
  const roles = Object.keys(ROLE_TITLES) as RoleName[];
  const named = [...new Set(roles.flatMap((r) => policy.access[r].principals))].filter((s) => s !== 'this-account');
  const fed = policy.access.incident_responders.federated;
  // The permission set the policy admits, or an example one, to show such sessions are locked out.
  const ssoSet = fed?.sso_permission_sets[0] ?? 'IncidentResponse';
  const assumers: Assumer[] = [
    {
      id: 'account',
      title: 'a principal of the deploying account allowed sts:AssumeRole by its own policy',
      account: 'this-account',
      allowedByOwnPolicy: true,
    },
    {
      id: 'account-no-permissions',
      title: 'a principal of the deploying account without that permission',
      account: 'this-account',
      allowedByOwnPolicy: false,
    },
    ...named.map((spec): Assumer => {
      if (/^[0-9]{12}$/.test(spec))
        return {
          id: spec,
          title: `a principal of account ${spec} allowed sts:AssumeRole by its own policy`,
          account: spec,
          allowedByOwnPolicy: true,
        };
      const account = ARN_ACCOUNT.exec(spec)?.[1] ?? 'other';
      return { id: spec, title: `${spec} (allowed sts:AssumeRole by its own policy)`, account, arn: spec, allowedByOwnPolicy: true };
    }),
    {
      id: 'sso-session',
      title: `an IAM Identity Center session of permission set \`${ssoSet}\` (never carries MFA)`,
      account: 'this-account',
      allowedByOwnPolicy: true,
      federated: { permissionSet: ssoSet },
    },
    ...(Object.keys(fed?.principal_tags ?? {}).length > 0
      ? [
          {
            id: 'tagged-session',
            title: `a session of the deploying account tagged ${Object.entries(fed!.principal_tags)
              .map(([k, v]) => `\`${k}=${v}\``)
              .join(' and ')} (never carries MFA)`,
            account: 'this-account',
            allowedByOwnPolicy: true,
            federated: { tags: fed!.principal_tags },
          } satisfies Assumer,
        ]
      : []),
    { id: 'other-account', title: 'an administrator of an account the policy does not name', account: 'other', allowedByOwnPolicy: true },
  ];
  const trusts = (role: RoleName, a: Assumer) =>
    policy.access[role].principals.some((spec) => spec === a.account || (a.arn !== undefined && spec === a.arn));
  /** A federated session the responder role trusts without MFA: its permission set or its tags are the policy's. */
  const federatedResponder = (a: Assumer) =>
    a.federated !== undefined &&
    fed !== undefined &&
    ('permissionSet' in a.federated
      ? fed.sso_permission_sets.includes(a.federated.permissionSet)
      : Object.keys(fed.principal_tags).length > 0 &&
        Object.entries(fed.principal_tags).every(([k, v]) => (a.federated as { tags: Record<string, string> }).tags[k] === v));
  const rows = roles.map((role) => ({
    role,
    label: ROLE_TITLES[role],
    cells: Object.fromEntries(
      assumers.map((a): [string, AssumeVerdict] => {
        // A trust policy naming a principal of the role's own account by ARN lets it assume without an IAM grant of its own;
        // the policy names the deploying account only as this-account, so every named ARN here needs its own grant.
        if (role === 'incident_responders' && federatedResponder(a)) return [a.id, 'allowed'];
        if (!a.allowedByOwnPolicy || !trusts(role, a)) return [a.id, 'not granted'];
        if (role !== 'incident_responders') return [a.id, 'allowed'];
        // Federated sessions never carry the MFA key the responder role asks of IAM sessions.
        return [a.id, a.federated ? 'not granted' : 'MFA only'];
      }),
    ),
  }));
  return { assumers, rows };
}

// ---------------------------------------------------------------- the spec's section

const CELL_TEXT: Readonly<Record<Verdict, string>> = { allowed: 'yes', denied: 'no (denied)', 'not granted': 'no' };
const ASSUME_TEXT: Readonly<Record<AssumeVerdict, string>> = { allowed: 'yes', 'MFA only': 'with MFA only', 'not granted': 'no' };

/** A cell as the spec prints it: `yes`, `yes, MFA session`, `no`, `no (denied)`. */
export function matrixCellText(cell: MatrixCell): string {
  return cell.note ? `${CELL_TEXT[cell.verdict]}, ${cell.note}` : CELL_TEXT[cell.verdict];
}

/** An assumption cell as the spec prints it. */
export function assumeCellText(v: AssumeVerdict): string {
  return ASSUME_TEXT[v];
}

/** The "Who can do what" section of the spec (level-3 headings, under "Access"). */
export function explainAccessMatrix(policy: Policy): string {
  const m = accessMatrix(policy);
  const a = assumeMatrix(policy);
  const out: string[] = [];
  out.push('### Who can do what\n');
  out.push(
    "What each principal may do with the data, the keys and the switches. The tests evaluate every cell against the synthesized template of the shipped and the test policies with an IAM policy evaluator (`test/access-matrix.test.ts`): each principal's identity policies and the bucket, key and trust policies, with the request context of each call; `npx tsx scripts/access-matrix.ts <template.json> --policy <file>` does the same for a template of yours. `yes`: allowed. `no`: nothing grants it. `no (denied)`: a bucket or key policy denies it explicitly, whatever the principal's own IAM policy allows.\n",
  );
  out.push(
    `${table(
      ['capability', ...m.principals.map((p) => p.title)],
      m.rows.map((r) => [r.label, ...m.principals.map((p) => matrixCellText(r.cells[p.id]))]),
    )}\n`,
  );
  out.push(
    [
      'The principals:',
      '',
      ...m.principals.map((p) => `- **${p.title}**: ${p.who}.`),
      '',
      'What each capability takes:',
      '',
      '- send: `firehose:PutRecordBatch` on the stream, plus the KMS calls its server-side encryption asks of the caller (none: the streams use an AWS-owned key; the objects are written under the data and debug keys).',
      '- read: `s3:ListBucket` on the prefix, `s3:GetObject` under it, and `kms:Decrypt` through S3 with the key its objects are written with (none for the S3-managed audit bucket).',
      '- `kms:Decrypt`: called directly, as a download or a client would.',
      "- query: `athena:StartQueryExecution`, `GetQueryExecution` and `GetQueryResults` in the workgroup; `glue:GetDatabase`, `GetTable` and `GetPartitions` on the catalog, the database and the tier's tables; the tables' data read as the caller (Athena reads S3 with the caller's permissions); the results written and read back under the workgroup's key.",
      "- flip: `ssm:PutParameter` on the switch's parameter; read every switch: `ssm:GetParametersByPath` on the switch path.",
      '- audit log: `logs:FilterLogEvents` on the kill-switch audit log group and `logs:GetLogEvents` on its streams.',
      '',
    ].join('\n'),
  );
  out.push('### Who can assume each role\n');
  out.push(
    'Evaluated against the trust policies in the template: a principal of an account the trust policy names also needs its own IAM policy to allow `sts:AssumeRole`. The incident responder role requires MFA in the session that assumes it, except for the federated sessions `access.incident_responders.federated` admits.\n',
  );
  out.push(
    `${table(
      ['who', ...a.rows.map((r) => r.label)],
      a.assumers.map((x) => [x.title, ...a.rows.map((r) => assumeCellText(r.cells[x.id]!))]),
    )}\n`,
  );
  return out.join('\n');
}
