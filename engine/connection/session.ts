// A long-lived /bin/sh on the host that runs commands one after another, each by a /bin/sh of its own,
// so a command costs no SSH channel of its own (why: docs/performance.md, "Why the connection is
// built this way").
//
// Framing: the session is a plain `/bin/sh` reading its script from the channel, and each command
// is one piece of that script: `/bin/sh -c '<command>'` with its input from /dev/null, from a
// here-document of the input as it is (text ending with a newline: most files written), or from a
// here-document of the input in base64 (anything else; what the command leaves unread is dropped),
// then `<token> <exit code>` printed on stdout and on stderr. The shell reads its script in blocks,
// and the next command is sent only when the previous one has ended. The token is random per
// session, so a command's output cannot end its frame by accident; stdout and stderr stay the
// channel's two streams.
import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { quote } from '../sh.js';
import type { Proc } from './exec.js';

/** The channel a session runs on: ssh2's ClientChannel fits. */
export interface SessionChannel {
  write(data: string | Buffer): boolean;
  on(event: 'data', fn: (d: Buffer) => void): unknown;
  on(event: 'close', fn: (code?: number | null) => void): unknown;
  stderr: { on(event: 'data', fn: (d: Buffer) => void): unknown };
  close(): void;
}

/** The command a session channel runs. */
export const SESSION_COMMAND = 'exec /bin/sh';

/**
 * The piece of script that runs one command with its input and reports its exit code. The command
 * runs in a /bin/sh of its own, as an exec channel's would: its cd, umask, variables, `exit` and
 * $$ are its own. With `subshell` it runs in a subshell of the session's shell, by `eval`: its cd,
 * umask, variables and `exit` are still its own, only `$$` is the session's and the shell's
 * messages say `eval:`; it costs a fork and no exec, and its text never becomes a program's
 * argument (which any user of the host could read in the process list).
 */
export function sessionFrame(token: string, text: string, stdin: Buffer, opts: FrameOptions = {}): Buffer {
  const run = opts.subshell ? `( eval ${quote(text)} )` : `/bin/sh -c ${quote(text)}`;
  const report = `__tsplay_r=$?; printf '%s %d\\n' ${token} "$__tsplay_r"; printf '%s %d\\n' ${token} "$__tsplay_r" >&2\n`;
  const end = `${token}_EOF`;
  if (opts.inputInVariable) {
    // the text prints the variable instead of reading stdin: any other way to send the input
    // would lose it, so input that cannot be the variable is the caller's error
    if (!opts.subshell || !inputFitsVariable(stdin))
      throw new Error('sessionFrame: input in a variable needs a subshell and input that inputFitsVariable accepts');
    // the subshell's own variable, neither exported nor an argument: the shell prints it (INPUT)
    return Buffer.concat([
      Buffer.from(`( ${INPUT_VARIABLE}=`),
      quoteBytes(stdin),
      Buffer.from(`; eval ${quote(text)} ) </dev/null\n${report}`),
    ]);
  }
  if (stdin.length === 0) return Buffer.from(`${run} </dev/null\n${report}`);
  if (hereDocSafe(stdin, end)) {
    // text as it is (a quoted here-document changes nothing in it): no base64 to start
    return Buffer.concat([Buffer.from(`${run} <<'${end}'\n`), stdin, Buffer.from(`${end}\n${report}`)]);
  }
  const lines = stdin.toString('base64').replace(/.{1,76}/g, '$&\n');
  // the pipeline's status is the command's; when the command leaves input unread, base64 ends on
  // the closed pipe (quietly: its stderr is not the command's)
  return Buffer.from(`base64 -d 2>/dev/null <<'${end}' | ${run}\n${lines}${end}\n${report}`);
}

/** How a frame runs its command. */
export interface FrameOptions {
  /** In a subshell of the session's shell, by eval (see sessionFrame). */
  subshell?: boolean;
  /**
   * The command's text prints its input from INPUT_VARIABLE (ShellCommand.withInputIn): the frame
   * sets that variable in the subshell instead of sending standard input. Only with `subshell`,
   * and only for input inputFitsVariable accepts.
   */
  inputInVariable?: boolean;
}

/** The shell variable a subshell frame holds its command's input in. */
export const INPUT_VARIABLE = '__tsplay_in';

/**
 * Can this input be a shell variable, byte for byte? A variable holds no NUL; and the session's
 * shell reads the whole frame before it runs it, so large input goes as a here-document.
 */
export function inputFitsVariable(stdin: Buffer): boolean {
  return stdin.length <= 64 * 1024 && !stdin.includes(0);
}

// Bytes as one single-quoted shell word (any byte but NUL stands for itself between single quotes).
function quoteBytes(b: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from("'")];
  let from = 0;
  for (let i = b.indexOf(0x27); i >= 0; i = b.indexOf(0x27, i + 1)) {
    parts.push(b.subarray(from, i), Buffer.from("'\\''"));
    from = i + 1;
  }
  parts.push(b.subarray(from), Buffer.from("'"));
  return Buffer.concat(parts);
}

/**
 * Can this input go into the script as a here-document, byte for byte? Only when it ends with a
 * newline (a here-document is made of whole lines), holds no NUL (which the shell drops), and has
 * no line equal to the end marker. Anything else (binary, no final newline) goes in base64.
 */
export function hereDocSafe(stdin: Buffer, end: string): boolean {
  if (stdin[stdin.length - 1] !== 0x0a || stdin.includes(0)) return false;
  return !stdin.includes(`\n${end}\n`) && !stdin.subarray(0, end.length + 1).equals(Buffer.from(`${end}\n`));
}

/** A new random token for a session. */
export function sessionToken(): string {
  return `__tsplay_end_${randomBytes(16).toString('hex')}`;
}

// Finds `<token> <code>\n` in a stream that arrives in chunks; what comes before it is the output.
class FrameEnd {
  #tail: Buffer = Buffer.alloc(0);
  readonly #needle: Buffer;
  constructor(token: string) {
    this.#needle = Buffer.from(token + ' ');
  }

  /** Feed a chunk: returns the output part of it, and the exit code once the end is seen. */
  feed(chunk: Buffer): { out: Buffer; code?: number } {
    const data = this.#tail.length ? Buffer.concat([this.#tail, chunk]) : chunk;
    const at = data.indexOf(this.#needle);
    if (at >= 0) {
      const nl = data.indexOf(0x0a, at + this.#needle.length);
      if (nl >= 0) {
        this.#tail = Buffer.alloc(0);
        return { out: data.subarray(0, at), code: Number(data.subarray(at + this.#needle.length, nl).toString()) };
      }
      this.#tail = data.subarray(at);
      return { out: data.subarray(0, at) };
    }
    // the last bytes may be the start of a token split across chunks: keep them back
    const cut = Math.max(0, data.length - (this.#needle.length - 1));
    this.#tail = Buffer.from(data.subarray(cut));
    return { out: data.subarray(0, cut) };
  }

  /** What was kept back, when the stream ends without the token. */
  flush(): Buffer {
    const t = this.#tail;
    this.#tail = Buffer.alloc(0);
    return t;
  }
}

interface Running {
  stdout: PassThrough;
  stderr: PassThrough;
  outEnd: FrameEnd;
  errEnd: FrameEnd;
  outCode?: number;
  errDone: boolean;
  settle(code: number | null): void;
}

/** One persistent shell on a channel; runs one command at a time. */
export class ShellSession {
  #running: Running | undefined;
  #closed = false;
  #pidLine: Buffer | undefined;
  /** The session shell's pid, once it has printed it (`readPid`): how a killed command's process group is found. */
  pid: number | undefined;
  /** Set when the channel ends: the session cannot be used again. */
  onClose?: () => void;
  /**
   * Called when the running command is killed (timeout, Ctrl-C), before the channel is closed:
   * closing alone leaves the command running on the host, so the connection kills it there.
   */
  onKill?: () => void;

  /**
   * `readPid`: the shell prints its pid first (the leader of the process group sshd made for the
   * session), written ahead of the first command: it costs no round trip of its own.
   */
  constructor(
    readonly channel: SessionChannel,
    readonly token: string,
    opts: { readPid?: boolean } = {},
  ) {
    if (opts.readPid) {
      this.#pidLine = Buffer.alloc(0);
      channel.write('echo $$\n');
    }
    channel.on('data', (d) => this.#onData(d, 'out'));
    channel.stderr.on('data', (d) => this.#onData(d, 'err'));
    channel.on('close', (code) => {
      this.#closed = true;
      this.onClose?.();
      const r = this.#running;
      this.#running = undefined;
      if (r && r.outCode === undefined) r.stdout.write(r.outEnd.flush());
      if (r && !r.errDone) r.stderr.write(r.errEnd.flush());
      r?.stdout.end();
      r?.stderr.end();
      r?.settle(typeof code === 'number' ? code : null);
    });
  }

  get busy(): boolean {
    return this.#running !== undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Start a command with all its input; the Proc's stdin is ignored (the input went with the frame). */
  start(text: string, stdin: string | Buffer | undefined, frame: FrameOptions = {}): Proc {
    if (this.#closed || this.#running) throw new Error('session is closed or busy');
    const input = stdin === undefined ? Buffer.alloc(0) : Buffer.isBuffer(stdin) ? stdin : Buffer.from(stdin);
    const piece = sessionFrame(this.token, text, input, frame); // before the session counts as busy: it may throw
    let settle!: (code: number | null) => void;
    const code = new Promise<number | null>((res) => (settle = res));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    // the exit is reported once both streams have delivered everything
    const ended = (s: PassThrough) => new Promise<void>((res) => s.once('end', () => res()).once('close', () => res()));
    const exited = Promise.all([code, ended(stdout), ended(stderr)]).then(([c]) => c);
    const run: Running = {
      stdout,
      stderr,
      outEnd: new FrameEnd(this.token),
      errEnd: new FrameEnd(this.token),
      errDone: false,
      settle,
    };
    this.#running = run;
    this.channel.write(piece);
    return {
      stdin: new Writable({ write: (_c, _e, cb) => cb() }),
      stdout: run.stdout,
      stderr: run.stderr,
      kill: () => this.#kill(),
      exited,
    };
  }

  #onData(d: Buffer, which: 'out' | 'err'): void {
    if (which === 'out' && this.#pidLine) {
      const line = Buffer.concat([this.#pidLine, d]);
      const nl = line.indexOf(0x0a);
      if (nl < 0) {
        this.#pidLine = line;
        return;
      }
      this.#pidLine = undefined;
      const pid = Number(line.subarray(0, nl).toString());
      if (Number.isInteger(pid) && pid > 1) this.pid = pid;
      d = line.subarray(nl + 1);
      if (d.length === 0) return;
    }
    const r = this.#running;
    if (!r) return; // output of something a command left running in the background
    if (which === 'out') {
      if (r.outCode !== undefined) return;
      const { out, code } = r.outEnd.feed(d);
      if (out.length) r.stdout.write(out);
      if (code !== undefined) r.outCode = code;
    } else {
      if (r.errDone) return;
      const { out, code } = r.errEnd.feed(d);
      if (out.length) r.stderr.write(out);
      if (code !== undefined) r.errDone = true;
    }
    if (r.outCode !== undefined && r.errDone) {
      this.#running = undefined;
      r.stdout.end();
      r.stderr.end();
      r.settle(r.outCode);
    }
  }

  // The command is over for the caller now; sshd answers the close only once the command has
  // exited, so the session is not waited for (and not used again).
  #kill(): void {
    const r = this.#running;
    if (r) this.onKill?.();
    this.#running = undefined;
    this.close();
    r?.stdout.end();
    r?.stderr.end();
    r?.settle(null);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.channel.close();
  }
}
