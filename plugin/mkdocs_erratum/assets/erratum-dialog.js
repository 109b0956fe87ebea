// mkdocs-erratum reader widget, the part loaded on the first press (by erratum.js): the
// dialog, the issue builder for each forge and the correction service's client. With it
// come its stylesheet and the reader's language's strings (strings.<lang>.json), and the
// markers of what is already reported (mark(), also called when selection mode starts).
const HERE = import.meta.url;
const sources = {}; // repository path -> Promise of its lines (null where not published)
const texts = {}; // strings file -> Promise of its strings
const known = {}; // page -> Promise of its open blocks
let sheet, ready, dialog, carried;

const hex = (buf) => [...new Uint8Array(buf)].map((x) => x.toString(16).padStart(2, "0")).join("");
const digest = (data, hash = "SHA-256") => crypto.subtle.digest(hash, data);
const encode = (text) => new TextEncoder().encode(text);
const sha256 = async (text) => hex(await digest(encode(text)));
// Storage can be switched off (privacy settings, sandboxed frames): the dialog still works.
const keep = (f) => { try { return f(); } catch { return null; } };
const fence = (text) => { let f = "```"; while (text.includes(f)) f += "`"; return f; };
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
const range = (p) => p.path + "#L" + p.start + "-L" + p.end;
const encodePath = (path) => path.split("/").map(encodeURIComponent).join("/");
// Reader text in an issue: mkdocs_erratum.text_rules.neutralise, rule for rule.
const Z = "\u200b";
export const inert = (s) => [[/&(?!(?:lt|gt|amp);)(?=#?[A-Za-z0-9])/g, "&amp;"], [/<(?=[A-Za-z/!?])/g, "&lt;"],
  [/(?<![\w@])@(?=[A-Za-z0-9])/g, "@" + Z], [/#(?=\d)/g, "#" + Z], [/\b(GH-)(?=\d)/gi, "$1" + Z],
  [/\b([cfr])(?=(?:lose[sd]?|ix(?:e[sd])?|esolve[sd]?)\b:?\s*(?:#|GH-|[\w.-]+\/[\w.-]+#|[A-Za-z][\w+.-]*:\/\/|www\.))/gi, "$1" + Z],
  [/(?<=[A-Za-z0-9+.-]):\/\//g, ":" + Z + "//"], [/\b(www)(?=\.)/gi, "$1" + Z]].reduce((t, [r, w]) => t.replace(r, w), s);

function load(url, cache, key) {
  cache[key] ||= fetch(url).then((r) => {
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  });
  cache[key].catch(() => delete cache[key]); // let a later attempt retry
  return cache[key];
}
const lines = (path) => load(new URL("src/" + encodePath(path) + ".json", HERE), sources, path).then((j) => j.lines);
const strings = ({ C, lang, T }) => load(new URL("strings." + C.languages[lang] + ".json", HERE), texts, lang).then((b) => ({ ...b, ...T }));

// -- Already reported --------------------------------------------------------------------
// The open reports' blocks (mkdocs_erratum.triage.triage_view: numbers, links, lines, no
// reader text), from the service (this page's) or the site's snapshot (all pages': a
// block is known by its source lines, which a snippet shares between pages), once per
// page; none when off, on failure, or when the list is older than C.age days.
const openBlocks = (C, page = location.origin + location.pathname) => known[page] ||= (async () => {
  if (!C.known) return [];
  const v = await (await fetch(C.known == "service" ? new URL("api/reports?page=" + encodeURIComponent(page), C.service)
    : new URL("../../_erratum/open-reports.json", HERE))).json();
  return C.age && Date.now() - Date.parse(v.generated_at) > C.age * 864e5 ? []
    : v.pages.flatMap((p) => p.blocks);
})().catch(() => []);
// The first open report of a block on the same file and overlapping lines, if any.
const reported = (list, [, path, a, b] = []) => list.find((k) => k.path == path && k.lines[0] <= +b && +a <= k.lines[1])
  ?.reports.find((r) => /^https?:/.test(r.url));
// "Already reported (#12)", a link; its text is CSS content from aria-label, so that the
// text of the block it is in stays what the loader reads.
const badge = (r, T, { el }) => el("a", { class: "erratum-known", href: r.url, target: "_blank", rel: "noopener", "aria-label": fill(T.known, r) });

// Links and fields inside the blocks leave the Tab order while selection mode's toggles
// cover them (the blocks are .erratum-block meanwhile): their own tabindex is kept here.
const tabindex = new Map();
/** Put back what it took out of the Tab order, then take out the links and fields of the
 * blocks in selection mode, if any (erratum.js calls it on leaving that mode). */
export function tabOrder() {
  tabindex.forEach((old, f) => (old == null ? f.removeAttribute("tabindex") : f.setAttribute("tabindex", old)));
  tabindex.clear();
  for (const f of document.querySelectorAll(".erratum-block :is(a[href],button,input,select,textarea,[tabindex]):not(.erratum-toggle)")) {
    tabindex.set(f, f.getAttribute("tabindex")), (f.tabIndex = -1);
  }
}

/** Mark the page's blocks that have an open report: the innermost ones (a list item's
 * paragraph, not the item too), never a table row, once each. Called when selection mode
 * starts (with tabOrder) and when the dialog opens. */
export async function mark(ctx) {
  tabOrder();
  // erratum.js ignores a widget_blocks this browser cannot parse; the warning is here,
  // where its bytes are not loaded by every page.
  try {
    ctx.C.blocks && document.querySelector(ctx.C.blocks);
  } catch {
    console.warn("erratum: invalid widget_blocks", ctx.C.blocks);
  }
  const [T, list] = await Promise.all([strings(ctx), openBlocks(ctx.C), style(ctx.el)]);
  for (const b of document.querySelectorAll("[data-erratum-src]")) {
    const r = b.tagName != "TR" && !b.querySelector("[data-erratum-src],.erratum-known") && reported(list, ctx.where(b));
    if (r) b.append(badge(r, T, ctx));
  }
}

// The stylesheet once per page (Material's instant navigation drops what it did not load).
function style(el) {
  if (!sheet?.isConnected) {
    const href = new URL("erratum-dialog.css", HERE);
    ready = new Promise((ok) => (sheet = el("link", { rel: "stylesheet", href, load: ok, error: ok })));
    document.head.append(sheet);
  }
  return ready;
}

// -- Forges ---------------------------------------------------------------------------------
// Per forge: its name, where a file's lines are at a commit, how a line range ends, where
// a new issue is, and its fields (title, body); the settings "forge" and "web" pick one.
const FORGES = {
  github: ["GitHub", "/blob/", "-L", "/issues/new?", "title", "body"],
  gitlab: ["GitLab", "/-/blob/", "-", "/-/issues/new?", "issue[title]", "issue[description]"],
  forgejo: ["Forgejo", "/src/commit/", "-L", "/issues/new?", "title", "body"],
};
FORGES.gitea = ["Gitea", ...FORGES.forgejo.slice(1)];

function forge(C) {
  const kind = C.forge || "github", web = (C.web || "https://github.com").replace(/\/+$/, "");
  const [name, blob, to, issues, title, body] = FORGES[kind], base = web + "/" + C.repository;
  const form = kind === "github" && C.form, ref = C.commit || C.branch || "HEAD";
  return {
    name: /^https?:\/\/codeberg\.org$/i.test(web) ? "Codeberg" : name,
    permalink: (b) => base + (C.commit ? blob : blob.replace("commit", "branch")) + encodePath(ref) +
      "/" + encodePath(b.path) + "#L" + b.start + to + b.end,
    // As mkdocs_erratum.forges.web: GitHub's issue forms take the body in their field
    // "report"; GitLab names a description template, without ".md".
    issue: (t, text) => base + issues + new URLSearchParams(Object.entries({
      template: form, issuable_template: kind === "gitlab" && C.form?.replace(/\.md$/, ""), [title]: t, [form ? "report" : body]: text,
      labels: kind === "github" && C.labels.join(","),
    }).filter(([, v]) => v)),
  };
}

// -- The dialog ------------------------------------------------------------------------------
/** Open the dialog on `list` (elements with data-erratum-src); `selected` is the text the
 * reader selected for Ctrl+Enter (undefined otherwise); `ctx` is what erratum.js shares:
 * settings C, the page's strings T and language, el(), where(), textOf(), the page's
 * button and more() (back to the selection mode with these blocks chosen). */
export async function open(list, selected, ctx) {
  const { C, lang, el, where } = ctx;
  // Text selected for Ctrl+Enter: the innermost blocks it touches, the text quoted.
  if (selected != null) list = list.filter((b) => !list.some((o) => o !== b && b.contains(o)));
  const text = selected?.trim();
  const quoted = text ? text.split("\n").map((l) => "> " + l).join("\n") + "\n\n" : "";
  const [, T] = await Promise.all([style(el), strings(ctx)]);
  mark(ctx);
  const F = forge(C);
  const span = (b) => fill(b.start === b.end ? T.body_line : T.body_lines, b);
  list.sort((a, b) => (a.compareDocumentPosition(b) & 4 ? -1 : 1)); // 4: DOCUMENT_POSITION_FOLLOWING
  // One entry per range: a cell takes its row's range; a range inside another is left out,
  // and of equal ones the first is kept.
  const all = list.map(where).map(([, path, a, b]) => ({ path, start: +a, end: +b }));
  const picks = all.filter((p, i) => !all.some((o, j) => j !== i && o.path === p.path &&
    o.start <= p.start && p.end <= o.end && (j < i || o.start < p.start || p.end < o.end)));
  const opener = document.activeElement;
  const key = "erratum:" + location.pathname + ":" + picks.map(range).join(",");
  // What the reader typed before choosing more blocks comes along (edits by range).
  const saved = JSON.parse(keep(() => sessionStorage.getItem(key)) || "null") ||
    { id: "r-" + hex(crypto.getRandomValues(new Uint8Array(8))), comment: quoted, edits: {}, ...carried };
  carried = null;
  const save = () => {
    saved.comment = comment.value;
    picks.forEach((p, i) => p.original != null && (saved.edits[range(p)] = boxes[i].value));
    keep(() => sessionStorage.setItem(key, JSON.stringify(saved)));
  };
  const boxes = picks.map((p, i) => el("textarea", { id: "erratum-b" + i, rows: 4, maxlength: 20000, input: save }));
  const fixes = el("div"); // the correction boxes, shown once the original text is loaded
  const comment = el("textarea", { id: "erratum-comment", rows: 3, maxlength: 5000, input: save }, saved.comment);
  const status = el("div", { class: "erratum-status", role: "status" });
  const primary = el("button", { type: "submit", class: "erratum-primary", disabled: "" },
    C.service ? T.send : fill(T.open_issue, { forge: F.name }));
  const cancel = el("button", { type: "button", class: "erratum-secondary", click: () => dialog.close() }, T.cancel);
  const more = el("button", { type: "button", class: "erratum-secondary", click: () => {
    save();
    keep(() => sessionStorage.removeItem(key)); // one draft per report id
    carried = saved;
    dialog.close();
    ctx.more(list);
  } }, T.add);
  const honeypot = el("input", { name: "website", tabindex: -1, autocomplete: "off", "aria-hidden": "true" });
  const form = el("form", { method: "dialog" },
    el("h2", { id: "erratum-title" }, T.button),
    el("label", { for: "erratum-comment" }, T.comment), comment, fixes,
    C.service ? el("div", { class: "erratum-hp" }, honeypot) : "",
    status, el("div", { class: "erratum-actions" }, primary, more, cancel));
  // A new report, or (to = an open report of these lines) one added to it: the service
  // joins it there (report.joins, checked by the same-report rule); without the service
  // the reader pastes it as a comment on the open issue.
  const submit = (to) => {
    const report = {
      page_url: location.origin + location.pathname,
      blocks: picks.map((p, i) => ({
        path: p.path, start: p.start, end: p.end, original: p.original, original_sha256: p.hash,
        replacement: boxes[i].value === p.original ? null : boxes[i].value,
      })),
      comment: comment.value, repository: C.repository, commit: C.commit, branch: C.branch,
      id: saved.id, reporter: null, version: 1, ...to && { joins: to.number },
    };
    const done = () => (keep(() => sessionStorage.removeItem(key)), (cancel.textContent = T.close));
    const how = { T, F, span, show, title: pageTitle(ctx), cap: C.cap };
    if (C.service) send(report, honeypot.value, { T, show, primary, done, service: C.service });
    // GitHub has no link that prefills a comment: the report goes to the clipboard, and
    // the issue opens at its comment box.
    else (to ? handOver(issueBody(report, how), to.url + "#new_comment_field", [fill(T.pasted, to), fill(T.paste_below, to)], show)
      : openIssue(report, how)).then(() => (cancel.textContent = T.close));
  };
  form.addEventListener("submit", (e) => (e.preventDefault(), submit()));
  function show(text, link, full) {
    status.replaceChildren(text);
    if (link && /^https?:\/\//.test(link)) status.append(" ", el("a", { href: link, target: "_blank", rel: "noopener" }, link));
    if (full != null) {
      status.append(el("textarea", { readonly: "", rows: 6, "aria-label": T.copy_below }, full));
    }
  }
  dialog?.remove();
  dialog = el("dialog", { class: "erratum-dialog", "aria-labelledby": "erratum-title", lang }, form);
  dialog.addEventListener("close", () => (opener?.isConnected && opener !== document.body ? opener : ctx.button).focus());
  document.body.append(dialog);
  dialog.showModal();
  show(T.loading);
  try {
    for (const [i, p] of picks.entries()) {
      const text = (await lines(p.path)).slice(p.start - 1, p.end);
      if (text.length !== p.end - p.start + 1 || text.includes(null)) return show(T.load_failed); // not published
      p.original = text.join("\n");
      p.hash = await sha256(p.original);
      boxes[i].value = saved.edits[range(p)] ?? p.original;
    }
    fixes.append(...picks.flatMap((p, i) => [
      el("label", { for: "erratum-b" + i }, T.correction + " — " + p.path + ", " + span(p)),
      boxes[i]]));
    primary.disabled = false;
    show("");
  } catch {
    return show(T.load_failed);
  }
  const open = await openBlocks(C), to = picks.map((p) => reported(open, [, p.path, p.start, p.end])).find(Boolean);
  if (to) {
    status.before(el("p", {}, badge(to, T, ctx)));
    primary.textContent = T.new_report;
    primary.before(el("button", { type: "button", class: "erratum-primary", click: () => submit(to) }, fill(T.add_to, to)));
  }
}

// As the no-JS link (widget.first_heading): the first h1, else the title that link carries.
const pageTitle = ({ textOf }) => textOf(document.querySelector("article h1, [role=main] h1, main h1")) ||
  document.querySelector("[data-erratum-title]")?.dataset.erratumTitle || document.title;

// -- The issue --------------------------------------------------------------------------------
function unifiedDiff({ path, start, original, replacement }) {
  const a = original.split("\n"), b = replacement.split("\n");
  let p = 0, s = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const mark = (m) => (l) => m + l;
  const out = ["--- a/" + path, "+++ b/" + path, "@@ -" + start + "," + a.length + " +" + start + "," + b.length + " @@",
    ...a.slice(0, p).map(mark(" ")), ...a.slice(p, a.length - s).map(mark("-")),
    ...b.slice(p, b.length - s).map(mark("+")), ...a.slice(a.length - s).map(mark(" "))];
  return out.join("\n");
}

// The machine-readable block, exactly as mkdocs_erratum.report.format_report_block writes it.
function reportBlock(report) {
  const json = JSON.stringify(report);
  const f = fence(json);
  return f + "json erratum-report\n" + json + "\n" + f;
}

// Quoted text is indented (a code block): no line of it can start a fence or mention anyone.
function issueBody(r, { T, F, span }, quote = true, diff = true, data = r) {
  const out = [T.body_page + T.colon + " " + r.page_url, ""];
  for (const b of r.blocks) {
    out.push("#### " + inert(b.path) + ", " + span(b), F.permalink(b), "");
    if (quote && b.original != null) out.push(b.original.split("\n").map((l) => "    " + l).join("\n"), "");
    if (diff && b.replacement != null) {
      const d = unifiedDiff(b), f = fence(d);
      out.push(T.body_change + T.colon, "", f + "diff", d, f, "");
    }
  }
  if (r.comment.trim()) out.push("#### " + T.body_comment, "", r.comment.split("\n").map((l) => "> " + inert(l)).join("\n"), "");
  out.push(reportBlock(data));
  return out.join("\n");
}

// Shorten quoted text first, then the texts of the JSON block, never its locators; if
// still too long, copy the full body to the clipboard and open a short issue.
async function openIssue(r, how) {
  const { T, F, show } = how;
  const title = fill(T.issue_title, { title: how.title });
  const bare = (texts) => ({ ...r, comment: texts ? r.comment : "", blocks: r.blocks.map((b) => ({ ...b, original: null, replacement: texts ? b.replacement : null })) });
  const bodies = [issueBody(r, how), issueBody(r, how, false), issueBody(r, how, false, true, bare(true)), issueBody(r, how, false, false, bare(true))];
  for (const body of bodies) {
    const url = F.issue(title, body);
    if (url.length <= how.cap) {
      window.open(url, "_blank", "noopener");
      return show(T.opened);
    }
  }
  const short = [T.body_pasted, "", T.body_page + T.colon + " " + r.page_url, "", ...r.blocks.map(F.permalink), "", reportBlock({ ...bare(false), truncated: true })].join("\n");
  return handOver(bodies[0], F.issue(title, short), [T.copied, T.copy_below], show);
}

// Copy `text` to the clipboard and open `url`; say so, or show the text for a manual copy.
async function handOver(text, url, [copied, manual], show) {
  const ok = await navigator.clipboard?.writeText(text).then(() => 1, () => 0);
  window.open(url, "_blank", "noopener");
  show(ok ? copied : manual, null, ok ? null : text);
}

// -- Service ------------------------------------------------------------------------------
const b64 = (data) => btoa(JSON.stringify(data));

// ALTCHA proof of work, as the service's altcha package makes it (v1): find the number n
// with sha(salt + n) = challenge; hashes run in batches to keep SubtleCrypto busy.
async function solve(ch) {
  const { algorithm = "SHA-256", challenge, salt, signature } = ch;
  const max = ch.maxNumber ?? ch.maxnumber ?? 1e6;
  for (let n = 0; n <= max; n += 200) {
    const found = await Promise.all(Array.from({ length: 200 }, async (_, i) => hex(await digest(encode(salt + (n + i)), algorithm))));
    const i = found.indexOf(challenge);
    if (i >= 0) return b64({ algorithm, challenge, number: n + i, salt, signature });
  }
  throw new Error("proof of work not found");
}

async function send(report, honeypot, { T, show, primary, done, service }) {
  primary.disabled = true;
  show(T.sending);
  // The reader sees the service's words or ours, never a browser's ("Failed to fetch").
  const said = (message) => Object.assign(new Error(message), { said: true });
  try {
    const asked = await fetch(new URL("api/challenge", service));
    const challenge = await asked.json().catch(() => ({}));
    if (!asked.ok) throw said(challenge.message || "");
    const res = await fetch(new URL("api/reports", service), {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": report.id },
      body: JSON.stringify({ report, altcha: await solve(challenge), honeypot }),
    });
    const answer = await res.json().catch(() => ({}));
    if (res.status >= 400 && res.status < 500 && res.status !== 429) {
      primary.disabled = false; // the reader may change the text and send again
      return show(fill(T.rejected, { reason: answer.message || answer.error || res.status }));
    }
    if (!res.ok) throw said(answer.message || "");
  } catch (e) {
    primary.disabled = false;
    return show(fill(T.send_failed, { message: e.said ? e.message : "" }).replace(/ {2,}/g, " "));
  }
  done();
  // The status URL per the API, relative to service_url (which may carry a path prefix).
  const url = new URL("api/reports/" + report.id, service);
  // Poll while the dialog stays open; the report is stored whatever the reader does.
  for (let wait = 400; primary.closest("dialog[open]"); wait = Math.min(wait * 1.5, 5000)) {
    let s = {};
    try {
      s = await (await fetch(url)).json();
    } catch { /* keep polling: the report is stored */ }
    if (s.state === "rejected") return show(fill(T.rejected, { reason: s.reason || "" }));
    if (/^(issue_opened|pull_request_opened|branch_created|joined)$/.test(s.state)) return show(fill(T[s.state], s), s.url);
    show(T.queued);
    await new Promise((ok) => setTimeout(ok, wait));
  }
}
