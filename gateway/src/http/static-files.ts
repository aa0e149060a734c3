import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

/** The page served when WEB_DIST_DIR does not exist: say how to fix it instead of a bare 404. */
const NOT_BUILT = `<!doctype html><html><head><meta charset="utf-8"><title>Web app not built</title></head>
<body><h1>503: web app not built</h1><p>web app not built: run <code>npm run build -w web</code>, then reload.</p>
<p>The API (Connect/gRPC), <code>/health/ready</code> and <code>/metrics</code> work without it.</p></body></html>`;

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the built web app (Vite output) from `root`: hashed files under /assets/ are
 * cached forever (immutable), everything else is revalidated; a path without a file
 * extension that matches no file is a client-side route and gets index.html (SPA
 * fallback). Paths never leave `root`. A missing build answers 503 with what to run.
 */
export function createStaticHandler(root: string): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const base = normalize(root + sep);
  const send = async (req: IncomingMessage, res: ServerResponse, path: string, size: number, status = 200): Promise<void> => {
    const immutable = path.startsWith(join(base, "assets") + sep);
    res.writeHead(status, {
      "content-type": CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream",
      "content-length": size,
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(path);
      stream.on("error", () => {
        res.destroy();
        resolve();
      });
      stream.on("end", resolve);
      stream.pipe(res);
    });
  };

  return async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed");
      return;
    }
    const index = join(base, "index.html");
    const indexSize = await fileSize(index);
    if (indexSize === undefined) {
      res.writeHead(503, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(NOT_BUILT);
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    } catch {
      res.writeHead(400, { "content-type": "text/plain" }).end("bad path");
      return;
    }
    const target = normalize(join(base, pathname));
    if (!target.startsWith(base) || pathname.includes("\0")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const size = target === base ? undefined : await fileSize(target);
    if (size !== undefined) return send(req, res, target, size);
    if (extname(pathname) === "") return send(req, res, index, indexSize);
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  };
}
