/**
 * The README's example scripts (examples/), run as a user would, against a real server: the
 * TypeScript one (graphql-request) through tsx, the Python one (requests + numpy) with the system
 * python3 — CI installs python3-requests and python3-numpy from Debian. The README shows each file
 * verbatim.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../server/model/config.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { type Harness, startHarness } from './helpers.js';
import { python, pythonReady, ROOT, runCommand } from './spawn.js';

const example = (f: string) => fs.readFileSync(`${ROOT}examples/${f}`, 'utf8');

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const run = (cmd: string, args: string[], token: string) => runCommand(cmd, args, env(token));
const env = (token: string) => ({ ...process.env, TOKEN: token, SEARCHLIGHT_URL: h.server.url });

describe('README examples', () => {
  it('the README shows examples/mazes.ts and examples/forward.py verbatim', () => {
    const readme = fs.readFileSync(`${ROOT}README.md`, 'utf8');
    expect(readme).toContain(example('mazes.ts'));
    expect(readme).toContain(example('forward.py'));
  });

  let datasetId = '';
  it('examples/mazes.ts (graphql-request) builds a dataset through a job and pages through its long test mazes', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', 'examples/mazes.ts'], h.tokens.researcher);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = /^(\d+) long test mazes in (Dataset:\d+); the first:/.exec(r.stdout);
    expect(m).not.toBeNull();
    datasetId = m![2];
    // The script's count is the API's count for the same filter, and nonzero for 500 6×6 mazes.
    const q = await h.gql('query($id: ID!) { dataset(id: $id) { mazes(first: 1, split: test, minPathLength: 12) { totalCount } } }', { id: datasetId });
    expect(Number(m![1])).toBe(q.data.dataset.mazes.totalCount);
    expect(Number(m![1])).toBeGreaterThan(0);
  });

  it('examples/mazes.ts prints the error code and message, not a stack trace, when the token is wrong', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', 'examples/mazes.ts'], 'sl_not-a-token');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^UNAUTHENTICATED: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.skipIf(!pythonReady)('examples/forward.py (requests + numpy) runs a forward pass and loads the cached pattern as .npy', async () => {
    const tok = getTokenizer('aotp-ut');
    const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(6), tokenizer: 'aotp-ut' };
    const b64 = Buffer.from(encodeModel(cfg, initWeights(cfg, new Rng(5)), [...tok.vocab(6)])).toString('base64');
    const modelId = (await h.gql('mutation($b: String!) { importModel(name: "nano-6", base64: $b) { id } }', { b: b64 })).data.importModel.id;
    const maze = (await h.gql('query($id: ID!) { dataset(id: $id) { mazes(first: 1) { edges { node { id tokens } } } } }', { id: datasetId })).data.dataset
      .mazes.edges[0].node;
    const promptLength = maze.tokens.split(' ').indexOf('<PATH_START>') + 1;
    const r = await run(python, ['examples/forward.py', modelId, maze.id], h.tokens.researcher);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // "<next token> [top 3] (batch, head, query pos, key pos)"
    expect(r.stdout.trim()).toMatch(new RegExp(`^\\S+ \\[.*\\] \\(1, ${cfg.n_heads}, ${promptLength}, ${promptLength}\\)$`));

    const bad = await run(python, ['examples/forward.py', modelId, 'Maze:99999'], h.tokens.researcher);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('Maze:99999 does not exist');
  });
});
