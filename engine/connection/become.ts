// Privilege escalation is applied here and only here: a command becomes `sudo ... /bin/sh -c CMD`.
import { sh, type ShellCommand } from '../sh.js';
import type { BecomeOptions } from '../module.js';

/** Wrap a command so it runs as `become.user` through sudo (non-interactive without a password). */
export function wrapBecome(cmd: ShellCommand, become: BecomeOptions, prompt?: string): ShellCommand {
  const inner = cmd.text;
  if (become.password !== undefined) {
    return sh`sudo -H -S -p ${prompt ?? '[sudo via tsplay] password: '} -u ${become.user} /bin/sh -c ${inner}`;
  }
  return sh`sudo -H -n -u ${become.user} /bin/sh -c ${inner}`;
}
