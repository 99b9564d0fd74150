// "Copy link" buttons on the my-badges page (a separate file: the CSP allows scripts from our origin only).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const input = document.getElementById(button.dataset.copy);
  navigator.clipboard.writeText(input.value).then(() => { button.textContent = "Copied"; });
});
