#!/usr/bin/env node
/**
 * The CDK app. Reads the policy from context `policy` (default ./telemetry-policy.yaml);
 * a bad policy stops the synth with the list of problems and exit code 1, no stack trace;
 * so does a bad `-c controls` value (`lib/constructs/controls.ts`).
 */
import { buildApp } from '../lib/constructs/app';
import { ControlsError } from '../lib/constructs/controls';
import { PolicyError } from '../lib/core/policy';

try {
  buildApp({ onWarning: (line) => process.stderr.write(`${line}\n`) });
} catch (e) {
  if (e instanceof ControlsError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  if (!(e instanceof PolicyError)) throw e;
  process.stderr.write(`The telemetry policy has ${e.problems.length} problem(s); nothing was synthesized:\n${e.message}\n`);
  process.exit(1);
}
