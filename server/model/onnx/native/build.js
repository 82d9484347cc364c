#!/usr/bin/env node
// Builds ort_direct.node, our zero-copy binding to ONNX Runtime's C API (ort_direct.cc; why it
// exists is written there). Runs as npm's postinstall and as `npm run build:native`.
//
// It is an optimisation, never a requirement: where it cannot be built (no C++ compiler, a platform
// other than Linux, missing headers) this prints why and exits 0, and Searchlight runs every graph
// through onnxruntime-node instead (outputs then cost one more copy). `--strict` makes a failure
// exit 1, for a developer who wants to know.
//
// The compiler is $CXX or c++; the Node-API headers come from the node-api-headers package (no
// download). Output goes to build/ort_direct.node with build/ort_direct.json beside it recording
// the source's sha256, so the loader can refuse a build that is older than the source.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const strict = process.argv.includes('--strict');
const source = join(here, 'ort_direct.cc');
const outDir = join(here, 'build');
const out = join(outDir, 'ort_direct.node');

function skip(reason) {
  const msg = `searchlight: the zero-copy ONNX Runtime binding was not built (${reason}); inference uses onnxruntime-node, which copies every output once.`;
  if (strict) {
    console.error(msg);
    process.exit(1);
  }
  console.warn(msg);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`built on Linux only; this is ${process.platform}`);
let include;
try {
  include = join(dirname(createRequire(import.meta.url).resolve('node-api-headers/package.json')), 'include');
} catch {
  skip('the node-api-headers package is not installed');
}
const cxx = process.env.CXX || 'c++';
const tmp = `${out}.${process.pid}.tmp`;
mkdirSync(outDir, { recursive: true });
const args = [
  '-std=c++17',
  '-O2',
  '-fPIC',
  '-shared',
  '-Wall',
  '-Wextra',
  '-fvisibility=hidden',
  '-DNAPI_VERSION=8',
  `-I${include}`,
  source,
  '-o',
  tmp,
  '-ldl',
];
const r = spawnSync(cxx, args, { encoding: 'utf8' });
if (r.error) skip(`${cxx} could not be run: ${r.error.message}`);
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  skip(`${cxx} failed:\n${r.stderr.trim()}`);
}
renameSync(tmp, out); // atomic: a reader never sees half a library
const sha256 = createHash('sha256').update(readFileSync(source)).digest('hex');
writeFileSync(join(outDir, 'ort_direct.json'), `${JSON.stringify({ source_sha256: sha256, compiler: cxx }, null, 2)}\n`);
if (!process.argv.includes('--quiet')) console.log(`searchlight: built ${out}`);
