/**
 * Handlers are configured on their first invocation, never at module scope: importing a
 * handler reads no environment and builds no client, so tests inject their own. A failed
 * configuration fails that invocation with its message (a ConfigError names the variable,
 * never a secret) and is tried again on the next one, rather than cached.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAMES, type LambdaName } from '../../lib/core/env/services';

export type Handler<E, R> = (event: E) => Promise<R>;

/** What a handler logs with: Powertools' Logger, or a test's stand-in. */
export type Log = Pick<Logger, 'info' | 'error'>;

/** The function's Logger, named from the one service table, created on first use (Powertools reads its settings from the environment then). */
export function lazyLogger(fn: LambdaName, injected?: Log): () => Log {
  let logger: Log | undefined = injected;
  return () => (logger ??= new Logger({ serviceName: SERVICE_NAMES[fn] }));
}

/** A handler that runs `configure` on its first invocation (again after a failure) and then handles every event with what it returned. */
export function configuredOnFirstCall<E, R>(configure: () => Handler<E, R> | Promise<Handler<E, R>>, log: () => Log): Handler<E, R> {
  let ready: Promise<Handler<E, R>> | undefined;
  return async (event) => {
    ready ??= Promise.resolve()
      .then(configure)
      .catch((e: unknown) => {
        ready = undefined;
        throw e;
      });
    let handle: Handler<E, R>;
    try {
      handle = await ready;
    } catch (e) {
      // Configuration problems are ours, not the event's: fail the invocation (the caller
      // retries it) and log only the error's message, which holds no record content.
      log().error('configuration failed', { error: (e as Error).message });
      throw e;
    }
    return handle(event);
  };
}
