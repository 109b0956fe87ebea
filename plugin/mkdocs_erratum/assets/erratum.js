// mkdocs-erratum reader widget, the part every page loads: the "Report an error" button,
// the per-paragraph link, the selection mode and Ctrl+Enter. Blocks carry
// data-erratum-src="PATH#LA-LB"; settings are in <script id="erratum-config">. The dialog
// (erratum-dialog.js: the issue builder and the service client) is imported on the first
// press, from beside this file: nothing is fetched before the reader acts. The site gets
// assets/dist/erratum.js, minified (make widget).
const ATTR = "data-erratum-src";
const BLOCK = `[${ATTR}]`; // the annotated blocks' selector
const NOT_SELECTABLE = /^(T(ABLE|HEAD|BODY|FOOT|R)|[UOD]L|HR|IMG|BR|SUMMARY|DETAILS)$/; // tables' parts but cells, lists
let C, T, lang, only, button, link, banner, next, dialog, mod, selecting = false;

// An element: functions in attrs are its listeners, the rest attributes ("" for a
// boolean one).
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const k in attrs) {
    const v = attrs[k];
    typeof v == "function" ? e.addEventListener(k, v) : e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
}
const where = (b) => /^(.+)#L(\d+)-L(\d+)$/.exec(b.getAttribute(ATTR) || "");
const isOpen = () => document.querySelector(".erratum-dialog[open]");

// -- Blocks ------------------------------------------------------------------------------
function textOf(node) {
  const copy = node?.cloneNode(true);
  copy?.querySelectorAll(".headerlink").forEach((x) => x.remove()); // the widget's own buttons have no text
  return copy?.textContent.replace(/\s+/g, " ").trim() || "";
}
const label = (b) => (textOf(b) || b.querySelector("img")?.alt || b.getAttribute(ATTR)).slice(0, 80);

// b's first non-blank text node outside its nested blocks, if any (4: SHOW_TEXT; the
// filter answers 1: FILTER_ACCEPT or 3: FILTER_SKIP).
const ownText = (b) => document.createTreeWalker(b, 4,
  (t) => (t.data.trim() && t.parentElement.closest(BLOCK) === b ? 1 : 3)).nextNode();

// A block a reader can pick: the innermost annotated ones, plus containers with text of
// their own (a list item holding a nested list); never table rows or lists themselves.
const pickable = (b) => where(b) && !NOT_SELECTABLE.test(b.tagName) && (!only || b.matches(only)) &&
  (ownText(b) || !b.querySelector(BLOCK));
const blocks = () => [...document.querySelectorAll(BLOCK)].filter((b) => b.getClientRects().length && pickable(b));

function blockAt(node) {
  for (let b = node?.closest?.(BLOCK); b; b = b.parentElement.closest(BLOCK)) {
    if (pickable(b)) return b;
  }
}

// -- The per-paragraph link: one button, moved into the block under the pointer, the
// touched or text-selected block, or (arrow keys) the next one: one tab stop in all.
function place(b, shown) {
  if (!b || selecting) return;
  const focused = document.activeElement === link;
  if (link.parentElement !== b) b.prepend(link); // moving it blurs it
  link.setAttribute("aria-description", label(b)); // its name stays T.here
  link.classList.toggle("erratum-shown", !!shown);
  if (focused) link.focus({ preventScroll: true });
}

function rove(e) {
  const step = { ArrowDown: 1, ArrowUp: -1 }[e.key];
  if (!step) return;
  e.preventDefault();
  const list = blocks(), b = list[list.indexOf(link.parentElement) + step];
  // Focused again from outside (place() keeps the focus without scrolling), the link is
  // scrolled into view.
  if (b) link.blur(), place(b), link.focus();
}

// -- Selection mode -----------------------------------------------------------------------
// A toggle over each block, pressed or not (aria-pressed is the selection). The dialog's
// module (`mod`) is imported first: its mark() adds the "Already reported" markers and
// takes the blocks' own links and fields out of the Tab order, before enter() returns, so
// that no Tab pressed meanwhile reaches them. A module that fails to load (offline) leaves
// them in it; selection mode starts all the same.
async function enter(picked = []) {
  mod = await chunk().catch(Boolean);
  if (selecting) return;
  selecting = true;
  document.documentElement.classList.add("erratum-selecting");
  let focus;
  for (const b of blocks()) {
    const t = el("button", { type: "button", class: "erratum-toggle", "aria-label": label(b), "aria-pressed": String(picked.includes(b)),
      click: (e) => (e.preventDefault(), e.stopPropagation(), t.setAttribute("aria-pressed", t.ariaPressed != "true"), count()) });
    b.classList.add("erratum-block");
    b.prepend(t);
    if (!focus && b.getBoundingClientRect().bottom > 0) focus = t;
  }
  mod.mark?.(context());
  banner = el("div", { class: "erratum-banner", role: "region", "aria-label": T.button, lang },
    el("p", { role: "status" }, T.banner), (next = el("button", { type: "button", class: "erratum-continue", click: () => go(chosen()) })),
    el("button", { type: "button", class: "erratum-secondary", click: () => leave(true) }, T.cancel));
  document.body.append(banner);
  count();
  (focus || next).focus({ preventScroll: true });
}

// The chosen blocks: those whose toggle is pressed.
const chosen = () => [...document.querySelectorAll(".erratum-toggle[aria-pressed=true]")].map((t) => t.parentElement);
function count() {
  const n = chosen().length;
  next.textContent = `${T.continue} (${n})`;
  next.disabled = !n;
}

function leave(refocus) {
  if (!selecting) return;
  selecting = false;
  document.documentElement.classList.remove("erratum-selecting");
  for (const t of document.querySelectorAll(".erratum-toggle")) t.parentElement.classList.remove("erratum-block"), t.remove();
  mod.tabOrder?.(); // the blocks' links and fields back in it
  banner.remove();
  if (refocus) button.focus();
}

// What erratum-dialog.js shares of this page and this file.
const context = () => ({ C, T, lang, el, where, textOf, button, more: enter });
// The dialog's module, imported once (a failed import is tried again on the next press).
const chunk = () => (dialog ||= import("./erratum-dialog.js").catch((e) => {
  dialog = null;
  throw e;
}));

// Open the dialog on these blocks (with the text the reader selected, if any).
async function go(list, selected) {
  if (!list.length) return;
  leave(false);
  (await chunk()).open(list, selected, context());
}
// -- Start ----------------------------------------------------------------------------------
function start() {
  // Read again on each page: Material's instant navigation swaps <head> per page.
  C = JSON.parse(document.getElementById("erratum-config").textContent);
  // The page's language, when not the site's: the build worked it out (its front matter's,
  // else <html lang>; widget.page_language).
  lang = document.querySelector("meta[name=erratum-lang]")?.content || C.lang;
  T = C.strings[lang];
  // A widget_blocks this browser cannot parse must not break the widget: all blocks stay
  // (the dialog's module warns of it).
  try {
    only = C.blocks && document.querySelector(C.blocks) && C.blocks;
  } catch {
    only = null;
  }
  // The button takes the place of the no-JavaScript link (a page without one gets a holder).
  button = el("button", { type: "button", class: "erratum-button", lang, click: () => enter() }, T.button);
  (document.querySelector(".erratum-nojs") || document.body.appendChild(el("p", { class: "erratum-nojs" }))).replaceChildren(button);
  link?.remove();
  link = C.links ? el("button", {
    type: "button", class: "erratum-here", title: T.here, "aria-label": T.here, lang, "aria-keyshortcuts": "ArrowUp ArrowDown",
    click: (e) => (e.preventDefault(), go([link.parentElement])), keydown: rove,
  }) : null;
  if (link) place(blocks()[0]);
}

// SubtleCrypto (hashes, proof of work) needs HTTPS: elsewhere the plain issue link stays.
if (window.crypto?.subtle) {
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && selecting && !isOpen()) return leave(true);
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || isOpen()) return;
    const sel = getSelection();
    if (selecting) {
      e.preventDefault();
      go(chosen()); // nothing when none is chosen
    } else if (sel && !sel.isCollapsed) {
      const hit = blocks().filter((b) => sel.containsNode(b, true));
      if (!hit.length) return;
      e.preventDefault();
      go(hit, String(sel));
    }
  });
  // The link follows the mouse and the focus; a touch or a pen (a tap, a long press) shows
  // it: their pointerType, "touch" and "pen", sort after "mouse" (focusin has none).
  for (const type of ["pointerover", "pointerdown", "focusin"]) {
    document.addEventListener(type, (e) => link && e.target !== link && place(blockAt(e.target), e.pointerType > "mouse"));
  }

  start();
  // Material's instant navigation swaps the page without reloading: start again on each page.
  window.document$?.subscribe?.(() => {
    leave(false);
    isOpen()?.close();
    start();
  });
}
