// For measuring by hand (not run by CI or by npm run bench): start N sshd as the benchmark does
// and keep them until SIGTERM, with an inventory for them in DIR/hosts.
// Usage: npx tsx test/bench/fleet-hold.ts [N=100] [DIR=/tmp/fleet]
import { mkdirSync, writeFileSync } from 'node:fs';
import { createSshLab, knownHostsLine, USER_NOPASS, type SshServer } from '../integration/sshd.js';
const n = Number(process.argv[2] ?? 100);
const dir = process.argv[3] ?? '/tmp/fleet';
const lab = createSshLab();
const servers: SshServer[] = [];
for (let i = 0; i < n; i++) servers.push(await lab.start({ maxSessions: 10 }));
writeFileSync(lab.knownHosts, servers.map(knownHostsLine).join('\n') + '\n');
mkdirSync(dir, { recursive: true });
writeFileSync(
  `${dir}/hosts`,
  servers.map((s, i) => `h${i} ansible_host=127.0.0.1 ansible_port=${s.port}`).join('\n') +
    `\n[all:vars]\nansible_user=${USER_NOPASS}\nansible_ssh_private_key_file=${lab.clientKey}\nansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts}'\n`,
);
console.log('ready');
process.on('SIGTERM', async () => {
  await lab.stop();
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
