// Drafting together in the postmortem editor: who else has it open and in which section, and
// sections that someone else saved. A cheap poll (like the meeting's followers) sends where
// this person is and gets back who else is here and each section's newest revision number;
// a section with a newer revision is fetched and put in place when it is not being edited
// here, or shown as a notice with what changed when it is (the next save merges both).
(function () {
  const VISIBLE_MS = 4000;
  const HIDDEN_MS = 15000;
  let bar, timer, stopped = false, lastSection = null, lastPeople = "";

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }
  const api = () => window.debriefSections;
  const forms = () => document.querySelectorAll("form.section-form");
  const formFor = (section) => document.querySelector(`form.section-form[data-section="${section}"]`);
  const baseOf = (section) => Number(document.getElementById("base-" + section).value);

  function currentSection() {
    const el = document.activeElement;
    const form = el && el.closest && el.closest("form.section-form");
    return form ? form.dataset.section : "";
  }

  function showPeople(people) {
    const key = JSON.stringify(people);
    if (key === lastPeople) return;  // unchanged: nothing new for a screen reader to announce
    lastPeople = key;
    const list = bar.querySelector(".presence-list");
    list.replaceChildren(...people.map((p) => {
      const li = document.createElement("li");
      li.textContent = p.label ? `${p.name} — in ${p.label}` : `${p.name} — reading`;
      return li;
    }));
    bar.hidden = people.length === 0;
    const bySection = {};
    people.forEach((p) => { if (p.section) (bySection[p.section] ||= []).push(p.name); });
    document.querySelectorAll(".here-badge").forEach((badge) => {
      const names = bySection[badge.id.replace("here-", "")] || [];
      badge.textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} here` : "";
      badge.hidden = names.length === 0;
    });
  }

  // Put a section someone else saved in place, or keep it as a notice while editing here.
  function land(form) {
    const section = form.dataset.section;
    const slot = document.getElementById("remote-" + section);
    const number = Number(slot && slot.dataset.number);
    if (!number || number <= baseOf(section)) { if (slot) slot.hidden = true; return; }
    form._remoteNumber = Math.max(form._remoteNumber || 0, number);
    const sections = api();
    if (sections.editing(form)) {
      slot.hidden = false;
      return;
    }
    const text = slot.dataset.text;
    sections.keepCaret(sections.area(form), text);
    document.getElementById("base-" + section).value = number;
    sections.markSaved(form, text);
    sections.setState(form, `Updated — ${slot.dataset.who} saved at ${slot.dataset.at} · r${number}`, "state-remote");
    slot.hidden = true;
    const box = sections.area(form);
    box.classList.add("refreshed");
    setTimeout(() => box.classList.remove("refreshed"), 2000);
  }

  function fetchSection(form, number) {
    const section = form.dataset.section;
    form._remoteNumber = number;  // asked once per revision, not on every poll
    const url = bar.dataset.freshUrl.replace("SECTION", section) + "?since=" + baseOf(section);
    window.htmx.ajax("GET", url, { target: "#remote-" + section, swap: "none" })
      .then(() => land(form));
  }

  function compare(numbers) {
    const sections = api();
    if (!sections) return;
    forms().forEach((form) => {
      const section = form.dataset.section;
      const newest = numbers[section] || 0;
      if (sections.busy(form)) return;  // the save's own answer brings the section up to date
      if (newest > baseOf(section) && newest > (form._remoteNumber || 0)) fetchSection(form, newest);
      else land(form);  // a notice kept while editing lands once the box is left unchanged
    });
  }

  async function poll() {
    clearTimeout(timer);
    if (stopped) return;
    const section = currentSection();
    lastSection = section;
    const body = new URLSearchParams({ section });
    try {
      const response = await fetch(bar.dataset.url, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": csrf() },
        credentials: "same-origin",
      });
      if (response.status === 404 || response.status === 403) {
        stopped = true;  // access was withdrawn: stop asking
        bar.hidden = true;
        return;
      }
      if (response.ok) {
        const data = await response.json();
        showPeople(data.people);
        compare(data.numbers);
      }
    } catch (e) {
      // Offline for a moment: the next poll tries again; the section forms say what is unsaved.
    }
    timer = setTimeout(poll, document.hidden ? HIDDEN_MS : VISIBLE_MS);
  }

  function start() {
    bar = document.getElementById("presence");
    if (!bar || bar._started) return;
    bar._started = true;
    // Moving to another section tells the others at once, not on the next tick.
    const moved = () => {
      if (currentSection() !== lastSection) { clearTimeout(timer); timer = setTimeout(poll, 300); }
    };
    document.addEventListener("focusin", moved);
    document.addEventListener("focusout", () => setTimeout(moved, 0));
    document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
    window.addEventListener("pagehide", () => {
      const body = new FormData();
      body.append("left", "1");
      body.append("csrfmiddlewaretoken", csrf());
      navigator.sendBeacon(bar.dataset.url, body);
    });
    poll();
  }
  document.addEventListener("DOMContentLoaded", start);
})();
