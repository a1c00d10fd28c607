// assay app dashboard: every few seconds asks /dashboard/progress.json how far the running runs are and
// updates their counts in place; when a run starts or finishes elsewhere, the page reloads so the running
// table and the matrix show it (server-rendered, escaped HTML: this script writes only numbers as text).
(function () {
  "use strict";
  const root = document.getElementById("dashboard");
  if (!root) return;
  const every = Number(root.dataset.pollMs) || 2000;
  const shown = Array.from(document.querySelectorAll("tr.running-run")).map(function (row) {
    return row.dataset.run;
  });

  function sameSet(a, b) {
    return a.length === b.length && a.slice().sort().join("\n") === b.slice().sort().join("\n");
  }

  function setBar(cell, done, total) {
    if (!cell) return;
    const count = cell.querySelector(".count");
    if (count) count.textContent = done + " / " + (total === null ? "?" : total);
    const bar = cell.querySelector("progress");
    if (bar && total) bar.value = Math.min(done, total);
  }

  function idleText(seconds) {  // as the server writes it (web_dashboard._idle)
    if (seconds === null) return "none yet";
    return seconds < 120 ? Math.round(seconds) + " s ago" : Math.round(seconds / 60) + " min ago";
  }

  async function poll() {
    let data;
    try {
      const response = await fetch(root.dataset.poll, {headers: {"accept": "application/json"}, cache: "no-store"});
      if (!response.ok) return;
      data = await response.json();
    } catch (error) {
      return;  // the server is restarting: try again at the next tick
    }
    const running = data.running.map(function (run) { return run.run; });
    const finished = data.finished;
    if (!sameSet(running, shown) || finished !== root.dataset.finished) {
      location.reload();
      return;
    }
    data.running.forEach(function (run) {
      const row = Array.from(document.querySelectorAll("tr.running-run")).find(function (r) {
        return r.dataset.run === run.run;
      });
      if (!row) return;
      setBar(row.querySelector("td.total"), run.done, run.total);
      const idle = row.querySelector("td.idle");
      if (idle) idle.textContent = idleText(run.idle_s);
      run.benchmarks.forEach(function (bench) {
        const item = Array.from(row.querySelectorAll("li[data-bench]")).find(function (li) {
          return li.dataset.bench === bench.name;
        });
        setBar(item, bench.done, bench.total);
      });
    });
    root.dataset.polled = String(Number(root.dataset.polled || 0) + 1);
  }

  setInterval(poll, every);
})();
