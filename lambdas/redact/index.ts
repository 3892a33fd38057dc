/** Firehose processor for the events stream: validate, minimize, pseudonymize, redact. The logic is in ./core. */
import { createTransformHandler } from '../shared/handler';

export const handler = createTransformHandler('events');
