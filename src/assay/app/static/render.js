// assay app: model text (answers, reasoning, prompts, judge notes) as markdown with math and highlighted code.
//
// The server sends every text escaped, in a <pre> inside a <div class="rich">: without this script (or with
// the vendored libraries missing) that raw text is what shows. This script reads the <pre>'s text, renders it
// with markdown-it (raw HTML off: a <script> in an answer stays text), typesets math with KaTeX, highlights
// fenced code with highlight.js, passes the result through DOMPurify, and shows it above the hidden <pre>;
// a per-block button switches back to the raw text, since rendering changes what `*`, `_` and `$` mean.
//
// Math is found by an inline markdown-it rule, so code spans and fenced code are never typeset. A `$...$`
// span follows pandoc's rule: no space right after the opening `$`, no space right before the closing `$`,
// and no digit right after it; and, stricter than pandoc, the first unescaped `$` after the opening one must be
// that closing one. So "$10 and $12" stays currency, and "from $5 to $x$" is currency, then math.
//
// KaTeX writes its layout as style attributes, which the page's Content-Security-Policy (style-src 'self')
// refuses in markup (and reports on the console even where the markup is only parsed, as DOMPurify does).
// So KaTeX's own output has each style="..." renamed to data-assay-style="..." before it is sanitized, and
// this script sets those through the CSSOM (element.style.cssText), which the policy allows: no
// 'unsafe-inline' is needed. Style attributes from anywhere else are dropped.
(function () {
  "use strict";
  const ready = typeof window.markdownit === "function" && window.DOMPurify && window.katex;
  let md = null;

  function isSpace(ch) { return ch === "" || /\s/.test(ch); }

  function tex(content, display) {
    try {
      const html = window.katex.renderToString(content, {displayMode: display, throwOnError: false, trust: false,
                                                         strict: "ignore", maxExpand: 500, maxSize: 40});
      return html.replace(/ style="/g, ' data-assay-style="');
    } catch (error) {
      return '<code class="tex-error">' + md.utils.escapeHtml(content) + "</code>";
    }
  }

  // The closing delimiter of the math span opening at `start`, or -1.
  function closing(src, start, max, open) {
    const from = start + open.length;
    if (open === "$") {
      if (isSpace(src.charAt(from)) || src.charAt(from) === "$") return -1;
      let at = from;
      for (;;) {
        at = src.indexOf("$", at);
        if (at < 0 || at >= max) return -1;
        if (src.charAt(at - 1) === "\\") { at += 1; continue; }  // an escaped \$ inside the math
        // The first other $ must close the span: "$5 to $x$" is currency, then math.
        return isSpace(src.charAt(at - 1)) || /[0-9]/.test(src.charAt(at + 1)) ? -1 : at;
      }
    }
    const close = open === "$$" ? "$$" : (open === "\\(" ? "\\)" : "\\]");
    const at = src.indexOf(close, from);
    return at > from && at + close.length <= max ? at : -1;
  }

  function mathRule(state, silent) {
    const src = state.src;
    const start = state.pos;
    let open = null;
    if (src.charAt(start) === "$") open = src.charAt(start + 1) === "$" ? "$$" : "$";
    else if (src.charAt(start) === "\\" && (src.charAt(start + 1) === "(" || src.charAt(start + 1) === "[")) {
      open = src.slice(start, start + 2);
    }
    if (open === null) return false;
    const at = closing(src, start, state.posMax, open);
    if (at < 0) return false;
    if (!silent) {
      const token = state.push("math", "math", 0);
      token.content = src.slice(start + open.length, at);
      token.markup = open;
      token.meta = {display: open === "$$" || open === "\\["};
    }
    state.pos = at + (open === "$" ? 1 : 2);
    return true;
  }

  function highlight(code, lang) {
    const hljs = window.hljs;
    if (!hljs || !lang || !hljs.getLanguage(lang)) return "";
    try {
      return hljs.highlight(code, {language: lang, ignoreIllegals: true}).value;
    } catch (error) {
      return "";
    }
  }

  if (ready) {
    md = window.markdownit({html: false, linkify: false, breaks: true, typographer: false, highlight: highlight});
    md.inline.ruler.before("escape", "math", mathRule);
    md.renderer.rules.math = function (tokens, idx) {
      const token = tokens[idx];
      const out = tex(token.content, token.meta.display);
      return token.meta.display ? '<span class="math-display">' + out + "</span>" : out;
    };
    window.DOMPurify.addHook("afterSanitizeAttributes", function (node) {
      if (node.tagName === "A") node.setAttribute("rel", "noopener noreferrer");
    });
  }

  const PURIFY = {FORBID_TAGS: ["img", "style", "form", "input", "button", "textarea", "select", "video", "audio",
                                "iframe", "object", "embed", "link", "meta", "base"],
                  FORBID_ATTR: ["style", "src", "srcset", "action", "formaction"]};

  function toHtml(source) {
    return window.DOMPurify.sanitize(md.render(source), PURIFY);
  }

  function renderBlock(block) {
    const pre = block.querySelector(":scope > pre");
    if (!pre) return;
    const out = document.createElement("div");
    out.className = "md";
    out.innerHTML = toHtml(pre.textContent);
    out.querySelectorAll("[data-assay-style]").forEach(function (el) {
      el.style.cssText = el.getAttribute("data-assay-style");
      el.removeAttribute("data-assay-style");
    });
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "raw-toggle";
    toggle.textContent = "raw";
    toggle.title = "show the text as the model wrote it";
    toggle.addEventListener("click", function () {
      const raw = pre.hidden;
      pre.hidden = !raw;
      out.hidden = raw;
      toggle.textContent = raw ? "rendered" : "raw";
      toggle.title = raw ? "show the text rendered" : "show the text as the model wrote it";
    });
    block.insertBefore(out, pre);
    block.insertBefore(toggle, out);
    pre.hidden = true;
    block.classList.add("rendered");
  }

  // One text as sanitized HTML (the browser tests check the math rule through it).
  window.assayMarkdown = function (source) { return ready ? toHtml(source) : null; };

  // Render every not yet rendered block under `root`.
  window.assayRender = function (root) {
    if (!ready || !root) return;
    root.querySelectorAll("div.rich:not(.rendered)").forEach(function (block) {
      try {
        renderBlock(block);
      } catch (error) {
        block.classList.add("rendered");  // the raw <pre> stays
      }
    });
  };
})();
