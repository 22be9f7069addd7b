// Fakes shared by the viewer's Node tests: a canvas that records its draw calls, and console.warn captured.

/** A canvas whose 2D context records fillRect, drawImage and putImageData calls (with their image) in {@code calls}. */
export function fakeCanvas(width, height) {
  const calls = [];
  const ctx = {
    fillStyle: '',
    fillRect: (...a) => calls.push(['fillRect', ...a]),
    drawImage: (_src, ...a) => calls.push(['drawImage', ...a]),
    putImageData: (image, ...a) => calls.push(['putImageData', image, ...a]),
  };
  return { width, height, style: {}, calls, getContext: () => ctx };
}

/** Runs fn with console.warn captured; returns the lines. */
export async function warnings(fn) {
  const lines = [];
  const warn = console.warn;
  console.warn = (...a) => lines.push(a.map((x) => (x instanceof Error ? x.message : String(x))).join(' '));
  try {
    await fn();
  } finally {
    console.warn = warn;
  }
  return lines;
}
