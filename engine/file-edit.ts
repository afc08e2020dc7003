// Editing a file's content, the way every file module does it: the plan turns the file fact and
// the new content into one atomic write (the old file's mode and owner kept, the file checked to be
// still what the gather read, optionally validated and backed up), and the apply runs it and reads
// back what the host reported. Public (engine/index.ts): a custom module edits files as lineinfile does.
import { followed, type FileFact } from './file-fact.js';
import {
  atomicWriteCommand,
  changesFailed,
  contentDiff,
  defaultMode,
  formatMode,
  ModeError,
  parseUmask,
  planAttributes,
  parseWriteOutput,
  runChangesAsOne,
  validateProblem,
  writeAttributes,
  type AttributePlan,
  type WantedAttributes,
} from './files.js';
import type { ApplyOutcome, Change, ModuleContext } from './module.js';

/** Options of planFileEdit. */
export interface FileEditOptions {
  /** The change's one-line summary: "add line to /etc/hosts". */
  summary: string;
  /** Mode, owner and group asked for; what is not asked for is the old file's (a new file's defaults when there is none). */
  attributes?: WantedAttributes;
  /** Keep a timestamped copy of the old file, when there is one; applyFileEdits returns its path. */
  backup?: boolean;
  /** Ansible's `validate:` (a command with %s, run on the new file before it replaces the old); check it first with validateProblem. */
  validate?: string;
  /** The path the diff is headed with (default: the fact's path): the one the user gave, say, rather than where a symlink leads. */
  diffPath?: string;
  /** What the diff shows as the old content (default: the file's content as read). */
  diffBefore?: Buffer | string;
}

/**
 * How the wanted mode, owner and group differ from the file an edit keeps, or, when the edit
 * creates it, from what a new file gets (the login's umask, user and group): the attribute half of
 * lineinfile, blockinfile, ini_file and any module that edits a file in place. A mode Ansible
 * refuses comes back as `{ error }`, for planFailure.
 */
export function planEditAttributes(fact: FileFact, wanted: WantedAttributes): AttributePlan | { error: string } {
  const umask = parseUmask(fact.identity.umask);
  const current = followed(fact).stat ?? {
    mode: formatMode(defaultMode(umask, false)),
    owner: fact.identity.user,
    group: fact.identity.group,
    uid: fact.identity.uid,
    gid: fact.identity.gid,
  };
  try {
    return planAttributes(current, wanted, { isDirectory: false, umask });
  } catch (e) {
    if (e instanceof ModeError) return { error: e.message };
    throw e;
  }
}

/** The content of a probed file (probed with `content: true`), or undefined when it was not read. */
export function fileContent(fact: FileFact): Buffer | undefined {
  return fact.content === undefined ? undefined : Buffer.from(fact.content, 'base64');
}

/**
 * The change that gives the file `fact` describes (a symlink is followed) the content `content`:
 * one atomic write (atomicWriteCommand) of the followed path that creates missing parent
 * directories, keeps the old file's mode and owner unless `attributes` ask for others, runs only if
 * the file is still what the gather read (else the apply reports it stale and the engine plans
 * again), with `validate` and `backup`, and a before/after diff. The fact must hold the content of
 * an existing file (probe with `content: true`). Throws ModeError for an invalid mode.
 */
export function planFileEdit(fact: FileFact, content: Buffer | string, opts: FileEditOptions): Change {
  const target = followed(fact);
  const before = target.exists ? fileContent(fact) : undefined;
  if (target.exists && before === undefined)
    throw new Error(`planFileEdit(${fact.path}): the fact holds no content (probe it with content: true)`);
  if (opts.validate !== undefined) {
    const problem = validateProblem(opts.validate);
    if (problem) throw new Error(`planFileEdit(${fact.path}): ${problem}`);
  }
  const after = typeof content === 'string' ? Buffer.from(content) : content;
  const { identity } = fact;
  const write = writeAttributes(target.stat, opts.attributes ?? {}, {
    uid: identity.uid,
    gid: identity.gid,
    umask: parseUmask(identity.umask),
  });
  const diffBefore = opts.diffBefore === undefined ? (before ?? Buffer.alloc(0)) : Buffer.from(opts.diffBefore);
  return {
    summary: opts.summary,
    commands: [
      {
        cmd: atomicWriteCommand(target.path, {
          ...write,
          content: after,
          expect: before ?? null,
          validate: opts.validate,
          backup: opts.backup && target.exists,
          makeParents: !fact.parentExists,
          reportStat: false,
        }),
        stdin: after,
      },
    ],
    diff: contentDiff(opts.diffPath ?? fact.path, diffBefore, after),
  };
}

/** What applyFileEdits did. */
export interface FileEditResult {
  /** Set when the changes failed: the apply's outcome to return (validation failed, the file changed meanwhile, a command failed). */
  failure?: ApplyOutcome;
  /** The backup copy's path, when one was made. */
  backupFile?: string;
  /** What the commands printed, without tsplay's marker lines. */
  stdout: string;
}

/**
 * Run planned changes (planFileEdit's among them) as one remote command (runChangesAsOne) and
 * read what the writes reported: the backup's path, or the failure with Ansible's words for a
 * failed validation (`failed to validate: rc:1 error:...`).
 */
export async function applyFileEdits(ctx: ModuleContext, changes: Change[]): Promise<FileEditResult> {
  const r = await runChangesAsOne(ctx, changes);
  const out = parseWriteOutput(r.stdout);
  if (out.validateFailed !== undefined) {
    return {
      failure: {
        failed: `failed to validate: rc:${out.validateFailed} error:${r.stderr}`,
        result: { rc: out.validateFailed, stdout: out.stdout, stderr: r.stderr },
      },
      stdout: out.stdout,
    };
  }
  if (r.rc !== 0) return { failure: changesFailed(changes, r, out.stdout), stdout: out.stdout };
  return { backupFile: out.backupFile, stdout: out.stdout };
}
