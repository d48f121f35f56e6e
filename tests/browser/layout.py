"""Layout checks from bounding boxes, for the browser tests: controls and cards that spill out
of their containers, siblings that overlap, single-line controls stretched tall, and a page
wider than the window. Returns sentences naming the elements, so a failure says what to fix."""

LAYOUT_PROBLEMS = r"""
() => {
  const problems = [];
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"
      && !el.closest(".visually-hidden, [hidden], details:not([open]) > :not(summary)");
  };
  const name = (el) => {
    let text = el.tagName.toLowerCase();
    if (el.id) text += "#" + el.id;
    else if (el.getAttribute("name")) text += `[name=${el.getAttribute("name")}]`;
    else if (typeof el.className === "string" && el.className.trim())
      text += "." + el.className.trim().split(/\s+/).join(".");
    return text;
  };
  const box = (el) => el.getBoundingClientRect();
  const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1
    && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  const main = document.querySelector("main") || document.body;

  const controls = [...main.querySelectorAll(
    "input:not([type=hidden]), select, textarea, button")].filter(shown);
  for (const c of controls) {
    const holder = c.closest(".field, fieldset, .card, form");
    if (holder && shown(holder) && !inside(box(c), box(holder)))
      problems.push(`${name(c)} spills out of ${name(holder)}`);
    const single = (c.tagName === "INPUT" && !["checkbox", "radio"].includes(c.type))
      || (c.tagName === "SELECT" && !c.multiple && c.size <= 1);
    if (single && box(c).height > 60)
      problems.push(`${name(c)} is stretched ${Math.round(box(c).height)}px tall`);
  }
  for (const part of [...main.querySelectorAll(".field, .card, fieldset")].filter(shown)) {
    const holder = part.parentElement.closest("fieldset, .card, form, main");
    if (holder && !inside(box(part), box(holder)))
      problems.push(`${name(part)} spills out of ${name(holder)}`);
  }
  for (const parent of main.querySelectorAll(".row, fieldset, form, .cards, .figures")) {
    const kids = [...parent.children].filter(shown);
    for (let i = 0; i < kids.length; i++)
      for (let j = i + 1; j < kids.length; j++)
        if (overlap(box(kids[i]), box(kids[j])))
          problems.push(`${name(kids[i])} overlaps ${name(kids[j])}`);
  }
  const wide = document.documentElement.scrollWidth;
  if (wide > window.innerWidth + 1)
    problems.push(`the page is ${wide}px wide in a ${window.innerWidth}px window`);
  return problems;
}
"""

SIZES = [(1280, 720), (1440, 900)]


def layout_problems(page) -> list[str]:
    return page.evaluate(LAYOUT_PROBLEMS)
