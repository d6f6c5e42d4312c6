// Webhook signing secrets: made at the edge, shown once, kept sealed (AES-256-GCM) under the
// installation's webhook key so that the deliverer — another process, possibly another machine — can open
// them and sign, while the event log (and the audit log that shows it) never holds one in the clear.
// docs/decisions/0036-webhook-signing-secrets.md says why and how the key is kept.

import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SealedSecret } from "./events.ts";

/** The key that seals webhook secrets; `id` names it in every sealed secret. */
export interface WebhookKey {
  readonly id: string;
  readonly key: Buffer;
}

/** The key from its material (WEBHOOK_SECRET_KEY or the key file's text): 32 bytes by SHA-256. */
export function webhookKeyFrom(material: string): WebhookKey {
  const key = createHash("sha256").update(`webhook-key\u0000${material.trim()}`, "utf8").digest();
  return { key, id: createHash("sha256").update(key).digest("hex").slice(0, 16) };
}

export const WEBHOOK_KEY_FILE = "webhook-signing.key";

/**
 * WEBHOOK_SECRET_KEY when set (every API and worker process of an installation must have the same);
 * otherwise the key file under DATA_DIR, created with 32 random bytes on first use (mode 0600) — what
 * `npm start` uses, where the API and the worker share DATA_DIR.
 */
export function loadWebhookKey(options: { configured?: string | undefined; dataDir: string }): WebhookKey {
  if (options.configured !== undefined && options.configured.trim() !== "") return webhookKeyFrom(options.configured);
  const path = join(options.dataDir, WEBHOOK_KEY_FILE);
  try {
    return webhookKeyFrom(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(options.dataDir, { recursive: true });
  try {
    // "wx": of two processes starting at once, one writes and the other reads what it wrote.
    writeFileSync(path, `${randomBytes(32).toString("base64url")}\n`, { flag: "wx", mode: 0o600 });
    chmodSync(path, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return webhookKeyFrom(readFileSync(path, "utf8"));
}

/** A new signing secret: 32 random bytes, base64url, with a recognisable prefix. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString("base64url")}`;

export function sealSecret(key: WebhookKey, secret: string): SealedSecret {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key.key, iv);
  cipher.setAAD(Buffer.from(key.id));
  const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return { keyId: key.id, sealed: Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url") };
}

/** The secret; throws when it was sealed under another key (WEBHOOK_SECRET_KEY differs between processes). */
export function openSecret(key: WebhookKey, sealed: SealedSecret): string {
  if (sealed.keyId !== key.id) {
    throw new Error(
      `the webhook secret was sealed under key ${sealed.keyId}, this process has key ${key.id}: give every API and worker process the same WEBHOOK_SECRET_KEY`,
    );
  }
  const raw = Buffer.from(sealed.sealed, "base64url");
  const decipher = createDecipheriv("aes-256-gcm", key.key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(key.id));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
}

/** The `X-Signature-256` header's value: `sha256=` and the hex HMAC-SHA256 of the body's bytes. */
export const signatureOf = (secret: string, body: string): string =>
  `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
