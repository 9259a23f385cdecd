// Keyboard shortcuts for a page: press keys and hold keys, matched by the physical key
// (KeyboardEvent.code), so they work whatever the keyboard layout (Lao, Vietnamese, English).
// They never fire while the user types in a field, and a held key is released when the window
// loses focus (a "hold to mute" key must not stay held).

/** True when `target` is somewhere the user types (a chat box, a select, an editable area). */
export function isTyping(target) {
  return Boolean(target && target.closest
    && target.closest("input:not([type=range]):not([type=radio]):not([type=checkbox]), textarea, select, [contenteditable]"));
}

/**
 * bindings: [{code: "KeyO", shift?: bool, press?: () => void, hold?: (down: bool) => void}]
 * `press` runs once per key press (never on auto-repeat); `hold` runs with true when the key goes
 * down and with false when it comes up (or the window loses focus). Returns an unbind function.
 */
export function bindShortcuts(bindings, target = document) {
  const held = new Set();
  const matches = (binding, event) => binding.code === event.code
    && Boolean(binding.shift) === event.shiftKey
    && !event.ctrlKey && !event.metaKey && !event.altKey;

  const down = (event) => {
    if (isTyping(event.target)) return;
    const binding = bindings.find((b) => matches(b, event));
    if (!binding) return;
    event.preventDefault();
    if (event.repeat) return;
    if (binding.hold) {
      held.add(binding);
      binding.hold(true);
    } else if (binding.press) {
      binding.press();
    }
  };
  // A held key comes up wherever the focus went meanwhile, modifiers or not.
  const up = (event) => {
    for (const binding of [...held]) {
      if (binding.code !== event.code) continue;
      held.delete(binding);
      binding.hold(false);
    }
  };
  const releaseAll = () => {
    for (const binding of [...held]) binding.hold(false);
    held.clear();
  };

  target.addEventListener("keydown", down);
  target.addEventListener("keyup", up);
  window.addEventListener("blur", releaseAll);
  return () => {
    releaseAll();
    target.removeEventListener("keydown", down);
    target.removeEventListener("keyup", up);
    window.removeEventListener("blur", releaseAll);
  };
}

/**
 * A button that acts while it is held: by mouse, pen or touch (pointer capture, so sliding off
 * it still releases), and by Space or Enter when it has the focus.
 */
export function holdButton(button, hold) {
  let down = false;
  const set = (value) => {
    if (value === down) return;
    down = value;
    hold(value);
  };
  button.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault(); // no text selection, no focus steal on touch
    button.setPointerCapture(event.pointerId);
    set(true);
  });
  for (const name of ["pointerup", "pointercancel", "lostpointercapture"]) {
    button.addEventListener(name, () => set(false));
  }
  button.addEventListener("keydown", (event) => {
    if (event.key !== " " && event.key !== "Enter") return;
    event.preventDefault();
    event.stopPropagation(); // not also a page shortcut
    if (!event.repeat) set(true);
  });
  button.addEventListener("keyup", (event) => {
    if (event.key === " " || event.key === "Enter") set(false);
  });
  button.addEventListener("blur", () => set(false));
  button.addEventListener("contextmenu", (event) => event.preventDefault()); // long touch
  return () => set(false);
}
