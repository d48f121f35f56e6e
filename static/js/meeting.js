// Review meeting presentation view: countdown, keyboard, capture panel, follower sync.
// The server holds the state (step, timer, captures); this file only ticks the clock between
// updates, turns keys into clicks on the real control buttons, and keeps the view steady while
// htmx swaps in new state.
(function () {
  const byId = (id) => document.getElementById(id);
  const deck = () => byId("deck");
  const isDriver = () => (deck() ? deck().dataset.driver === "1" : false);

  // --- Countdown ------------------------------------------------------------------------------
  // The server renders the seconds left as of its answer; count down from the moment that
  // answer arrived, so client and server clocks never need to agree.
  function clock(seconds) {
    const sign = seconds < 0 ? "+" : "";
    const abs = Math.abs(seconds);
    return `${sign}${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, "0")}`;
  }
  let announcedOver = null;
  function tick() {
    const timer = byId("timer");
    if (!timer) return;
    if (!timer._t0) timer._t0 = performance.now();
    const running = timer.dataset.running === "1";
    const passed = running ? Math.floor((performance.now() - timer._t0) / 1000) : 0;
    const remaining = Number(timer.dataset.remaining) - passed;
    const over = remaining < 0;
    timer.querySelector(".timer-value").textContent = clock(remaining);
    timer.classList.toggle("is-over", over);
    timer.classList.toggle("is-soon", !over && remaining <= 60);
    if (running) {
      timer.querySelector(".timer-label").textContent =
        over ? "Over time" : remaining <= 60 ? "left · wrap up" : "left";
      const fill = document.querySelector("#progress .is-current .fill");
      const planned = Number(timer.dataset.planned);
      if (fill && planned > 0) {
        const spent = Number(timer.dataset.spent) + passed;
        fill.style.width = `${Math.min(100, Math.round((100 * spent) / planned))}%`;
      }
    }
    // Say it once to screen readers, in words.
    const key = `${deck() && deck().dataset.step}:${over}`;
    if (over && running && announcedOver !== key) {
      announcedOver = key;
      say("Time is up for this step.");
    }
  }
  function say(text) {
    let box = byId("meeting-announce");
    if (!box) {
      box = document.createElement("div");
      box.id = "meeting-announce";
      box.className = "visually-hidden";
      box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    box.textContent = text;
  }
  setInterval(tick, 250);

  // Agenda segments are sized from data attributes through the CSS object model: the
  // Content-Security-Policy forbids style attributes in the markup, not styles set by script.
  function sizeProgress() {
    document.querySelectorAll("#progress .seg[data-grow]").forEach((seg) => {
      seg.style.flexGrow = seg.dataset.grow;
    });
    document.querySelectorAll("#progress .fill[data-fill]").forEach((fill) => {
      fill.style.width = `${Number(fill.dataset.fill) || 0}%`;
      delete fill.dataset.fill; // from now on tick() moves the current step's fill
    });
  }
  sizeProgress();
  document.addEventListener("htmx:afterSettle", sizeProgress);

  // --- Capture panel --------------------------------------------------------------------------
  const STEP_SLOTS = { timeline: "event", factors: "factor", actions: "item" };
  function defaultSlot() {
    const d = deck();
    const step = d ? [...d.classList].find((c) => c.startsWith("step-")) : "";
    return STEP_SLOTS[(step || "").replace("step-", "")] || "note";
  }
  function selectSlot(slot) {
    document.querySelectorAll("#capture [role=tab]").forEach((tab) => {
      const on = tab.dataset.slot === slot;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      byId(tab.getAttribute("aria-controls")).hidden = !on;
    });
    const cap = byId("capture");
    if (cap) cap._slot = slot;
  }
  function focusFirst(slot) {
    const field = document.querySelector(`#slot-${slot} input:not([type=hidden]), #slot-${slot} textarea, #slot-${slot} select`);
    if (field) field.focus();
  }
  function syncToggles() {
    const open = byId("capture") && byId("capture").classList.contains("open");
    document.querySelectorAll("[data-capture-toggle]").forEach((b) => b.setAttribute("aria-expanded", String(open)));
  }
  function openCapture(slot) {
    const cap = byId("capture");
    if (!cap) return;
    const head = document.querySelector(".deck-head");
    if (head) cap.style.setProperty("--capture-top", `${Math.round(head.getBoundingClientRect().bottom)}px`);
    cap.classList.add("open");
    selectSlot(slot || defaultSlot());
    syncToggles();
    focusFirst(cap._slot);
  }
  function closeCapture() {
    const cap = byId("capture");
    if (!cap || !cap.classList.contains("open")) return;
    cap.classList.remove("open");
    syncToggles();
    const stage = byId("stage");
    if (stage) stage.focus({ preventScroll: true });
  }

  document.addEventListener("click", (event) => {
    const t = event.target;
    if (t.closest("[data-capture-toggle]")) {
      const cap = byId("capture");
      if (cap && cap.classList.contains("open")) closeCapture(); else openCapture();
    } else if (t.closest("[data-capture-close]")) {
      closeCapture();
    } else if (t.closest("#capture [role=tab]")) {
      selectSlot(t.closest("[role=tab]").dataset.slot);
    } else if (t.closest("[data-open-slot]")) {
      openCapture(t.closest("[data-open-slot]").dataset.openSlot);
    } else if (t.closest("[data-fullscreen]")) {
      toggleFullscreen();
    }
  });

  function toggleFullscreen() {
    const done = document.fullscreenElement
      ? document.exitFullscreen()
      : document.documentElement.requestFullscreen();
    if (done && done.catch) done.catch(() => say("Full screen is not available here."));
  }

  // --- Keyboard -------------------------------------------------------------------------------
  // Keys press the same buttons a mouse would, so there is one path to the server.
  // Each answer replaces the controls, so a key pressed while one is on its way waits for the
  // new buttons instead of being lost with the old ones (→ → skips two steps).
  const waiting = [];
  function press(which) {
    const controls = byId("controls");
    if (controls && controls.classList.contains("htmx-request")) { waiting.push(which); return; }
    const button = document.querySelector(`#controls [data-key="${which}"]`);
    if (button && !button.disabled) button.click();
  }
  function pressWaiting() {
    if (waiting.length) setTimeout(() => press(waiting.shift()), 0);
  }
  // The old form is gone by the time its request ends, so listen for the new deck instead.
  document.addEventListener("htmx:load", (event) => {
    if (event.detail.elt && event.detail.elt.id === "deck") pressWaiting();
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") { closeCapture(); return; }
    const t = event.target;
    if (t.closest && t.closest("input, textarea, select, [contenteditable], #capture")) return;
    const key = event.key;
    if (key === "f" || key === "F") { event.preventDefault(); toggleFullscreen(); return; }
    if (key === "c" || key === "C") { event.preventDefault(); openCapture(); return; }
    if (!isDriver()) return;
    if (key === "ArrowRight" || (key === " " && !t.closest("button, a"))) {
      event.preventDefault(); press("next");
    } else if (key === "ArrowLeft") {
      event.preventDefault(); press("prev");
    } else if (key === "t" || key === "T") {
      event.preventDefault(); press("timer");
    } else if (key === "+" || key === "=") {
      event.preventDefault(); press("extend");
    }
  });

  // --- Keeping the view steady across swaps ---------------------------------------------------
  // Followers' polls replace the deck; keep where the reader scrolled to on the same step.
  let scroll = { step: null, top: 0 };
  document.addEventListener("scroll", (event) => {
    if (event.target.id === "stage") scroll = { step: deck().dataset.step, top: event.target.scrollTop };
  }, true);
  function restore() {
    const d = deck();
    const stage = byId("stage");
    if (d && stage && d.dataset.step === scroll.step) stage.scrollTop = scroll.top;
    syncToggles();
    // The focused control went with the old deck: keep the stage focused so the arrow and
    // page keys still scroll it.
    const cap = byId("capture");
    const open = cap && cap.classList.contains("open");
    if (stage && !open && (document.activeElement === document.body || !document.activeElement)) {
      stage.focus({ preventScroll: true });
    }
  }
  // A poll answer older than what is shown (a control's answer overtook it) is dropped.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const elt = event.detail.elt;
    if (!elt || elt.id !== "meeting-sync" || !deck()) return;
    const tag = event.detail.xhr.getResponseHeader("ETag") || "";
    const found = tag.match(/-v(\d+)"/);
    if (found && Number(found[1]) < Number(deck().dataset.version)) event.detail.shouldSwap = false;
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    restore();
    const form = event.detail.target;
    // After a capture or a "Correct" click, the form is ready for the next entry.
    if (form && form.classList && form.classList.contains("capture-form")) {
      const slot = form.closest(".slot");
      if (slot && byId("capture").classList.contains("open")) focusFirst(slot.id.replace("slot-", ""));
    }
  });
  document.addEventListener("htmx:oobAfterSwap", restore);
  // A failed request is said out loud; what was typed stays in the form.
  document.addEventListener("htmx:sendError", (event) => {
    if (event.detail.elt && event.detail.elt.id === "meeting-sync") return;  // the next poll retries
    say("Could not reach Debrief. Nothing was lost; try again.");
  });

  function start() {
    if (byId("capture")) selectSlot(defaultSlot());
    const wanted = document.body.dataset.openCapture;
    if (wanted) openCapture(wanted);
    const stage = byId("stage");
    if (stage && !wanted) stage.focus({ preventScroll: true });
    tick();
  }
  document.addEventListener("DOMContentLoaded", start);
})();
