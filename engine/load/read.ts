// Reading the user's files on the controller: a file that is missing or that tsplay may not read
// is the user's to fix, so it is a UserError naming the path and the reason (permission denied,
// not a directory...), never an internal error with a stack or a misleading "not found".
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { userInfo } from 'node:os';
import { UserError, type ErrorCode } from '../errors.js';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  ELOOP: 'too many levels of symbolic links',
};

function who(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.()}`;
  }
}

/** The UserError for a failed read of `path`, `what` saying what it is ("inventory file"). */
export function readError(e: unknown, path: string, what: string, code: ErrorCode = 'E_FILE_NOT_FOUND'): UserError {
  const errno = (e as NodeJS.ErrnoException).code ?? '';
  const reason = REASONS[errno] ?? (e as Error).message;
  const denied = errno === 'EACCES' || errno === 'EPERM';
  return new UserError(code, `cannot read ${what} ${path}: ${reason}`, {
    cause: e,
    hint: denied
      ? `tsplay runs as ${who()}, who may not read it: check its mode and those of the directories above it (ls -ld ${path})`
      : 'check the path; relative paths are resolved from the current directory',
  });
}

/** stat(), with a missing path as undefined and any other failure (permission) as a UserError. */
export function statOrMissing(path: string, what: string, code?: ErrorCode): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw readError(e, path, what, code);
  }
}

export function readText(path: string, what: string, code?: ErrorCode): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw readError(e, path, what, code);
  }
}

export function listDir(path: string, what: string, code?: ErrorCode): string[] {
  try {
    return readdirSync(path);
  } catch (e) {
    throw readError(e, path, what, code);
  }
}
