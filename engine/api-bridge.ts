// What `import ... from 'tsplay'` in a custom module gets while the CLI runs (engine/load/
// module-hooks.ts points 'tsplay' here): the running engine's own API objects, published by
// engine/cli.ts, rather than a second copy of engine/index.js. The one-file build of the CLI
// (dist/engine/cli.bundle.cjs) holds its own copy of every class; a custom module must get those same
// classes (ShellCommand, Secret, UserError...), because the engine recognises them with instanceof.
// test/modules/api-bridge.test.ts checks that this list and engine/index.ts export the same names.
import type * as Api from './index.js';

const API_KEY = Symbol.for('tsplay.api'); // engine/cli.ts publishes under the same key

const api = (globalThis as Record<symbol, unknown>)[API_KEY] as typeof Api | undefined;
if (!api) throw new Error("tsplay's API is not published: 'tsplay' can only be imported by modules that tsplay itself loads");

export const {
  defineModule,
  defineFact,
  noop,
  planFailure,
  runChanges,
  sh,
  raw,
  quote,
  assignPath,
  joinCommands,
  shellSplit,
  Secret,
  ShellCommand,
  RawShell,
  UserError,
  UnreachableError,
  ModuleCrash,
  atomicWriteCommand,
  parseWriteOutput,
  guardCommand,
  statCommand,
  validateProblem,
  setAttributesCommand,
  planAttributes,
  describeAttributes,
  writeAttributes,
  runChangesAsOne,
  changesFailed,
  ModeError,
  resolveMode,
  formatMode,
  defaultMode,
  parseUmask,
  contentDiff,
  stateDiff,
  sha1,
  md5,
  fileFact,
  filesFact,
  fileProbeCommand,
  parseFileProbe,
  followed,
  attributeResult,
  planEditAttributes,
  planFileEdit,
  applyFileEdits,
  fileContent,
  probeAll,
  probeAllCommand,
  parseProbeAll,
  pythonRegex,
  expandTemplate,
  PatternError,
  readVaultFile,
} = api;
