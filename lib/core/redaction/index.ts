/** The redaction engine: detectors, custom patterns, keyed tokens and pseudonymization. */
export * from './catalog';
export { createRedactor, pseudonymize, mergeCounts, MAX_VALUE_DEPTH } from './engine';
export type { CustomPattern, JsonValue, RedactedText, RedactedValue, RedactionCounts, Redactor, RedactorConfig } from './engine';
export { validateCustomPattern, BUILTIN_PLACEHOLDERS, MAX_REPEAT } from './custom';
export { isPlaceholder } from './scanner';
export { createLineRedactor, type LineRedactor } from './lines';
