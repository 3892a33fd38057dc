/**
 * The editor JSON Schema for the policy, generated from the zod schema (input side:
 * what a person writes, defaults optional). `telemetry-policy.schema.json` is this
 * output, committed; a test fails when it is stale.
 */
import { z } from 'zod';
import { PolicySchema } from './schema';

export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicySchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  return {
    ...schema,
    $id: 'https://github.com/llmops-telemetry-stack/telemetry-policy.schema.json',
    title: 'LLMOps telemetry policy',
  };
}

/** The file's exact text: stable key order, two-space indent, trailing newline. */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
