// Clean list URLs: filters left empty are not sent, so a shared or pushed URL carries only
// what narrows the list (?severity=1, not ?q=&status=&team=&severity=1). Pages work without it.
(function () {
  function isGetForm(form) {
    return form && (form.getAttribute("method") || "get").toLowerCase() === "get";
  }
  // htmx requests (filter changes, sort headers, pagination): drop empty parameters before
  // the URL is built, so the request and the URL pushed to history are both clean.
  document.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.verb !== "get") return;
    const data = event.detail.formData;
    if (!data) return;
    for (const name of new Set(data.keys())) {
      const kept = data.getAll(name).filter((value) => value !== "");
      data.delete(name);
      kept.forEach((value) => data.append(name, value));
    }
  });
  // A plain submit (the Apply button, Enter in a box): disable empty controls for the moment
  // of submission, since disabled controls are not sent; re-enabled right after, so the page stays usable on Back.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!isGetForm(form) || event.defaultPrevented) return;
    const empty = [...form.elements].filter(
      (el) => el.name && !el.disabled && el.type !== "submit" && el.value === "" &&
        !(el.type === "checkbox" || el.type === "radio"),
    );
    empty.forEach((el) => { el.disabled = true; });
    setTimeout(() => empty.forEach((el) => { el.disabled = false; }), 0);
  });
  // Keyboard users keep their place: after a sort header or a page link replaces the results,
  // focus goes to the same control in the new results (or to the results themselves).
  let refocus = null;
  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    refocus = null;
    if (!elt.closest || !elt.closest("#results")) return;
    if (elt.dataset.sort) refocus = `[data-sort="${elt.dataset.sort}"]`;
    else if (elt.rel === "next" || elt.rel === "prev") refocus = `a[rel="${elt.rel}"]`;
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!refocus) return;
    const results = document.getElementById("results");
    const target = results && (results.querySelector(refocus) || results);
    refocus = null;
    if (!target) return;
    if (target === results) results.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: target !== results });
  });
})();
