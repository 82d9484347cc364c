/**
 * tokenizeMaze: a maze given by value (the playground's editor) is checked by the maze core and
 * tokenized; bad edges, cells and unreachable targets are BAD_USER_INPUT naming what was wrong.
 * generatePath takes the same maze by value and decodes from the same prompt.
 * Real server, real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../server/model/config.js';
import { encodeModel, initWeights } from '../../server/model/weights.js';
import { mazeFromSpec } from '../../server/maze/edit.js';
import { Rng } from '../../server/maze/rng.js';
import { getTokenizer } from '../../server/maze/tokenize/index.js';
import { type Harness, codes, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const Q = 'query($input: MazeInput!, $seed: Int) { tokenizeMaze(input: $input, seed: $seed) { prompt tokens solution } }';
// A 2x3 maze: a corridor (0,0)-(0,1)-(0,2)-(1,2)-(1,1)-(1,0).
const corridor = {
  rows: 2,
  cols: 3,
  edges: [
    [
      [0, 0],
      [0, 1],
    ],
    [
      [0, 1],
      [0, 2],
    ],
    [
      [0, 2],
      [1, 2],
    ],
    [
      [1, 2],
      [1, 1],
    ],
    [
      [1, 1],
      [1, 0],
    ],
  ],
  origin: [0, 0],
  target: [1, 0],
};

describe('tokenizeMaze', () => {
  it('returns the prompt, the full sequence and the shortest solution, equal to the maze core’s tokenizer on the same seed', async () => {
    const r = await h.gql(Q, { input: corridor, seed: 7 });
    expect(r.errors).toBeUndefined();
    const out = r.data.tokenizeMaze;
    expect(out.solution).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 2],
      [1, 1],
      [1, 0],
    ]);
    const tok = getTokenizer('aotp-ut');
    const maze = mazeFromSpec(corridor);
    expect(out.tokens).toBe(tok.tokenizeToText(maze, new Rng(7)));
    expect(out.prompt).toBe(tok.prompt(maze, new Rng(7)).join(' '));
    expect(out.tokens.startsWith(out.prompt)).toBe(true);
    expect(out.prompt.split(' ').at(-1)).toBe('<PATH_START>');
    expect(out.tokens.endsWith('(0,0) (0,1) (0,2) (1,2) (1,1) (1,0) <PATH_END>')).toBe(true);
  });

  it('opening a wall changes the solution (the edit reaches the tokens)', async () => {
    const opened = {
      ...corridor,
      edges: [
        ...corridor.edges,
        [
          [0, 0],
          [1, 0],
        ],
      ],
    };
    const out = (await h.gql(Q, { input: opened })).data.tokenizeMaze;
    expect(out.solution).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(out.prompt).toMatch(/\(0,0\) <--> \(1,0\)|\(1,0\) <--> \(0,0\)/);
  });

  it('bad input is BAD_USER_INPUT with a message saying what and where', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        {
          edges: [
            [
              [0, 0],
              [1, 1],
            ],
          ],
        },
        /edges\[0\].*\(0,0\) and \(1,1\) are not adjacent/,
      ],
      [
        {
          edges: [
            [
              [1, 2],
              [1, 3],
            ],
          ],
        },
        /edges\[0\].*\(1,3\) is outside the 2x3 grid/,
      ],
      [{ edges: [[[0, 0]]] }, /edges\[0\] must be a pair/],
      [{ edges: corridor.edges.slice(0, 2) }, /target \(1,0\) is not reachable from origin \(0,0\)/],
      [{ target: [5, 0] }, /target \(5,0\) is outside/],
      [{ origin: [1, 0] }, /origin and target are the same cell/],
      [{ rows: 0 }, /rows must be an integer between 1 and 64/],
    ];
    for (const [patch, message] of cases) {
      const r = await h.gql(Q, { input: { ...corridor, ...patch } });
      expect(codes(r), JSON.stringify(patch)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].message).toMatch(message);
    }
    const unknownTok = await h.gql('query($input: MazeInput!) { tokenizeMaze(input: $input, tokenizer: "nope") { prompt } }', { input: corridor });
    expect(codes(unknownTok)).toEqual(['BAD_USER_INPUT']);
    expect(unknownTok.errors![0].message).toMatch(/unknown tokenizer "nope"/);
  });

  it('needs an account', async () => {
    expect(codes(await h.gql(Q, { input: corridor }, null))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('generatePath on a maze given by value', () => {
  it('decodes from the prompt tokenizeMaze returns; exactly one of mazeId / maze; bad mazes are BAD_USER_INPUT', async () => {
    const tok = getTokenizer('aotp-ut');
    const cfg = { ...PRESETS.nano, d_vocab: tok.vocabSize(4), n_ctx: 128, tokenizer: 'aotp-ut' };
    const bytes = encodeModel(cfg, initWeights(cfg, new Rng(5), { scale: 4 }), [...tok.vocab(4)]);
    const imp = await h.gql('mutation($b: String!) { importModel(name: "nano", base64: $b) { id } }', { b: Buffer.from(bytes).toString('base64') });
    expect(imp.errors).toBeUndefined();
    const modelId = imp.data.importModel.id;
    const G =
      'mutation($m: ID!, $maze: MazeInput, $mazeId: ID) { generatePath(modelId: $m, maze: $maze, mazeId: $mazeId) { tokens path metrics { exact_path valid_rollout target_reached node_overlap fork_decisions { correct total } predicted_length steps ended } } }';

    const r = await h.gql(G, { m: modelId, maze: corridor });
    expect(r.errors).toBeUndefined();
    const prompt = (await h.gql(Q, { input: corridor })).data.tokenizeMaze.prompt;
    expect(r.data.generatePath.tokens.startsWith(`${prompt} `)).toBe(true);
    expect(r.data.generatePath.tokens.split(' ').length).toBeGreaterThan(prompt.split(' ').length);

    const neither = await h.gql(G, { m: modelId });
    expect(codes(neither)).toEqual(['BAD_USER_INPUT']);
    expect(neither.errors![0].message).toMatch(/exactly one of mazeId .* or maze/);
    const bad = await h.gql(G, {
      m: modelId,
      maze: {
        ...corridor,
        edges: [
          [
            [0, 0],
            [1, 1],
          ],
        ],
      },
    });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0].message).toMatch(/not adjacent/);
  });
});

describe('parseMazeTokens', () => {
  const P = `query($t: String!, $rows: Int, $cols: Int) { parseMazeTokens(tokens: $t, rows: $rows, cols: $cols) {
    rows cols origin target path complete svg(cellSize: 20) } }`;

  it("reads back tokenizeMaze's sequence, its prompt and a prefix cut inside the path, and draws each with the path read so far", async () => {
    const { tokens, prompt } = (await h.gql(Q, { input: corridor, seed: 3 })).data.tokenizeMaze;
    const full = (await h.gql(P, { t: tokens })).data.parseMazeTokens;
    expect(full).toMatchObject({ rows: 2, cols: 3, origin: [0, 0], target: [1, 0], complete: true });
    expect(full.path).toEqual(corridor.edges.map((e) => e[0]).concat([[1, 0]]));
    // The drawing is the maze core's: its open walls are the corridor's, the solution drawn.
    expect(full.svg).toContain('data-rows="2"');
    expect(full.svg).toMatch(/class="solution"|polyline/);
    const bare = (await h.gql(P, { t: prompt })).data.parseMazeTokens;
    expect(bare).toMatchObject({ path: [], complete: false });
    const cut = (await h.gql(P, { t: `${prompt} (0,0) (0,1)` })).data.parseMazeTokens;
    expect(cut.path).toEqual([
      [0, 0],
      [0, 1],
    ]);
    // The grid can be fixed: a larger one is drawn as asked, a smaller one refused at the coordinate outside it.
    expect((await h.gql(P, { t: tokens, rows: 3, cols: 3 })).data.parseMazeTokens.rows).toBe(3);
    const small = await h.gql(P, { t: tokens, rows: 1, cols: 3 });
    expect(codes(small)).toEqual(['BAD_USER_INPUT']);
    expect(small.errors![0].message).toMatch(/outside the 1x3 grid/);
  });

  it('refuses what is not a maze sequence, naming where, and half a grid', async () => {
    const r = await h.gql(P, { t: '<ADJLIST_START> (0,0) <--> banana ;' });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(/token 3/);
    const half = await h.gql(P, { t: '<ADJLIST_START>', rows: 2 });
    expect(half.errors![0].message).toBe('parseMazeTokens: give both rows and cols, or neither (the grid is then inferred)');
    expect(codes(await h.gql(P, { t: '<ADJLIST_START>' }, null))).toEqual(['UNAUTHENTICATED']);
  });

  it('reads several sequences in one request: each as parseMazeTokens would, a bad one null with its error at its index, at most 32', async () => {
    const L = `query($items: [MazeTokensInput!]!) { parseMazeTokensList(items: $items) { rows cols path complete svg(cellSize: 20) } }`;
    const { tokens, prompt } = (await h.gql(Q, { input: corridor, seed: 3 })).data.tokenizeMaze;
    const one = (await h.gql(P, { t: tokens })).data.parseMazeTokens;
    const r = await h.gql(L, {
      items: [{ tokens }, { tokens: '<ADJLIST_START> (0,0) <--> banana ;' }, { tokens: prompt, rows: 3, cols: 3 }, { tokens, rows: 2 }],
    });
    const list = r.data.parseMazeTokensList;
    expect(list).toHaveLength(4);
    expect(list[0]).toEqual({ rows: one.rows, cols: one.cols, path: one.path, complete: one.complete, svg: one.svg });
    expect(list[1]).toBeNull();
    expect(list[2]).toMatchObject({ rows: 3, cols: 3, path: [], complete: false });
    expect(list[3]).toBeNull();
    expect(r.errors!.map((e) => e.path)).toEqual([
      ['parseMazeTokensList', 1],
      ['parseMazeTokensList', 3],
    ]);
    expect(r.errors![0].message).toMatch(/^parseMazeTokensList: items\[1\]: .*token 3/);
    expect(r.errors![1].message).toBe('parseMazeTokensList: items[3]: give both rows and cols, or neither (the grid is then inferred)');
    expect(codes(r)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    const many = await h.gql(L, { items: Array.from({ length: 33 }, () => ({ tokens })) });
    expect(many.errors![0].message).toBe('parseMazeTokensList: at most 32 items, got 33');
    expect(codes(await h.gql(L, { items: [{ tokens }] }, null))).toEqual(['UNAUTHENTICATED']);
  });
});
