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
  AsyncJob,
  ModuleDefinition,
  AnyModuleDefinition,
  Plan,
  PlannedCommand,
  Predicted,
  TemplateOptions,
} from './module.js';
export { sh, raw, quote, assignPath, joinCommands, shellSplit, Secret, ShellCommand, RawShell } from './sh.js';
export { UserError, UnreachableError, ModuleCrash } from './errors.js';
export type { ErrorCode, SourceLocation } from './errors.js';
// The file toolkit: modes, the atomic write and what it reports, attribute changes, diffs.
export {
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
} from './files.js';
export type {
  AtomicWriteOptions,
  AttributeChange,
  AttributePlan,
  CurrentAttributes,
  ModeContext,
  ModeSpec,
  StatLine,
  WantedAttributes,
  WriteOutput,
} from './files.js';
// The file fact (stat and content of paths in one round trip) and editing a file's content.
export { fileFact, filesFact, fileProbeCommand, parseFileProbe, followed, attributeResult } from './file-fact.js';
export type { ChildAttributes, FileFact, FileProbe, FileStat, FileType, HostIdentity } from './file-fact.js';
export { planFileEdit, planEditAttributes, applyFileEdits, fileContent } from './file-edit.js';
export type { FileEditOptions, FileEditResult } from './file-edit.js';
// Several probes (named commands) in one round trip, each one's exit code and output back.
export { probeAll, probeAllCommand, parseProbeAll } from './probe.js';
export type { Probe, ProbeOptions, ProbeResult, ProbeResults } from './probe.js';
// Python's re semantics (Ansible's patterns and replacement templates).
export { pythonRegex, expandTemplate, PatternError } from './expr/regex.js';
// Controller files that --vault-password decrypted (copy and template read them).
export { readVaultFile } from './vault.js';
