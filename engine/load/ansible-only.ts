// Modules Ansible has that tsplay does not, because they manage systems other than tsplay's
// Debian family (RPM, SUSE, Arch, Alpine, BSD package managers, firewalld, SELinux). Roles carry
// them in tasks for those systems (`when: ansible_os_family == 'RedHat'`, setup-RedHat.yml): such a
// task loads, and fails only if it runs on a host, as the module itself would there.

const NAMES = new Set([
  'apk',
  'dnf',
  'dnf5',
  'firewalld',
  'firewalld_info',
  'homebrew',
  'homebrew_cask',
  'openbsd_pkg',
  'pacman',
  'pkgng',
  'portage',
  'redhat_subscription',
  'rhsm_repository',
  'rpm_key',
  'seboolean',
  'sefcontext',
  'selinux',
  'seport',
  'slackpkg',
  'snap',
  'swupd',
  'urpmi',
  'xbps',
  'yum',
  'yum_repository',
  'zypper',
  'zypper_repository',
]);

/** The module's short name when `key` names one of Ansible's modules for other systems. */
export function ansibleOnlyModule(key: string): string | undefined {
  const m = /^(?:(?:ansible\.(?:builtin|legacy|posix)|community\.general)\.)?([a-z0-9_]+)$/.exec(key);
  return m && NAMES.has(m[1]!) ? m[1] : undefined;
}

/** The failure of such a task when it runs. */
export function ansibleOnlyMessage(action: string): string {
  return `tsplay has no module '${action}': it manages systems other than tsplay's (Debian, Raspberry Pi OS, Ubuntu), so this task can only be skipped on them`;
}
