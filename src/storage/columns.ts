import type { ValueTransformer } from 'typeorm';

/**
 * Timestamps are epoch milliseconds in a bigint column on every database: one representation
 * for SQLite and PostgreSQL (whose driver returns bigint as a string, hence the transformer).
 */
export const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

/** JSON documents are stored as text so that both databases treat them alike. */
export const jsonText: ValueTransformer = {
  to: (value: unknown) => (value === undefined ? null : JSON.stringify(value)),
  from: (value: string | null) => (value === null || value === undefined ? null : JSON.parse(value)),
};
