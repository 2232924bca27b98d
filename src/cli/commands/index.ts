/** Every CLI command group, in one explicit list. A new group: one file and one line here. */
import type { Command } from 'commander';
import { registerConfigCommands } from './config.command.js';
import { registerKeyCommands } from './keys.command.js';
import { registerUserCommands } from './users.command.js';

export const COMMAND_GROUPS: Array<(program: Command) => void> = [registerConfigCommands, registerKeyCommands, registerUserCommands];
