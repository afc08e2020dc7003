// Asking for a secret on the terminal (sudo password with -K, SSH password with -k, key passphrases).
import { OptionsError } from '../errors.js';

/** Read a line from the terminal without echo; refuses when there is no terminal. */
export async function promptSecret(question: string, hint: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new OptionsError(`cannot ask "${question.trim()}": no terminal`, hint);
  // echo goes off before the question shows: an answer typed at once must not be echoed
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  return new Promise((resolvePw) => {
    let pw = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolvePw(pw);
          return;
        }
        if (ch === '\u0003') process.kill(process.pid, 'SIGINT');
        else if (ch === '\u007f') pw = pw.slice(0, -1);
        else pw += ch;
      }
    };
    stdin.on('data', onData);
  });
}
