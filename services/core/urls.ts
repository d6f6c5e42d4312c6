// URLs a project gives the service to call (webhooks): absolute http(s), no credentials in them (a secret
// in a URL ends up in logs and in the audit log), within BOUNDS.urlChars. Refused with VALIDATION naming
// the field. Pure: URL is a global of Node and of the workflow sandbox alike.

import { BOUNDS } from "./bounds.ts";
import { validation } from "./errors.ts";

/** The URL as the WHATWG parser normalises it; VALIDATION when it is not an http(s) URL without credentials. */
export function requireHttpUrl(field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") throw validation(field, "must be an http(s) URL");
  const text = value.trim();
  if (text.length > BOUNDS.urlChars) throw validation(field, `must be at most ${BOUNDS.urlChars} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw validation(field, `must be an absolute http(s) URL (got "${text.slice(0, 100)}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw validation(field, `must use http or https (got ${url.protocol.replace(/:$/, "")})`);
  }
  if (url.username !== "" || url.password !== "") {
    throw validation(field, "must not carry credentials (user:password@); the service signs what it sends instead");
  }
  if (url.hostname === "") throw validation(field, "must name a host");
  return url.toString();
}
