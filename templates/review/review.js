(function () {
  "use strict";
  // Everything on this page that came from an article or a model is text: it is read from the
  // JSON block below or from escaped markup, and only ever written back with textContent.
  var data = JSON.parse(document.getElementById("review-data").textContent);
  var STORE = "takeaways-review:" + data.run;
  var memory = {};
  var stored = true;

  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(STORE) || "{}") || {};
    } catch (e) {
      stored = false;
      return memory;
    }
  }
  function save(state) {
    memory = state;
    try {
      window.localStorage.setItem(STORE, JSON.stringify(state));
    } catch (e) {
      stored = false;
      note("This browser does not keep decisions for files; export them before closing the page.");
    }
  }
  function note(text) {
    var el = document.getElementById("note");
    el.textContent = text;
    el.hidden = false;
  }
  function articleState(state, key, digest) {
    state.articles = state.articles || {};
    var a = state.articles[key];
    if (!a || a.digest !== digest) {
      a = state.articles[key] = { digest: digest, decision: null, items: {} };
    }
    return a;
  }

  function exportDecisions() {
    var state = load();
    var out = { format: "takeaways-review/1", run: data.run, exported: new Date().toISOString(), articles: {} };
    var articles = state.articles || {};
    Object.keys(articles).sort().forEach(function (key) {
      var a = articles[key];
      if (a.decision || Object.keys(a.items || {}).length) {
        out.articles[key] = { digest: a.digest, decision: a.decision || null, items: a.items || {} };
      }
    });
    var blob = new Blob([JSON.stringify(out, null, 2) + "\n"], { type: "application/json" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "decisions.json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
  }

  function articlePage() {
    var items = Array.prototype.slice.call(document.querySelectorAll(".item[data-id]"));
    var marks = Array.prototype.slice.call(document.querySelectorAll("mark.ev"));
    var byId = {};
    data.items.forEach(function (it) { byId[it.id] = it; });
    var current = -1;

    function marksOf(id) {
      return marks.filter(function (m) { return m.dataset.ids.split(" ").indexOf(id) >= 0; });
    }
    function select(index, focus) {
      if (index < 0 || index >= items.length) { return; }
      current = index;
      var id = items[index].dataset.id;
      items.forEach(function (el, i) { el.classList.toggle("current", i === index); });
      marks.forEach(function (m) { m.classList.remove("current", "flash"); });
      var mine = marksOf(id);
      mine.forEach(function (m) {
        void m.offsetWidth;  // restart the animation
        m.classList.add("current", "flash");
      });
      if (mine.length) { mine[0].scrollIntoView({ block: "center", inline: "nearest" }); }
      if (focus) { items[index].focus({ preventScroll: true }); }
      items[index].scrollIntoView({ block: "nearest" });
    }
    function render() {
      var a = articleState(load(), data.key, data.digest);
      items.forEach(function (el) {
        var d = a.items[el.dataset.id];
        if (d) { el.dataset.decision = d; } else { delete el.dataset.decision; }
      });
      var st = document.getElementById("article-state");
      st.textContent = a.decision ? (a.decision === "approve" ? "article approved" : "article rejected") : "";
      st.className = "state " + (a.decision || "");
      document.body.dataset.decision = a.decision || "";
    }
    function decideItem(id, value) {
      var state = load();
      var a = articleState(state, data.key, data.digest);
      if (a.items[id] === value) { delete a.items[id]; } else { a.items[id] = value; }
      save(state);
      render();
    }
    function decideArticle(value) {
      var state = load();
      var a = articleState(state, data.key, data.digest);
      a.decision = a.decision === value ? null : value;
      save(state);
      render();
    }
    function showUses(mark) {
      var box = document.getElementById("uses");
      box.textContent = "";
      var title = document.createElement("strong");
      title.textContent = "Quoted by:";
      box.appendChild(title);
      var list = document.createElement("ul");
      mark.dataset.ids.split(" ").forEach(function (id) {
        var li = document.createElement("li");
        var link = document.createElement("a");
        link.dataset.goto = id;
        link.textContent = id + ": " + (byId[id] ? byId[id].text : "");
        li.appendChild(link);
        list.appendChild(li);
      });
      box.appendChild(list);
      box.hidden = false;
      box.dataset.for = mark.dataset.ids;
    }

    document.addEventListener("click", function (ev) {
      var t = ev.target;
      if (!(t instanceof Element)) { return; }
      var button = t.closest("button[data-action]");
      if (button) {
        var action = button.dataset.action;
        if (action === "item") {
          var li = button.closest(".item");
          select(items.indexOf(li), false);
          decideItem(li.dataset.id, button.dataset.value);
        } else if (action === "article") {
          decideArticle(button.dataset.value);
        } else if (action === "export") {
          exportDecisions();
        }
        return;
      }
      var go = t.closest("a[data-goto]");
      if (go) {
        select(items.findIndex(function (el) { return el.dataset.id === go.dataset.goto; }), true);
        return;
      }
      var mark = t.closest("mark.ev");
      if (mark) { showUses(mark); return; }
      var item = t.closest(".item[data-id]");
      if (item) { select(items.indexOf(item), true); }
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
      var t = ev.target;
      if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) { return; }
      var k = ev.key;
      if (k === "j") { select(Math.min(current + 1, items.length - 1), true); }
      else if (k === "k") { select(Math.max(current - 1, 0), true); }
      else if ((k === "a" || k === "r") && current >= 0) { decideItem(items[current].dataset.id, k === "a" ? "approve" : "reject"); }
      else if (k === "A") { decideArticle("approve"); }
      else if (k === "R") { decideArticle("reject"); }
      else if (k === "Enter" && t instanceof Element && t.classList.contains("item")) { select(items.indexOf(t), true); }
      else { return; }
      ev.preventDefault();
    });
    render();
  }

  function indexPage() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#rows tr"));
    var status = document.getElementById("status-filter");
    var attention = document.getElementById("attention-filter");
    var PAGE = 100;
    var page = 0;
    function show() {
      var state = load();
      var articles = state.articles || {};
      var matching = rows.filter(function (r) {
        return (!status.value || r.dataset.status === status.value) && (!attention.checked || r.dataset.attention === "1");
      });
      var pages = Math.max(1, Math.ceil(matching.length / PAGE));
      page = Math.min(page, pages - 1);
      rows.forEach(function (r) { r.hidden = true; });
      matching.slice(page * PAGE, (page + 1) * PAGE).forEach(function (r) { r.hidden = false; });
      rows.forEach(function (r) {
        var a = articles[r.dataset.key];
        var cell = r.querySelector("td.decision");
        if (a && a.digest === data.articles[r.dataset.key] && a.decision) {
          cell.textContent = a.decision === "approve" ? "approved" : "rejected";
          cell.className = "decision " + a.decision;
        }
      });
      document.getElementById("shown").textContent = matching.length + " of " + rows.length + " shown";
      document.getElementById("page-no").textContent = "page " + (page + 1) + " of " + pages;
    }
    status.addEventListener("change", function () { page = 0; show(); });
    attention.addEventListener("change", function () { page = 0; show(); });
    document.addEventListener("click", function (ev) {
      var t = ev.target;
      if (!(t instanceof Element)) { return; }
      var button = t.closest("button[data-action]");
      if (!button) { return; }
      if (button.dataset.action === "export") { exportDecisions(); }
      else if (button.dataset.action === "next") { page += 1; show(); }
      else if (button.dataset.action === "prev") { page = Math.max(0, page - 1); show(); }
    });
    show();
  }

  if (data.page === "article") { articlePage(); } else { indexPage(); }
  if (!stored) { note("This browser does not keep decisions for files; export them before closing the page."); }
})();
