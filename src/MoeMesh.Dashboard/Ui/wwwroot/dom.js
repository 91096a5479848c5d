// MoeMesh pages' shared helpers. Plain JavaScript, no libraries: loaded before each page's own script,
// it builds DOM and SVG nodes (text always as textContent, never as HTML), sets the live pill and
// sends a signed-out browser to the sign-in page.
(() => {
  "use strict";

  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function formatBytes(v) {
    if (!v) return "0 B";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)) + " " + units[i];
  }

  function setLive(kind, text) {
    const pill = $("live");
    pill.className = "pill " + kind;
    pill.querySelector(".pill-text").textContent = text;
  }

  // The response, or null once a 401 has sent the browser to sign in (coming back to returnPath).
  async function fetchSignedIn(url, returnPath) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (response.status === 401) {
      window.location.assign("/login?returnUrl=" + encodeURIComponent(returnPath));
      return null;
    }
    return response;
  }

  window.MoeMeshDom = Object.freeze({ $, el, svg, formatBytes, setLive, fetchSignedIn });
})();
