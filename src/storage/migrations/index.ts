/** Migrations in order. A feature that adds tables appends its migration here. */
import { Initial1764547200000 } from './0001-initial.js';

export const MIGRATIONS = [Initial1764547200000];
