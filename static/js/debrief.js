// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest(".nav-toggle");
  if (!toggle) return;
  const links = document.getElementById(toggle.getAttribute("aria-controls"));
  const open = links.classList.toggle("open");
  toggle.setAttribute("aria-expanded", String(open));
});
// Closed <details> filters on narrow screens keep the results in view.
if (window.matchMedia("(max-width: 900px)").matches) {
  document.querySelectorAll("details.filters").forEach((d) => d.removeAttribute("open"));
}
// A failed htmx request never fails silently: say so, and leave what was typed in place.
function announce(text) {
  let box = document.getElementById("net-status");
  if (!box) {
    box = document.createElement("div");
    box.id = "net-status";
    box.setAttribute("role", "alert");
    box.className = "net-status";
    document.body.appendChild(box);
  }
  box.textContent = text;
  box.hidden = false;
  clearTimeout(box._timer);
  box._timer = setTimeout(() => { box.hidden = true; }, 8000);
}
document.addEventListener("htmx:sendError", () =>
  announce("Could not reach Debrief. Nothing was lost: your text is still on the page; try again."));
document.addEventListener("htmx:responseError", (e) =>
  announce(`Debrief answered ${e.detail.xhr.status}. Nothing was lost: your text is still on the page.`));

// --- Postmortem section editor (postmortems app) -------------------------------------------
// Each section form saves on its own: after a pause in typing, on leaving the box, on Ctrl/Cmd+S.
// The textarea is never replaced by a response, so nothing typed during a save is lost; the
// server answers with out-of-band fragments (base revision, state, preview, margin notes).
(function () {
  const PAUSE_MS = 1200;
  const RETRY_MS = [2000, 5000, 10000, 30000];
  const forms = () => document.querySelectorAll("form.section-form");

  function setState(form, text, cls) {
    const state = document.getElementById("state-" + form.dataset.section);
    if (!state) return;
    state.textContent = text;
    state.className = "save-state" + (cls ? " " + cls : "");
  }
  function area(form) { return form.querySelector("textarea[name=text]"); }

  function tooLarge(form) {
    // The server refuses it anyway; saying so here saves sending megabytes on every pause.
    const max = Number(area(form).dataset.maxBytes || 0);
    const size = max ? new TextEncoder().encode(area(form).value).length : 0;
    if (size <= max) return false;
    const kb = (n) => `${Math.round(n / 1000).toLocaleString()} KB`;
    setState(form, `Not saved — this section is ${kb(size)}; a section holds at most ${kb(max)}. ` +
      "Move long logs or output to a linked file and keep the summary here. Your text is kept in the box.", "state-error");
    return true;
  }
  function save(form) {
    clearTimeout(form._pause);
    clearTimeout(form._retry);
    if (form._conflict || !form._dirty || tooLarge(form)) return;
    window.htmx.trigger(form, "pm:save");
  }
  function schedule(form) {
    clearTimeout(form._pause);
    form._pause = setTimeout(() => save(form), PAUSE_MS);
  }
  function retryLater(form, why) {
    const attempt = form._attempt = (form._attempt || 0) + 1;
    const wait = RETRY_MS[Math.min(attempt - 1, RETRY_MS.length - 1)];
    setState(form, `Not saved — ${why}. Your text is kept here; retrying in ${wait / 1000} s.`, "state-error");
    clearTimeout(form._retry);
    form._retry = setTimeout(() => save(form), wait);
  }

  function init(form) {
    if (form._pmReady) return;
    form._pmReady = true;
    form._saved = area(form).value;
    form.addEventListener("input", () => {
      form._dirty = area(form).value !== form._saved;
      if (form._conflict) return;
      setState(form, form._dirty ? "Unsaved changes…" : "Saved", form._dirty ? "state-dirty" : "");
      if (form._dirty) schedule(form);
    });
    form.addEventListener("focusout", () => save(form));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      form._dirty = true;  // an explicit save always goes out
      save(form);
    });
    form.addEventListener("htmx:configRequest", () => {
      form._sent = area(form).value;
      form._sentBase = document.getElementById("base-" + form.dataset.section).value;
    });
    form.addEventListener("htmx:beforeRequest", () => {
      form._inflight = true;
      setState(form, "Saving…", "state-saving");
    });
    form.addEventListener("htmx:afterRequest", (event) => {
      form._inflight = false;
      const status = event.detail.xhr ? event.detail.xhr.status : 0;
      if (status === 200) {
        form._attempt = 0;
        form._saved = form._sent;
        const merged = document.querySelector(`#conflict-${form.dataset.section} .merged-notice`);
        if (merged) takeMerged(form, merged.dataset.mergedText);
        form._dirty = area(form).value !== form._saved;
        if (form._dirty) { setState(form, "Unsaved changes…", "state-dirty"); schedule(form); }
      } else if (status === 422 && event.detail.xhr.getResponseHeader("X-Debrief-Refused")) {
        form._attempt = 0;  // refused for size: the message is shown, the next edit saves again
      } else if (status === 422) {
        form._conflict = true;
      } else if (status === 0) {
        retryLater(form, "no connection");
      } else {
        retryLater(form, `Debrief answered ${status}`);
      }
      event.stopPropagation();  // the generic network banner is not needed here
    });
    form.addEventListener("htmx:sendError", (event) => event.stopPropagation());
    form.addEventListener("htmx:responseError", (event) => event.stopPropagation());
  }

  // The server combined someone else's changes with the ones sent: the box takes the result,
  // unless more was typed while saving; then the box keeps that and the base of what was
  // sent, so the next save merges again instead of dropping their changes.
  function takeMerged(form, text) {
    if (area(form).value === form._sent) {
      keepCaret(area(form), text);
      form._saved = text;
    } else {
      document.getElementById("base-" + form.dataset.section).value = form._sentBase;
      form._saved = null;
    }
  }
  function keepCaret(box, text) {
    const focused = document.activeElement === box;
    const start = box.selectionStart, end = box.selectionEnd;
    box.value = text;
    if (focused) box.setSelectionRange(Math.min(start, text.length), Math.min(end, text.length));
  }

  // A conflict's pieces: agreed text, and at each place both changed, the choice made there.
  function combined(box) {
    return [...box.querySelectorAll("[data-part]")].map((part) => {
      if (part.dataset.part === "text") return part.dataset.text;
      const picked = part.querySelector("input[type=radio]:checked");
      return part.dataset[picked ? picked.value : "mine"];
    }).join("");
  }

  function resolve(button) {
    const slot = button.closest(".conflict-slot");
    const section = slot.id.replace("conflict-", "");
    const form = document.querySelector(`form.section-form[data-section="${section}"]`);
    const box = slot.querySelector(".conflict");
    const theirs = box.dataset.theirsText;
    const choice = button.dataset.resolve;
    const text = choice === "merge" || choice === "edit" ? combined(box) : null;
    document.getElementById("base-" + section).value = box.dataset.theirsNumber;
    form._conflict = false;
    slot.innerHTML = "";
    if (choice === "theirs") {
      area(form).value = theirs;
      form._saved = theirs;
      form._dirty = false;
      setState(form, "Saved — their version kept", "");
    } else if (choice === "edit") {
      area(form).value = text;
      form._saved = theirs;
      form._dirty = text !== theirs;
      setState(form, "The combined text is in the box: edit it, then it saves.", "state-dirty");
      area(form).focus();
      if (form._dirty) schedule(form);
    } else {
      if (text !== null) area(form).value = text;
      form._saved = theirs;
      form._dirty = true;
      save(form);
    }
  }

  // For static/js/coedit.js, which refreshes sections others saved.
  window.debriefSections = {
    area,
    setState,
    keepCaret,
    editing: (form) => Boolean(form._dirty || form._conflict || form._inflight),
    busy: (form) => Boolean(form._inflight || form._conflict),
    markSaved: (form, text) => { form._saved = text; form._dirty = false; },
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-resolve]");
    if (button) resolve(button);
    if (event.target.closest("[data-print]")) window.print();
  });
  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "s") return;
    const form = event.target.closest && event.target.closest("form.section-form");
    if (!form) return;
    event.preventDefault();
    form._dirty = form._dirty || area(form).value !== form._saved;
    if (form._dirty) save(form); else setState(form, "Saved — nothing new to save", "");
  });
  window.addEventListener("beforeunload", (event) => {
    const unsaved = [...forms()].some((f) => f._dirty || f._conflict);
    if (unsaved) { event.preventDefault(); event.returnValue = ""; }
  });
  const start = () => forms().forEach(init);
  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:load", start);
})();

// Read-only fields holding something to copy (the calendar feed address) select their whole
// text on focus. A listener here, not an onfocus attribute: the Content-Security-Policy forbids
// inline handlers.
document.addEventListener("focusin", (event) => {
  if (event.target.matches && event.target.matches("input[data-select-on-focus]")) {
    event.target.select();
  }
});

// Selects that apply themselves (the digest scope): submit their form on change.
document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches("select[data-submit-on-change]")) {
    event.target.form.requestSubmit();
  }
});

// After a refused submission, focus moves to the summary of what to fix, so keyboard and
// screen-reader users start there instead of at the top of the page (full pages and swaps).
function focusErrorSummary(root) {
  const summary = root.querySelector && root.querySelector(".form-errors");
  if (!summary || summary.closest("[hidden]")) return;
  if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
  summary.focus();
}
document.addEventListener("DOMContentLoaded", () => focusErrorSummary(document));
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.xhr && event.detail.xhr.status === 422) focusErrorSummary(event.detail.target);
});
// --- Bounded requests ------------------------------------------------------------------------
// A form larger than the server accepts is stopped before sending, with a message, so the
// typed text stays where it is (the server would refuse it and the text would be gone).
(function () {
  const limit = () => Number(document.body.dataset.uploadLimit || 0);
  function size(form) {
    let total = 0;
    new FormData(form).forEach((value, name) => {
      if (typeof value === "string") total += encodeURIComponent(name).length + encodeURIComponent(value).length + 2;
    });
    return total;
  }
  function tooBig(form) {
    const max = limit();
    if (!max || !form || form.enctype === "multipart/form-data") return false;
    const bytes = size(form);
    if (bytes <= max) return false;
    announce(`Not sent: this is ${(bytes / 1e6).toFixed(1)} MB, and Debrief accepts at most ${(max / 1e6).toFixed(1)} MB. ` +
      "Your text is still here; shorten it or link to a file, then save again.");
    return true;
  }
  document.addEventListener("submit", (event) => {
    if (tooBig(event.target)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);
  document.addEventListener("htmx:confirm", (event) => {
    const form = event.detail.elt.closest("form");
    if (event.detail.verb !== "get" && tooBig(form)) event.preventDefault();
  });
  // The "not saved" page's back link returns to the form as the browser kept it.
  document.addEventListener("click", (event) => {
    const back = event.target.closest("[data-history-back]");
    if (back && window.history.length > 1) { event.preventDefault(); window.history.back(); }
  });
})();
