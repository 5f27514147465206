// Merges the table entries whose whole body is `unreachable` into one in a wasm text file (scripts/build.sh: "Trapping table entries merged").
import { readFileSync, writeFileSync } from 'node:fs';
const watFile = process.argv.at(-1);
const die = (m) => { console.error(`build: FAILED: trap merge: ${m}`); process.exit(1); };
const lines = readFileSync(watFile, 'utf8').split('\n');
// binaryen prints each function from ` (func $name …` to a line ` )`, and the table's entries on
// ` (elem …` lines. A function name is `$plain` or `$"quoted"`.
const NAME = String.raw`\$"(?:[^"\\]|\\.)*"|\$[^\s()"]+`;
const elem = lines.flatMap((l, i) => (l.startsWith(' (elem ') ? [i] : []));
if (elem.length === 0) die('no table entries found');
// Every other way to name a function: a call, a ref.func, an export, the start function.
const used = new Set();
const use = new RegExp(String.raw`\((?:call|return_call|ref\.func|start) (${NAME})(?=[\s)]|$)|\(export "[^"]*" \(func (${NAME})\)\)`, 'g');
for (let i = 0; i < lines.length; i++) {
  if (elem.includes(i)) continue;
  for (const m of lines[i].matchAll(use)) used.add(m[1] ?? m[2]);
}
const head = new RegExp(String.raw`^ \(func (${NAME})`);
const traps = [];
for (let i = 0; i < lines.length; i++) {
  const m = head.exec(lines[i]);
  if (m && lines[i + 1] === '  (unreachable)' && lines[i + 2] === ' )' && !used.has(m[1])) traps.push({ name: m[1], at: i });
}
if (traps.length < 2) process.exit(0);
const keep = traps[0].name;
const gone = new Set(traps.slice(1).map((t) => t.name));
const entry = new RegExp(NAME, 'g');
// The entries follow the segment's own name and offset: ` (elem $0 (i32.const 1) $a $b …)`.
const entries = /^( \(elem (?:\S+ )?\([^)]*\))(.*)$/;
for (const i of elem) {
  const m = entries.exec(lines[i]);
  if (!m) die(`unexpected table entries: ${lines[i].slice(0, 80)}`);
  lines[i] = m[1] + m[2].replace(entry, (n) => (gone.has(n) ? keep : n));
}
const drop = new Set(traps.slice(1).flatMap((t) => [t.at, t.at + 1, t.at + 2]));
writeFileSync(watFile, lines.filter((_, i) => !drop.has(i)).join('\n'));
