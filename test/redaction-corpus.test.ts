import { describe, expect, it } from 'vitest';
import { createRedactor, SECRET_DETECTOR_IDS, type DetectorId } from '../lib/core/redaction';
import { generateCorpus } from './fixtures/redaction-corpus';

describe('labeled corpus', () => {
  it('recall >= 99.5% overall, 100% on secrets, >= 99% of harmless identifiers untouched', () => {
    const corpus = generateCorpus();
    const redactor = createRedactor({});
    const found = new Map<DetectorId, [number, number]>();
    let harmlessKept = 0;
    let harmlessTotal = 0;
    const misses: string[] = [];
    for (const s of corpus) {
      const out = redactor.redactText(s.text).text;
      for (const p of s.planted) {
        const [hit, total] = found.get(p.detector) ?? [0, 0];
        const ok = !out.includes(p.value);
        if (!ok && misses.length < 10) misses.push(`${p.detector}/${p.format}: ${s.text}`);
        found.set(p.detector, [hit + (ok ? 1 : 0), total + 1]);
      }
      for (const h of s.harmless) {
        harmlessTotal++;
        if (out.includes(h.value)) harmlessKept++;
        else if (misses.length < 10) misses.push(`harmless ${h.kind}: ${s.text} => ${out}`);
      }
    }
    const sum = (ids: (d: DetectorId) => boolean) => {
      let hit = 0;
      let total = 0;
      for (const [d, [h, t]] of found) if (ids(d)) [hit, total] = [hit + h, total + t];
      return { hit, total, rate: hit / total };
    };
    const isSecret = (d: DetectorId) => (SECRET_DETECTOR_IDS as string[]).includes(d);
    const all = sum(() => true);
    const secrets = sum(isSecret);
    const pii = sum((d) => !isSecret(d));
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    console.log(
      [
        `corpus: ${corpus.length} samples, ${all.total} planted values, ${harmlessTotal} harmless identifiers`,
        `recall overall ${pct(all.rate)} (${all.hit}/${all.total}), PII ${pct(pii.rate)}, secrets ${pct(secrets.rate)}`,
        `harmless untouched ${pct(harmlessKept / harmlessTotal)} (${harmlessKept}/${harmlessTotal})`,
        ...[...found].map(([d, [h, t]]) => `  ${d}: ${pct(h / t)} (${h}/${t})`),
        ...misses.map((m) => `  miss ${m}`),
      ].join('\n'),
    );
    expect(all.total).toBeGreaterThan(5000);
    expect(all.rate).toBeGreaterThanOrEqual(0.995);
    expect(secrets.rate).toBe(1);
    expect(harmlessKept / harmlessTotal).toBeGreaterThanOrEqual(0.99);
  });

  it('is deterministic for a seed and different across seeds', () => {
    expect(generateCorpus({ seed: 7, perPii: 3, perSecret: 2, perHarmless: 2 })).toEqual(
      generateCorpus({ seed: 7, perPii: 3, perSecret: 2, perHarmless: 2 }),
    );
    expect(generateCorpus({ seed: 7, perPii: 3, perSecret: 2, perHarmless: 2 })).not.toEqual(
      generateCorpus({ seed: 8, perPii: 3, perSecret: 2, perHarmless: 2 }),
    );
  });
});
