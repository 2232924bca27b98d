/** Every CLI command group, in one explicit list. A new group: one file and one line here. */
import type { Command } from 'commander';
import { registerConfigCommands } from './config.command.js';
import { registerKeyCommands } from './keys.command.js';
import { registerTransformCommands } from './transforms.command.js';
import { registerExplainCommand } from './explain.command.js';
import { registerUserCommands } from './users.command.js';

export const COMMAND_GROUPS: Array<(program: Command) => void> = [registerConfigCommands, registerKeyCommands, registerTransformCommands, registerExplainCommand, registerUserCommands];
