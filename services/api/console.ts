// Serves the console (console/dist, built by the bootstrap from console/src) at `/`: its hashed assets
// under /assets/, and index.html for every client route (/, /projects/…, /features/<id>, /releases/<id>,
// /pipelines/<id>, /audit, /tokens) so each page has an address that survives a reload. Nothing is
// fetched from elsewhere: the Content-Security-Policy allows only this origin.

import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";

/** Where `npm run bootstrap` builds the console (infra/build-console.ts). */
export const DEFAULT_CONSOLE_DIR = resolve(import.meta.dirname, "../../console/dist");

const CLIENT_ROUTES = /^\/(?:$|projects(?:\/|$)|features\/|releases\/|pipelines\/|audit(?:\/|$)|tokens(?:\/|$))/;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".woff2": "font/woff2",
};

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export interface ConsoleHandler {
  /** The console's answer to a GET/HEAD, or null when the path is not the console's. */
  handle(request: Request, pathname: string): Promise<Response | null>;
}

export function createConsoleHandler(dir: string): ConsoleHandler {
  const root = resolve(dir);
  let index: Promise<Uint8Array<ArrayBuffer> | null> | null = null;
  const indexHtml = (): Promise<Uint8Array<ArrayBuffer> | null> => {
    // Read once; a missing build is retried on the next request (the bootstrap may build it meanwhile).
    index ??= readFile(join(root, "index.html")).then(
      (buffer) => new Uint8Array(buffer),
      () => {
        index = null;
        return null;
      },
    );
    return index;
  };

  async function asset(pathname: string): Promise<Response | null> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return null;
    }
    const file = resolve(root, `.${decoded}`);
    if (!file.startsWith(root + sep)) return null;
    try {
      if (!(await stat(file)).isFile()) return null;
    } catch {
      return null;
    }
    return new Response(new Uint8Array(await readFile(file)), {
      headers: {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        // Vite names assets by content hash: they never change.
        "cache-control": "public, max-age=31536000, immutable",
        ...SECURITY_HEADERS,
      },
    });
  }

  return {
    async handle(request, pathname) {
      if (request.method !== "GET" && request.method !== "HEAD") return null;
      if (pathname.startsWith("/assets/")) return asset(pathname);
      if (!CLIENT_ROUTES.test(pathname)) return null;
      const html = await indexHtml();
      if (html === null) {
        return new Response(
          "The console is not built: run `npm run bootstrap` (it builds console/ into console/dist).\n",
          { status: 503, headers: { "content-type": "text/plain; charset=utf-8" } },
        );
      }
      return new Response(request.method === "HEAD" ? null : html, {
        headers: { "content-type": TYPES[".html"] ?? "text/html", "cache-control": "no-cache", ...SECURITY_HEADERS },
      });
    },
  };
}
