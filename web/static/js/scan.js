/* /scan: venue staff verify 随申码 and licence presentations with the camera (jsQR) or a
 * keyboard-wedge scanner. Each read is verified by the API and shown large, green or red. */
(function (global) {
  "use strict";
  var SSB = global.SSB, $ = SSB.$, show = SSB.show, text = SSB.text;

  var DEBOUNCE_MS = 4000;        // the same payload seen again by the camera within this is ignored
  var SCAN_INTERVAL_MS = 120;    // ~8 decodes a second
  var MAX_FRAME_WIDTH = 720;     // decode on a scaled frame: fast enough on phones
  var IDLE_AFTER_MS = 20000;     // the verdict fades back to "show your code" after this
  var VENUE_KEY = "ssb.scan.venue";
  var LAST_VENUE_KEY = "ssb.scan.last_venue";

  // Plain words for every machine code the verify endpoints answer with: [zh-CN, en].
  var REASONS = {
    CODE_EXPIRED: ["码已过期", "Code expired: ask them to refresh it"],
    CODE_NOT_YET_VALID: ["码尚未生效", "Code not valid yet: check the phone's clock"],
    CODE_BAD_SIGNATURE: ["无效的码", "Invalid code: forged or damaged"],
    CODE_UNKNOWN_KEY: ["无法识别的码", "Unrecognised code: unknown signing key"],
    CODE_REPLAYED: ["此码已被使用", "Already used"],
    CODE_REFRESH_REQUIRED: ["请刷新后重新出示", "Ask them to refresh the code and show it again"],
    CODE_WRONG_TYPE: ["不是随申码", "Not a Suishen code"],
    CODE_REVOKED: ["此码已失效", "Code revoked"],
    SCENE_NOT_ALLOWED: ["本场所不受理此类码", "Not accepted at this venue"],
    NOT_STAFF_OF_VENUE: ["您不是本场所工作人员", "Wrong venue: you are not staff here"],
    MALFORMED_CODE: ["不是有效的随申码", "Not a Suishen code"],
    PRESENTATION_EXPIRED: ["证照出示码已过期", "Licence code expired"],
    PRESENTATION_REPLAYED: ["证照出示码已被使用", "Licence code already used"],
    PRESENTATION_USED: ["证照出示码已被使用", "Licence code already used"],
    LICENCE_REVOKED: ["证照已被注销", "Licence revoked"],
    LICENCE_NOT_FOUND: ["证照不存在", "Licence not found"],
    VENUE_NOT_FOUND: ["场所不存在", "No such venue"],
    NOT_FOUND: ["场所不存在", "No such venue"],
    ACCOUNT_DISABLED: ["持码人账户已停用", "Holder's account is disabled"],
    ROLE_REQUIRED: ["此账号不是场所工作人员", "This account is not venue staff"],
    FORBIDDEN: ["无权核验", "Not allowed to verify"],
    RATE_LIMITED: ["扫码过于频繁，请稍候", "Too many scans: wait a moment"],
    VALIDATION_ERROR: ["不是有效的码", "Not a valid code"],
    NETWORK_ERROR: ["网络不可用，请重试", "No network: try again"]
  };

  var client = new SSB.Client("ssb.scan.tokens");
  var venue = null;            // {id, name}
  var stream = null;
  var scanTimer = null;
  var idleTimer = null;
  var busy = false;
  var seen = {};               // payload -> last time the camera saw it (ms)
  var verifications = 0;

  function loadVenue() {
    try { return JSON.parse(global.sessionStorage.getItem(VENUE_KEY) || "null"); } catch (e) { return null; }
  }

  function saveVenue(v) {
    venue = v;
    try {
      if (v) global.sessionStorage.setItem(VENUE_KEY, JSON.stringify(v));
      else global.sessionStorage.removeItem(VENUE_KEY);
    } catch (e) { /* memory only */ }
  }

  /* ---- screens ---- */

  function route() {
    var signedIn = client.signedIn();
    show("signout", signedIn);
    show("signin", !signedIn);
    if (!signedIn) {
      show("venue-form", false);
      show("scanner", false);
      stopCamera();
      return;
    }
    venue = venue || loadVenue();
    if (!venue) {
      show("scanner", false);
      stopCamera();
      showVenueForm();
      return;
    }
    show("venue-form", false);
    show("scanner", true);
    text("venue-name", venue.name || venue.id);   // picked from the list: the name says it all
    startCamera();
    focusManual();
  }

  function sceneList(scenes) {
    return (scenes || []).map(function (s) { var n = SSB.SCENES[s]; return n ? n[0] : s; }).join("、");
  }

  function showIdField(visible) {
    show("venue-id-wrap", visible);
    show("venue-list-wrap", !visible && $("venue-select").options.length > 0);
  }

  /* The venues this account is staff of (GET /v1/me/venues) to pick from; the last one used is
   * preselected. Without any (or on "enter an ID") staff type the venue ID. */
  function showVenueForm() {
    show("venue-form", true);
    text("venue-msg", "");
    var last = "";
    try { last = global.localStorage.getItem(LAST_VENUE_KEY) || ""; } catch (e) { /* empty */ }
    $("venue-id").value = last;
    var select = $("venue-select");
    select.textContent = "";
    showIdField(true);
    client.call("GET", "/v1/me/venues").then(function (body) {
      var list = (body && body.items) || [];
      if (!list.length) {
        text("venue-msg", "此账号不是任何场所的工作人员，可输入场所编号 / This account is not staff of any venue: enter a venue ID");
        return;
      }
      list.forEach(function (v) {
        var option = document.createElement("option");
        option.value = String(v.id);
        option.textContent = v.name + " · " + sceneList(v.granted_scenes);
        option.dataset.name = v.name;
        option.selected = v.id === last;
        select.appendChild(option);
      });
      showIdField(false);
    }, function (err) {
      if (err.status === 401) client.signOutLocally();   /* otherwise the ID field stays */
    });
  }

  function focusManual() {
    // A keyboard-wedge scanner types into the focused field; on touch screens the on-screen
    // keyboard would cover the camera, so only focus where there is a fine pointer.
    if (global.matchMedia && global.matchMedia("(pointer: fine)").matches) $("manual-input").focus();
  }

  /* ---- verdicts ---- */

  function setVerdict(kind, icon, title, titleEn, name, details, code) {
    var box = $("verdict");
    box.className = "verdict verdict-" + kind;
    box.dataset.code = code || "";
    box.dataset.count = String(verifications);
    text("verdict-icon", icon);
    text("verdict-title", title);
    text("verdict-title-en", titleEn);
    text("verdict-name", name || "");
    var list = $("verdict-details");
    list.textContent = "";
    (details || []).forEach(function (line) {
      var li = document.createElement("li");
      li.textContent = line;
      list.appendChild(li);
    });
    text("verdict-time", kind === "idle" ? "" : new Date().toLocaleTimeString("zh-CN", { hour12: false }));
    global.clearTimeout(idleTimer);
    if (kind !== "idle" && kind !== "busy") idleTimer = global.setTimeout(idle, IDLE_AFTER_MS);
  }

  function idle() {
    setVerdict("idle", "⌁", "请出示随申码", "Show your Suishen code", "", [], "");
  }

  function vibrate(pattern) {
    if (global.navigator.vibrate) { try { global.navigator.vibrate(pattern); } catch (e) { /* ignore */ } }
  }

  function humanValue(value) {
    if (value === true) return "是 / yes";
    if (value === false) return "否 / no";
    if (value == null) return "—";
    if (typeof value === "string" && VALUES[value]) return VALUES[value];
    if (typeof value === "object") return Object.keys(value).map(function (k) { return k + ": " + humanValue(value[k]); }).join(", ");
    return String(value);
  }

  var LABELS = {
    scene: "场景 / Scene", concession: "优待 / Concession", fare: "票价 / Fare",
    free_admission: "免票 / Free admission", real_name_verified: "已实名 / Real-name verified",
    insurance_card: "医保 / Insurance", veteran: "退役军人 / Veteran",
    preferential_travel: "优待出行 / Preferential travel", priority_service: "优先服务 / Priority service",
    home_service_certificate: "居家服务资格 / Home-service certificate", enterprise_id: "企业 / Enterprise",
    role: "角色 / Role", licence_type: "证照 / Licence", type: "类型 / Type", number: "编号 / Number",
    expires_at: "有效期至 / Valid until", issuer: "签发 / Issuer"
  };
  var VALUES = {
    senior: "老年人 / Senior", veteran: "退役军人 / Veteran", preferential: "优惠 / Preferential",
    standard: "普通 / Standard", unknown: "未知 / Unknown"
  };

  function detailLines(obj, skip) {
    var lines = [];
    Object.keys(obj || {}).forEach(function (key) {
      if (skip && skip.indexOf(key) >= 0) return;
      var value = obj[key];
      if (value == null || value === "") return;
      lines.push((LABELS[key] || key) + ": " + (key === "scene" ? SSB.sceneName(value) : humanValue(value)));
    });
    return lines;
  }

  function holderName(holder) {
    if (!holder) return "";
    return holder.masked_name || holder.name || holder.display_name || holder.name_masked || "";
  }

  // A guardian showed a dependent's code (api.family): staff should know who is presenting it.
  function shownBy(body) {
    if (!body.shown_by_guardian) return null;
    var who = (body.guardian && body.guardian.name) || "";
    var rel = body.guardian && body.guardian.relation === "elder" ? "代长辈 / for an elder" : "代子女 / for a child";
    return "监护人出示 / Shown by guardian: " + who + " (" + rel + ")";
  }

  function showCodeResult(body) {
    if (body && body.valid === false) { showFailure(body.verdict || body.error || "INVALID", body.message); return; }
    if (body.venue && body.venue.name && venue && !venue.name) {
      saveVenue({ id: venue.id, name: body.venue.name });
      text("venue-name", venue.name);
    }
    var details = [SSB.SCENES[body.scene] ? "场景 / Scene: " + SSB.sceneName(body.scene) : null]
      .concat(detailLines(body.entitlement, ["scene"]))
      .concat(detailLines(body.holder, ["name", "masked_name", "display_name", "name_masked", "real_name_verified"]))
      .concat([shownBy(body)])
      .filter(Boolean);
    setVerdict("ok", "✓", "核验通过", "Valid", holderName(body.holder), details, "VALID");
    vibrate(120);
  }

  function showLicenceResult(body) {
    if (body && body.valid === false) { showFailure(body.verdict || body.error || "INVALID", body.message); return; }
    var fields = body.fields || body.disclosed || body.claims || {};
    var name = fields.name || fields.masked_name || holderName(body.holder);
    var meta = {};
    ["licence_type", "type", "issuer", "expires_at"].forEach(function (k) { if (body[k] != null) meta[k] = body[k]; });
    var details = detailLines(meta).concat(detailLines(fields, ["name", "masked_name"]));
    setVerdict("ok", "✓", "证照有效", "Licence valid", name, details, "VALID");
    vibrate(120);
  }

  function showFailure(code, serverMessage) {
    var words = REASONS[code];
    var zh = words ? words[0] : (serverMessage || "核验未通过");
    var en = words ? words[1] : "Not valid (" + code + ")";
    setVerdict("bad", "✗", zh, en, "", words || !serverMessage ? [] : [serverMessage], code);
    vibrate([80, 60, 80, 60, 200]);
  }

  /* ---- verification ---- */

  function venueIdValue() {
    return String(venue.id);
  }

  function verify(payload) {
    payload = String(payload || "").trim();
    if (!payload || busy) return Promise.resolve();
    busy = true;
    verifications += 1;
    setVerdict("busy", "…", "核验中", "Checking…", "", [], "BUSY");
    var header = SSB.jwsHeader(payload);
    var isLicence = header && header.typ === "ssb-licence+jwt";
    var request = isLicence
      ? client.call("POST", "/v1/presentations/verify", { payload: payload, venue_id: venueIdValue() })
      : client.call("POST", "/v1/verify", { payload: payload, venue_id: venueIdValue() });
    return request.then(function (body) {
      if (isLicence) showLicenceResult(body); else showCodeResult(body);
    }, function (err) {
      if (err.status === 401) { client.signOutLocally(); return; }
      showFailure(err.code, err.message);
    }).then(function () { busy = false; });
  }

  /* The camera reads the same code many times a second: verify it once, then ignore it while
   * it stays in view (or comes back) within DEBOUNCE_MS of the last sighting. */
  function cameraRead(payload) {
    var now = Date.now();
    Object.keys(seen).forEach(function (p) { if (now - seen[p] > DEBOUNCE_MS) delete seen[p]; });
    if (busy) return;
    var last = seen[payload];
    seen[payload] = now;
    if (last !== undefined) return;
    verify(payload);
  }

  /* ---- camera ---- */

  function startCamera() {
    if (stream) return;
    var media = global.navigator.mediaDevices;
    if (!media || !media.getUserMedia) {
      text("camera-msg", "此浏览器无法使用摄像头，请用扫码枪或粘贴 / No camera here: use a scanner gun or paste");
      return;
    }
    text("camera-msg", "正在打开摄像头… / Opening the camera…");
    media.getUserMedia({ audio: false, video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } } })
      .then(function (s) {
        stream = s;
        var video = $("video");
        video.srcObject = s;
        var played = video.play();
        if (played && played.catch) played.catch(function () { /* autoplay of a muted video is allowed */ });
        text("camera-msg", "");
        show("camera-start", false);
        scanTimer = global.setInterval(scanFrame, SCAN_INTERVAL_MS);
      }, function (err) {
        text("camera-msg", "无法打开摄像头 / Camera unavailable" + (err && err.name ? " (" + err.name + ")" : ""));
        show("camera-start", true);
      });
  }

  function stopCamera() {
    global.clearInterval(scanTimer);
    scanTimer = null;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
  }

  var canvas = null, ctx = null;

  function scanFrame() {
    var video = $("video");
    if (!stream || video.readyState < 2 || !video.videoWidth || document.hidden) return;
    if (!canvas) {
      canvas = $("frame");
      ctx = canvas.getContext("2d", { willReadFrequently: true });
    }
    var scale = Math.min(1, MAX_FRAME_WIDTH / video.videoWidth);
    var w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    ctx.drawImage(video, 0, 0, w, h);
    var image = ctx.getImageData(0, 0, w, h);
    var found = global.jsQR(image.data, w, h, { inversionAttempts: "dontInvert" });
    if (found && found.data) cameraRead(found.data);
  }

  /* ---- wiring ---- */

  function init() {
    client.onSignedOut = function () { saveVenue(null); route(); };
    SSB.bindSignIn(client, route);

    $("signout").addEventListener("click", function () { stopCamera(); client.logout(); });

    $("venue-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var listed = !$("venue-list-wrap").hidden;
      var id, name = "";
      if (listed) {
        var option = $("venue-select").selectedOptions[0];
        id = option && option.value;
        name = option ? option.dataset.name : "";
      } else {
        id = $("venue-id").value.trim();
      }
      if (!id) { text("venue-msg", "请输入场所编号 / Enter the venue ID"); return; }
      try { global.localStorage.setItem(LAST_VENUE_KEY, id); } catch (e) { /* not remembered */ }
      saveVenue({ id: id, name: name });
      idle();
      route();
    });

    $("venue-change").addEventListener("click", function () { saveVenue(null); stopCamera(); route(); });
    $("venue-id-toggle").addEventListener("click", function () { showIdField(true); $("venue-id").focus(); });
    $("camera-start").addEventListener("click", startCamera);

    $("manual").addEventListener("submit", function (event) {
      event.preventDefault();
      var input = $("manual-input");
      var payload = input.value;
      input.value = "";
      verify(payload).then(focusManual);
    });

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && client.signedIn() && venue) startCamera();
    });
    route();
  }

  global.SSBScan = { verify: verify, DEBOUNCE_MS: DEBOUNCE_MS };
  init();
})(window);
