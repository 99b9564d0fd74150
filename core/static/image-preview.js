// Shows the picture chosen in <input type="file" data-preview="<img id>"> before it is uploaded, with its size;
// the server still checks the file's type and size by its content.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.preview) return;
  const img = document.getElementById(input.dataset.preview);
  const note = document.getElementById(input.dataset.preview + "-note");
  const file = input.files && input.files[0];
  if (!img || !file) return;
  const limit = Number(input.dataset.maxBytes || 0);
  if (note) {
    const kib = Math.ceil(file.size / 1024);
    note.textContent = limit && file.size > limit
      ? `${file.name} is ${kib} KiB: larger than ${Math.floor(limit / 1024)} KiB, it will be refused.`
      : `Chosen: ${file.name} (${kib} KiB). Not saved until you press the button.`;
  }
  if (!["image/png", "image/svg+xml"].includes(file.type)) {
    img.hidden = true;
    return;
  }
  const reader = new FileReader();
  reader.addEventListener("load", () => {
    img.src = String(reader.result);
    img.hidden = false;
  });
  reader.readAsDataURL(file);
});
