/**
 * `npm run bench`: throughput, printed with ratios against the peers of the same run.
 * Not a test: nothing here asserts a time. `npm run bench -- redaction` or `-- client`
 * runs one part.
 */
import { runClientBench } from './client';
import { runRedactionBench } from './redaction';

const parts: Record<string, () => Promise<void>> = { redaction: runRedactionBench, client: runClientBench };
const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(parts)) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n=== ${name} ===`);
  await run();
}
