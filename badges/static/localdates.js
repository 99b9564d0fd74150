// Dates in the reader's own form: the server writes "3 December 2026" inside <time datetime="…" data-local-date>;
// this rewrites it with the browser's locale. Without script the server's form stays (a separate file: the CSP
// allows scripts from our origin only).
document.addEventListener("DOMContentLoaded", () => {
  for (const el of document.querySelectorAll("time[data-local-date]")) {
    const moment = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(moment.getTime())) el.textContent = moment.toLocaleDateString(undefined, { dateStyle: "long" });
  }
});
