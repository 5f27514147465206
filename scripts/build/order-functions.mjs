// Orders a wasm text file's functions by signature, then by size (scripts/build.sh: "Functions grouped by signature").
import { readFileSync, writeFileSync } from 'node:fs';
const watFile = process.argv.at(-1);
const die = (m) => { console.error(`build: FAILED: function order: ${m}`); process.exit(1); };
// binaryen prints each function as a block from ` (func $name <signature>` to a line ` )`, all
// together and after every other module field but the closing `)`.
const lines = readFileSync(watFile, 'utf8').split('\n');
const start = lines.findIndex((l) => l.startsWith(' (func '));
if (start < 0) die('no functions found');
const funcs = [];
let i = start;
while (lines[i]?.startsWith(' (func ')) {
  const end = lines.indexOf(' )', i);
  if (end < 0) die(`function at line ${i + 1} does not end`);
  funcs.push(lines.slice(i, end + 1));
  i = end + 1;
}
if (lines.slice(i).some((l) => l.startsWith(' ('))) die('a module field follows the functions');
const signature = (f) => f[0].replace(/^ \(func \$\S+/, '');
const size = (f) => f.reduce((n, l) => n + l.trim().length, 0);
const keyed = funcs.map((f) => ({ f, sig: signature(f), size: size(f) }));
keyed.sort((a, b) => (a.sig < b.sig ? -1 : a.sig > b.sig ? 1 : a.size - b.size));
writeFileSync(watFile, [...lines.slice(0, start), ...keyed.flatMap((k) => k.f), ...lines.slice(i)].join('\n'));
