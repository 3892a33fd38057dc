/** Rewrites the generated blocks of README.md from the shipped policy, the stack and the code (`npm run docs`). */
import { readFileSync, writeFileSync } from 'node:fs';
import { readmeBlocks, renderReadme } from '../lib/cli/readme';
import { DEFAULT_POLICY_FILE, loadPolicy } from '../lib/core/policy';

const text = readFileSync('README.md', 'utf8');
writeFileSync('README.md', renderReadme(text, readmeBlocks(loadPolicy(DEFAULT_POLICY_FILE).policy)));
