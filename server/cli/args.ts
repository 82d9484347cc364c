/**
 * A small declarative argument parser on top of node:util.parseArgs, so every command gets the
 * same `--help` text and the same one-line errors.
 */
import { parseArgs } from 'node:util';
import { UserError } from '../errors.js';
import type { CliIO } from './io.js';

export class UsageError extends UserError {
  override name = 'UsageError';
}

export interface OptionSpec {
  type: 'string' | 'boolean' | 'number' | 'integer';
  description: string;
  default?: string | number | boolean;
  short?: string;
  /** Allowed values for string options. */
  choices?: readonly string[];
  required?: boolean;
  placeholder?: string;
}

export interface CommandSpec<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  name: string;
  summary: string;
  usage?: string;
  options: O;
  /** Extra help paragraphs (formats, examples). */
  details?: string;
}

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean' ? boolean : S['type'] extends 'string' ? string : number;
export type ParsedOptions<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: O[K]['required'] extends true ? ValueOf<O[K]> : O[K]['default'] extends undefined ? ValueOf<O[K]> | undefined : ValueOf<O[K]>;
};

export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: ${spec.usage ?? `searchlight ${spec.name} [options]`}`, '', spec.summary, '', 'Options:'];
  const entries = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'boolean' ? '' : ` ${o.placeholder ?? (o.choices ? o.choices.join('|') : o.type.toUpperCase())}`}`;
    const extra = [o.required ? 'required' : '', o.default !== undefined ? `default: ${o.default}` : ''].filter(Boolean).join('; ');
    return [flag, `${o.description}${extra ? ` (${extra})` : ''}`];
  });
  entries.push(['-h, --help', 'Show this help']);
  const width = Math.max(...entries.map(([f]) => f.length)) + 2;
  for (const [f, d] of entries) lines.push(`  ${f.padEnd(width)}${d}`);
  if (spec.details) lines.push('', spec.details.trim());
  return lines.join('\n') + '\n';
}

/** Parses argv against the spec. Returns null when --help was asked for (help already printed). */
export function parseCommand<O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
): { options: ParsedOptions<O>; positionals: string[] } | null {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options))
    config[name] = { type: o.type === 'boolean' ? 'boolean' : 'string', ...(o.short ? { short: o.short } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
  } catch (e) {
    // parseArgs' messages are already precise ("Unknown option '--foo'"); drop its advice suffix.
    const msg = (e as Error).message.split('. To specify')[0];
    throw new UsageError(`${spec.name}: ${msg}`);
  }
  if (parsed.values.help) {
    out(helpText(spec));
    return null;
  }
  const options: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const raw = parsed.values[name];
    if (raw === undefined) {
      if (o.required) throw new UsageError(`${spec.name}: missing required option --${name}`);
      options[name] = o.default;
      continue;
    }
    if (o.type === 'boolean') {
      options[name] = raw;
    } else if (o.type === 'string') {
      if (o.choices && !o.choices.includes(raw as string)) {
        throw new UsageError(`${spec.name}: --${name} must be one of ${o.choices.join(', ')}; got "${raw}"`);
      }
      options[name] = raw;
    } else {
      const n = Number(raw);
      if ((raw as string).trim() === '' || !Number.isFinite(n) || (o.type === 'integer' && !Number.isInteger(n))) {
        throw new UsageError(`${spec.name}: --${name} must be ${o.type === 'integer' ? 'an integer' : 'a number'}; got "${raw}"`);
      }
      options[name] = n;
    }
  }
  return { options: options as ParsedOptions<O>, positionals: parsed.positionals };
}

/** One `searchlight` command; app/main.ts dispatches to them. */
export interface Command {
  summary: string;
  run(argv: string[], io: CliIO): Promise<void>;
}

export type CommandGroup = Record<string, Command>;
