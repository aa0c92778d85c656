/**
 * Every command of the CLI. To add one: write its definition (a `Command`, see
 * ../command.ts) in the file of its group, or in a new file here exporting an array, and
 * add that array to this list: one line. Help, --json handling, flag checking, unknown
 * subcommands and docs/cli.md's command list follow from the definition.
 */
import type { Command } from '../command.js';
import { accessTokenCommands } from '../../access-tokens/cli.js';
import { groupsCommands } from './groups.js';
import { grantsCommands } from './grants.js';
import { maintenanceCommands } from './maintenance.js';
import { registryCommands } from './registry.js';
import { robotsCommands } from './robots.js';
import { setupCommands } from './setup.js';
import { tokensCommands } from './tokens.js';
import { usersCommands } from './users.js';

export const COMMANDS: readonly Command[] = [
  ...usersCommands,
  ...groupsCommands,
  ...robotsCommands,
  ...grantsCommands,
  ...maintenanceCommands,
  ...tokensCommands,
  ...accessTokenCommands,
  ...registryCommands,
  ...setupCommands,
];
