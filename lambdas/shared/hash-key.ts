/**
 * The HMAC key for `user_id` pseudonymization and keyed tokens: a Secrets Manager secret
 * the stack creates (its ARN is HASH_KEY_SECRET_ARN), read once per cold start through
 * Powertools Parameters (cached).
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { ConfigError } from '../../lib/core/env/contract';

/** Loads the key bytes from the secret with this ARN. Injectable so tests never call AWS. */
export type HashKeyLoader = (secretArn: string) => Promise<Uint8Array>;

/** Shortest key accepted, in bytes. */
export const MIN_HASH_KEY_BYTES = 16;

/** The UTF-8 bytes of a secret string, checked for length. */
export function hashKeyFromSecret(secret: unknown, source: string): Uint8Array {
  if (typeof secret !== 'string') throw new ConfigError(`${source} is not a string secret`);
  const bytes = Buffer.from(secret, 'utf8');
  if (bytes.length < MIN_HASH_KEY_BYTES)
    throw new ConfigError(`${source} is ${bytes.length} bytes; the hash key must be at least ${MIN_HASH_KEY_BYTES}`);
  return new Uint8Array(bytes);
}

/** Reads the secret, cached for the life of the container. */
export const secretsManagerHashKey: HashKeyLoader = async (secretArn) => {
  // The key does not rotate under a running container: cache it for a day.
  const secret = await getSecret(secretArn, { maxAge: 86_400 });
  return hashKeyFromSecret(secret, 'the hash key secret');
};
