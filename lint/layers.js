// The three layers (shared/design/architecture.md, "Layout"), enforced on every import.
// Imports point down: lib/core is pure; lib/aws adapts AWS SDK clients; lib/constructs is
// CDK only; lambdas are thin handlers; nothing under lib imports lambdas. One table says
// what each layer may import, by folder and by package; the rule resolves relative imports
// against the importing file, so `../../lambdas/x` is caught wherever it is written.
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Packages no pure module may import: CDK and the AWS SDK clients. */
const CDK = [/^aws-cdk-lib(\/|$)/, /^constructs$/];
const SDK = [/^@aws-sdk\//];
/** Powertools' Logger and Parameters do I/O; only handlers use them. */
const HANDLER_ONLY = [/^@aws-lambda-powertools\/(logger|parameters)(\/|$)/];

/**
 * Layers, most specific folder first. `may` lists the folders a layer may import from
 * (besides its own); `banned` the packages it may not import.
 */
export const LAYERS = [
  {
    name: 'lib/core',
    why: 'pure TypeScript: no CDK, no AWS clients, nothing above it',
    may: ['lib/core'],
    banned: [...CDK, ...SDK, ...HANDLER_ONLY],
  },
  { name: 'lib/aws', why: 'AWS SDK adapters: core below, no CDK', may: ['lib/core'], banned: [...CDK, ...HANDLER_ONLY] },
  {
    name: 'lib/client',
    why: 'the producer SDK ships inside applications: no CDK',
    may: ['lib/core', 'lib/aws'],
    banned: [...CDK, ...HANDLER_ONLY],
  },
  {
    name: 'lib/constructs',
    why: 'CDK only: it imports the core, never handlers, adapters or clients',
    may: ['lib/core'],
    banned: [...SDK, ...HANDLER_ONLY],
  },
  {
    name: 'lib/local',
    why: 'the local data plane runs the deployed code paths',
    may: ['lib/core', 'lib/aws', 'lib/client', 'lib/constructs'],
    banned: [...HANDLER_ONLY],
  },
  {
    name: 'lib/cli',
    why: 'commands compose the layers below; never a Lambda handler',
    may: ['lib/core', 'lib/aws', 'lib/client', 'lib/constructs', 'lib/local'],
    banned: [...HANDLER_ONLY],
  },
  {
    name: 'lib/index.ts',
    why: 'the library entry exports constructs and the core',
    may: ['lib/core', 'lib/constructs'],
    banned: [...SDK, ...HANDLER_ONLY],
  },
  {
    name: 'lambdas',
    why: 'thin handlers: decode the environment, build clients, call a core',
    may: ['lib/core', 'lib/aws'],
    banned: [...CDK],
  },
];

const inside = (path, folder) => path === folder || path.startsWith(`${folder}/`);
export const layerOf = (path) => LAYERS.find((l) => inside(path, l.name));

function check(context, node, spec) {
  if (typeof spec !== 'string') return;
  const file = relative(ROOT, context.filename).split(sep).join('/');
  const layer = layerOf(file);
  if (!layer) return;
  if (spec.startsWith('.')) {
    const target = relative(ROOT, resolve(dirname(context.filename), spec))
      .split(sep)
      .join('/');
    if (!inside(target, 'lib') && !inside(target, 'lambdas')) return; // queries/, examples/, package.json
    if (inside(target, layer.name === 'lib/index.ts' ? 'lib' : layer.name) && layer.name !== 'lib/index.ts') return;
    if (layer.may.some((f) => inside(target, f))) return;
    context.report({
      node,
      message: `${file} (${layer.name}) imports ${target}: ${layer.name} may import only ${[layer.name, ...layer.may].join(', ')} (${layer.why})`,
    });
    return;
  }
  const banned = layer.banned.find((re) => re.test(spec));
  if (banned)
    context.report({ node, message: `${file} (${layer.name}) imports the package ${spec}: not allowed in ${layer.name} (${layer.why})` });
}

const importsRule = {
  meta: { type: 'problem', docs: { description: 'imports point down the layers of architecture.md' }, schema: [] },
  create(context) {
    const source = (node) => check(context, node, node.source?.value);
    return {
      ImportDeclaration: source,
      ExportNamedDeclaration: source,
      ExportAllDeclaration: source,
      ImportExpression: (node) => check(context, node, node.source?.type === 'Literal' ? node.source.value : undefined),
    };
  },
};

/**
 * Packages only tests and scripts may import: @cloud-copilot/iam-simulate (the IAM evaluator
 * of the access-matrix test) is AGPL-3.0, a devDependency that must never be bundled into a
 * Lambda or shipped with the library, the CLI or the client.
 */
export const TEST_ONLY = { packages: [/^@cloud-copilot\//], folders: ['test', 'scripts'] };

function checkTestOnly(context, node, spec) {
  if (typeof spec !== 'string' || !TEST_ONLY.packages.some((re) => re.test(spec))) return;
  const file = relative(ROOT, context.filename).split(sep).join('/');
  if (TEST_ONLY.folders.some((f) => inside(file, f))) return;
  context.report({
    node,
    message: `${file} imports ${spec}: only ${TEST_ONLY.folders.map((f) => `${f}/`).join(' and ')} may (AGPL-3.0 devDependency, never bundled or shipped)`,
  });
}

const testOnlyRule = {
  meta: { type: 'problem', docs: { description: 'test-only packages stay in test/ and scripts/' }, schema: [] },
  create(context) {
    const source = (node) => checkTestOnly(context, node, node.source?.value);
    return {
      ImportDeclaration: source,
      ExportNamedDeclaration: source,
      ExportAllDeclaration: source,
      ImportExpression: (node) => checkTestOnly(context, node, node.source?.type === 'Literal' ? node.source.value : undefined),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal')
          checkTestOnly(context, node, node.arguments[0].value);
      },
    };
  },
};

export default { rules: { imports: importsRule, 'test-only': testOnlyRule } };
