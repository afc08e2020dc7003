// For measuring by hand (not run by CI): what SSH connections to the hosts of
// test/bench/fleet-hold.ts cost, step by step, with ssh2 alone (no tsplay): connect and
// authenticate only; also open a shell; also run N commands in it (`true`, or `stat` with two more
// programs, as a file probe did). Usage: npx tsx test/bench/conn-cost.ts connect|shell|stat [N=4]
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
const inv = readFileSync('/tmp/fleet/hosts', 'utf8');
const ports = [...inv.matchAll(/ansible_port=(\d+)/g)].map((m) => Number(m[1]));
const key = readFileSync(/ansible_ssh_private_key_file=(\S+)/.exec(inv)![1]!);
const mode = process.argv[2] ?? 'connect';
const cmds = Number(process.argv[3] ?? 4);
const busy = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
};
const b0 = busy();
const t0 = Date.now();
const c0 = process.cpuUsage();
await Promise.all(
  ports.map(
    (port) =>
      new Promise<void>((res, rej) => {
        const c = new Client();
        c.on('error', rej);
        c.on('ready', () => {
          if (mode === 'connect') {
            c.end();
            return;
          }
          c.shell(false, (err, ch) => {
            if (err) return rej(err);
            let n = 0;
            let buf = '';
            const next = () => {
              if (n++ >= cmds) {
                ch.end();
                return;
              }
              ch.write(
                mode === 'stat'
                  ? `stat /etc/hostname >/dev/null; base64 -w0 </etc/hostname >/dev/null; LC_ALL=C id >/dev/null; echo __d\n`
                  : `true; echo __d\n`,
              );
            };
            ch.on('data', (d: Buffer) => {
              buf += d;
              if (buf.includes('__d\n')) {
                buf = '';
                next();
              }
            });
            ch.on('close', () => c.end());
            next();
          });
        });
        c.on('close', () => res());
        c.connect({ host: '127.0.0.1', port, username: 'tsplay-np', privateKey: key });
      }),
  ),
);
const cpu = process.cpuUsage(c0);
console.log(
  `${mode} x${cmds}: wall ${(Date.now() - t0) / 1000} s; node cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s; machine busy ${((busy() - b0) / 100).toFixed(2)} s`,
);
