// Dates in the reader's own form: the server writes the date in words in the page's language inside
// <time datetime="…" data-local-date>; this rewrites it with the browser's locale when that locale is of the
// page's language (en-GB on an English page: "3 December 2026"), and in the page's language otherwise, so a
// Spanish page never shows an English date. Without script the server's form stays (a separate file: the CSP
// allows scripts from our origin only).
document.addEventListener("DOMContentLoaded", () => {
  const page = (document.documentElement.lang || "").toLowerCase();
  const reader = (navigator.language || "").toLowerCase();
  const locale = !page || reader.split("-")[0] === page.split("-")[0] ? undefined : page;
  for (const el of document.querySelectorAll("time[data-local-date]")) {
    const moment = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(moment.getTime())) el.textContent = moment.toLocaleDateString(locale, { dateStyle: "long" });
  }
});
