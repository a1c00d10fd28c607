// assay app workbench: the samples page fetches its list and detail fragments in place (server-rendered,
// already escaped HTML from this origin; render.js then shows their texts as markdown), keeps its whole
// state in the URL, and moves with j / k.
(function () {
  "use strict";
  document.body.classList.add("js");

  document.addEventListener("click", function (event) {
    const row = event.target.closest("tr.run-row[data-href]");
    if (row && !event.target.closest("a")) location.href = row.dataset.href;
  });

  function render(root) { if (window.assayRender) window.assayRender(root); }

  const app = document.getElementById("samples-app");
  if (!app) return;
  const form = document.getElementById("filters");
  const list = document.getElementById("list");
  const detail = document.getElementById("detail");
  const FILTERS = ["status", "subset", "min", "q"];
  let state = new URLSearchParams(location.search);
  let listSeq = 0;
  let sampleSeq = 0;
  let timer = null;
  let steps = Promise.resolve();  // j / k pressed fast: each step starts from the sample the last one opened

  function setParam(name, value) {
    if (value === null || value === undefined || value === "") state.delete(name);
    else state.set(name, String(value));
  }

  function syncUrl(push) {
    const url = "/samples?" + state.toString();
    if (push) history.pushState(null, "", url);
    else history.replaceState(null, "", url);
  }

  async function fetchPart(path) {
    const response = await fetch(path + "?" + state.toString(), {headers: {"accept": "text/html"}});
    return response.text();
  }

  function listRoot() { return list.querySelector(".list"); }
  function listPage() { const root = listRoot(); return root ? root.dataset.page : "1"; }

  function showErrors(errors) {
    form.querySelectorAll(".field-error").forEach(function (span) { span.textContent = ""; });
    form.querySelectorAll(".invalid").forEach(function (input) { input.classList.remove("invalid"); });
    Object.keys(errors).forEach(function (name) {
      const span = document.getElementById(name + "-error");
      if (span) span.textContent = errors[name];
      const input = form.elements[name];
      if (input) input.classList.add("invalid");
    });
  }

  function markSelected() {
    const chosen = state.get("row");
    list.querySelectorAll("tr.sample-row").forEach(function (tr) {
      const on = tr.dataset.row === chosen;
      tr.classList.toggle("selected", on);
      if (on) tr.scrollIntoView({block: "nearest"});
    });
  }

  async function loadList() {
    const seq = ++listSeq;
    list.classList.add("loading");
    const text = await fetchPart("/part/list");
    if (seq !== listSeq) return;  // a newer request is on its way
    list.innerHTML = text;
    list.classList.remove("loading");
    const root = listRoot();
    if (root) {
      setParam("page", root.dataset.page);
      showErrors(JSON.parse(root.dataset.errors || "{}"));
      syncUrl(false);
    }
    markSelected();
  }

  async function openSample(row, page, push) {
    setParam("row", row);
    if (page) setParam("page", page);
    syncUrl(push);
    markSelected();
    const seq = ++sampleSeq;
    const text = await fetchPart("/part/sample");
    if (seq !== sampleSeq) return;
    detail.innerHTML = text;
    render(detail);
    detail.scrollTop = 0;
  }

  async function step(direction) {
    const link = detail.querySelector("a." + direction + "[data-row]");
    if (!link) {
      if (detail.querySelector("#sample")) return;  // at the first or last sample
      const rows = list.querySelectorAll("tr.sample-row");
      if (!rows.length) return;
      const tr = direction === "next" ? rows[0] : rows[rows.length - 1];
      await openSample(tr.dataset.row, listPage(), false);
      return;
    }
    const page = link.dataset.page;
    const otherPage = page !== listPage();
    await openSample(link.dataset.row, page, false);
    if (otherPage) await loadList();
  }

  function queueStep(direction) {
    steps = steps.then(function () { return step(direction); }).catch(function () {});
  }

  function filtersChanged() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      FILTERS.forEach(function (name) { setParam(name, form.elements[name].value.trim()); });
      setParam("page", "1");
      syncUrl(false);
      loadList();
    }, 250);
  }

  render(detail);
  form.addEventListener("input", filtersChanged);
  form.addEventListener("change", filtersChanged);
  form.addEventListener("submit", function (event) { event.preventDefault(); filtersChanged(); });

  list.addEventListener("click", function (event) {
    const pager = event.target.closest("a[data-page]");
    if (pager) {
      event.preventDefault();
      setParam("page", pager.dataset.page);
      syncUrl(true);
      loadList();
      return;
    }
    const tr = event.target.closest("tr.sample-row[data-row]");
    if (tr) {
      event.preventDefault();
      openSample(tr.dataset.row, listPage(), true);
    }
  });

  detail.addEventListener("click", function (event) {
    const link = event.target.closest("a.prev[data-row], a.next[data-row]");
    if (link) {
      event.preventDefault();
      queueStep(link.classList.contains("next") ? "next" : "prev");
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, select, textarea")) return;
    if (event.key === "j") { event.preventDefault(); queueStep("next"); }
    else if (event.key === "k") { event.preventDefault(); queueStep("prev"); }
  });

  window.addEventListener("popstate", async function () {
    state = new URLSearchParams(location.search);
    FILTERS.forEach(function (name) { form.elements[name].value = state.get(name) || ""; });
    await loadList();
    if (state.get("row") !== null) {
      const text = await fetchPart("/part/sample");
      detail.innerHTML = text;
      render(detail);
    }
  });
})();
