import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatPath, LOG_RETENTION_DAYS, MISSING_DATA, parsePolicy, PolicyError, resolveSwitches } from '../lib/core/policy';
import { METRICS } from '../lib/core/metrics/dictionary';
import { ingestEmfDocuments } from '../lib/core/transform/emf';
import { emptyStats } from '../lib/core/transform/transform';
import { policyFrom, shippedPolicyData, TEST_NOW } from './support/policy';

const FILE = 'p.yaml';

function tryParse(text: string): { ok: true } | { ok: false; lines: string[] } {
  try {
    parsePolicy(text, FILE, { now: TEST_NOW });
    return { ok: true };
  } catch (e) {
    if (e instanceof PolicyError) return { ok: false, lines: e.message.split('\n') };
    throw e;
  }
}

/** Every path to a scalar leaf of a value, with the leaf. */
function leaves(v: unknown, path: (string | number)[] = []): { path: (string | number)[]; value: unknown }[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...path, i]));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  return [{ path, value: v }];
}

/** Every path to a mapping of a value (the root included). */
function mappings(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => mappings(x, [...path, i]));
  if (v && typeof v === 'object') return [path, ...Object.entries(v).flatMap(([k, x]) => mappings(x, [...path, k]))];
  return [];
}

function setAt(root: any, path: (string | number)[], value: unknown): void {
  let cur = root;
  for (const seg of path.slice(0, -1)) cur = cur[seg];
  cur[path.at(-1)!] = value;
}

function getAt(root: any, path: (string | number)[]): any {
  return path.reduce((cur, seg) => cur[seg], root);
}

const shipped = shippedPolicyData();
const leafPaths = leaves(shipped);
const mapPaths = mappings(shipped);

describe('policy parser properties', () => {
  it('accepts every retention within the hard limits and keeps the values as written', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 30, max: 730 }),
        fc.integer({ min: 24, max: 72 }),
        fc.constantFrom(...LOG_RETENTION_DAYS),
        fc.integer({ min: 0, max: 400 }),
        (traces, metrics, debugH, logs, extra) => {
          const data = structuredClone(shipped) as any;
          const audit = Math.max(traces, metrics, Math.ceil(debugH / 24), logs) + extra;
          data.retention = { traces: `${traces}d`, metrics: `${metrics}d`, debug: `${debugH}h`, audit: `${audit}d`, logs: `${logs}d` };
          const { policy } = parsePolicy(stringify(data), FILE, { now: TEST_NOW });
          expect(policy.retention).toMatchObject(data.retention);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rejects a retention outside the hard limits, naming the key and the value', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ tier: fc.constant('traces'), v: fc.oneof(fc.integer({ min: 91, max: 9999 })).map((n) => `${n}d`) }),
          fc.record({
            tier: fc.constant('metrics'),
            v: fc.oneof(fc.integer({ min: 1, max: 29 }), fc.integer({ min: 731, max: 9999 })).map((n) => `${n}d`),
          }),
          fc.record({
            tier: fc.constant('debug'),
            v: fc.oneof(fc.integer({ min: 1, max: 23 }), fc.integer({ min: 73, max: 9999 })).map((n) => `${n}h`),
          }),
        ),
        ({ tier, v }) => {
          const data = structuredClone(shipped) as any;
          data.retention[tier] = v;
          data.retention.audit = '9999d';
          const r = tryParse(stringify(data));
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.lines.some((l) => l.includes(` retention.${tier}: is "${v}";`))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rejects an unknown key anywhere, naming its full path', () => {
    fc.assert(
      fc.property(fc.constantFrom(...mapPaths), fc.stringMatching(/^[a-z][a-z_]{2,12}$/), (path, key) => {
        const data = structuredClone(shipped) as any;
        const target = getAt(data, path);
        fc.pre(!(key in target));
        // records keyed by a name (tools, sources, pricing models...) take any valid name: skip those
        const parentKey = path.at(-1);
        fc.pre(!['tools', 'sources', 'human_review', 'models', 'dimensions', 'detectors'].includes(String(parentKey)));
        target[key] = 'x';
        const r = tryParse(stringify(data));
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.lines).toContainEqual(expect.stringContaining(` ${formatPath([...path, key])}: unknown key "${key}"`));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a mapping where a scalar belongs, naming the path', () => {
    fc.assert(
      fc.property(fc.constantFrom(...leafPaths), ({ path }) => {
        const data = structuredClone(shipped) as any;
        setAt(data, path, { nested: 1 });
        const r = tryParse(stringify(data));
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.lines).toContainEqual(expect.stringContaining(` ${formatPath(path)}`));
      }),
      { numRuns: 200 },
    );
  });

  it('never throws anything but a PolicyError, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.jsonValue().map((v) => stringify(v)),
        ),
        (text) => {
          const r = tryParse(text);
          if (!r.ok) for (const l of r.lines) expect(l).toMatch(/^p\.yaml:\d+:\d+ /);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses missing_data breaching exactly where a missing datapoint does not mean "no batch arrived"', () => {
    // ground truth from the emitter, not the dictionary's flag: the totals a batch that counts nothing still writes
    const writtenWhenEmpty = new Set(ingestEmfDocuments(emptyStats(), { kind: 'events', groups: [] }).flatMap((d) => Object.keys(d)));
    fc.assert(
      fc.property(fc.constantFrom(...METRICS), fc.constantFrom(...MISSING_DATA), fc.boolean(), (metric, missing, restrict) => {
        const data = structuredClone(shipped) as any;
        const dimensions =
          restrict && metric.kind === 'emitted'
            ? metric.fixed
              ? { [metric.fixed.dimension]: metric.fixed.values[0] }
              : metric.sliced
                ? { tenant_id: 'emea' }
                : undefined
            : undefined;
        const alarms = data.buckets[metric.bucket].alarms;
        alarms.push({
          id: 'prop-alarm',
          metric: metric.name,
          ...(dimensions ? { dimensions } : {}),
          threshold: 0,
          missing_data: missing,
          severity: 'page',
          runbook: { mitigation: 'm', confirm: 'c', diagnose: 'd', rollback: 'r' },
        });
        const r = tryParse(stringify(data));
        const honest = writtenWhenEmpty.has(metric.name) && !dimensions;
        if (missing !== 'breaching' || honest) expect(r).toEqual({ ok: true });
        else
          expect(r).toEqual({
            ok: false,
            lines: [
              expect.stringMatching(
                new RegExp(
                  `^p\\.yaml:\\d+:\\d+ buckets\\.${metric.bucket}\\.alarms\\[${alarms.length - 1}\\]\\.missing_data: is "breaching"; .*Use not_breaching or ignore`,
                ),
              ),
            ],
          });
      }),
      { numRuns: 300 },
    );
  });

  it('accepts an auto-trip only on an alarm scoped to what the switch governs', () => {
    const switches = resolveSwitches(policyFrom(shipped));
    const otherValue = fc.constantFrom('hr_policies', 'it_kb', 'service_desk', 'wiki', 'policy_qna', 'hr_request', 'ticket_create');
    const cases = fc.constantFrom(...switches).chain((sw) =>
      fc.tuple(
        fc.constant(sw),
        fc.constantFrom(...METRICS),
        // half the scopes name the switch's own connector or intent
        fc.option(
          fc.record({
            dim: fc.constantFrom('source', 'intent', 'tenant_id'),
            value: fc.oneof(fc.constant(sw.target ?? 'emea'), otherValue),
          }),
          { nil: undefined },
        ),
        fc.boolean(),
      ),
    );
    fc.assert(
      fc.property(cases, ([sw, metric, scope, unlist]) => {
        const data = structuredClone(shipped) as any;
        // only metrics cut by slices get a dimension, so the alarm itself stays valid
        const dims = scope && metric.kind === 'emitted' && metric.sliced ? { [scope.dim]: scope.value } : undefined;
        data.buckets[metric.bucket].alarms.push({
          id: 'prop-trip',
          metric: metric.name,
          ...(dims ? { dimensions: dims } : {}),
          threshold: 0,
          severity: 'page',
          runbook: { mitigation: 'm', confirm: 'c', diagnose: 'd', rollback: 'r' },
        });
        const slice = data.slices.dimensions[sw.kind === 'connector' ? 'source' : 'intent'];
        if (unlist) slice.values = slice.values.filter((v: string) => v !== sw.target);
        // citation-required intents must stay declared intents (a rule of their own, tested in policy.test.ts)
        if (unlist && sw.kind === 'human_review') data.buckets.quality.citation_required_intents = [slice.values[0]];
        data.kill_switches.auto_trips = [{ alarm: `${metric.bucket}.prop-trip`, switch: sw.ref, set: sw.tripped }];
        const r = tryParse(stringify(data));
        const scoped = (dim: string) => dims?.[dim] === sw.target && !unlist;
        const allowed =
          sw.kind === 'read_only_mode' ||
          sw.kind === 'debug_capture' ||
          (sw.kind === 'connector' && scoped('source')) ||
          (sw.kind === 'human_review' && scoped('intent'));
        if (allowed) expect(r).toEqual({ ok: true });
        else
          expect(r).toEqual({
            ok: false,
            lines: [
              expect.stringMatching(
                sw.kind === 'tool'
                  ? /^p\.yaml:\d+:\d+ kill_switches\.auto_trips\[0\]\.switch: is "tools\.[a-z_]+"; no metric is cut by tool name/
                  : /^p\.yaml:\d+:\d+ kill_switches\.auto_trips\[0\]\.alarm: is "[a-z]+\.prop-trip", which watches .*; an auto-trip of (connectors|human_review)\.[a-z_]+ needs an alarm restricted to that (connector|intent): /,
              ),
            ],
          });
      }),
      { numRuns: 400 },
    );
  });

  it('treats __proto__ and constructor as unknown keys and pollutes no prototype', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const text = `${stringify(shipped)}\n${key}:\n  polluted: true\n`;
      const nested = stringify(shipped).replace('retention:\n', `retention:\n  ${key}: { polluted: true }\n`);
      for (const t of [text, nested]) {
        const r = tryParse(t);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.lines.some((l) => l.includes(`unknown key "${key}"`))).toBe(true);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
