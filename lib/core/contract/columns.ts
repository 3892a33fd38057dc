/**
 * The machine-readable field list of the contract, derived from the zod schemas through
 * their JSON Schema (never retyped): the Glue columns and the docs are generated from it.
 */
import * as z from 'zod';
import { DebugCapture, EVENT_SCHEMAS, EVENT_TYPES, QuarantineRecord, type EventType } from './schema';

/** A column type as Glue/Athena spells it. */
export type ColumnType = 'string' | 'int' | 'double' | 'boolean' | 'array<string>' | 'map<string,string>';

/** One column of the events/quarantine table. */
export interface ContractColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** True when the ingest transform redacts this field's text. */
  readonly freeText: boolean;
}

/** One field with where it appears. */
export interface ContractField extends ContractColumn {
  /** Record kinds carrying it: event types, plus `quarantine` for quarantine fields. */
  readonly recordTypes: readonly (EventType | 'quarantine')[];
  /** Optional in every record kind that carries it. */
  readonly optional: boolean;
}

interface JsonSchemaNode {
  type?: string;
  const?: unknown;
  items?: JsonSchemaNode;
  additionalProperties?: JsonSchemaNode | boolean;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  freeText?: boolean;
}

/** Every field of the three event types and the quarantine record, in first-seen order. */
export function contractFields(): ContractField[] {
  const byName = new Map<string, { type: ColumnType; freeText: boolean; recordTypes: (EventType | 'quarantine')[]; optional: boolean }>();
  const sources: [EventType | 'quarantine', z.ZodObject][] = [
    ...EVENT_TYPES.map((t) => [t, EVENT_SCHEMAS[t]] as [EventType, z.ZodObject]),
    ['quarantine', QuarantineRecord],
  ];
  for (const [recordType, schema] of sources) {
    const js = z.toJSONSchema(schema, { io: 'input' }) as JsonSchemaNode;
    const required = new Set(js.required ?? []);
    for (const [name, node] of Object.entries(js.properties ?? {})) {
      const type = columnType(name, node);
      const freeText = isFreeText(node);
      const seen = byName.get(name);
      if (!seen) {
        byName.set(name, { type, freeText, recordTypes: [recordType], optional: !required.has(name) });
        continue;
      }
      if (seen.type !== type) throw new Error(`contract field ${name} is ${seen.type} in one record type and ${type} in ${recordType}`);
      seen.recordTypes.push(recordType);
      seen.freeText ||= freeText;
      seen.optional &&= !required.has(name);
    }
  }
  return [...byName].map(([name, f]) => ({ name, ...f }));
}

/** The Glue columns: the union of all event fields and the quarantine fields. */
export function contractColumns(): ContractColumn[] {
  return contractFields().map(({ name, type, freeText }) => ({ name, type, freeText }));
}

/** The Glue columns of the debug captures table, from the DebugCapture schema. */
export function debugCaptureColumns(): ContractColumn[] {
  const js = z.toJSONSchema(DebugCapture, { io: 'input' }) as JsonSchemaNode;
  return Object.entries(js.properties ?? {}).map(([name, node]) => ({ name, type: columnType(name, node), freeText: isFreeText(node) }));
}

function isFreeText(node: JsonSchemaNode): boolean {
  if (node.freeText === true) return true;
  const ap = node.additionalProperties;
  return typeof ap === 'object' && ap.freeText === true;
}

function columnType(name: string, node: JsonSchemaNode): ColumnType {
  switch (node.type) {
    case 'integer':
      return 'int';
    case 'number':
      return Number.isInteger(node.const) ? 'int' : 'double';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    case 'array':
      if (node.items?.type === 'string') return 'array<string>';
      break;
    case 'object':
      if (typeof node.additionalProperties === 'object' && node.additionalProperties.type === 'string') return 'map<string,string>';
      break;
  }
  throw new Error(`contract field ${name} has no column type (JSON Schema type ${String(node.type)})`);
}
