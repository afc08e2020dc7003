// Is ansible-core installed (ansible, ansible-playbook, ansible-inventory)? Tests that compare
// tsplay with Ansible itself run only then; .ci/run installs it.
import { spawnSync } from 'node:child_process';

export const hasAnsible = spawnSync('ansible-playbook', ['--version'], { stdio: 'ignore' }).status === 0;
