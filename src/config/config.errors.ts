/** A configuration problem, reported with the file, the dotted key and what was expected. */
export interface ConfigProblem {
  file: string;
  /** Dotted path, e.g. `clients[0].redirectUris[1]`; empty for the whole document. */
  key: string;
  message: string;
  line?: number;
  column?: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(ConfigError.format(problems));
    this.name = 'ConfigError';
  }

  static format(problems: ConfigProblem[]): string {
    const lines = problems.map((p) => {
      const where = p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
      return `  ${where}  ${p.key || '(document)'}: ${p.message}`;
    });
    return `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
  }
}

export function dottedPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}
