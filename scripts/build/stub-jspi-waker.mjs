// Stubs js-sys's JSPI task waker functions with `unreachable` in a wasm text file (scripts/build.sh: "js-sys's JSPI task waker").
import { readFileSync, writeFileSync } from 'node:fs';
const watFile = process.argv.at(-1);
const die = (m) => { console.error(`build: FAILED: JSPI waker: ${m}`); process.exit(1); };
const lines = readFileSync(watFile, 'utf8').split('\n');
if (lines.some((l) => /^ \(export "[^"]*jspi/.test(l))) die('the module exports JSPI entry points; the waker is live');
// binaryen prints each function from ` (func $name …` to a line ` )`.
const waker = /^ \(func \$"js_sys\[[0-9a-f]+\]::futures::jspi::task_waker::raw_\w+"/;
const out = [];
for (let i = 0; i < lines.length; i++) {
  out.push(lines[i]);
  if (waker.test(lines[i])) {
    while (lines[i + 1] !== ' )') i++;
    out.push('  (unreachable)');
  }
}
writeFileSync(watFile, out.join('\n'));
