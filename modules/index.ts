// The built-in modules. They are registered exactly as custom modules are.
import type { ModuleDefinition } from '../engine/index.js';
import assert from './assert.js';
import command from './command.js';
import copy from './copy.js';
import debug from './debug.js';
import fail from './fail.js';
import file from './file.js';
import iptablesEnsure from './iptables-ensure.js';
import lineinfile from './lineinfile.js';
import nmcli from './nmcli.js';
import ping from './ping.js';
import routeEnsure from './route-ensure.js';
import setFact from './set_fact.js';
import setup from './setup.js';
import shell from './shell.js';
import sysctl from './sysctl.js';
import template from './template.js';

export const builtinModules: ModuleDefinition<any, any>[] = [assert, command, copy, debug, fail, file, iptablesEnsure, lineinfile, nmcli, ping, routeEnsure, setFact, setup, shell, sysctl, template];
