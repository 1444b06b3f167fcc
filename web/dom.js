// Building DOM nodes safely. Every piece of text goes in through textContent (text nodes),
// never innerHTML: user content can never become markup or script.

/**
 * h("button", {class: "primary", onclick: fn, "aria-label": "Send"}, "Send")
 * Attributes starting with "on" become event listeners; children may be strings, nodes,
 * arrays, null or false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.className = value;
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else if (name === "value" || name === "checked" || name === "disabled" || name === "hidden") {
      node[name] = value;
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function replaceChildren(node, ...children) {
  clear(node);
  return append(node, children);
}

let idCounter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form field: <label for=…>text</label> + control. */
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid("f");
  const label = h("label", { for: control.id }, labelText);
  return h("div", { class: "field" }, label, control, hint ? h("small", { class: "hint" }, hint) : null);
}
