// The built-in modules. They are registered exactly as custom modules are.
import type { ModuleDefinition } from '../engine/index.js';
import apt from './apt.js';
import assert from './assert.js';
import command from './command.js';
import copy from './copy.js';
import debug from './debug.js';
import fail from './fail.js';
import file from './file.js';
import hostname from './hostname.js';
import iptablesEnsure from './iptables-ensure.js';
import lineinfile from './lineinfile.js';
import mount from './mount.js';
import nmcli from './nmcli.js';
import ping from './ping.js';
import reboot from './reboot.js';
import replace from './replace.js';
import routeEnsure from './route-ensure.js';
import service from './service.js';
import setFact from './set_fact.js';
import setup from './setup.js';
import shell from './shell.js';
import sysctl from './sysctl.js';
import systemd from './systemd.js';
import template from './template.js';
import waitFor from './wait_for.js';
import waitForConnection from './wait_for_connection.js';

export const builtinModules: ModuleDefinition<any, any>[] = [apt, assert, command, copy, debug, fail, file, hostname, iptablesEnsure, lineinfile, mount, nmcli, ping, reboot, replace, routeEnsure, service, setFact, setup, shell, sysctl, systemd, template, waitFor, waitForConnection];
