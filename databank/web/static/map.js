/* The place of an encounter: the device's location (asked only on click) or a tap on the plan.
 *
 * The plan is an SVG of the districts in a fixed lat/lon box with a linear projection; a tap,
 * a click or the arrow keys set hidden lat/lon fields. Nothing is stored on the device.
 */
(function () {
  "use strict";

  var svg = document.getElementById("plan");
  var group = document.getElementById("place-group");
  var latField = document.getElementById("lat");
  var lonField = document.getElementById("lon");
  var status = document.getElementById("point-status");
  var marker = document.getElementById("plan-marker");
  if (!svg || !group || !latField || !lonField) { return; }

  var box = {
    south: parseFloat(svg.dataset.south),
    west: parseFloat(svg.dataset.west),
    north: parseFloat(svg.dataset.north),
    east: parseFloat(svg.dataset.east)
  };
  var view = svg.viewBox.baseVal;
  var STEP = 6; // plan units per arrow key press (about 150 m); with Shift, five times more

  var districts = Array.prototype.map.call(svg.querySelectorAll(".plan-district"), function (el) {
    return { name: el.dataset.name, lat: parseFloat(el.dataset.lat), lon: parseFloat(el.dataset.lon) };
  });

  function text(key, values) {
    var attr = "msg" + key.replace(/(^|-)([a-z])/g, function (_m, _d, c) { return c.toUpperCase(); });
    var template = group.dataset[attr] || "";
    Object.keys(values || {}).forEach(function (k) { template = template.replace("{" + k + "}", values[k]); });
    return template;
  }

  function nearest(lat, lon) {
    var scale = Math.cos(lat * Math.PI / 180);
    var best = null;
    var bestD = Infinity;
    districts.forEach(function (d) {
      var dy = d.lat - lat;
      var dx = (d.lon - lon) * scale;
      var dist = dx * dx + dy * dy;
      if (dist < bestD) { bestD = dist; best = d; }
    });
    return best ? best.name : "";
  }

  function toPlan(lat, lon) {
    return {
      x: (lon - box.west) / (box.east - box.west) * view.width,
      y: (box.north - lat) / (box.north - box.south) * view.height
    };
  }

  function toDegrees(x, y) {
    return {
      lat: box.north - y / view.height * (box.north - box.south),
      lon: box.west + x / view.width * (box.east - box.west)
    };
  }

  function showMarker(lat, lon) {
    var p = toPlan(lat, lon);
    var inside = p.x >= 0 && p.x <= view.width && p.y >= 0 && p.y <= view.height;
    marker.setAttribute("transform", "translate(" + p.x.toFixed(1) + " " + p.y.toFixed(1) + ")");
    marker.classList.toggle("is-set", inside);
  }

  function setPoint(lat, lon, message) {
    latField.value = lat.toFixed(6);
    lonField.value = lon.toFixed(6);
    showMarker(lat, lon);
    group.classList.add("has-point");
    status.textContent = message;
  }

  function clearPoint() {
    latField.value = "";
    lonField.value = "";
    marker.classList.remove("is-set");
    group.classList.remove("has-point");
    status.textContent = text("cleared");
  }

  function setFromPlan(x, y) {
    x = Math.max(0, Math.min(view.width, x));
    y = Math.max(0, Math.min(view.height, y));
    var d = toDegrees(x, y);
    setPoint(d.lat, d.lon, text("point-map", { district: nearest(d.lat, d.lon) }));
  }

  svg.addEventListener("click", function (event) {
    var matrix = svg.getScreenCTM();
    if (!matrix) { return; }
    var pt = svg.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    var local = pt.matrixTransform(matrix.inverse());
    setFromPlan(local.x, local.y);
  });

  svg.addEventListener("keydown", function (event) {
    var moves = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
    var move = moves[event.key];
    if (!move) { return; }
    event.preventDefault();
    var step = event.shiftKey ? STEP * 5 : STEP;
    var here = latField.value && lonField.value
      ? toPlan(parseFloat(latField.value), parseFloat(lonField.value))
      : { x: view.width / 2, y: view.height / 2 };
    setFromPlan(here.x + move[0] * step, here.y + move[1] * step);
  });

  var locate = document.getElementById("use-location");
  if (locate) {
    if (!navigator.geolocation) {
      locate.hidden = true;
    }
    locate.addEventListener("click", function () {
      // Permission is asked here, on the worker's tap, never on page load.
      status.textContent = text("locating");
      navigator.geolocation.getCurrentPosition(function (position) {
        var c = position.coords;
        setPoint(c.latitude, c.longitude, text("point-device", {
          metres: String(Math.round(c.accuracy)),
          district: nearest(c.latitude, c.longitude)
        }));
      }, function () {
        status.textContent = text("no-location");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  var clear = document.getElementById("clear-point");
  if (clear) { clear.addEventListener("click", clearPoint); }

  // A point typed before (the form came back with errors): show it again.
  if (latField.value && lonField.value) {
    showMarker(parseFloat(latField.value), parseFloat(lonField.value));
    group.classList.add("has-point");
  }
})();
