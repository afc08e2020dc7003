// The public API: everything a module writer (and every built-in module) may import from 'tsplay'.
export { defineModule, defineFact, noop, planFailure, runChanges } from './module.js';
export type {
  ApplyOutcome,
  ArgsSchema,
  BecomeOptions,
  Change,
  Connection,
  ExecOptions,
  ExecResult,
  FactDefinition,
  FileDiff,
  ModuleContext,
  ModuleDefinition,
  Plan,
  PlannedCommand,
  Predicted,
} from './module.js';
export { sh, raw, quote, joinCommands, shellSplit, Secret, ShellCommand, RawShell } from './sh.js';
export { UserError, UnreachableError, ModuleCrash } from './errors.js';
export type { ErrorCode, SourceLocation } from './errors.js';
export {
  atomicWriteCommand,
  setAttributesCommand,
  runChangesAsOne,
  resolveMode,
  formatMode,
  contentDiff,
  stateDiff,
  sha1,
} from './files.js';
export type { AtomicWriteOptions, AttributeChange, ModeSpec } from './files.js';
