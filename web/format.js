// Turning values into words people read: money in minor units, times, countdowns, and text
// with safe clickable links. Output is always text or nodes built with textContent.

import { h } from "./dom.js";

const DAY = 24 * 3600 * 1000;

/** 50000, "USD" -> "$500.00" (integer minor units, as API.md sends money). */
export function money(amount, currency = "USD") {
  if (amount === null || amount === undefined) return "";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount / 100);
  } catch (_) {
    return `${(amount / 100).toFixed(2)} ${currency}`;
  }
}

export function dateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function dateOnly(iso) {
  if (!iso) return "";
  const d = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  return d.toLocaleDateString(undefined, { dateStyle: "medium", timeZone: "UTC" });
}

/** "3 minutes ago", "in 12 days" relative to `now` (ms). */
export function relative(iso, now) {
  if (!iso) return "";
  const diff = new Date(iso).getTime() - now;
  const abs = Math.abs(diff);
  const units = [["day", DAY], ["hour", 3600e3], ["minute", 60e3]];
  const fmt = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of units) {
    if (abs >= size) return fmt.format(Math.round(diff / size), unit);
  }
  return diff < 0 ? "just now" : "in a moment";
}

/** Whole days from now until iso (rounded up), e.g. 12 for "auto-release in 12 days". */
export function daysUntil(iso, now) {
  return Math.ceil((new Date(iso).getTime() - now) / DAY);
}

export function countdown(label, iso, now) {
  const days = daysUntil(iso, now);
  if (days > 1) return `${label} in ${days} days`;
  if (days === 1) return `${label} in 1 day`;
  const hours = Math.ceil((new Date(iso).getTime() - now) / 3600e3);
  if (hours > 0) return `${label} in ${hours} hour${hours === 1 ? "" : "s"}`;
  return `${label} due now`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function humanize(word) {
  return String(word || "").replace(/[_.-]+/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;

/** Only http(s) URLs become links; anything else (javascript:, data:) stays plain text. */
export function safeHref(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch (_) {
    return null;
  }
}

/** Text with its http(s) URLs made clickable: an array of text nodes and <a> elements. */
export function linkify(text) {
  const parts = [];
  let last = 0;
  for (const match of String(text).matchAll(URL_PATTERN)) {
    let raw = match[0].replace(/[.,;:!?)\]]+$/, "");
    const href = safeHref(raw);
    if (!href) continue;
    if (match.index > last) parts.push(document.createTextNode(text.slice(last, match.index)));
    parts.push(h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, raw));
    last = match.index + raw.length;
  }
  if (last < text.length) parts.push(document.createTextNode(text.slice(last)));
  return parts;
}
