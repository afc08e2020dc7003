// The built-in modules. They are registered exactly as custom modules are.
import type { AnyModuleDefinition } from '../engine/index.js';
import alternatives from './alternatives.js';
import apt from './apt.js';
import aptKey from './apt_key.js';
import aptRepository from './apt_repository.js';
import assert from './assert.js';
import blockinfile from './blockinfile.js';
import command from './command.js';
import copy from './copy.js';
import cron from './cron.js';
import debug from './debug.js';
import deb822Repository from './deb822_repository.js';
import fail from './fail.js';
import fetch from './fetch.js';
import file from './file.js';
import find from './find.js';
import getent from './getent.js';
import getUrl from './get_url.js';
import group from './group.js';
import hostname from './hostname.js';
import iniFile from './ini_file.js';
import iptablesEnsure from './iptables-ensure.js';
import lineinfile from './lineinfile.js';
import modprobe from './modprobe.js';
import mount from './mount.js';
import nmcli from './nmcli.js';
import packageModule from './package.js';
import packageFacts from './package_facts.js';
import ping from './ping.js';
import pip from './pip.js';
import reboot from './reboot.js';
import replace from './replace.js';
import routeEnsure from './route-ensure.js';
import script from './script.js';
import service from './service.js';
import serviceFacts from './service_facts.js';
import setFact from './set_fact.js';
import setup from './setup.js';
import shell from './shell.js';
import slurp from './slurp.js';
import stat from './stat.js';
import sysctl from './sysctl.js';
import systemd from './systemd.js';
import tempfile from './tempfile.js';
import template from './template.js';
import timezone from './timezone.js';
import ufw from './ufw.js';
import unarchive from './unarchive.js';
import user from './user.js';
import waitFor from './wait_for.js';
import waitForConnection from './wait_for_connection.js';
import validateArgumentSpec from './validate_argument_spec.js';
import addHost from './add_host.js';
import asyncStatus from './async_status.js';
import authorizedKey from './authorized_key.js';
import groupBy from './group_by.js';
import includeVars from './include_vars.js';
import pause from './pause.js';

export const builtinModules: AnyModuleDefinition[] = [
  addHost,
  alternatives,
  apt,
  aptKey,
  aptRepository,
  assert,
  asyncStatus,
  authorizedKey,
  blockinfile,
  command,
  copy,
  cron,
  debug,
  deb822Repository,
  fail,
  fetch,
  file,
  find,
  getent,
  getUrl,
  group,
  groupBy,
  hostname,
  includeVars,
  iniFile,
  iptablesEnsure,
  lineinfile,
  modprobe,
  mount,
  nmcli,
  packageModule,
  packageFacts,
  pause,
  ping,
  pip,
  reboot,
  replace,
  routeEnsure,
  script,
  service,
  serviceFacts,
  setFact,
  setup,
  shell,
  slurp,
  stat,
  sysctl,
  systemd,
  tempfile,
  template,
  timezone,
  ufw,
  unarchive,
  user,
  validateArgumentSpec,
  waitFor,
  waitForConnection,
];
