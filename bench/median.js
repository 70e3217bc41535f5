// The median of a list of numbers (the mean of the middle two for an even count), as the bench
// scripts report their runs (run.js, ab.js).
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
