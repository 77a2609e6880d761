/* /code: the resident's 随申码. Fetches N consecutive codes (count=N), draws the current one as
 * a QR code client-side (qrcode-generator), rotates on time with a countdown, refetches at
 * refresh_after, and keeps showing the prefetched codes while the network is down. */
(function (global) {
  "use strict";
  var SSB = global.SSB, $ = SSB.$, show = SSB.show, text = SSB.text;

  var PREFETCH = 10;            // codes per fetch: ~10 windows of display without network
  var RETRY_MS = 5000;          // after a failed fetch
  var TICK_MS = 250;
  var SCENE_KEY = "ssb.code.scene";

  var REASONS = {
    REAL_NAME_REQUIRED: ["请先完成实名认证", "Verify your real name first"],
    NOT_A_VETERAN: ["此场景仅限退役军人", "For veterans only"],
    HOME_SERVICE_CERT_REQUIRED: ["需要居家服务资格", "Needs a home-service certificate"],
    NOT_ACTING_FOR_ENTERPRISE: ["请先切换到企业身份", "Act for an enterprise first"],
    USER_NOT_FOUND: ["账户不存在", "No such account"],
    SCENE_NOT_ENTITLED: ["您没有此场景的权益", "You have no entitlement for this scene"],
    SCENE_NOT_ALLOWED: ["您没有此场景的权益", "You have no entitlement for this scene"],
    NOT_ENTITLED: ["您没有此场景的权益", "You have no entitlement for this scene"],
    ACCOUNT_DISABLED: ["账户已停用", "This account is disabled"],
    RATE_LIMITED: ["请求过于频繁，请稍候", "Too many requests: wait a moment"],
    NETWORK_ERROR: ["网络不可用", "No network connection"]
  };

  var client = new SSB.Client("ssb.code.tokens");
  var scene = null;
  var codes = [];               // [{payload, nbf, exp}] in server seconds, sorted
  var refreshAt = 0;            // server seconds
  var retryAt = 0;              // browser ms
  var fetching = false;
  var offline = false;
  var shown = null;             // payload on screen
  var timer = null;
  var fatal = null;             // an error fetching will not fix (real name, entitlement)

  function seconds(value) {
    if (typeof value === "number") return value > 1e12 ? value / 1000 : value;
    var ms = Date.parse(value);
    return isNaN(ms) ? 0 : ms / 1000;
  }

  /* ---- screens ---- */

  function route() {
    var signedIn = client.signedIn();
    show("signout", signedIn);
    show("signin", !signedIn);
    show("holder", signedIn);
    global.clearInterval(timer);
    timer = null;
    if (!signedIn) { codes = []; shown = null; return; }
    timer = global.setInterval(tick, TICK_MS);
    if (!codes.length) fetchCodes();
    tick();
  }

  function fillScenes() {
    var select = $("scene");
    Object.keys(SSB.SCENES).forEach(function (key) {
      var option = document.createElement("option");
      option.value = key;
      option.textContent = SSB.sceneName(key);
      select.appendChild(option);
    });
    var saved = null;
    try { saved = global.localStorage.getItem(SCENE_KEY); } catch (e) { /* default */ }
    var fromUrl = new global.URLSearchParams(global.location.search).get("scene");
    scene = (fromUrl && SSB.SCENES[fromUrl]) ? fromUrl : (saved && SSB.SCENES[saved]) ? saved : "general";
    select.value = scene;
  }

  /* ---- fetching ---- */

  function fetchCodes() {
    if (fetching) return;
    fetching = true;
    var forScene = scene;
    client.call("GET", "/v1/codes/suishen?scene=" + encodeURIComponent(forScene) + "&count=" + PREFETCH)
      .then(function (body) {
        if (forScene !== scene) return;
        fatal = null;
        offline = false;
        if (typeof body.server_time === "number") SSB.Client.offsetMs = (body.server_time + 0.5) * 1000 - Date.now();   // whole seconds: take the middle
        var now = SSB.Client.now();
        codes = (body.codes || []).map(function (c) {
          return { payload: c.payload, nbf: seconds(c.not_before), exp: seconds(c.expires_at) };
        }).sort(function (a, b) { return a.nbf - b.nbf; });
        var after = Number(body.refresh_after);
        if (!after || isNaN(after)) after = codes.length ? (codes[0].exp - now) / 2 : 30;
        refreshAt = after > 1e9 ? after : now + after;   // seconds from now, or a timestamp
      }, function (err) {
        if (err.status === 401) { client.signOutLocally(); return; }
        retryAt = Date.now() + RETRY_MS;
        if (err.status === 0 || err.status >= 500) offline = true;
        else if (err.status !== 429) fatal = err;
      })
      .then(function () { fetching = false; tick(); });
  }

  /* ---- display ---- */

  function current(now) {
    var best = null, early = null;
    for (var i = 0; i < codes.length; i++) {
      if (now >= codes[i].exp) continue;
      if (codes[i].nbf <= now) best = codes[i];
      else if (!early && codes[i].nbf <= now + 1) early = codes[i];   // clock rounding at the edge
    }
    return best || early;
  }

  function drawQr(payload) {
    var qr = global.qrcode(0, "M");
    qr.addData(payload, "Byte");
    qr.make();
    var modules = qr.getModuleCount();
    var quiet = 4;
    var total = modules + quiet * 2;
    var canvas = $("qr");
    var cssWidth = Math.min(canvas.parentNode.clientWidth || 300, 360);
    var dpr = global.devicePixelRatio || 1;
    var scale = Math.max(2, Math.floor(cssWidth * dpr / total));   // whole device pixels per module
    canvas.width = canvas.height = total * scale;
    canvas.style.width = canvas.style.height = (total * scale / dpr) + "px";
    var ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#000";
    for (var r = 0; r < modules; r++) {
      for (var c = 0; c < modules; c++) {
        if (qr.isDark(r, c)) ctx.fillRect((c + quiet) * scale, (r + quiet) * scale, scale, scale);
      }
    }
    canvas.dataset.payload = payload;
  }

  function tick() {
    if (!client.signedIn()) return;
    var now = SSB.Client.now();
    var code = current(now);
    var left = codes.filter(function (c) { return c.exp > now; }).length;
    var card = $("code-card");

    if (!fetching && Date.now() >= retryAt && (now >= refreshAt || left < 2) && !fatal) fetchCodes();

    text("code-scene", SSB.sceneName(scene));
    if (code) {
      if (shown !== code.payload) { drawQr(code.payload); shown = code.payload; }
      card.className = "code-card code-live";
      show("qr-cover", false);
      var remaining = Math.max(0, Math.ceil(code.exp - now));
      text("countdown", remaining + " 秒后刷新 · refreshes in " + remaining + "s");
      $("progress-bar").style.width = Math.max(0, Math.min(100, 100 * (code.exp - now) / (code.exp - code.nbf))) + "%";
      text("code-status", "有效至 / valid until " + new Date(code.exp * 1000 - SSB.Client.offsetMs)
        .toLocaleTimeString("zh-CN", { hour12: false }));
    } else {
      shown = null;
      card.className = "code-card " + (fatal ? "code-error" : "code-loading");
      show("qr-cover", true);
      text("countdown", "");
      $("progress-bar").style.width = "0%";
      if (fatal) {
        var words = REASONS[fatal.code];
        text("code-status", words ? words[0] + " / " + words[1] : SSB.errorWords(fatal));
      } else if (offline || !global.navigator.onLine) {
        text("code-status", "码已用完，请联网刷新 / No saved codes left: reconnect to get new ones");
      } else {
        text("code-status", "正在获取… / Loading…");
      }
    }

    var isOffline = offline || !global.navigator.onLine;
    show("network", isOffline);
    if (isOffline) {
      text("network", "网络已断开，正在显示预先获取的码（剩余 " + left + " 个）/ Offline: showing saved codes (" + left + " left)");
    }
    card.dataset.left = String(left);
    card.dataset.offline = isOffline ? "1" : "0";
  }

  /* ---- wiring ---- */

  function init() {
    fillScenes();
    client.onSignedOut = route;
    SSB.bindSignIn(client, route);
    $("signout").addEventListener("click", function () { client.logout(); });
    $("scene").addEventListener("change", function () {
      scene = $("scene").value;
      try { global.localStorage.setItem(SCENE_KEY, scene); } catch (e) { /* not remembered */ }
      codes = []; shown = null; fatal = null; refreshAt = 0; retryAt = 0;
      fetchCodes();
      tick();
    });
    global.addEventListener("online", function () { retryAt = 0; tick(); });
    global.addEventListener("offline", function () { offline = true; tick(); });
    document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
    global.addEventListener("resize", function () { if (shown) { var p = shown; shown = null; drawQr(p); shown = p; } });
    route();
  }

  init();
})(window);
