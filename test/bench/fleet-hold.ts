// Dev aid: start N sshd like the benchmark and keep them until killed (not run by CI).
import { writeFileSync, mkdirSync } from 'node:fs';
import { createSshLab, knownHostsLine, USER_NOPASS } from '../integration/sshd.js';
const n = Number(process.argv[2] ?? 100);
const dir = process.argv[3] ?? '/tmp/fleet';
const lab = createSshLab();
const servers = [];
for (let i = 0; i < n; i++) servers.push(await lab.start({ maxSessions: 10 }));
writeFileSync(lab.knownHosts, servers.map(knownHostsLine).join('\n') + '\n');
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}/hosts`, servers.map((s, i) => `h${i} ansible_host=127.0.0.1 ansible_port=${s.port}`).join('\n') + `\n[all:vars]\nansible_user=${USER_NOPASS}\nansible_ssh_private_key_file=${lab.clientKey}\nansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts}'\n`);
console.log('ready');
process.on('SIGTERM', async () => { await lab.stop(); process.exit(0); });
setInterval(() => {}, 1 << 30);
