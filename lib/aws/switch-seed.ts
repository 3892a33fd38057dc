/**
 * Applies a kill-switch seed step (`lib/core/killswitch/seed.ts`) to Parameter Store.
 * Used by the switch-seed Lambda; tested against the local SSM server.
 *
 * `PutParameter` creates only when `Overwrite` is false (the default), answering
 * `ParameterAlreadyExists` otherwise, and refuses `Tags` together with `Overwrite`: tags
 * of an existing parameter change through `AddTagsToResource` and
 * `RemoveTagsFromResource`, which leave its value alone
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AddTagsToResource.html).
 */
import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  PutParameterCommand,
  RemoveTagsFromResourceCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { SeedOutcome, SeedParameter, SeedStep, SeedTag } from '../core/killswitch/seed';

export interface SeedOptions {
  /** Aborts the calls (e.g. when the Lambda is about to time out). */
  readonly signal?: AbortSignal;
}

/** Runs one step; throws what the SDK throws, except the answers each step expects. */
export async function applySeedStep(ssm: SSMClient, step: SeedStep, opts: SeedOptions = {}): Promise<SeedOutcome> {
  const send = { abortSignal: opts.signal };
  switch (step.kind) {
    case 'create': {
      if (await createIfAbsent(ssm, step.parameter, opts)) return 'created';
      // Adopted: its value stays; it gets the switch's tags.
      await addTags(ssm, step.parameter.name, step.parameter.tags, opts);
      return 'adopted';
    }
    case 'ensure': {
      if (await createIfAbsent(ssm, step.parameter, opts)) return 'recreated';
      await removeTags(ssm, step.parameter.name, step.removeTagKeys, opts);
      await addTags(ssm, step.parameter.name, step.addTags, opts);
      return 'kept';
    }
    case 'write': {
      const p = step.parameter;
      await ssm.send(new PutParameterCommand({ ...putInput(p), Overwrite: true }), send);
      await removeTags(ssm, p.name, step.removeTagKeys, opts);
      await addTags(ssm, p.name, p.tags, opts);
      return 'written';
    }
    case 'delete': {
      try {
        await ssm.send(new DeleteParameterCommand({ Name: step.name }), send);
        return 'deleted';
      } catch (e) {
        if (errorName(e) === 'ParameterNotFound') return 'already-deleted';
        throw e;
      }
    }
    case 'none':
      return step.why === 'retained' ? 'retained' : 'nothing-to-delete';
  }
}

/** What every write of a switch parameter says (a plain String of the Standard tier). */
function putInput(p: SeedParameter) {
  return {
    Name: p.name,
    Value: p.value,
    Type: 'String',
    Tier: 'Standard',
    AllowedPattern: p.allowedPattern,
    Description: p.description,
  } as const;
}

/** `PutParameter` without overwrite; false when the parameter already exists. */
async function createIfAbsent(ssm: SSMClient, p: SeedParameter, opts: SeedOptions): Promise<boolean> {
  try {
    await ssm.send(
      new PutParameterCommand({
        ...putInput(p),
        Overwrite: false,
        ...(p.tags.length ? { Tags: p.tags.map((t) => ({ Key: t.Key, Value: t.Value })) } : {}),
      }),
      { abortSignal: opts.signal },
    );
    return true;
  } catch (e) {
    if (errorName(e) === 'ParameterAlreadyExists') return false;
    throw e;
  }
}

async function addTags(ssm: SSMClient, name: string, tags: readonly SeedTag[], opts: SeedOptions): Promise<void> {
  if (!tags.length) return;
  await ssm.send(
    new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: name, Tags: tags.map((t) => ({ Key: t.Key, Value: t.Value })) }),
    { abortSignal: opts.signal },
  );
}

async function removeTags(ssm: SSMClient, name: string, keys: readonly string[], opts: SeedOptions): Promise<void> {
  if (!keys.length) return;
  await ssm.send(new RemoveTagsFromResourceCommand({ ResourceType: 'Parameter', ResourceId: name, TagKeys: [...keys] }), {
    abortSignal: opts.signal,
  });
}

const errorName = (e: unknown): string | undefined => (e as { name?: string } | undefined)?.name;
