// scripts/serve.mjs — dependency-free static file server (Node 20, ESM) for the demo, the e2e tests and the bench.
//
// Module:  import { startServer } from './scripts/serve.mjs';
//          const srv = await startServer({ port: 0, mounts: [{ prefix: '/', dir: 'www' }, { prefix: '/pkg/', dir: 'pkg' }] });
//          srv.url  // 'http://127.0.0.1:PORT'  (no trailing slash)
//          await srv.close();
//   options: host ('127.0.0.1'), port (0 = any free port), mounts (longest prefix wins; relative dirs
//   resolve against the repository root), headers(urlPath, req) => extra response headers for files,
//   routes { '/path': (req, res) => void } answered before the mounts (exact path, query ignored).
// CLI:     node scripts/serve.mjs [--port 8080] [--host 127.0.0.1] [--mount /prefix/=dir ...]
//          (default mounts: www at /, pkg at /pkg/; any --mount replaces the defaults)

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEFAULT_MOUNTS = Object.freeze([
  { prefix: '/', dir: 'www' },
  { prefix: '/pkg/', dir: 'pkg' },
]);

export const MIME = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm', // exactly this: streaming instantiation rejects anything else
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
});

export function mimeType(file) {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function normalizeMounts(mounts) {
  return mounts
    .map(({ prefix, dir }) => {
      if (typeof prefix !== 'string' || !prefix.startsWith('/')) {
        throw new Error(`serve: mount prefix must start with '/': ${prefix}`);
      }
      const p = prefix.endsWith('/') ? prefix : prefix + '/';
      return { prefix: p, dir: path.resolve(ROOT, dir) };
    })
    .sort((a, b) => b.prefix.length - a.prefix.length); // longest prefix first
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** Map a URL path to a file, or null. Rejects `..` segments, NUL bytes and bad escapes. */
function resolveFile(mounts, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { error: 400 };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { error: 400 };
  if (decoded.split('/').some((seg) => seg === '..')) return { error: 403 };

  // '/pkg' (no slash) should still hit the '/pkg/' mount.
  const withSlash = decoded.endsWith('/') ? decoded : decoded + '/';
  const mount = mounts.find((m) => decoded.startsWith(m.prefix) || withSlash === m.prefix);
  if (!mount) return { error: 404 };

  const rel = decoded.startsWith(mount.prefix) ? decoded.slice(mount.prefix.length) : '';
  const file = path.resolve(mount.dir, '.' + path.posix.sep + rel);
  // Belt and braces: the resolved path must stay inside the mount's directory.
  if (file !== mount.dir && !file.startsWith(mount.dir + path.sep)) return { error: 403 };
  return { file, isDirRequest: decoded.endsWith('/') };
}

function statOrNull(p) {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

/**
 * Start a static server. Resolves once listening.
 * @returns {Promise<{url: string, port: number, server: http.Server, close: () => Promise<void>}>}
 */
export function startServer({
  host = '127.0.0.1',
  port = 0,
  mounts = DEFAULT_MOUNTS,
  headers,
  routes = {},
  log = false,
} = {}) {
  const table = normalizeMounts(mounts);

  const server = http.createServer((req, res) => {
    const urlPath = (req.url ?? '/').split('?')[0].split('#')[0] || '/';
    if (log) res.on('finish', () => console.log(`${res.statusCode} ${req.method} ${req.url}`));
    try {
      const route = Object.hasOwn(routes, urlPath) ? routes[urlPath] : undefined;
      if (route) return void route(req, res);

      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      }
      const r = resolveFile(table, urlPath);
      if (r.error) return send(res, r.error, `${http.STATUS_CODES[r.error]}\n`);

      let file = r.file;
      let st = statOrNull(file);
      if (st?.isDirectory()) {
        if (!urlPath.endsWith('/')) {
          // Redirect so relative URLs in index.html resolve against the directory.
          res.writeHead(301, { Location: urlPath + '/', 'Cache-Control': 'no-store' });
          return void res.end();
        }
        file = path.join(file, 'index.html');
        st = statOrNull(file);
      }
      if (!st?.isFile()) return send(res, 404, 'not found\n');

      const extra = headers ? headers(urlPath, req) ?? {} : {};
      res.writeHead(200, {
        'Content-Type': mimeType(file),
        'Content-Length': st.size,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        ...extra,
      });
      if (req.method === 'HEAD') return void res.end();
      fs.createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch (err) {
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
      console.error('serve: error handling', req.url, err);
    }
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const actual = server.address().port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shownHost}:${actual}`,
        port: actual,
        server,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

function parseArgs(argv) {
  const opts = { host: '127.0.0.1', port: 8080, mounts: [], log: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`serve: ${a} needs a value`);
      return v;
    };
    if (a === '--port') opts.port = Number(next());
    else if (a === '--host') opts.host = next();
    else if (a === '--mount') {
      const v = next();
      const eq = v.indexOf('=');
      if (eq < 1) throw new Error(`serve: --mount expects /prefix/=dir, got ${v}`);
      opts.mounts.push({ prefix: v.slice(0, eq), dir: path.resolve(process.cwd(), v.slice(eq + 1)) });
    } else if (a === '--quiet') opts.log = false;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node scripts/serve.mjs [--port 8080] [--host 127.0.0.1] [--mount /prefix/=dir ...] [--quiet]');
      process.exit(0);
    } else throw new Error(`serve: unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new Error(`serve: bad --port`);
  }
  if (opts.mounts.length === 0) opts.mounts = DEFAULT_MOUNTS;
  return opts;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const srv = await startServer(opts);
    for (const m of normalizeMounts(opts.mounts)) {
      const rel = path.relative(process.cwd(), m.dir) || '.';
      const missing = fs.existsSync(m.dir) ? '' : '   (missing! run `make build`?)';
      console.log(`serve: ${srv.url}${m.prefix} -> ${rel}${missing}`);
    }
    console.log(`serve: listening on ${srv.url}/  (Ctrl-C to stop)`);
    const stop = () => srv.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (err) {
    console.error(err.message ?? err);
    process.exit(1);
  }
}
