/**
 * The policy's `slices.dimensions` as JSON: a variable of the rollup (`SLICES`) and a part
 * of the events transform's `METRICS_CONFIG`. Its own module, so that neither Lambda
 * bundles the other's contract.
 */
import * as z from 'zod';

export const SliceDimensionsJson = z.record(
  z.string().regex(/^[a-z][a-z0-9_]*$/, { error: 'a slice is an event field name' }),
  z.strictObject({ max_values: z.int().min(1), values: z.array(z.string().min(1)).optional() }),
);
