// Small building blocks shared by the panels: labelled inputs, forms that report errors in
// words, and buttons that run one API call.

import { h, replaceChildren, uid } from "../dom.js";

/** Run an API call for a panel: errors become a sentence in the panel's status line. */
export async function attempt(status, fn, done = "") {
  status.textContent = "Working…";
  try {
    const result = await fn();
    status.textContent = done;
    return result;
  } catch (error) {
    status.textContent = error.message;
    return undefined;
  }
}

export function statusLine() {
  return h("p", { class: "form-status", role: "status", "aria-live": "polite" });
}

export function input(label, attrs = {}) {
  const control = h(attrs.tag || "input", { id: uid("in"), ...attrs, tag: null });
  const wrap = h("div", { class: "field" }, h("label", { for: control.id }, label), control);
  return { control, wrap };
}

export function select(label, options, attrs = {}) {
  const control = h("select", { id: uid("sel"), ...attrs },
    options.map(([value, text]) => h("option", { value }, text)));
  return { control, wrap: h("div", { class: "field" }, h("label", { for: control.id }, label), control) };
}

export function checkbox(label, attrs = {}) {
  const control = h("input", { type: "checkbox", id: uid("cb"), ...attrs });
  return { control, wrap: h("div", { class: "field check" }, control, h("label", { for: control.id }, label)) };
}

/** A collapsible form: <details><summary>label</summary><form>…</form></details>. */
export function disclosureForm(label, fields, submitLabel, onSubmit) {
  const status = statusLine();
  const form = h("form", { class: "panel-form" }, fields, h("button", { type: "submit" }, submitLabel), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try { await onSubmit(status, form); } finally { button.disabled = false; }
  });
  return h("details", { class: "disclosure" }, h("summary", {}, label), form);
}

export function actionButton(label, status, fn, attrs = {}) {
  const button = h("button", { type: "button", ...attrs }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try { await attempt(status, fn); } finally { button.disabled = false; }
  });
  return button;
}

export function section(title, ...children) {
  const id = uid("sec");
  return h("section", { class: "panel-section", "aria-labelledby": id }, h("h3", { id }, title), children);
}

/** major-unit text ("12.50") -> minor units (1250); null when empty or invalid. */
export function toMinor(text) {
  const value = Number(String(text).replace(/,/g, "").trim());
  if (!String(text).trim() || !Number.isFinite(value) || value < 0) return null;
  return Math.round(value * 100);
}

function controlKey(el) {
  return el.labels?.[0]?.textContent || el.getAttribute("aria-label") || el.name || "";
}

/**
 * Replace a panel's content without losing what someone is typing: forms that were open stay
 * open with their values, and focus returns to the same field. Panels re-render whenever the
 * room changes, which may be while another person acts. Synchronous, so the state it keeps is
 * the state of this very moment.
 */
export function renderKeepingForms(node, ...children) {
  const saved = new Map();
  for (const details of node.querySelectorAll("details[open]")) {
    const values = new Map();
    for (const el of details.querySelectorAll("input, textarea, select")) {
      values.set(controlKey(el), el.type === "checkbox" ? el.checked : el.value);
    }
    saved.set(details.querySelector("summary")?.textContent, values);
  }
  const active = node.contains(document.activeElement) ? document.activeElement : null;
  const keyOf = (el) => (el.tagName === "SUMMARY" ? `summary:${el.textContent}` : `${el.tagName}:${controlKey(el)}`);
  const focusKey = active ? keyOf(active) : null;
  replaceChildren(node, ...children);
  for (const details of node.querySelectorAll("details")) {
    const values = saved.get(details.querySelector("summary")?.textContent);
    if (!values) continue;
    details.open = true;
    for (const el of details.querySelectorAll("input, textarea, select")) {
      const value = values.get(controlKey(el));
      if (value === undefined) continue;
      if (el.type === "checkbox") el.checked = value;
      else el.value = value;
      el.dispatchEvent(new Event("input"));
    }
  }
  if (focusKey) {
    const target = [...node.querySelectorAll("summary, input, textarea, select, button")].find((el) => keyOf(el) === focusKey);
    target?.focus({ preventScroll: true });
  }
}
