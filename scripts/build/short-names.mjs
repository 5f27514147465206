// Applies wasm-opt's import/export name map to the glue (scripts/build.sh: "Short import/export names").
import { readFileSync, writeFileSync } from 'node:fs';
const [glueFile, mapFile, wasmFile] = process.argv.slice(-3);
const die = (m) => { console.error(`build: FAILED: short names: ${m}`); process.exit(1); };
const map = JSON.parse(readFileSync(mapFile, 'utf8'));
const modules = new Set(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmFile))).map((i) => i.module));
const oldModules = new Set(map.imports.map(([m]) => m));
if (modules.size !== 1 || oldModules.size !== 1) die(`expected one import module, got ${[...oldModules]} -> ${[...modules]}`);
let glue = readFileSync(glueFile, 'utf8');
const count = (re) => (glue.match(re) || []).length;
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// The import object's module key: `"./consent_banner_bg.js": import0`.
const [oldMod] = oldModules, [newMod] = modules;
const modRe = new RegExp(`(["'])${esc(oldMod)}\\1(\\s*:)`, 'g');
if (count(modRe) !== 1) die(`module key ${oldMod} found ${count(modRe)} times`);
glue = glue.replace(modRe, `${JSON.stringify(newMod)}$2`);
// Each import is exactly one `name: function…` key of that object.
for (const [, oldName, newName] of map.imports) {
  const re = new RegExp(`(^|[\\s{,])${esc(oldName)}(\\s*:)`, 'gm');
  if (count(re) !== 1) die(`import ${oldName} found ${count(re)} times as a key`);
  glue = glue.replace(re, `$1${JSON.stringify(newName)}$2`);
}
// The glue reads exports only as `wasm.<name>`.
const exportsMap = new Map(map.exports);
glue = glue.replace(/\bwasm\.([A-Za-z_$][\w$]*)/g, (_, name) => {
  const n = exportsMap.get(name);
  if (n === undefined) die(`the glue reads wasm.${name}, which the wasm does not export`);
  return `wasm[${JSON.stringify(n)}]`;
});
if (/__wbg_[\w$]*_[0-9a-f]{16}\b/.test(glue)) die('a hashed import name is left in the glue');
writeFileSync(glueFile, glue);
