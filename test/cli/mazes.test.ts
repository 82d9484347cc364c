import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cli } from './run.js';

const lines = (s: string) => s.split('\n').filter(Boolean);

describe('searchlight mazes', () => {
  it('prints help for the program, the group and every command', async () => {
    expect((await cli(['--help'])).stdout).toMatch(/Usage: searchlight <command> \[options\] \| searchlight <group> <command>/);
    expect((await cli(['mazes'])).stdout).toMatch(/generate/);
    for (const c of ['generate', 'parse', 'render', 'baseline', 'metrics']) {
      const r = await cli(['mazes', c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: searchlight mazes ${c}`);
    }
  });

  it('reports user errors as one line with exit status 2', async () => {
    const cases: Array<[string[], string, RegExp]> = [
      [['mazes', 'generate', '--generator', 'nope'], '', /unknown generator.*dfs/i],
      [['mazes', 'generate', '--grid', 'six'], '', /--grid must be an integer; got "six"/],
      [['mazes', 'generate', '--grid', '65'], '', /between 1 and 64/],
      [['mazes', 'generate', '--bogus'], '', /Unknown option '--bogus'/],
      [
        ['mazes', 'parse'],
        '<ADJLIST_START> (0,0) <--> (9,9) ; <ADJLIST_END>',
        /^searchlight: line 1: token 1: edge \(0,0\) <--> \(9,9\) joins cells that are not lattice neighbours/,
      ],
      [['nothing'], '', /unknown command "nothing"/],
      [['mazes', 'parse', '--tokenizer', 'walls'], '<ADJLIST_START> <ADJLIST_END>', /walls sequences do not determine the grid size; pass --grid N/],
      [['mazes', 'metrics', '--tokenizer', 'walls'], '', /walls sequences do not determine the grid size; pass --grid N/],
    ];
    for (const [argv, stdin, msg] of cases) {
      const r = await cli(argv, stdin);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('generates a seeded stream: same seed, same bytes; maze k does not depend on --count', async () => {
    const a = await cli(['mazes', 'generate', '--grid', '5', '--count', '4', '--seed', '3']);
    const b = await cli(['mazes', 'generate', '--grid', '5', '--count', '4', '--seed', '3']);
    const c = await cli(['mazes', 'generate', '--grid', '5', '--count', '4', '--seed', '4']);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
    expect(lines(a.stdout)).toHaveLength(4);
    const jsonl = lines((await cli(['mazes', 'generate', '--grid', '5', '--count', '2', '--seed', '3', '--format', 'jsonl'])).stdout).map((l) => JSON.parse(l));
    const first = lines((await cli(['mazes', 'generate', '--grid', '5', '--count', '1', '--seed', '3', '--format', 'jsonl'])).stdout).map((l) => JSON.parse(l));
    expect(first[0].path).toEqual(jsonl[0].path);
    expect(first[0].edges).toEqual(jsonl[0].edges);
  });

  it('parses what it generates back to the same maze, in every token format', async () => {
    for (const tokenizer of ['aotp-ut', 'aotp-ctt', 'walls']) {
      const gen = await cli([
        'mazes',
        'generate',
        '--generator',
        'wilson',
        '--grid',
        '4',
        '--count',
        '3',
        '--seed',
        '9',
        '--format',
        'jsonl',
        '--tokenizer',
        tokenizer,
      ]);
      const objs = lines(gen.stdout).map((l) => JSON.parse(l));
      const parsed = await cli(['mazes', 'parse', '--tokenizer', tokenizer, '--grid', '4'], objs.map((o) => o.tokens).join('\n'));
      expect(parsed.code, parsed.stderr).toBe(0);
      const back = lines(parsed.stdout).map((l) => JSON.parse(l));
      expect(back).toEqual(objs.map(({ grid, origin, target, path, edges }) => ({ grid, origin, target, path, edges })));
    }
  });

  it('renders ASCII with the origin, target and path marked', async () => {
    const gen = await cli(['mazes', 'generate', '--grid', '3', '--count', '1', '--seed', '1']);
    const r = await cli(['mazes', 'render', '--ascii'], gen.stdout);
    expect(r.code).toBe(0);
    const art = lines(r.stdout);
    expect(art).toHaveLength(7); // 2·3 + 1 rows of wall characters
    expect(r.stdout).toMatch(/S/);
    expect(r.stdout).toMatch(/E/);
    const svg = await cli(['mazes', 'render', '--svg'], gen.stdout);
    expect(svg.stdout.trim()).toMatch(/^<svg[\s\S]*<\/svg>$/);
  });

  it('scores the baseline: with bias 1 it solves every tree maze, uniform it does not', async () => {
    const gen = await cli(['mazes', 'generate', '--grid', '6', '--count', '40', '--seed', '5']);
    const perfect = await cli(['mazes', 'baseline', '--bias', '1'], gen.stdout);
    const m1 = JSON.parse((await cli(['mazes', 'metrics'], perfect.stdout)).stdout);
    expect(m1.count).toBe(40);
    expect(m1.exact_path_rate).toBe(1);
    const uniform = await cli(['mazes', 'baseline', '--seed', '2'], gen.stdout);
    const m2 = JSON.parse((await cli(['mazes', 'metrics'], uniform.stdout)).stdout);
    expect(m2.exact_path_rate).toBeLessThan(1);
    expect(m2.means.frac_connected_steps).toBe(1); // the baseline only follows real connections
    expect(m2.means.backtracks).toBe(0);
  });

  it('counts junk in predictions as invalid tokens instead of failing', async () => {
    const gen = await cli(['mazes', 'generate', '--grid', '4', '--count', '1', '--seed', '2']);
    const prompt = gen.stdout.trim().split(' <PATH_START> ')[0];
    const r = await cli(['mazes', 'metrics', '--per-sequence'], `${prompt} <PATH_START> (0,0) banana (9,9) <PATH_END>`);
    expect(r.code, r.stderr).toBe(0);
    const row = JSON.parse(lines(r.stdout)[0]);
    expect(row.invalid_tokens).toBe(2);
    expect(row.exact_path).toBe(false);
  });

  it('runs as an installed binary: user errors exit 2 without a stack trace', async () => {
    const run = promisify(execFile);
    const err = await run(process.execPath, ['bin/searchlight.js', 'mazes', 'generate', '--count', '-1']).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/^searchlight: .*--count/);
    expect(err.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    const ok = await run(process.execPath, ['bin/searchlight.js', 'mazes', 'generate', '--grid', '3', '--count', '2']);
    expect(lines(ok.stdout)).toHaveLength(2);
  });
});
