// Replaces the glue's loader and drops its provably dead branches (scripts/build.sh: "The glue's loader, and code it never runs").
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
const glueFile = process.argv.at(-1);
const die = (m) => { console.error(`build: FAILED: glue trim: ${m}`); process.exit(1); };
let glue = readFileSync(glueFile, 'utf8');
const cut = (text, what) => {
  const n = glue.split(text).length - 1;
  if (n !== 1) die(`${what} found ${n} times`);
  glue = glue.replace(text, '');
};
// The loader: from its first line to the end of the file (the module's exports).
const LOADER = 'let wasmModule, wasmInstance, wasm;';
const LOADER_SHA256 = '395cb4387faf7921c1b1d9ab936790a9d2a032a47a1d076032d1a034e0178223';
const PASS_STRING_SHA256 = 'edc66798a68412bc90d10b47313f26d7eb71cc77a8a1cec40f23702fbc633738';
const at = glue.indexOf(LOADER);
if (at < 0) die('the loader is not where it was');
if (createHash('sha256').update(glue.slice(at)).digest('hex') !== LOADER_SHA256) {
  die("wasm-bindgen's loader changed: check that the replacement below still does what it did, then update LOADER_SHA256");
}
glue = glue.slice(0, at) + `let wasm;
async function __wbg_init({ module_or_path = fetch(new URL('consent_banner_bg.wasm', import.meta.url)) } = {}) {
    const response = await module_or_path;
    if (!response.ok) {
        throw new Error(\`failed to fetch Wasm: \${response.status} \${response.statusText} fetching '\${response.url}'\`);
    }
    const imports = __wbg_get_imports();
    let result;
    if (typeof WebAssembly.instantiateStreaming === 'function') {
        try {
            result = await WebAssembly.instantiateStreaming(response, imports);
        } catch (e) {
            if (!['basic', 'cors', 'default'].includes(response.type) || response.headers.get('Content-Type') === 'application/wasm') throw e;
            // wasm-bindgen's own warning said this in twice the words (glue brotli −44 B).
            console.warn('consent: serve the .wasm as application/wasm; falling back to the slower WebAssembly.instantiate.', e);
        }
    }
    result ||= await WebAssembly.instantiate(await response.arrayBuffer(), imports);
    wasm = result.instance.exports;
    return wasm;
}
export { __wbg_init as default };
`;
// Strings go in as wasm-bindgen's own path for a module without realloc: TextEncoder.encode, then
// one malloc of the exact length (the same bytes as its ASCII loop + encodeInto into a buffer
// grown by realloc, in a third of the glue; measured: glue brotli −108 B).
const calls = glue.match(/(?<!function )passStringToWasm0\([^)]*\)/g) || [];
const odd = calls.filter((c) => !c.endsWith(', wasm.__wbindgen_malloc, wasm.__wbindgen_realloc)'));
if (calls.length === 0 || odd.length > 0) die(`passStringToWasm0 called another way: ${odd.join(' ')}`);
glue = glue.replaceAll(', wasm.__wbindgen_malloc, wasm.__wbindgen_realloc)', ')');
const passString = glue.match(/^function passStringToWasm0\(arg, malloc, realloc\) \{\n.*?\n\}\n/ms);
if (!passString || createHash('sha256').update(passString[0]).digest('hex') !== PASS_STRING_SHA256) {
  die("wasm-bindgen's passStringToWasm0 changed: check that the replacement still writes the same bytes, then update PASS_STRING_SHA256");
}
glue = glue.replace(passString[0], `function passStringToWasm0(arg) {
    const buf = cachedTextEncoder.encode(arg);
    const ptr = wasm.__wbindgen_malloc(buf.length, 1) >>> 0;
    getUint8ArrayMemory0().set(buf, ptr);
    WASM_VECTOR_LEN = buf.length;
    return ptr;
}
`);
cut(`if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}
`, 'the encodeInto polyfill');
if (glue.includes('encodeInto')) die('something calls encodeInto again, which the polyfill served');
// start() frees its first string when passing the second throws, which only a caller passing
// something that is no string can cause; the bootstrap passes the config's text and the build
// hash. Without that clean-up the wasm need not export its free function (measured: glue −24 B
// brotli, wasm −22 B raw).
const startOld = `export function start(config, build, defaulted) {
    const val3 = +defaulted;
    let ptr0, len0, ptr1, len1;
    try {
        ptr0 = passStringToWasm0(config);
        len0 = WASM_VECTOR_LEN;
        ptr1 = passStringToWasm0(build);
        len1 = WASM_VECTOR_LEN;
    } catch (e) {
        if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
        if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
        throw e;
    }
    const ret = wasm.start(ptr0, len0, ptr1, len1, val3);
    return ret !== 0;
}
`;
cut(startOld, 'start() with its clean-up');
glue += `
export function start(config, build, defaulted) {
    const ptr0 = passStringToWasm0(config);
    const len0 = WASM_VECTOR_LEN;
    const ptr1 = passStringToWasm0(build);
    return wasm.start(ptr0, len0, ptr1, WASM_VECTOR_LEN, +defaulted) !== 0;
}
`;
if (glue.includes('__wbindgen_free')) die('the glue frees wasm memory again: the build must keep the __wbindgen_free export');
// Closures: every one the wasm makes is a Rust `Closure` kept by its owner, whose handle holds the
// function in the glue's heap until its Drop unregisters it, so the registry that frees closures
// JS collected never fires. Only `into_js_value`/`once_into_js` hand a closure to JS without an
// owner; none may appear in src/. Glue brotli −65 B.
for (const f of readdirSync('src', { recursive: true })) {
  if (!f.endsWith('.rs')) continue;
  const m = readFileSync(`src/${f}`, 'utf8').match(/into_js_value|once_into_js/);
  if (m) die(`src/${f} uses ${m[0]}: the glue's FinalizationRegistry for closures is needed again`);
}
cut(`const CLOSURE_DTORS = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(state => wasm.__wbindgen_destroy_closure(state.a, state.b));
`, 'the closure registry');
cut(`
            CLOSURE_DTORS.unregister(state);`, "the closure registry's unregister");
cut(`    CLOSURE_DTORS.register(real, state, state);
`, "the closure registry's register");
if (glue.includes('CLOSURE_DTORS')) die('the closure registry is used elsewhere');
// Each import that may throw is `function() { return handleError(function (…) {…}, arguments); }`;
// handleError builds that wrapper once instead, so each is `handleError(function (…) {…})`.
const guarded = /function\(\) \{ return handleError\(function (\([^)]*\)) \{(.*?)\}, arguments\); \}/gs;
const sites = glue.split('handleError(').length - 1;
let wrapped = 0;
glue = glue.replace(guarded, (_, params, body) => (wrapped++, `handleError(function ${params} {${body}})`));
cut(`function handleError(f, args) {
    try {
        return f.apply(this, args);
    } catch (e) {
        wasm.__wbindgen_exn_store(addHeapObject(e));
    }
}
`, 'handleError');
if (wrapped === 0 || wrapped !== sites - 1) die(`${sites - 1} handleError calls, ${wrapped} of the expected form`);
// Each import returning an optional string writes it to the slot the wasm passed in the same four
// lines; one function does it for all of them.
const optString = `            var ptr1 = isLikeNone(ret) ? 0 : passStringToWasm0(ret);
            var len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
`;
const optStrings = glue.split(optString).length - 1;
if (optStrings === 0 || optStrings !== glue.split('isLikeNone(ret) ? 0 : passStringToWasm0(').length - 1) {
  die(`${optStrings} optional-string returns of the expected form`);
}
glue = glue.replaceAll(optString, '            returnOptString(arg0, ret);\n');
glue += `
function returnOptString(slot, s) {
    const ptr = isLikeNone(s) ? 0 : passStringToWasm0(s);
    const memory = new DataView(wasm.memory.buffer);
    memory.setInt32((slot >>> 0) + 4, WASM_VECTOR_LEN, true);
    memory.setInt32(slot >>> 0, ptr, true);
}
`;
// returnOptString was the only user of the cached DataView; a view made after the string is
// passed (which may grow the memory) needs no check for a detached buffer. Glue brotli −39 B.
cut(`let cachedDataViewMemory0 = null;
function getDataViewMemory0() {
    if (cachedDataViewMemory0 === null || cachedDataViewMemory0.buffer.detached === true || (cachedDataViewMemory0.buffer.detached === undefined && cachedDataViewMemory0.buffer !== wasm.memory.buffer)) {
        cachedDataViewMemory0 = new DataView(wasm.memory.buffer);
    }
    return cachedDataViewMemory0;
}
`, 'the cached DataView');
if (glue.includes('DataViewMemory0')) die('something else uses the cached DataView');
glue += `
function handleError(f) {
    return (...args) => {
        try {
            return f(...args);
        } catch (e) {
            wasm.__wbindgen_exn_store(addHeapObject(e));
        }
    };
}
`;
writeFileSync(glueFile, glue);

// The glue's types: wasm-bindgen's describe the loader just replaced (`initSync`, every input
// kind, the exports' unminified names). Everything from its `InitInput` on is replaced by the
// loader that ships.
const typesFile = glueFile.replace(/\.js$/, '.d.ts');
let types = readFileSync(typesFile, 'utf8');
const typesAt = types.indexOf('export type InitInput');
if (typesAt < 0) die(`${typesFile}: the loader's types are not where they were`);
types = types.slice(0, typesAt) + `/**
 * Loads and instantiates the wasm: with no argument, the \`consent_banner_bg.wasm\` beside this
 * module (\`new URL(…, import.meta.url)\`, which bundlers recognise); else \`module_or_path\`, a
 * fetch \`Response\` for it (or a promise of one). Rejects if the response is not 2xx.
 */
export default function __wbg_init(options?: { module_or_path: Response | Promise<Response> }): Promise<WebAssembly.Exports>;
`;
writeFileSync(typesFile, types);
