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
