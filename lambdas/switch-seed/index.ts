/**
 * Switch-seed Lambda: the provider of `Custom::KillSwitch`, invoked by CloudFormation
 * directly (no provider framework). A thin handler: plan with the pure core
 * (`lib/core/killswitch/seed.ts`: write a live switch only when its InitialValue
 * changed), apply with `lib/aws/switch-seed.ts`, answer CloudFormation with
 * `lib/aws/cfn-response.ts`.
 *
 * It always answers: a request it cannot carry out is answered FAILED with the reason,
 * before the function times out, so that a stack operation fails in seconds instead of
 * waiting for the resource's ServiceTimeout. Only when the answer itself cannot be
 * delivered does the invocation fail (Lambda retries an asynchronous invocation twice).
 * Reads no environment besides Powertools'. Logs ids and outcomes only, never a value.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { putCfnResponse } from '../../lib/aws/cfn-response';
import { applySeedStep } from '../../lib/aws/switch-seed';
import { planSeed, seedResponse, type SeedOutcome, type SeedRequest, type SeedResponse } from '../../lib/core/killswitch/seed';
import { lazyLogger, type Log } from '../shared/configure';

/** Time kept back to answer CloudFormation after the Parameter Store calls are given up. */
const ANSWER_RESERVE_MS = 5_000;
/** Longest wait for the answer's PUT. */
const ANSWER_TIMEOUT_MS = 10_000;

/** The part of the Lambda context the handler reads. */
export interface SeedContext {
  getRemainingTimeInMillis(): number;
}

export interface SeedDeps {
  readonly ssm: SSMClient;
  readonly logger: Log;
  /** @default - PUT to the request's ResponseURL */
  readonly respond?: (url: string, body: SeedResponse, opts: { signal?: AbortSignal }) => Promise<void>;
}

export type SeedHandler = (event: CloudFormationCustomResourceEvent, context?: SeedContext) => Promise<SeedResponse>;

/** A handler over a client. */
export function handlerWith(deps: SeedDeps): SeedHandler {
  const respond = deps.respond ?? putCfnResponse;
  return async (event, context) => {
    const request = event as unknown as SeedRequest;
    const remaining = context?.getRemainingTimeInMillis() ?? 60_000;
    const ids = { requestId: event.RequestId, logicalResourceId: event.LogicalResourceId, requestType: event.RequestType };
    let response: SeedResponse;
    try {
      const plan = planSeed(request);
      const outcome: SeedOutcome = await applySeedStep(deps.ssm, plan.step, {
        signal: AbortSignal.timeout(Math.max(1_000, remaining - ANSWER_RESERVE_MS)),
      });
      response = seedResponse(request, { ok: true, plan, outcome });
      deps.logger.info('kill switch seeded', { ...ids, physicalResourceId: plan.physicalResourceId, outcome });
    } catch (e) {
      const reason = `${(e as Error).name}: ${(e as Error).message}`;
      response = seedResponse(request, { ok: false, reason });
      deps.logger.error('kill switch seed failed', { ...ids, error: reason });
    }
    await respond(event.ResponseURL, response, { signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) });
    return response;
  };
}

export interface SeedHandlerDeps {
  /** @default - a client for the function's region */
  readonly ssm?: SSMClient;
  /** @default - a Powertools Logger named from the service table */
  readonly logger?: Log;
  readonly respond?: SeedDeps['respond'];
}

/** The handler; the client and logger are built on the first invocation. */
export function createSeedHandler(deps: SeedHandlerDeps = {}): SeedHandler {
  const log = lazyLogger('switch-seed', deps.logger);
  let handle: SeedHandler | undefined;
  return (event, context) => {
    handle ??= handlerWith({ ssm: deps.ssm ?? new SSMClient({}), logger: log(), respond: deps.respond });
    return handle(event, context);
  };
}

export const handler = createSeedHandler();
