/**
 * Packing: many newline-delimited JSON events per Firehose record, many records per
 * PutRecordBatch. Firehose bills every record rounded up to 5 KB, so a 1 KB event alone
 * in a record costs five times its size; the events stream de-aggregates the lines
 * again before the transform (at most 500 sub-records per record).
 *
 * Pure functions over serialized lines; no I/O.
 */

/** Firehose and de-aggregation limits the packer respects. */
export const FIREHOSE_LIMITS = {
  /** Largest record, before base64 (1,000 KiB). */
  maxRecordBytes: 1_000 * 1024,
  /** Most records in one PutRecordBatch. */
  maxBatchRecords: 500,
  /** Most bytes (sum of the records, before base64) in one PutRecordBatch (4 MiB). */
  maxBatchBytes: 4 * 1024 * 1024,
  /** Most sub-records de-aggregation splits out of one record. */
  maxEventsPerRecord: 500,
  /** Billing increment: every record is rounded up to 5 KB. */
  billingIncrementBytes: 5 * 1024,
} as const;

/** One serialized event: a JSON line ending in `\n`. */
export interface Line {
  readonly text: string;
  /** UTF-8 length of `text`. */
  readonly bytes: number;
}

/** A Firehose record: the bytes sent and how many events they carry. */
export interface PackedRecord {
  readonly data: Uint8Array;
  readonly events: number;
}

/** The limits a packer works to; `FIREHOSE_LIMITS` by default. */
export type PackingLimits = Pick<typeof FIREHOSE_LIMITS, 'maxRecordBytes' | 'maxBatchRecords' | 'maxBatchBytes' | 'maxEventsPerRecord'>;

/** Serializes a value as one line (`JSON + \n`) with its UTF-8 length. */
export function toLine(value: unknown): Line {
  const text = `${JSON.stringify(value)}\n`;
  return { text, bytes: Buffer.byteLength(text, 'utf8') };
}

/**
 * Packs lines, in order, into records of at most `maxRecordBytes` bytes and
 * `maxEventsPerRecord` lines. Every line must fit a record on its own (the caller drops
 * larger ones before they are buffered).
 */
export function packRecords(lines: readonly Line[], limits: PackingLimits = FIREHOSE_LIMITS): PackedRecord[] {
  const out: PackedRecord[] = [];
  let parts: string[] = [];
  let bytes = 0;
  const close = () => {
    if (parts.length === 0) return;
    out.push({ data: Buffer.from(parts.join(''), 'utf8'), events: parts.length });
    parts = [];
    bytes = 0;
  };
  for (const line of lines) {
    if (parts.length >= limits.maxEventsPerRecord || bytes + line.bytes > limits.maxRecordBytes) close();
    parts.push(line.text);
    bytes += line.bytes;
  }
  close();
  return out;
}

/** Groups records, in order, into batches of at most `maxBatchRecords` records and `maxBatchBytes` bytes. */
export function packBatches<R extends { readonly data: Uint8Array }>(
  records: readonly R[],
  limits: PackingLimits = FIREHOSE_LIMITS,
): R[][] {
  const out: R[][] = [];
  let batch: R[] = [];
  let bytes = 0;
  for (const r of records) {
    if (batch.length >= limits.maxBatchRecords || (batch.length > 0 && bytes + r.data.length > limits.maxBatchBytes)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(r);
    bytes += r.data.length;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** The bytes Firehose bills for records of these sizes: each rounded up to 5 KB. */
export function billedBytes(recordSizes: Iterable<number>): number {
  const inc = FIREHOSE_LIMITS.billingIncrementBytes;
  let total = 0;
  for (const size of recordSizes) total += Math.max(1, Math.ceil(size / inc)) * inc;
  return total;
}
