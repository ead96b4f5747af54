// The programme's layout while remote guests are on air (static/js/compose.js), and which guests
// the studio composes: pure geometry, checked without a page.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { HEIGHT, MAX_ON_AIR, WIDTH, cover, guestStage, onAir, tiles } from "../../static/js/compose.js";

const inside = (r) => r.x >= 0 && r.y >= 0 && r.x + r.w <= WIDTH && r.y + r.h <= HEIGHT && r.w > 0 && r.h > 0;
const overlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe("the programme's tiles", () => {
  test("the room alone fills the picture", () => {
    assert.deepEqual(tiles(0, "side"), [{ x: 0, y: 0, w: WIDTH, h: HEIGHT }]);
    assert.deepEqual(tiles(0, "pip"), [{ x: 0, y: 0, w: WIDTH, h: HEIGHT }]);
  });

  test("side by side: equal 16:9 tiles that never overlap, the room first", () => {
    for (let n = 1; n <= MAX_ON_AIR; n++) {
      const rects = tiles(n, "side");
      assert.equal(rects.length, n + 1);
      for (const r of rects) {
        assert.ok(inside(r), JSON.stringify(r));
        assert.ok(Math.abs(r.w / r.h - 16 / 9) < 0.02 || r.w / r.h > 16 / 9, JSON.stringify(r));
        assert.equal(r.w, rects[0].w);
      }
      for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) assert.ok(!overlap(rects[i], rects[j]), `${n}: ${i} and ${j}`);
    }
    // Two tiles leave the composition's background above and below them.
    const [room] = tiles(1, "side");
    assert.ok(room.y > 100 && room.x < 20);
  });

  test("picture in picture: the room full frame, the guests small along the bottom", () => {
    const [room, ...guests] = tiles(2, "pip");
    assert.deepEqual(room, { x: 0, y: 0, w: WIDTH, h: HEIGHT });
    for (const g of guests) {
      assert.ok(inside(g) && g.w < WIDTH / 2 && g.y + g.h > HEIGHT * 0.9, JSON.stringify(g));
    }
    assert.ok(!overlap(guests[0], guests[1]));
  });

  test("more guests than can be composed are left out", () => {
    assert.equal(tiles(MAX_ON_AIR + 3, "side").length, MAX_ON_AIR + 1);
    assert.equal(tiles(-1, "side").length, 1);
  });
});

describe("cropping a picture to its tile", () => {
  test("a wider picture loses its sides, a taller one its top and bottom, centred", () => {
    assert.deepEqual(cover(1920, 1080, { x: 0, y: 0, w: 400, h: 300 }), { sx: 240, sy: 0, sw: 1440, sh: 1080 });
    assert.deepEqual(cover(640, 480, { x: 0, y: 0, w: 1600, h: 900 }), { sx: 0, sy: 60, sw: 640, sh: 360 });
    assert.deepEqual(cover(1280, 720, { x: 5, y: 5, w: 640, h: 360 }), { sx: 0, sy: 0, sw: 1280, sh: 720 });
  });

  test("a picture with no size yet draws nothing", () => {
    assert.deepEqual(cover(0, 0, { x: 0, y: 0, w: 10, h: 10 }), { sx: 0, sy: 0, sw: 0, sh: 0 });
  });
});

describe("the guests composed, and what a guest's page shows", () => {
  test("those on air, in the order they joined, at most MAX_ON_AIR", () => {
    const guests = ["a", "b", "c", "d", "e", "f"].map((id, i) => ({ id, status: i % 3 === 1 ? "waiting" : "on_air" }));
    assert.deepEqual(onAir(guests), ["a", "c", "d", "f"].slice(0, MAX_ON_AIR));
    assert.deepEqual(onAir([{ id: "a", status: "off_air" }]), []);
  });

  test("a guest the session does not know yet is still checking their devices", () => {
    assert.equal(guestStage(undefined), "check");
    assert.equal(guestStage("on_air"), "on_air");
    assert.equal(guestStage("off_air"), "off_air");
    assert.equal(guestStage("waiting"), "waiting");
    assert.equal(guestStage("nonsense"), "check");
  });
});
