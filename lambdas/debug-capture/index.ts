/** Firehose processor for the debug-capture stream: enrolment and expiry check, then redaction. The logic is in ../redact/core. */
import { createTransformHandler } from '../shared/handler';

export const handler = createTransformHandler('captures');
