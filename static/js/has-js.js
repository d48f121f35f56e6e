document.documentElement.classList.add("js"); // before first paint, so no-JS fallbacks never flash
