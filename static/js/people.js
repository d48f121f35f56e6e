// Username boxes suggest a few matching colleagues as you type (a native <datalist>, so the
// arrow keys, Enter and screen readers work as for any input). Without this script the box
// is a plain username field and the server says when a name is unknown.
(() => {
  const timers = new WeakMap();

  async function suggest(input) {
    const list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    const value = input.value;
    // In a box of several usernames, complete the last one and keep the others.
    const cut = input.dataset.people === "many" ? value.search(/[^,\s]*$/) : 0;
    const head = value.slice(0, cut);
    const term = value.slice(cut).replace(/^@/, "").trim();
    if (!term) { list.replaceChildren(); return; }
    let data;
    try {
      const response = await fetch(`${input.dataset.peopleUrl}?q=${encodeURIComponent(term)}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) return;
      data = await response.json();
    } catch {
      return;  // offline: the box still takes a typed username
    }
    if (input.value !== value) return;  // typed on meanwhile; a newer request answers that
    list.replaceChildren(...data.people.map((person) => {
      const option = document.createElement("option");
      option.value = head + person.username;
      option.label = person.name;
      option.textContent = person.name;
      return option;
    }));
  }

  document.addEventListener("input", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.dataset.peopleUrl) return;
    clearTimeout(timers.get(input));
    timers.set(input, setTimeout(() => suggest(input), 150));
  });
})();
