// Text clipboard both ways (docs/protocol.md §1.2, docs/security.md "The clipboard"). The desktop's cut text
// (SERVER_CLIPBOARD) is written to the user's clipboard only while the viewer has focus; otherwise, or when the
// browser refuses, it is kept and the overlay's "Copy" button writes it. The user's clipboard goes to the desktop
// (CLIENT_CLIPBOARD) when the viewer gains focus (if the browser already grants reading it, so nothing prompts) or
// when the user presses "Paste"; at most MAX_CLIPBOARD_BYTES of UTF-8.

/** The most clipboard text the viewer sends up, in UTF-8 bytes (the engine's RFB client takes 1 MiB too). */
export const MAX_CLIPBOARD_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/**
 * What to do with the user's clipboard text: {send: true} when it should go up, or {send: false, why} when it is
 * not a string, empty, the text already exchanged last (either way), or over {@code max} UTF-8 bytes.
 */
export function clipboardUp(text, last, max = MAX_CLIPBOARD_BYTES) {
  if (typeof text !== 'string' || text.length === 0) return { send: false, why: 'empty' };
  if (text === last) return { send: false, why: 'unchanged' };
  // A UTF-8 character takes at most 3 bytes per UTF-16 code unit: short text needs no encoding to be checked.
  const bytes = text.length * 3 <= max ? text.length : encoder.encode(text).byteLength;
  if (bytes > max) return { send: false, why: `${bytes} bytes of UTF-8 exceed ${max}` };
  return { send: true };
}
