import { describe, expect, it } from 'vitest';
import { MazeError, emptyMaze, setEdge } from '../../server/maze/lattice.js';
import { escapeXml, renderAscii, renderSvg } from '../../server/maze/render.js';
import { handSolved, handTree } from './baseline-fixtures.js';

/** Tags open and close in order (a small stand-in for an XML parser; no comments/CDATA are emitted). */
function expectBalancedTags(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)\b[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (close) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
}

const count = (s: string, re: RegExp): number => [...s.matchAll(re)].length;

describe('renderAscii', () => {
  it('draws a 2×2 maze with one passage exactly', () => {
    const m = emptyMaze(2);
    setEdge(m, [0, 0], [0, 1], true);
    expect(renderAscii(m)).toBe(['#####', '#   #', '#####', '# # #', '#####'].join('\n'));
  });

  it('draws the hand tree with origin, target and solution exactly', () => {
    expect(renderAscii(handSolved())).toBe(['#######', '#S**  #', '###*# #', '#  *# #', '###*###', '#  **E#', '#######'].join('\n'));
  });

  it('marks a predicted path: o off the solution, @ shared, X through a wall', () => {
    // Predicted (0,0) (0,1) (0,2) (1,2) (1,1): shares (0,0)-(0,1), leaves at the first fork, and
    // steps from (1,2) to (1,1) through the wall between them.
    const out = renderAscii(handSolved(), {
      predicted: [
        [0, 0],
        [0, 1],
        [0, 2],
        [1, 2],
        [1, 1],
      ],
    });
    expect(out).toBe(['#######', '#S@@oo#', '###*#o#', '#  @Xo#', '###*###', '#  **E#', '#######'].join('\n'));
  });

  it('lets null hide the maze’s own markers, and rejects an off-grid path cell', () => {
    const bare = renderAscii(handSolved(), { origin: null, target: null, path: null });
    expect(bare).toBe(renderAscii(handTree()));
    expect(bare).not.toMatch(/[SE*]/);
    expect(() =>
      renderAscii(handTree(), {
        path: [
          [0, 0],
          [3, 0],
        ],
      }),
    ).toThrow(/path\[1\] \(3,0\) is outside/);
  });
});

describe('renderSvg', () => {
  it('is one <svg> element with a rect per cell (data-cell), a line per closed edge, and the markers', () => {
    const svg = renderSvg(handSolved());
    expect(svg.startsWith('<svg ')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expectBalancedTags(svg);
    const cells = [...svg.matchAll(/<rect class="cell" data-cell="(\d+),(\d+)"/g)].map((x) => `${x[1]},${x[2]}`);
    expect(cells).toEqual(['0,0', '0,1', '0,2', '1,0', '1,1', '1,2', '2,0', '2,1', '2,2']);
    expect(count(svg, /data-cell=/g)).toBe(9);
    // 12 interior lattice edges, 8 open ⇒ 4 wall segments; plus one border rect.
    expect(count(svg, /<line class="wall"/g)).toBe(4);
    expect(count(svg, /<rect class="border"/g)).toBe(1);
    expect(count(svg, /<circle class="origin"/g)).toBe(1);
    expect(count(svg, /<path class="target"/g)).toBe(1);
    const sol = svg.match(/<polyline class="solution" points="([^"]*)"/);
    expect(sol?.[1].split(' ')).toEqual(['14,14', '38,14', '38,38', '38,62', '62,62']); // cell centres, cellSize 24, pad 2
    expect(count(svg, /class="predicted"/g)).toBe(0);
  });

  it('puts each wall on the closed edge it stands for', () => {
    // Closed edges of the hand tree: (0,0)|(1,0), (1,0)|(2,0), (1,1)|(1,2), (1,2)|(2,2). Cell (r,c)
    // spans x ∈ [2 + 60c, 62 + 60c], y ∈ [2 + 60r, 62 + 60r] with cellSize 60.
    const walls = [...renderSvg(handTree(), { cellSize: 60 }).matchAll(/<line class="wall" ([^/]*)\/>/g)].map((x) => x[1]);
    expect(walls.sort()).toEqual([
      'x1="122" y1="122" x2="182" y2="122"', // below (1,2)
      'x1="122" y1="62" x2="122" y2="122"', // right of (1,1)
      'x1="2" y1="122" x2="62" y2="122"', // below (1,0)
      'x1="2" y1="62" x2="62" y2="62"', // below (0,0)
    ]);
  });

  it('draws each run of a predicted path between invalid tokens', () => {
    const svg = renderSvg(handSolved(), { predicted: [[0, 0], [0, 1], null, [1, 1], [9, 9], [2, 1], [2, 2]] });
    expect(count(svg, /<polyline class="predicted"/g)).toBe(2); // (0,0)-(0,1) and (2,1)-(2,2)
    expect(count(svg, /<circle class="predicted"/g)).toBe(1); // (1,1) alone
    expectBalancedTags(svg);
  });

  it('colours cells by heat on the viridis scale, grey for non-finite values', () => {
    const heat = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, Number.NaN]);
    const svg = renderSvg(handTree(), { heat });
    expect(svg).toMatch(/data-cell="0,0"[^>]*fill="#440154" data-heat="0"/); // minimum
    expect(svg).toMatch(/data-cell="2,1"[^>]*fill="#fde725" data-heat="7"/); // maximum
    expect(svg).toMatch(/data-cell="2,2"[^>]*fill="#cccccc" data-heat="NaN"/);
    expect(() => renderSvg(handTree(), { heat: new Float32Array(8) })).toThrow(/heat must have rows\*cols = 9 values, got 8/);
    expect(() => renderSvg(handTree(), { heat, heatRange: [1, 0] })).toThrow(MazeError);
  });

  it('escapes the title text', () => {
    const svg = renderSvg(handTree(), { title: '<script>"a" & \'b\'</script>' });
    expect(svg).toContain('<title>&lt;script&gt;&quot;a&quot; &amp; &apos;b&apos;&lt;/script&gt;</title>');
    expect(svg).not.toContain('<script>');
    expect(escapeXml('a<b')).toBe('a&lt;b');
  });

  it('rejects a bad cell size', () => {
    expect(() => renderSvg(handTree(), { cellSize: 2.5 })).toThrow(/cellSize/);
  });
});
