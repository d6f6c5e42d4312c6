// A TLS front for the plaintext Temporal dev server, as a load balancer or Temporal Cloud's edge is in
// production: an HTTP/2 server over TLS (optionally requiring a client certificate signed by our CA)
// that forwards every gRPC call, headers, body and trailers, to the dev server over plaintext HTTP/2.
// It records what it saw (client certificate subject, `authorization` header) so a test can prove the
// connection really used mutual TLS and the API key. Certificates are made with the openssl CLI.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import {
  type ClientHttp2Session,
  connect,
  constants,
  createSecureServer,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";

export interface TestPki {
  readonly dir: string;
  readonly caPath: string;
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
  /** A second CA that signed nothing the server trusts. */
  readonly otherCaPath: string;
  readonly otherClientCertPath: string;
  readonly otherClientKeyPath: string;
  /** The DNS name in the server certificate (not the address's host: the server name override is needed). */
  readonly serverName: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`);
  openssl(
    dir,
    "req",
    "-x509",
    "-new",
    "-key",
    `${name}.key`,
    "-sha256",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-out",
    `${name}.crt`,
  );
}

function makeLeaf(dir: string, ca: string, name: string, extensions: string): void {
  openssl(dir, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`);
  openssl(dir, "req", "-new", "-key", `${name}.key`, "-subj", `/CN=${name}`, "-out", `${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-days",
    "2",
    "-sha256",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`,
  );
}

/** A CA, a server certificate for `temporal.test`, a client certificate, and a client of another CA. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "rp-pki-"));
  const serverName = "temporal.test";
  makeCa(dir, "ca");
  makeCa(dir, "other-ca");
  makeLeaf(
    dir,
    "ca",
    "server",
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${serverName}\n`,
  );
  const client = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
  makeLeaf(dir, "ca", "release-pipelines-worker", client);
  makeLeaf(dir, "other-ca", "intruder", client);
  return {
    dir,
    caPath: join(dir, "ca.crt"),
    serverCertPath: join(dir, "server.crt"),
    serverKeyPath: join(dir, "server.key"),
    clientCertPath: join(dir, "release-pipelines-worker.crt"),
    clientKeyPath: join(dir, "release-pipelines-worker.key"),
    otherCaPath: join(dir, "other-ca.crt"),
    otherClientCertPath: join(dir, "intruder.crt"),
    otherClientKeyPath: join(dir, "intruder.key"),
    serverName,
  };
}

export interface SeenCall {
  readonly path: string;
  readonly authorization: string | undefined;
  /** CN of the client certificate, when one was presented. */
  readonly clientCommonName: string | undefined;
}

export interface TlsTerminator {
  /** host:port to give the Temporal clients. */
  readonly address: string;
  readonly calls: SeenCall[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]);

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Listens on 127.0.0.1 (a free port) with TLS (and ALPN h2), forwarding to `upstream` (host:port,
 * plaintext HTTP/2). With `requireClientCert`, a client without a certificate signed by the CA is refused
 * during the handshake.
 */
export async function startTlsTerminator(options: {
  upstream: string;
  pki: TestPki;
  requireClientCert: boolean;
}): Promise<TlsTerminator> {
  const { pki } = options;
  const calls: SeenCall[] = [];
  const upstreams = new Set<ClientHttp2Session>();
  const server: Http2SecureServer = createSecureServer({
    key: readFileSync(pki.serverKeyPath),
    cert: readFileSync(pki.serverCertPath),
    ca: readFileSync(pki.caPath),
    requestCert: options.requireClientCert,
    rejectUnauthorized: options.requireClientCert,
    ALPNProtocols: ["h2"],
  });
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    // One upstream HTTP/2 session per downstream one, as a gRPC-aware proxy does.
    const upstream = connect(`http://${options.upstream}`);
    upstreams.add(upstream);
    upstream.on("error", () => session.destroy());
    upstream.on("close", () => upstreams.delete(upstream));
    session.on("close", () => upstream.close());
    session.on("stream", (stream, headers) => {
      const socket = session.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      calls.push({
        path: String(headers[constants.HTTP2_HEADER_PATH]),
        authorization: headers.authorization,
        clientCommonName: [peer?.subject?.CN].flat()[0],
      });
      const request = upstream.request(forwardable(headers), { endStream: false });
      stream.pipe(request);
      request.on("response", (responseHeaders) => {
        if (stream.destroyed) return;
        stream.respond(forwardable(responseHeaders), { waitForTrailers: true });
        request.pipe(stream);
      });
      let trailers: OutgoingHttpHeaders = {};
      request.on("trailers", (received) => {
        trailers = forwardable(received);
      });
      stream.on("wantTrailers", () => stream.sendTrailers(trailers));
      request.on("error", () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
      stream.on("error", () => request.close(constants.NGHTTP2_CANCEL));
      stream.on("close", () => {
        if (!request.closed) request.close(constants.NGHTTP2_CANCEL);
      });
    });
  });
  server.on("secureConnection", (socket) => socket.on("error", () => socket.destroy()));
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    calls,
    async close() {
      for (const session of sessions) session.destroy();
      for (const session of upstreams) session.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Sessions left open by clients would keep close() waiting.
        setTimeout(resolve, 1_000).unref();
      });
    },
  };
}
